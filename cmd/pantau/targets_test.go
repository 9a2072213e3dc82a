package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

const (
	targetsSpec = "testdata/targets/spec.yaml"
	goodCSV     = "testdata/targets/good.csv"
	badRowsCSV  = "testdata/targets/bad_rows.csv"
)

func twelve(v float64) []float64 {
	p := make([]float64, 12)
	for i := range p {
		p[i] = v
	}
	return p
}

// goodTargets is what testdata/targets/good.csv and goodXLSX hold, in the
// store's order (KPI, year, region).
var goodTargets = []kpi.Target{
	{KPI: "ewarong_aktif", Region: "31", Year: 2017, Annual: 70},
	{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 1200, Profile: twelve(100)},
	{KPI: "ewarong_aktif", Region: "32.16.07", Year: 2026, Annual: 70},
	{KPI: "kube_jasa", Region: "31", Year: 2017, Annual: 71},
	{KPI: "pkh_graduasi", Region: "32.16", Year: 2026, Annual: 4618},
	{KPI: "sembako_salur", Region: "32.16", Year: 2026, Rate: 0.95},
	{KPI: "sembako_salur", Region: "32.16.06", Year: 2026, Rate: 0.975},
}

// goodXLSX writes goodTargets as an office's workbook: a title row, then
// Indonesian headers, numbers stored as numbers.
func goodXLSX(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"TARGET KINERJA DINAS SOSIAL"},
		{"No", "Kode Wilayah", "Nama Wilayah", "KPI", "Tahun", "Target", "Persentase",
			"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"},
		{1, "32.16.06", "Tambun Selatan", "ewarong_aktif", 2026, 1200, nil, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100},
		{2, "32.16.07", "Cibitung", "ewarong_aktif", 2026, 70},
		{3, "32.16", "Kabupaten Bekasi", "pkh_graduasi", 2026, 4618},
		{4, "32.16", "Kabupaten Bekasi", "sembako_salur", 2026, nil, 0.95},
		{5, "32.16.06", "Tambun Selatan", "sembako_salur", 2026, nil, 0.975},
		{6, "31", "DKI Jakarta", "ewarong_aktif", 2017, 70},
		{7, "31", "DKI Jakarta", "kube_jasa", 2017, 71},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "target-2026.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func storedTargets(t *testing.T, ts testStore) []kpi.Target {
	t.Helper()
	got, err := ts.open(t).ListTargets(context.Background(), store.TargetFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func auditTrail(t *testing.T, ts testStore) []store.AuditEntry {
	t.Helper()
	got, err := ts.open(t).Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// migrated returns a new, migrated store.
func migrated(t *testing.T, ts testStore) testStore {
	t.Helper()
	mustRun(t, exitOK, append([]string{"migrate"}, ts.flags()...)...)
	return ts
}

func importArgs(ts testStore, file string, extra ...string) []string {
	args := append([]string{"targets", "import", "--config", targetsSpec}, ts.flags()...)
	return append(append(args, extra...), file)
}

func exportArgs(ts testStore, extra ...string) []string {
	args := append([]string{"targets", "export", "--config", targetsSpec}, ts.flags()...)
	return append(args, extra...)
}

func TestTargetsImport(t *testing.T) {
	t.Parallel()
	for _, file := range []struct {
		name string
		path func(t *testing.T) string
	}{
		{"csv", func(*testing.T) string { return goodCSV }},
		{"xlsx", goodXLSX},
	} {
		t.Run("a good "+file.name+" file is imported whole, with an audit entry per target", func(t *testing.T) {
			t.Parallel()
			onEachStore(t, func(t *testing.T, ts testStore) {
				migrated(t, ts)
				path := file.path(t)
				out, errOut := mustRun(t, exitOK, importArgs(ts, path, "--by", "siti", "--reason", "SK Kadinsos 12/2026")...)
				if want := fmt.Sprintf("imported %s: 7 created, 0 updated, 0 unchanged (by siti)\n", path); out != want || errOut != "" {
					t.Errorf("stdout %q, want %q; stderr %q", out, want, errOut)
				}
				if got := storedTargets(t, ts); !reflect.DeepEqual(got, goodTargets) {
					t.Errorf("stored:\n got %+v\nwant %+v", got, goodTargets)
				}
				audit := auditTrail(t, ts)
				if len(audit) != len(goodTargets) {
					t.Fatalf("%d audit entries, want %d", len(audit), len(goodTargets))
				}
				for _, e := range audit {
					if e.Action != store.ActionCreate || e.ChangedBy != "siti" || e.Reason != "SK Kadinsos 12/2026" || e.Old != nil || e.New == nil {
						t.Errorf("audit entry %+v", e)
					}
				}

				out, _ = mustRun(t, exitOK, importArgs(ts, path, "--by", "siti")...)
				if want := fmt.Sprintf("imported %s: 0 created, 0 updated, 7 unchanged (by siti)\n", path); out != want {
					t.Errorf("re-import: %q, want %q", out, want)
				}
				if n := len(auditTrail(t, ts)); n != len(goodTargets) {
					t.Errorf("re-import added audit entries: %d, want %d", n, len(goodTargets))
				}
			})
		})
	}

	t.Run("a file with bad rows writes nothing and reports every row", func(t *testing.T) {
		t.Parallel()
		onEachStore(t, func(t *testing.T, ts testStore) {
			migrated(t, ts)
			out, errOut := mustRun(t, exitFailure, importArgs(ts, badRowsCSV, "--by", "siti")...)
			if out != "" {
				t.Errorf("stdout %q", out)
			}
			// Every data row but the good ones (2 and 24) is named.
			for row := 3; row <= 23; row++ {
				if !strings.Contains(errOut, fmt.Sprintf("%s:%d: ", badRowsCSV, row)) {
					t.Errorf("row %d not reported:\n%s", row, errOut)
				}
			}
			if !strings.HasSuffix(errOut, "pantau targets import: 21 problems in 21 rows of 23; nothing was imported. Fix them and run the import again.\n") {
				t.Errorf("summary:\n%s", errOut)
			}
			if got := storedTargets(t, ts); len(got) != 0 {
				t.Errorf("stored %v", got)
			}
			if got := auditTrail(t, ts); len(got) != 0 {
				t.Errorf("audit %v", got)
			}
		})
	})

	t.Run("a dry run prints each change and writes nothing", func(t *testing.T) {
		t.Parallel()
		onEachStore(t, func(t *testing.T, ts testStore) {
			migrated(t, ts)
			out, _ := mustRun(t, exitOK, importArgs(ts, goodCSV, "--dry-run")...)
			want := goodCSV + ":2: create ewarong_aktif 32.16.06 (Tambun Selatan) 2026: target 1200, monthly [100 100 100 100 100 100 100 100 100 100 100 100]\n" +
				goodCSV + ":3: create ewarong_aktif 32.16.07 (Cibitung) 2026: target 70\n" +
				goodCSV + ":4: create pkh_graduasi 32.16 (Kabupaten Bekasi) 2026: target 4618\n" +
				goodCSV + ":5: create sembako_salur 32.16 (Kabupaten Bekasi) 2026: rate 0,95\n" +
				goodCSV + ":6: create sembako_salur 32.16.06 (Tambun Selatan) 2026: rate 0,975\n" +
				goodCSV + ":7: create ewarong_aktif 31 (Daerah Khusus Ibukota Jakarta) 2017: target 70\n" +
				goodCSV + ":8: create kube_jasa 31 (Daerah Khusus Ibukota Jakarta) 2017: target 71\n" +
				"dry run: would create 7, update 0, leave 0 unchanged; nothing was written\n"
			if out != want {
				t.Errorf("dry run:\n%s\nwant:\n%s", out, want)
			}
			if got := storedTargets(t, ts); len(got) != 0 {
				t.Errorf("a dry run stored %v", got)
			}
			if got := auditTrail(t, ts); len(got) != 0 {
				t.Errorf("a dry run wrote audit entries %v", got)
			}

			// Against stored targets: old → new for what an edited file changes.
			mustRun(t, exitOK, importArgs(ts, goodCSV, "--by", "siti")...)
			edited := filepath.Join(t.TempDir(), "edited.csv")
			data, err := os.ReadFile(goodCSV)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Replace(string(data), "Cibitung;ewarong_aktif;2026;70;", "Cibitung;ewarong_aktif;2026;75;", 1)
			text = strings.Replace(text, "Tambun Selatan;sembako_salur;2026;;97,5%", "Tambun Selatan;sembako_salur;2026;;0,99", 1)
			text = strings.Replace(text, "32.16.06;Tambun Selatan;ewarong_aktif;2026;1.200;;"+strings.Repeat("100;", 11)+"100",
				"32.16.06;Tambun Selatan;ewarong_aktif;2026;1.200;"+strings.Repeat(";", 12), 1)
			if err := os.WriteFile(edited, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, _ = mustRun(t, exitOK, importArgs(ts, edited, "--dry-run")...)
			for _, line := range []string{
				":2: update ewarong_aktif 32.16.06 (Tambun Selatan) 2026: monthly [100 100 100 100 100 100 100 100 100 100 100 100] → linear\n",
				":3: update ewarong_aktif 32.16.07 (Cibitung) 2026: target 70 → 75\n",
				":4: unchanged pkh_graduasi 32.16 (Kabupaten Bekasi) 2026: target 4618\n",
				":6: update sembako_salur 32.16.06 (Tambun Selatan) 2026: rate 0,975 → 0,99\n",
				"dry run: would create 0, update 3, leave 4 unchanged; nothing was written\n",
			} {
				if !strings.Contains(out, line) {
					t.Errorf("dry run lacks %q:\n%s", line, out)
				}
			}
			if got := storedTargets(t, ts); !reflect.DeepEqual(got, goodTargets) {
				t.Errorf("a dry run changed the store:\n%+v", got)
			}
			if n := len(auditTrail(t, ts)); n != len(goodTargets) {
				t.Errorf("a dry run wrote audit entries: %d", n)
			}

			out, _ = mustRun(t, exitOK, importArgs(ts, edited, "--by", "budi", "--reason", "revisi")...)
			if want := fmt.Sprintf("imported %s: 0 created, 3 updated, 4 unchanged (by budi)\n", edited); out != want {
				t.Errorf("import: %q, want %q", out, want)
			}
			updates := auditTrail(t, ts)[:3] // newest first
			for _, e := range updates {
				if e.Action != store.ActionUpdate || e.ChangedBy != "budi" || e.Reason != "revisi" || e.Old == nil || e.New == nil {
					t.Errorf("audit entry %+v", e)
				}
			}
		})
	})
}

// TestTargetsImportBadRowsGolden compares the whole report of a file with
// many bad rows with testdata/targets/bad_rows.golden. Run
// "go test ./cmd/pantau -update" to rewrite it after a deliberate change.
func TestTargetsImportBadRowsGolden(t *testing.T) {
	t.Parallel()
	ts := migrated(t, newTestStore(t, "sqlite"))
	args := []string{"targets", "import", "--config", targetsSpec, badRowsCSV}
	stdout, stderr, code := pantau(append(args, ts.flags()...)...)
	got := fmt.Sprintf("$ pantau %s\nexit %d\n-- stdout --\n%s-- stderr --\n%s", strings.Join(args, " "), code, stdout, stderr)
	compareGolden(t, strings.TrimSuffix(badRowsCSV, ".csv")+".golden", got)
}

func TestTargetsExport(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, ts testStore) {
		migrated(t, ts)
		mustRun(t, exitOK, importArgs(ts, goodCSV, "--by", "siti")...)
		dir := t.TempDir()

		t.Run("csv to stdout", func(t *testing.T) {
			out, errOut := mustRun(t, exitOK, exportArgs(ts, "--year", "2026", "--kpi", "sembako_salur")...)
			want := "kode_wilayah,nama_wilayah,kpi,tahun,target,rate,jan,feb,mar,apr,mei,jun,jul,agu,sep,okt,nov,des\n" +
				"32.16,Kabupaten Bekasi,sembako_salur,2026,,\"0,95\",,,,,,,,,,,,\n" +
				"32.16.06,Tambun Selatan,sembako_salur,2026,,\"0,975\",,,,,,,,,,,,\n"
			if out != want || errOut != "" {
				t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %q", out, want, errOut)
			}
		})

		t.Run("export then re-import changes nothing", func(t *testing.T) {
			csvOut, _ := mustRun(t, exitOK, exportArgs(ts)...)
			stdoutCSV := filepath.Join(dir, "stdout.csv")
			if err := os.WriteFile(stdoutCSV, []byte(csvOut), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, file := range []string{"targets.xlsx", "targets.csv"} {
				path := filepath.Join(dir, file)
				out, _ := mustRun(t, exitOK, exportArgs(ts, "-o", path)...)
				if want := "exported 7 targets to " + path + "\n"; out != want {
					t.Errorf("export: %q, want %q", out, want)
				}
			}
			for _, path := range []string{stdoutCSV, filepath.Join(dir, "targets.xlsx"), filepath.Join(dir, "targets.csv")} {
				out, _ := mustRun(t, exitOK, importArgs(ts, path, "--by", "siti")...)
				if want := fmt.Sprintf("imported %s: 0 created, 0 updated, 7 unchanged (by siti)\n", path); out != want {
					t.Errorf("re-import: %q, want %q", out, want)
				}
			}
			if got := storedTargets(t, ts); !reflect.DeepEqual(got, goodTargets) {
				t.Errorf("stored:\n got %+v\nwant %+v", got, goodTargets)
			}
			if n := len(auditTrail(t, ts)); n != len(goodTargets) {
				t.Errorf("%d audit entries after round trips, want %d", n, len(goodTargets))
			}
		})

		t.Run("an exported file imports into an empty store", func(t *testing.T) {
			path := filepath.Join(dir, "dki.xlsx")
			mustRun(t, exitOK, exportArgs(ts, "--year", "2017", "--format", "xlsx", "-o", path)...)
			other := migrated(t, newTestStore(t, ts.driver))
			mustRun(t, exitOK, importArgs(other, path, "--by", "siti")...)
			if got, want := storedTargets(t, other), goodTargets[:1:1]; !reflect.DeepEqual(got, append(want, goodTargets[3])) {
				t.Errorf("stored %+v", got)
			}
		})

		t.Run("targets of KPIs not in the spec are left out, with a note", func(t *testing.T) {
			s := ts.open(t)
			if _, err := s.ApplyTargets(context.Background(), []store.Change{{Target: kpi.Target{KPI: "retired_kpi", Region: "32", Year: 2026, Annual: 5}}}, "test", ""); err != nil {
				t.Fatal(err)
			}
			out, errOut := mustRun(t, exitOK, exportArgs(ts, "--year", "2026")...)
			if strings.Contains(out, "retired_kpi") || errOut != "pantau targets export: left out 1 target of KPIs not in "+targetsSpec+": retired_kpi\n" {
				t.Errorf("stdout:\n%s\nstderr %q", out, errOut)
			}
		})

		t.Run("nothing to export writes the header", func(t *testing.T) {
			out, errOut := mustRun(t, exitOK, exportArgs(ts, "--year", "2030")...)
			if strings.Count(out, "\n") != 1 || errOut != "pantau targets export: no targets match; wrote the header only\n" {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	})
}

func TestTargetsCommandLine(t *testing.T) {
	t.Parallel()
	ts := migrated(t, newTestStore(t, "sqlite"))
	missing := testStore{driver: "sqlite", dsn: filepath.Join(t.TempDir(), "missing.db")}
	unmigrated := newTestStore(t, "sqlite")
	unmigrated.exec(t, "CREATE TABLE placeholder (x INTEGER)")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{"targets alone asks for a subcommand", []string{"targets"}, exitUsage, "", "name what to do, import, export or audit"},
		{"an unknown subcommand suggests the nearest", []string{"targets", "imprt"}, exitUsage, "", `unknown subcommand "imprt" (did you mean import?)`},
		{"help targets explains both subcommands with examples", []string{"help", "targets"}, exitOK, "Flags of import:", ""},
		{"targets import -h explains targets", []string{"targets", "import", "-h"}, exitOK, "pantau targets import --config dinsos.yaml --dry-run targets-2026.xlsx", ""},
		{"import needs --config", append([]string{"targets", "import", goodCSV}, ts.flags()...), exitUsage, "", "name the KPI spec with --config and one target file"},
		{"import needs a file", append([]string{"targets", "import", "--config", targetsSpec}, ts.flags()...), exitUsage, "", "name the KPI spec with --config and one target file"},
		{"import takes one file", importArgs(ts, goodCSV, goodCSV), exitUsage, "", "import one file at a time (got 2)"},
		{"flags may follow the file", append([]string{"targets", "import", "--config", targetsSpec, goodCSV, "--dry-run"}, ts.flags()...), exitOK, "dry run: would create 7", ""},
		{"an unknown flag", importArgs(ts, goodCSV, "--force"), exitUsage, "", "flag provided but not defined: -force"},
		{"a missing file", importArgs(ts, "testdata/targets/nope.csv"), exitFailure, "", "testdata/targets/nope.csv: no such file or directory"},
		{"a file of another format", importArgs(ts, "testdata/targets/spec.yaml"), exitFailure, "", "cannot tell the format from the name; name the file .csv or .xlsx"},
		{"an invalid spec", append([]string{"targets", "import", "--config", "testdata/check/many_problems.yaml", goodCSV}, ts.flags()...), exitFailure, "", "fix the spec above (pantau check testdata/check/many_problems.yaml lists every problem)"},
		{"a store that does not exist is not created", importArgs(missing, goodCSV), exitFailure, "", "there is no pantau store yet (the file named by --store-dsn or PANTAU_STORE_DSN does not exist); create it with: pantau migrate"},
		{"a store that is not migrated", importArgs(unmigrated, goodCSV), exitFailure, "", "the store is at migration 0 but this pantau needs 5; run: pantau migrate"},
		{"export needs --config", append([]string{"targets", "export"}, ts.flags()...), exitUsage, "", "name the KPI spec with --config"},
		{"export takes no file argument", exportArgs(ts, "out.csv"), exitUsage, "", `takes no file argument (got "out.csv"); name the output file with -o`},
		{"xlsx needs -o", exportArgs(ts, "--format", "xlsx"), exitUsage, "", "an XLSX workbook goes to a file: add -o targets.xlsx"},
		{"format and -o must agree", exportArgs(ts, "--format", "csv", "-o", "x.xlsx"), exitUsage, "", "--format csv but -o x.xlsx; make them agree"},
		{"an unknown format", exportArgs(ts, "--format", "ods"), exitUsage, "", `--format: unknown format "ods" (want csv or xlsx)`},
		{"an unknown KPI", exportArgs(ts, "--kpi", "ewarong"), exitUsage, "", "--kpi ewarong is not in testdata/targets/spec.yaml; its KPIs are ewarong_aktif, kube_jasa, pkh_graduasi, sembako_salur, kpm_per_ewarong"},
		{"a year out of range", exportArgs(ts, "--year", "26"), exitUsage, "", "--year 26 is out of range; pantau takes years 2000 to 2100"},
		{"export from a store that does not exist", append([]string{"targets", "export", "--config", targetsSpec}, missing.flags()...), exitFailure, "", "there is no pantau store yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := pantau(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			for _, c := range []struct{ name, got, want string }{{"stdout", stdout, tt.stdout}, {"stderr", stderr, tt.stderr}} {
				if c.want == "" && c.got != "" {
					t.Errorf("%s should be empty, got:\n%s", c.name, c.got)
				}
				if !strings.Contains(c.got, c.want) {
					t.Errorf("%s lacks %q:\n%s", c.name, c.want, c.got)
				}
			}
		})
	}
	if _, err := os.Stat(missing.dsn); err == nil {
		t.Errorf("import created the missing store %s", missing.dsn)
	}
}

func TestTargetsByDefaultsToUSER(t *testing.T) {
	ts := migrated(t, newTestStore(t, "sqlite"))
	t.Setenv("USER", "ayu")
	out, _ := mustRun(t, exitOK, importArgs(ts, goodCSV)...)
	if !strings.HasSuffix(out, "(by ayu)\n") {
		t.Errorf("stdout %q", out)
	}
	audit := auditTrail(t, ts)
	if audit[0].ChangedBy != "ayu" || audit[0].Reason != "pantau targets import good.csv" {
		t.Errorf("audit entry %+v", audit[0])
	}

	t.Setenv("USER", "")
	edited := filepath.Join(t.TempDir(), "edited.csv")
	data, _ := os.ReadFile(goodCSV)
	if err := os.WriteFile(edited, []byte(strings.Replace(string(data), ";2017;70;", ";2017;72;", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ = mustRun(t, exitOK, importArgs(ts, edited)...)
	if !strings.HasSuffix(out, "1 updated, 6 unchanged (by pantau)\n") {
		t.Errorf("stdout %q", out)
	}
}
