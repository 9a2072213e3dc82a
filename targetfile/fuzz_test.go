package targetfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// The fuzz targets feed arbitrary files and cells to the reader and the
// validator. Their seed corpora (f.Add and testdata/fuzz) run with every
// go test; bench/fuzz.sh fuzzes each for a bounded time.

// FuzzReadCSV reads arbitrary bytes as a CSV target file.
func FuzzReadCSV(f *testing.F) {
	addFiles(f, "testdata/*.csv")
	for _, s := range []string{
		"",
		"\ufeff",
		"kode_wilayah;kpi;tahun;target\n32.16.06;ewarong_aktif;2026;1.234\n",
		"region_code\tkpi\tyear\trate\n32.16\tsembako_salur\t2026\t95,5%\n",
		"kode,kpi,tahun,target,jan,feb,mar,apr,mei,jun,jul,agu,sep,okt,nov,des\n31,kube_jasa,2026,12,1,1,1,1,1,1,1,1,1,1,1,1\n",
		"kode,kpi,tahun,target\n31,kube_jasa,2026,\"1e308\"\n31,kube_jasa,2027,99999999999999999999999999999\n",
		"kode,kpi,tahun,target\n\"31,kube_jasa,2026,1\n",
		"kode,kpi,kpi,tahun,target\n",
		"Judul\n\n\nkode,kpi,tahun,rate\nID,sembako_salur,2100,\u2212 1%\n",
		"kode,kpi,tahun,target\n31,kube_jasa,2026,NaN\n31,kube_jasa,2026,Inf\n31,kube_jasa,2026,0x10\n",
	} {
		f.Add([]byte(s))
	}
	spec, regions := loadSpec(f), loadRegions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile(t, data, CSV, spec, regions)
	})
}

// FuzzReadXLSX reads arbitrary bytes as an XLSX workbook. The seeds are
// real workbooks (testdata and a few built here), which the fuzzer mutates
// into broken zips, XML and cells.
func FuzzReadXLSX(f *testing.F) {
	addFiles(f, "testdata/*.xlsx")
	for _, rows := range [][][]any{
		{{"kode_wilayah", "kpi", "tahun", "target"}, {32.1, "pkh_graduasi", 2026, 1.234}, {"32.16.06", "ewarong_aktif", "2026", "1.234"}},
		{{"Kode", "Indikator", "Tahun", "Persentase (%)"}, {"32.16", "sembako_salur", 2026, 0.95}, {"ID", "sembako_salur", 2026, "95%"}},
		{{"title"}, {}, {"kode", "kpi", "tahun", "target", "jan"}},
		{{"kode", "kpi", "tahun", "target"}, {"31", "ewarong_aktif", 2026, math.MaxFloat64}, {"31", "kube_jasa", 2026, -0.0}},
	} {
		f.Add(workbook(f, rows))
	}
	spec, regions := loadSpec(f), loadRegions(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFile(t, data, XLSX, spec, regions)
	})
}

// FuzzParseNumber reads arbitrary cell text the Indonesian way: a number
// it accepts is finite and is written back by FormatNumber to text that
// reads to the same number, and the plain reading (XLSX number cells)
// never yields NaN or an infinity.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "1.234", "1.234,5", "0,95", "95%", "95,5%", "1,234", "1,234,567", "1,234.5",
		"0.955", "-5", "\u22125", "+3", "1e3", "Inf", "NaN", "0x1p3", "1_000", ".5", "5.", ",5", "%", "99999999999999999999999999999999999999",
		"1" + strings.Repeat("0", 400), "0," + strings.Repeat("0", 400) + "1", " \u00a012\u202f"} {
		f.Add(s, strings.HasSuffix(s, "%"))
	}
	f.Fuzz(func(t *testing.T, s string, percentOK bool) {
		v, err := parseNumber(s, percentOK)
		if err != nil {
			if v != 0 || err.Error() == "" {
				t.Fatalf("parseNumber(%q) = %v with error %q", s, v, err)
			}
		} else {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("parseNumber(%q) = %v", s, v)
			}
			if !percentOK && strings.Contains(s, "%") {
				t.Fatalf("parseNumber(%q) accepted a %% outside a rate", s)
			}
			text := FormatNumber(v)
			if back, err := parseNumber(text, false); err != nil || back != v {
				t.Fatalf("parseNumber(%q) = %v, written as %q, read back as %v, %v", s, v, text, back, err)
			}
		}
		if p, err := parsePlain(s); err == nil && (math.IsNaN(p) || math.IsInf(p, 0)) {
			t.Fatalf("parsePlain(%q) = %v", s, p)
		}
	})
}

