package targetfile

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/suggest"
)

// Problem is one thing wrong with a target file: a cell, a row, or (with
// Row 0 or the header's row) the file as a whole.
type Problem struct {
	// File is the file name when the rows came from ReadFile.
	File string
	// Row is the spreadsheet row number (the line in a CSV file).
	Row int
	// Column is the header of the offending column as the file writes it,
	// "" when the problem is the row's or the file's.
	Column string
	// Value is the offending cell's text.
	Value   string
	Message string
}

// String formats the problem like "targets.xlsx:14: kode_wilayah 32.99:
// unknown region ...", so editors and CI logs can jump to the row.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Row > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Row)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Row > 0:
		fmt.Fprintf(&b, "row %d: ", p.Row)
	}
	if p.Column != "" {
		b.WriteString(p.Column)
		if p.Value != "" {
			b.WriteString(" " + quoteIfNeeded(p.Value))
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error makes a Problem an error, for problems with a file as a whole.
func (p Problem) Error() string { return p.String() }

func quoteIfNeeded(s string) string {
	for _, r := range s {
		if unicode.IsSpace(r) || r == '"' || r == ':' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Year bounds: wide enough for history (DKI's 2017 targets) and plans,
// narrow enough to catch typos like 226 or 2206.
const (
	MinYear = 2000
	MaxYear = 2100
)

// Validate checks rows against the spec's KPIs and the region master and
// returns the targets of the good rows and every problem of the bad ones,
// ordered by row: empty required cells, malformed or unknown region codes,
// regions below the KPI's level, unknown KPIs, a rate for a count KPI or an
// annual target for a rate KPI, numbers that are malformed, ambiguous or
// negative, a monthly profile that does not add up to the target, years
// out of range, and a KPI × region × year given twice (naming both rows).
// Callers that must import all or nothing write the targets only when no
// problem is returned.
func Validate(rows []Row, spec *config.Spec, regions *kpi.Hierarchy) ([]kpi.Target, []Problem) {
	v := validator{spec: spec, regions: regions, seen: make(map[targetKey]int, len(rows))}
	targets := make([]kpi.Target, 0, len(rows))
	for i := range rows {
		if t, ok := v.row(&rows[i]); ok {
			targets = append(targets, t)
		}
	}
	slices.SortStableFunc(v.problems, func(a, b Problem) int { return cmp.Compare(a.Row, b.Row) })
	return targets, v.problems
}

type targetKey struct {
	kpi, region string
	year        int
}

type validator struct {
	spec     *config.Spec
	regions  *kpi.Hierarchy
	seen     map[targetKey]int // row number of each key's first row
	problems []Problem
}

func (v *validator) report(r *Row, c column, format string, args ...any) {
	p := Problem{Row: r.Line, Message: fmt.Sprintf(format, args...)}
	if r.src != nil {
		p.File = r.src.file
	}
	if c >= 0 {
		p.Column, p.Value = r.header(c), r.cell(c)
	}
	v.problems = append(v.problems, p)
}

// excelMangled matches a kabupaten code a spreadsheet stored as a number
// and so wrote with one digit after the dot (32.1 for 32.10).
var excelMangled = regexp.MustCompile(`^[0-9]{2}\.[0-9]$`)

func (v *validator) row(r *Row) (kpi.Target, bool) {
	before := len(v.problems)
	t := kpi.Target{Region: r.Region, KPI: r.KPI}

	// Region.
	var regionLevel kpi.Level
	regionOK := false
	if r.isNumeric(colRegion) {
		// Excel stored the code as a number and dropped the trailing 0
		// of its second part: 32.1 was typed as 32.10.
		if f, err := parsePlain(r.Region); err == nil && math.Abs(f*100-math.Round(f*100)) < 1e-6 {
			t.Region = strconv.FormatFloat(f, 'f', 2, 64)
		}
	}
	switch lvl, err := kpi.CodeLevel(t.Region); {
	case r.Region == "":
		v.report(r, colRegion, "empty; every row needs the region's Kepmendagri code, like 32.16.06")
	case err != nil:
		msg := strings.TrimPrefix(err.Error(), fmt.Sprintf("region code %q: ", t.Region))
		if excelMangled.MatchString(t.Region) {
			msg += fmt.Sprintf("; a spreadsheet may have turned %s0 into the number %s: format the column as text", t.Region, t.Region)
		} else if !strings.Contains(t.Region, ".") && len(t.Region) > 2 {
			msg += "; write the code with dots, like 32.16.06"
		}
		v.report(r, colRegion, "malformed region code: %s", msg)
	default:
		if _, ok := v.regions.Lookup(t.Region); !ok {
			note := ""
			if t.Region != r.Region {
				note = fmt.Sprintf(" (read as %s: the cell holds a number)", t.Region)
			}
			v.report(r, colRegion, "unknown region%s: not in the Kepmendagri region master", note)
		} else {
			regionLevel, regionOK = lvl, true
		}
	}

	// KPI.
	var k config.KPI
	kpiOK := false
	if r.KPI == "" {
		v.report(r, colKPI, "empty; every row needs the KPI id from the spec, like %s", v.exampleKPI())
	} else if k, kpiOK = v.spec.KPI(r.KPI); !kpiOK {
		v.report(r, colKPI, "unknown KPI%s; the spec's KPIs are %s", v.suggestKPI(r.KPI), v.kpiList())
	}
	if kpiOK && regionOK && regionLevel > k.Level {
		v.report(r, colRegion, "a %s, but %s reports by %s; set its targets at %s level or above",
			regionLevel, k.ID, k.Level, k.Level)
	}

	// Year.
	yearOK := false
	switch y, err := strconv.Atoi(r.Year); {
	case r.Year == "":
		v.report(r, colYear, "empty; write the target's year, like 2026")
	case err != nil:
		v.report(r, colYear, "not a year; write it like 2026")
	case y < MinYear || y > MaxYear:
		v.report(r, colYear, "out of range: pantau takes years %d to %d", MinYear, MaxYear)
	default:
		t.Year, yearOK = y, true
	}

	// Target, rate and profile, by the KPI's kind.
	target, targetOK := v.number(r, colTarget, false)
	rate, rateOK := v.number(r, colRate, true)
	if targetOK && target < 0 {
		v.report(r, colTarget, "negative; a target is 0 or more")
		targetOK = false
	}
	if rateOK && rate < 0 {
		v.report(r, colRate, "negative; a target rate is above 0, like 95%% or 0,95")
		rateOK = false
	}
	var profile []float64
	profileOK := true
	if r.Profile != nil {
		profile = make([]float64, 12)
		var missing []string
		for m := range 12 {
			c := colJan + column(m)
			if r.Profile[m] == "" {
				missing = append(missing, r.header(c))
				continue
			}
			f, ok := v.number(r, c, false)
			if ok && f < 0 {
				v.report(r, c, "negative; a monthly target is 0 or more")
				ok = false
			}
			profileOK = profileOK && ok
			profile[m] = f
		}
		if len(missing) > 0 {
			v.report(r, -1, "monthly profile: fill all twelve months or none; %s empty", strings.Join(missing, ", "))
			profileOK = false
		}
	}
	if kpiOK {
		switch k.Kind {
		case kpi.KindCount:
			switch {
			case r.Rate != "":
				v.report(r, colRate, "%s is a count KPI: its annual target goes in the %s column; leave %s empty", k.ID, r.header(colTarget), r.header(colRate))
			case r.Target == "":
				v.report(r, colTarget, "empty; %s is a count KPI and needs its annual target", k.ID)
			case targetOK && profileOK:
				t.Annual, t.Profile = target, profile
				if profile != nil {
					if err := (kpi.Target{Year: MinYear, Annual: target, Profile: profile}).Validate(); err != nil {
						v.report(r, -1, "%v", err)
					}
				}
			}
		case kpi.KindRate:
			switch {
			case r.Target != "":
				v.report(r, colTarget, "%s is a rate KPI: put its target rate in the %s column (like 95%% or 0,95) and leave %s empty", k.ID, r.header(colRate), r.header(colTarget))
			case r.Profile != nil:
				v.report(r, -1, "%s is a rate KPI: monthly profiles are for count targets; leave the month columns empty", k.ID)
			case r.Rate == "":
				v.report(r, colRate, "empty; %s is a rate KPI and needs its target rate, like 95%% or 0,95", k.ID)
			case rateOK && rate == 0:
				v.report(r, colRate, "a target rate of 0 sets no target; leave the row out")
			case rateOK && rate > 1 && isShare(k.KPI):
				v.report(r, colRate, "above 100%%; write the share as 0,95 or 95%%")
			case rateOK:
				t.Rate = rate
			}
		}
	}

	// Duplicates, once the key is known good.
	if kpiOK && regionOK && yearOK {
		key := targetKey{t.KPI, t.Region, t.Year}
		if first, dup := v.seen[key]; dup {
			v.report(r, -1, "%s %s %d is also on row %d; keep one of the two rows", t.KPI, t.Region, t.Year, first)
		} else {
			v.seen[key] = r.Line
		}
	}
	return t, len(v.problems) == before
}

// isShare reports whether a rate KPI's targets are shares of at most 1
// (95 % distributed) rather than ratios like KPM per e-Warong: the spec
// says share: true, or its fixed target rate is at most 1, or, without
// one, higher is better.
func isShare(k kpi.KPI) bool {
	if k.Share {
		return true
	}
	if k.TargetRate > 0 {
		return k.TargetRate <= 1
	}
	return k.Direction == kpi.Up
}

// number reads a numeric cell; it reports a malformed one and returns ok
// false for it and for an empty one.
func (v *validator) number(r *Row, c column, percentOK bool) (float64, bool) {
	s := r.cell(c)
	if s == "" {
		return 0, false
	}
	var f float64
	var err error
	if r.isNumeric(c) {
		f, err = parsePlain(s)
	} else {
		f, err = parseNumber(s, percentOK)
	}
	if err != nil {
		v.report(r, c, "%v", err)
		return 0, false
	}
	return f, true
}

func (v *validator) kpiList() string {
	ids := make([]string, len(v.spec.KPIs))
	for i, k := range v.spec.KPIs {
		ids[i] = k.ID
	}
	return strings.Join(ids, ", ")
}

func (v *validator) exampleKPI() string {
	if len(v.spec.KPIs) == 0 {
		return "ewarong_aktif"
	}
	return v.spec.KPIs[0].ID
}

// suggestKPI returns " (did you mean X?)" for the spec's KPI nearest to id.
func (v *validator) suggestKPI(id string) string {
	best, bestDist := "", 0
	for _, k := range v.spec.KPIs {
		a, b := strings.ToLower(id), strings.ToLower(k.ID)
		d := suggest.Distance(a, b)
		if len(a) >= 4 && (strings.HasPrefix(b, a) || strings.HasPrefix(a, b)) {
			d = min(d, 1) // ewarong for ewarong_aktif
		}
		if limit := max(2, len(k.ID)/3); d <= limit && (best == "" || d < bestDist) {
			best, bestDist = k.ID, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}
