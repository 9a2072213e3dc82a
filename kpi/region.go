package kpi

import (
	"fmt"
	"sort"
	"strings"
)

// Level is a tier of the Indonesian administrative hierarchy.
type Level int

const (
	LevelNasional Level = iota
	LevelProvinsi
	LevelKabupatenKota
	LevelKecamatan
	LevelDesa
)

// Levels lists every level from the top down.
var Levels = []Level{LevelNasional, LevelProvinsi, LevelKabupatenKota, LevelKecamatan, LevelDesa}

var levelNames = [...]string{"nasional", "provinsi", "kabupaten_kota", "kecamatan", "desa"}

// String returns the level's canonical name, used in specs, labels and the API.
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level(%d)", int(l))
	}
	return levelNames[l]
}

var levelLabels = [...]string{"nasional", "provinsi", "kabupaten/kota", "kecamatan", "desa/kelurahan"}

// Label returns the level as people write it ("kabupaten/kota"), for pages
// and messages.
func (l Level) Label() string {
	if l < 0 || int(l) >= len(levelLabels) {
		return l.String()
	}
	return levelLabels[l]
}

// ParseLevel accepts a level's canonical name and the spellings offices use
// ("kabupaten", "kota", "kabupaten/kota", "kelurahan").
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "nasional", "national":
		return LevelNasional, nil
	case "provinsi", "province":
		return LevelProvinsi, nil
	case "kabupaten_kota", "kabupaten/kota", "kabupaten", "kota", "kabkota", "regency":
		return LevelKabupatenKota, nil
	case "kecamatan", "district":
		return LevelKecamatan, nil
	case "desa", "kelurahan", "desa_kelurahan", "village":
		return LevelDesa, nil
	}
	return 0, fmt.Errorf("unknown level %q (want one of %s)", s, strings.Join(levelNames[:], ", "))
}

// NationalCode is the code of the single nasional region, the root of the
// hierarchy. Kepmendagri codes start at the province, so pantau names the
// nation by its ISO 3166 code.
const NationalCode = "ID"

// segment widths of a Kepmendagri dotted code: 32 . 16 . 06 . 2001
var segmentWidths = [...]int{2, 2, 2, 4}

// CodeLevel validates a dotted region code and returns its level from its
// shape: "32" provinsi, "32.16" kabupaten/kota, "32.16.06" kecamatan,
// "32.16.06.2001" desa, "ID" nasional.
func CodeLevel(code string) (Level, error) {
	if code == NationalCode {
		return LevelNasional, nil
	}
	if code == "" {
		return 0, fmt.Errorf("empty region code")
	}
	parts := strings.Split(code, ".")
	if len(parts) > len(segmentWidths) {
		return 0, fmt.Errorf("region code %q has %d parts, at most %d (like 32.16.06.2001)", code, len(parts), len(segmentWidths))
	}
	for i, p := range parts {
		if len(p) != segmentWidths[i] {
			return 0, fmt.Errorf("region code %q: part %d %q must have %d digits (like 32.16.06.2001)", code, i+1, p, segmentWidths[i])
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return 0, fmt.Errorf("region code %q: part %d %q is not all digits", code, i+1, p)
			}
		}
		if strings.Trim(p, "0") == "" {
			return 0, fmt.Errorf("region code %q: part %d is zero", code, i+1)
		}
	}
	return Level(len(parts)), nil
}

// ParentCode returns the code one level up, derived from the code's shape:
// "32.16.06" → "32.16", "32" → "ID". The nation has no parent.
func ParentCode(code string) (string, bool) {
	if code == NationalCode {
		return "", false
	}
	if i := strings.LastIndexByte(code, '.'); i >= 0 {
		return code[:i], true
	}
	return NationalCode, true
}

// Region is one administrative area.
type Region struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  Level  `json:"-"`
	Parent string `json:"parent_code,omitempty"`
}

// ProvinceCode is the code of the province the region lies in ("" for the nation).
func (r Region) ProvinceCode() string { return codePrefix(r.Code, LevelProvinsi) }

// RegencyCode is the code of the kabupaten/kota the region lies in ("" above that level).
func (r Region) RegencyCode() string { return codePrefix(r.Code, LevelKabupatenKota) }

func codePrefix(code string, l Level) string {
	if code == NationalCode {
		return ""
	}
	parts := strings.SplitN(code, ".", int(l)+1)
	if len(parts) < int(l) {
		return ""
	}
	return strings.Join(parts[:l], ".")
}

// Hierarchy is an immutable region tree rooted at the nation. It is safe for
// concurrent use.
type Hierarchy struct {
	byCode   map[string]int
	regions  []Region
	children [][]int
	counts   [len(levelNames)]int
}