// FuzzFormatNumber writes arbitrary numbers and reads them back.
func FuzzFormatNumber(f *testing.F) {
	for _, v := range []float64{0, 1, 1.234, 0.955, 412.345, 1234.5, 12345678, 1e21, 1e-7, math.MaxFloat64,
		math.SmallestNonzeroFloat64, -1.5, math.Copysign(0, -1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return // not a target: Validate and the API refuse them
		}
		text := FormatNumber(v)
		back, err := parseNumber(text, false)
		if err != nil || back != v || math.Signbit(back) != math.Signbit(v) {
			t.Fatalf("FormatNumber(%v) = %q, read back as %v, %v", v, text, back, err)
		}
	})
}

func addFiles(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func workbook(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// checkFile reads and validates data and checks what an import relies on:
// a file that cannot be read is a Problem; every problem names its row and
// says what is wrong, in row order; every target Validate returns is one
// pantau can store; and a file without problems writes back (Write) to a
// file that reads to the identical targets.
func checkFile(t *testing.T, data []byte, format Format, spec *config.Spec, regions *kpi.Hierarchy) {
	rows, err := Read(bytes.NewReader(data), format)
	if err != nil {
		var p Problem
		if !errors.As(err, &p) || p.Message == "" {
			t.Fatalf("Read error %T is not a Problem with a message: %v", err, err)
		}
		return
	}
	targets, problems := Validate(rows, spec, regions)
	for i, p := range problems {
		if p.Row <= 0 || p.Message == "" {
			t.Fatalf("problem without a row or a message: %+v", p)
		}
		if i > 0 && p.Row < problems[i-1].Row {
			t.Fatalf("problems out of row order: %d after %d", p.Row, problems[i-1].Row)
		}
	}
	if len(problems) == 0 && len(targets) != len(rows) {
		t.Fatalf("%d rows, no problem, but %d targets", len(rows), len(targets))
	}
	for _, tg := range targets {
		checkTarget(t, tg, spec, regions)
	}
	if len(problems) > 0 || len(targets) == 0 {
		return
	}
	var buf bytes.Buffer
	if err := Write(&buf, format, targets, regions); err != nil {
		t.Fatalf("writing the targets back: %v", err)
	}
	again, err := Read(bytes.NewReader(buf.Bytes()), format)
	if err != nil {
		t.Fatalf("reading the written file: %v", err)
	}
	got, problems := Validate(again, spec, regions)
	if len(problems) > 0 || !reflect.DeepEqual(got, targets) {
		t.Fatalf("written and read back:\n got %+v (problems %v)\nwant %+v\nfile:\n%s", got, problems, targets, buf.Bytes())
	}
}

// checkTarget fails t unless tg is a target pantau may store.
func checkTarget(t *testing.T, tg kpi.Target, spec *config.Spec, regions *kpi.Hierarchy) {
	t.Helper()
	k, ok := spec.KPI(tg.KPI)
	if !ok {
		t.Fatalf("target for unknown KPI %q", tg.KPI)
	}
	reg, ok := regions.Lookup(tg.Region)
	if !ok || reg.Level > k.Level {
		t.Fatalf("target for region %q (known %v, level %s) of %s (by %s)", tg.Region, ok, reg.Level, k.ID, k.Level)
	}
	if tg.Year < MinYear || tg.Year > MaxYear {
		t.Fatalf("target for year %d", tg.Year)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 }
	if !finite(tg.Annual) || !finite(tg.Rate) || slices.ContainsFunc(tg.Profile, func(v float64) bool { return !finite(v) }) {
		t.Fatalf("target with a number that is negative or not finite: %+v", tg)
	}
	switch k.Kind {
	case kpi.KindRate:
		if tg.Rate <= 0 || tg.Annual != 0 || tg.Profile != nil {
			t.Fatalf("rate KPI %s target %+v", k.ID, tg)
		}
	default:
		if tg.Rate != 0 || (tg.Profile != nil && len(tg.Profile) != 12) {
			t.Fatalf("count KPI %s target %+v", k.ID, tg)
		}
		if err := tg.Validate(); err != nil {
			t.Fatalf("count KPI %s target %+v: %v", k.ID, tg, err)
		}
	}
}

func TestAWorkbookUnzippingBeyondTheLimitIsRefused(t *testing.T) {
	// A workbook with one more part claiming MaxUnzipped bytes, as a zip
	// bomb does: the sizes in the zip's directory are checked before
	// anything is unzipped.
	good, err := os.ReadFile("testdata/good_id.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/media/bom.bin", Method: zip.Store, CompressedSize64: 1, UncompressedSize64: MaxUnzipped})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{0})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Read(bytes.NewReader(buf.Bytes()), XLSX)
	var p Problem
	if !errors.As(err, &p) || !strings.Contains(p.Message, "cannot open the workbook") || !strings.Contains(p.Message, "limit") {
		t.Fatalf("Read: %v, want a Problem naming the size limit", err)
	}
	if _, err := Read(bytes.NewReader(good), XLSX); err != nil {
		t.Fatalf("the workbook without the extra part: %v", err)
	}
}
