package wilayah

import (
	"bytes"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/pantau-id/pantau/kpi"
)

//go:embed data/provinces.csv data/regencies.csv data/districts.csv data/villages.csv
//go:embed data/README.md data/LICENSE-ODbL.md
var data embed.FS

// A table is one CSV file of the master: the level its rows are at and the
// header column holding each row's parent code ("" for provinces, whose
// parent is the nation).
type table struct {
	path   string
	level  kpi.Level
	parent string
}

var tables = []table{
	{"data/provinces.csv", kpi.LevelProvinsi, ""},
	{"data/regencies.csv", kpi.LevelKabupatenKota, "province_code"},
	{"data/districts.csv", kpi.LevelKecamatan, "regency_code"},
	{"data/villages.csv", kpi.LevelDesa, "district_code"},
}

var (
	load         = sync.OnceValues(func() (*kpi.Hierarchy, error) { return build(data, false) })
	loadWithDesa = sync.OnceValues(func() (*kpi.Hierarchy, error) { return build(data, true) })
)

// Load returns the region hierarchy down to kecamatan: the nation, 38
// provinsi, 514 kabupaten/kota and 7,285 kecamatan. The master is parsed on
// the first call; later calls return the same hierarchy, which callers must
// treat as read-only (it is safe for concurrent use).
func Load() (*kpi.Hierarchy, error) { return load() }

// LoadWithDesa is Load plus the 83,762 desa/kelurahan. It is cached apart
// from Load, so a process that never needs desa never holds them.
func LoadWithDesa() (*kpi.Hierarchy, error) { return loadWithDesa() }

// Regions parses the master and returns its regions level by level, provinces
// first, each level in the order its file lists it (by code), each region
// with its level and parent code set. The nation is not
// listed (kpi.NewHierarchy adds it). withDesa adds the desa/kelurahan. Every
// call parses afresh and returns a new slice the caller owns.
func Regions(withDesa bool) ([]kpi.Region, error) { return readRegions(data, withDesa) }

func build(fsys fs.FS, withDesa bool) (*kpi.Hierarchy, error) {
	regions, err := readRegions(fsys, withDesa)
	if err != nil {
		return nil, err
	}
	h, err := kpi.NewHierarchy(regions)
	if err != nil {
		return nil, fmt.Errorf("wilayah: %w", err)
	}
	return h, nil
}

func readRegions(fsys fs.FS, withDesa bool) ([]kpi.Region, error) {
	ts := tables
	if !withDesa {
		ts = tables[:len(tables)-1]
	}
	files := make([][]byte, len(ts))
	rows := 0
	for i, t := range ts {
		b, err := fs.ReadFile(fsys, t.path)
		if err != nil {
			return nil, fmt.Errorf("wilayah: %w", err)
		}
		files[i] = b
		rows += bytes.Count(b, []byte{'\n'})
	}
	out := make([]kpi.Region, 0, rows)
	// Codes of the previous table's rows: every row's parent must be one.
	var parents map[string]bool
	for i, t := range ts {
		codes := make(map[string]bool, bytes.Count(files[i], []byte{'\n'}))
		var err error
		out, err = readTable(t, files[i], parents, codes, out)
		if err != nil {
			return nil, err
		}
		parents = codes
	}
	return out, nil
}

// readTable appends the rows of one CSV file to out. parents holds the codes
// the rows' parent column may name (nil for provinces); codes collects the
// rows' codes and catches duplicates.
func readTable(t table, b []byte, parents, codes map[string]bool, out []kpi.Region) ([]kpi.Region, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = true
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("wilayah: %s:%d: %s", t.path, line, fmt.Sprintf(format, args...))
	}
	csvErr := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fail(pe.Line, "%v", pe.Err)
		}
		return fmt.Errorf("wilayah: %s: %w", t.path, err)
	}

	header, err := r.Read()
	if err == io.EOF {
		return nil, fail(1, "empty file, want a header row")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	want := []string{"code", "name"}
	if t.parent != "" {
		want = []string{"code", t.parent, "name"}
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if _, dup := col[h]; dup {
			return nil, fail(1, "header names column %q twice", h)
		}
		col[h] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return nil, fail(1, "header %q lacks column %q (want %s)", strings.Join(header, ","), w, strings.Join(want, ","))
		}
	}
	codeCol, nameCol := col["code"], col["name"]
	parentCol := -1
	if t.parent != "" {
		parentCol = col[t.parent]
	}

	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, csvErr(err)
		}
		line, _ := r.FieldPos(0)
		code, name := rec[codeCol], strings.TrimSpace(rec[nameCol])
		lvl, err := kpi.CodeLevel(code)
		if err != nil {
			return nil, fail(line, "%v", err)
		}
		if lvl != t.level {
			return nil, fail(line, "code %s is a %s code, want %s", code, lvl, t.level)
		}
		if name == "" {
			return nil, fail(line, "region %s has no name", code)
		}
		parent, _ := kpi.ParentCode(code)
		if parentCol >= 0 {
			if p := rec[parentCol]; p != parent {
				return nil, fail(line, "region %s names %s %q, but its code puts it under %s", code, t.parent, p, parent)
			}
			if !parents[parent] {
				return nil, fail(line, "region %s: parent %s is not in the master", code, parent)
			}
		}
		if codes[code] {
			return nil, fail(line, "region code %s listed twice", code)
		}
		codes[code] = true
		// With ReuseRecord the fields share one string per row; code and
		// parent slice it, name is trimmed from it.
		out = append(out, kpi.Region{Code: code, Name: name, Level: lvl, Parent: parent})
	}
}