// NewHierarchy builds the tree from regions listed in any order. The nation is
// added when missing. Every code must be well formed, unique, and have its
// parent in the list.
func NewHierarchy(regions []Region) (*Hierarchy, error) {
	all := make([]Region, 0, len(regions)+1)
	hasNation := false
	for _, r := range regions {
		if r.Code == NationalCode {
			hasNation = true
		}
	}
	if !hasNation {
		all = append(all, Region{Code: NationalCode, Name: "Indonesia", Level: LevelNasional})
	}
	all = append(all, regions...)
	// Parents before children, so every parent index exists when its child
	// is added. A code's depth is its dot count (the nation sorts first);
	// shapes are validated in the loop below.
	depth := func(code string) int {
		if code == NationalCode {
			return -1
		}
		return strings.Count(code, ".")
	}
	sort.SliceStable(all, func(i, j int) bool {
		di, dj := depth(all[i].Code), depth(all[j].Code)
		if di != dj {
			return di < dj
		}
		return all[i].Code < all[j].Code
	})
	h := &Hierarchy{byCode: make(map[string]int, len(all)), regions: make([]Region, 0, len(all))}
	h.children = make([][]int, 0, len(all))
	for _, r := range all {
		lvl, err := CodeLevel(r.Code)
		if err != nil {
			return nil, err
		}
		if _, dup := h.byCode[r.Code]; dup {
			return nil, fmt.Errorf("region code %s listed twice", r.Code)
		}
		r.Level = lvl
		parent, hasParent := ParentCode(r.Code)
		if hasParent {
			if r.Parent != "" && r.Parent != parent {
				return nil, fmt.Errorf("region %s names parent %s, but its code puts it under %s", r.Code, r.Parent, parent)
			}
			if _, ok := h.byCode[parent]; !ok {
				return nil, fmt.Errorf("region %s: parent %s is not in the region list", r.Code, parent)
			}
			r.Parent = parent
		} else {
			r.Parent = ""
		}
		idx := len(h.regions)
		h.regions = append(h.regions, r)
		h.children = append(h.children, nil)
		h.byCode[r.Code] = idx
		h.counts[lvl]++
		if hasParent {
			p := h.byCode[parent]
			h.children[p] = append(h.children[p], idx)
		}
	}
	return h, nil
}

// Lookup returns the region with the given code.
func (h *Hierarchy) Lookup(code string) (Region, bool) {
	i, ok := h.byCode[code]
	if !ok {
		return Region{}, false
	}
	return h.regions[i], true
}

// Parent returns the region one level up; the nation has none.
func (h *Hierarchy) Parent(code string) (Region, bool) {
	r, ok := h.Lookup(code)
	if !ok || r.Parent == "" {
		return Region{}, false
	}
	return h.Lookup(r.Parent)
}

// Ancestors returns the region's ancestors from its parent up to the nation.
func (h *Hierarchy) Ancestors(code string) []Region {
	var out []Region
	for p, ok := h.Parent(code); ok; p, ok = h.Parent(p.Code) {
		out = append(out, p)
	}
	return out
}

// Children returns the regions one level below, ordered by code.
func (h *Hierarchy) Children(code string) []Region {
	i, ok := h.byCode[code]
	if !ok {
		return nil
	}
	out := make([]Region, len(h.children[i]))
	for k, c := range h.children[i] {
		out[k] = h.regions[c]
	}
	return out
}

// Count returns how many regions the hierarchy holds at a level.
func (h *Hierarchy) Count(l Level) int {
	if l < 0 || int(l) >= len(h.counts) {
		return 0
	}
	return h.counts[l]
}

// Regions returns every region, parents before children and by code within a
// level. The slice is shared: do not modify it.
func (h *Hierarchy) Regions() []Region { return h.regions }

// Contains reports whether code is ancestor or equal to other: a region
// scope "32.16" contains "32.16.06" and itself.
func Contains(scope, code string) bool {
	if scope == NationalCode || scope == code {
		return true
	}
	return strings.HasPrefix(code, scope+".")
}

// Subtree returns a hierarchy holding only the region at code, its
// descendants and its ancestors (so roll-ups still reach the nation). It is
// how a deployment sharded per province (--region 32) limits what it collects.
func (h *Hierarchy) Subtree(code string) (*Hierarchy, error) {
	if _, ok := h.byCode[code]; !ok {
		return nil, fmt.Errorf("unknown region %s", code)
	}
	var keep []Region
	for _, r := range h.regions {
		if Contains(code, r.Code) || Contains(r.Code, code) {
			keep = append(keep, r)
		}
	}
	return NewHierarchy(keep)
}
