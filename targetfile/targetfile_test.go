package targetfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/wilayah"
)

func loadSpec(tb testing.TB) *config.Spec {
	tb.Helper()
	spec, err := config.Load("testdata/spec.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return spec
}

func loadRegions(tb testing.TB) *kpi.Hierarchy {
	tb.Helper()
	h, err := wilayah.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func twelve(v float64) []float64 {
	out := make([]float64, 12)
	for i := range out {
		out[i] = v
	}
	return out
}

// goodTargets is what every good_* file in testdata holds.
var goodTargets = []kpi.Target{
	{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 1200, Profile: twelve(100)},
	{KPI: "ewarong_aktif", Region: "32.16.07", Year: 2026, Annual: 70},
	{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 18, Profile: []float64{1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1}},
	{KPI: "pkh_graduasi", Region: "32.16", Year: 2026, Annual: 4618},
	{KPI: "sembako_salur", Region: "32.16", Year: 2026, Rate: 0.95},
	{KPI: "sembako_salur", Region: "32.16.06", Year: 2026, Rate: 0.975},
	{KPI: "kpm_per_ewarong", Region: "32.16.07", Year: 2026, Rate: 412.5},
	{KPI: "pkh_graduasi", Region: "32.10", Year: 2026, Annual: 1234.5},
}

func readAndValidate(t *testing.T, path string) ([]Row, []kpi.Target, []Problem) {
	t.Helper()
	rows, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	targets, problems := Validate(rows, loadSpec(t), loadRegions(t))
	return rows, targets, problems
}

func TestGoodFilesReadToTheSameTargets(t *testing.T) {
	tests := []struct {
		file  string
		lines []int // the data rows' numbers
	}{
		{"testdata/good_id.csv", []int{3, 4, 5, 6, 8, 9, 10, 11}},
		{"testdata/good_id.xlsx", []int{3, 4, 5, 6, 8, 9, 10, 11}},
		{"testdata/good_en.csv", []int{2, 3, 4, 5, 6, 7, 8, 9}},
		{"testdata/good_en.xlsx", []int{2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			rows, targets, problems := readAndValidate(t, tt.file)
			for _, p := range problems {
				t.Errorf("problem: %s", p)
			}
			if !reflect.DeepEqual(targets, goodTargets) {
				t.Errorf("targets:\n got %+v\nwant %+v", targets, goodTargets)
			}
			var lines []int
			for _, r := range rows {
				lines = append(lines, r.Line)
			}
			if !reflect.DeepEqual(lines, tt.lines) {
				t.Errorf("row numbers %v, want %v", lines, tt.lines)
			}
		})
	}
}

func TestBadRowsAreAllReported(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/bad_rows.csv", []string{
			"testdata/bad_rows.csv:3: kode_wilayah 32.99: unknown region: not in the Kepmendagri region master",
			`testdata/bad_rows.csv:4: kode_wilayah 32.1: malformed region code: part 2 "1" must have 2 digits (like 32.16.06.2001); a spreadsheet may have turned 32.10 into the number 32.1: format the column as text`,
			"testdata/bad_rows.csv:5: kpi ewarong: unknown KPI (did you mean ewarong_aktif?); the spec's KPIs are ewarong_aktif, kube_jasa, pkh_graduasi, sembako_salur, kpm_per_ewarong",
			"testdata/bad_rows.csv:6: rate 95%: ewarong_aktif is a count KPI: its annual target goes in the target column; leave rate empty",
			"testdata/bad_rows.csv:7: target 95: sembako_salur is a rate KPI: put its target rate in the rate column (like 95% or 0,95) and leave target empty",
			"testdata/bad_rows.csv:8: target -5: negative; a target is 0 or more",
			"testdata/bad_rows.csv:9: monthly profile adds up to 11, not the annual target 12",
			"testdata/bad_rows.csv:10: tahun: empty; write the target's year, like 2026",
			"testdata/bad_rows.csv:11: tahun 226: out of range: pantau takes years 2000 to 2100",
			"testdata/bad_rows.csv:12: ewarong_aktif 32.16.06 2026 is also on row 2; keep one of the two rows",
			"testdata/bad_rows.csv:13: kode_wilayah: empty; every row needs the region's Kepmendagri code, like 32.16.06",
			"testdata/bad_rows.csv:14: kpi: empty; every row needs the KPI id from the spec, like ewarong_aktif",
			"testdata/bad_rows.csv:15: target 1,234: ambiguous: a decimal in Indonesian notation but 1234 in English; write 1234 or 1.234 for the thousands, or 1,2340 for the decimal",
			"testdata/bad_rows.csv:16: rate 95: above 100%; write the share as 0,95 or 95%",
			"testdata/bad_rows.csv:17: kode_wilayah 32.16.05: a kecamatan, but pkh_graduasi reports by kabupaten_kota; set its targets at kabupaten_kota level or above",
			"testdata/bad_rows.csv:18: monthly profile: fill all twelve months or none; apr, mei, jun, jul, agu, sep, okt, nov, des empty",
			"testdata/bad_rows.csv:19: target: empty; kube_jasa is a count KPI and needs its annual target",
			"testdata/bad_rows.csv:20: rate: empty; sembako_salur is a rate KPI and needs its target rate, like 95% or 0,95",
			`testdata/bad_rows.csv:21: kode_wilayah 3216.07: malformed region code: part 1 "3216" must have 2 digits (like 32.16.06.2001)`,
			`testdata/bad_rows.csv:22: target "4 buah": not a number; write digits with '.' between thousands and ',' before decimals, like 1.234 or 0,95`,
			"testdata/bad_rows.csv:23: kpm_per_ewarong is a rate KPI: monthly profiles are for count targets; leave the month columns empty",
		}},
		{"testdata/bad_rows.xlsx", []string{
			`testdata/bad_rows.xlsx:2: kode_wilayah 32.1: malformed region code: part 2 "1" must have 2 digits (like 32.16.06.2001); a spreadsheet may have turned 32.10 into the number 32.1: format the column as text`,
			"testdata/bad_rows.xlsx:3: kode_wilayah 99.1: unknown region (read as 99.10: the cell holds a number): not in the Kepmendagri region master",
			"testdata/bad_rows.xlsx:4: tahun 226: out of range: pantau takes years 2000 to 2100",
			"testdata/bad_rows.xlsx:5: target 1,234: ambiguous: a decimal in Indonesian notation but 1234 in English; write 1234 or 1.234 for the thousands, or 1,2340 for the decimal",
			"testdata/bad_rows.xlsx:6: target -3: negative; a target is 0 or more",
			"testdata/bad_rows.xlsx:8: kube_jasa 32.16.02 2026 is also on row 7; keep one of the two rows",
			"testdata/bad_rows.xlsx:9: rate 412,345: ambiguous: a decimal in Indonesian notation but 412345 in English; write 412345 or 412.345 for the thousands, or 412,3450 for the decimal",
			"testdata/bad_rows.xlsx:10: rate 95: above 100%; write the share as 0,95 or 95%",
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			_, _, problems := readAndValidate(t, tt.file)
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProblemsCarryColumnAndValue(t *testing.T) {
	rows, err := Read(strings.NewReader("Region_Code,KPI,Year,Target\n32.99,ewarong_aktif,2026,5\n"), CSV)
	if err != nil {
		t.Fatal(err)
	}
	_, problems := Validate(rows, loadSpec(t), loadRegions(t))
	want := []Problem{{Row: 2, Column: "Region_Code", Value: "32.99", Message: "unknown region: not in the Kepmendagri region master"}}
	if !reflect.DeepEqual(problems, want) {
		t.Fatalf("problems = %+v\nwant %+v", problems, want)
	}
	if got := problems[0].String(); got != "row 2: Region_Code 32.99: unknown region: not in the Kepmendagri region master" {
		t.Errorf("String() = %q", got)
	}
}

func TestHeaders(t *testing.T) {
	spec, regions := loadSpec(t), loadRegions(t)
	want := []kpi.Target{{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 70}}
	tests := []struct{ name, csv string }{
		{"Indonesian names", "kode_wilayah,nama_wilayah,kpi,tahun,target\n32.16.06,Tambun Selatan,ewarong_aktif,2026,70\n"},
		{"English names", "region_code,region_name,kpi,year,target\n32.16.06,Tambun Selatan,ewarong_aktif,2026,70\n"},
		{"short names, any case, any order", "TARGET,Tahun,Indikator,Kode\n70,2026,ewarong_aktif,32.16.06\n"},
		{"spaces and notes in names", " Kode Wilayah ,KPI,Tahun,Target (unit)\n32.16.06,ewarong_aktif,2026,70\n"},
		{"semicolons", "kode_wilayah;kpi;tahun;target;rate\n32.16.06;ewarong_aktif;2026;70;\n"},
		{"tabs", "kode_wilayah\tkpi\ttahun\ttarget\n32.16.06\tewarong_aktif\t2026\t70\n"},
		{"title rows and unknown columns", "Target 2026\n\nNo,Kode,KPI,Tahun,Target,Keterangan\n1,32.16.06,ewarong_aktif,2026,70,baru\n"},
		{"a byte-order mark and CRLF", "\ufeffkode_wilayah,kpi,tahun,target\r\n32.16.06,ewarong_aktif,2026,70\r\n"},
		{"rows of empty cells are skipped", "kode_wilayah,kpi,tahun,target\n,,,\n32.16.06,ewarong_aktif,2026,70\n , ,,\n"},
		{"profile columns left empty phase linearly", "kode_wilayah,kpi,tahun,target,jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec\n32.16.06,ewarong_aktif,2026,70,,,,,,,,,,,,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Read(strings.NewReader(tt.csv), CSV)
			if err != nil {
				t.Fatal(err)
			}
			got, problems := Validate(rows, spec, regions)
			if len(problems) > 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, problems %v", got, problems)
			}
		})
	}
}

func TestFileProblems(t *testing.T) {
	tests := []struct {
		name, csv, want string
	}{
		{"an empty file", "", "row 1: the file is empty; the first row should be the header, like kode_wilayah,nama_wilayah,kpi,tahun,target"},
		{"no header", "32.16.06,ewarong_aktif,2026,70\n", `row 1: no header row: none of the first 10 rows names the columns kode_wilayah, kpi and tahun (or region_code, kpi and year); row 1 reads "32.16.06,ewarong_aktif,2026,70"`},
		{"a header without target or rate", "kode_wilayah,kpi,tahun\n", "row 1: header has neither a target column (annual targets of count KPIs) nor a rate column (target rates of rate KPIs)"},
		{"some month columns", "kode_wilayah,kpi,tahun,target,jan,feb\n", "row 1: header has 2 of the 12 month columns; add mar, apr, mei, jun, jul, agu, sep, okt, nov, des, or remove them all to phase targets linearly"},
		{"a column named twice", "kode,kode_wilayah,kpi,tahun,target\n", `row 1: header: columns "kode" and "kode_wilayah" both name the kode_wilayah column; keep one`},
		{"a broken quote", "kode_wilayah,kpi,tahun,target\n32.16.06,\"ewarong_aktif,2026,70\n", "row 2: cannot read the CSV: extraneous or missing \" in quoted-field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.csv), CSV)
			var p Problem
			if !errors.As(err, &p) || err.Error() != tt.want {
				t.Errorf("err = %v\nwant %s", err, tt.want)
			}
		})
	}

	t.Run("ReadFile names the file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "targets.csv")
		if err := os.WriteFile(path, []byte("a,b\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+":1: no header row") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a workbook that is not one", func(t *testing.T) {
		_, err := Read(strings.NewReader("kode_wilayah,kpi\n"), XLSX)
		if err == nil || !strings.Contains(err.Error(), "cannot open the workbook") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("formats come from the extension", func(t *testing.T) {
		for path, want := range map[string]string{
			"t.CSV":  "",
			"t.xlsx": "",
			"t.xls":  "t.xls: the old .xls format is not supported; save the workbook as .xlsx (Excel Workbook)",
			"t.ods":  "t.ods: .ods files are not supported; save the sheet as .xlsx or .csv",
			"t":      "t: cannot tell the format from the name; name the file .csv or .xlsx",
		} {
			_, err := FormatOf(path)
			if (want == "" && err != nil) || (want != "" && (err == nil || err.Error() != want)) {
				t.Errorf("FormatOf(%s) = %v, want %q", path, err, want)
			}
		}
	})
}

// TestNumbersStoredInCells checks that XLSX number cells are read as
// stored while text cells follow Indonesian notation.
func TestNumbersStoredInCells(t *testing.T) {
	rows, err := ReadFile("testdata/bad_rows.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	// Row 8 holds the number 1.234 (a duplicate, but a well-formed number).
	for _, r := range rows {
		if r.Line == 8 {
			if r.Target != "1.234" || !r.isNumeric(colTarget) {
				t.Fatalf("row 8 target %q numeric %v", r.Target, r.isNumeric(colTarget))
			}
			v := validator{spec: loadSpec(t)}
			if f, ok := v.number(&r, colTarget, false); !ok || f != 1.234 {
				t.Errorf("number cell 1.234 read as %v", f)
			}
			r.numeric = 0
			if f, ok := v.number(&r, colTarget, false); !ok || f != 1234 {
				t.Errorf("text cell 1.234 read as %v", f)
			}
		}
	}
}

func TestWriteReadsBackIdentically(t *testing.T) {
	spec, regions := loadSpec(t), loadRegions(t)
	targets := append([]kpi.Target{
		{KPI: "ewarong_aktif", Region: "ID", Year: 2026, Annual: 12345678},
		{KPI: "ewarong_aktif", Region: "32", Year: 2026, Annual: 0},
		{KPI: "kube_jasa", Region: "31.71.01", Year: 2027, Annual: 1.234},
		{KPI: "kube_jasa", Region: "31.71.02", Year: 2027, Annual: 70,
			Profile: []float64{70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12, 70.0 / 12}},
		{KPI: "sembako_salur", Region: "31.71.03", Year: 2027, Rate: 0.955},
		{KPI: "kpm_per_ewarong", Region: "31.71", Year: 2017, Rate: 412.345},
	}, goodTargets...)
	for _, format := range []Format{CSV, XLSX} {
		t.Run(string(format), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, targets, regions); err != nil {
				t.Fatal(err)
			}
			rows, err := Read(bytes.NewReader(buf.Bytes()), format)
			if err != nil {
				t.Fatal(err)
			}
			got, problems := Validate(rows, spec, regions)
			for _, p := range problems {
				t.Errorf("problem: %s", p)
			}
			if !reflect.DeepEqual(got, targets) {
				t.Errorf("read back:\n got %+v\nwant %+v", got, targets)
			}
			if rows[0].RegionName != "Indonesia" || rows[3].RegionName != "Sawah Besar" {
				t.Errorf("region names %q, %q", rows[0].RegionName, rows[3].RegionName)
			}
		})
	}
	t.Run("csv header and notation", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, CSV, targets[:5], regions); err != nil {
			t.Fatal(err)
		}
		want := "kode_wilayah,nama_wilayah,kpi,tahun,target,rate,jan,feb,mar,apr,mei,jun,jul,agu,sep,okt,nov,des\n" +
			"ID,Indonesia,ewarong_aktif,2026,12345678,,,,,,,,,,,,,\n" +
			"32,Jawa Barat,ewarong_aktif,2026,0,,,,,,,,,,,,,\n" +
			"31.71.01,Gambir,kube_jasa,2027,\"1,2340\",,,,,,,,,,,,,\n"
		if !strings.HasPrefix(buf.String(), want) {
			t.Errorf("csv:\n%s\nwant it to start with\n%s", buf.String(), want)
		}
		if !strings.Contains(buf.String(), "\n31.71.03,Kemayoran,sembako_salur,2027,,\"0,955\",,") {
			t.Errorf("rate written as %s", buf.String())
		}
	})
}
