package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/targetfile"
	"github.com/pantau-id/pantau/wilayah"
)

// FuzzTargetsImport runs pantau targets import on arbitrary CSV and XLSX
// files against a real SQLite store. An import that fails leaves the store
// exactly as it was, targets and audit trail; one that succeeds stores
// every target of the file, with one audit entry per change.
func FuzzTargetsImport(f *testing.F) {
	for _, name := range []string{goodCSV, badRowsCSV} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
	}
	for _, s := range []string{
		"kode_wilayah,kpi,tahun,target\n31,kube_jasa,2026,5\n31,kube_jasa,2026,6\n",
		"kode_wilayah,kpi,tahun,target\n31,kube_jasa,2026,5\n31.71,kube_jasa,2026,-1\n",
		"kode_wilayah,kpi,tahun,rate\n31,sembako_salur,2026,95%\n",
		"kode_wilayah,kpi,tahun,target\n",
		"kode_wilayah,kpi,tahun,target\n31.71.01.1001,ewarong_aktif,2026,1\n",
	} {
		f.Add([]byte(s), false)
	}
	for _, name := range []string{"../../targetfile/testdata/good_id.xlsx", "../../targetfile/testdata/bad_rows.xlsx"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
	}
	ts := testStore{driver: "sqlite", dsn: sourcetest.SQLite(f)}
	if _, stderr, code := pantauIn(context.Background(), append([]string{"migrate"}, ts.flags()...)...); code != exitOK {
		f.Fatalf("migrate: %s", stderr)
	}
	st, err := store.Open(context.Background(), ts.driver, ts.dsn)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	spec, err := config.Load(targetsSpec)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()

	f.Fuzz(func(t *testing.T, data []byte, xlsx bool) {
		file := filepath.Join(dir, "target.csv")
		if xlsx {
			file = filepath.Join(dir, "target.xlsx")
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		before, audit := storeContents(t, st)
		stdout, stderr, code := pantauIn(context.Background(), importArgs(ts, file, "--by", "fuzz")...)
		after, auditAfter := storeContents(t, st)
		if code != exitOK {
			if code != exitFailure || !strings.Contains(stderr, "nothing") {
				t.Fatalf("import exit %d without saying nothing was imported:\n%s", code, stderr)
			}
			if !reflect.DeepEqual(after, before) || len(auditAfter) != len(audit) {
				t.Fatalf("a failed import changed the store:\n%s", stderr)
			}
			return
		}
		// What the file holds, read as the import reads it.
		format := targetfile.CSV
		if xlsx {
			format = targetfile.XLSX
		}
		rows, err := targetfile.Read(bytes.NewReader(data), format)
		if err != nil {
			t.Fatalf("imported a file Read refuses: %v\n%s", err, stdout)
		}
		regions, err := wilayah.LoadWithDesa()
		if err != nil {
			t.Fatal(err)
		}
		want, problems := targetfile.Validate(rows, spec, regions)
		if len(problems) > 0 || len(want) == 0 {
			t.Fatalf("imported a file with problems %v:\n%s", problems, stdout)
		}
		changes := 0
		for _, w := range want {
			got, ok := findTarget(after, w)
			if !ok || !reflect.DeepEqual(got, w) {
				t.Fatalf("imported %+v, stored %+v", w, got)
			}
			if old, ok := findTarget(before, w); !ok || !reflect.DeepEqual(old, w) {
				changes++
			}
		}
		if len(auditAfter) != len(audit)+changes {
			t.Fatalf("%d targets changed, audit %d → %d entries", changes, len(audit), len(auditAfter))
		}
	})
}

func storeContents(t *testing.T, st *store.Store) ([]kpi.Target, []store.AuditEntry) {
	t.Helper()
	ts, err := st.ListTargets(context.Background(), store.TargetFilter{})
	if err != nil {
		t.Fatal(err)
	}
	audit, err := st.Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ts, audit
}

func findTarget(ts []kpi.Target, key kpi.Target) (kpi.Target, bool) {
	for _, t := range ts {
		if t.KPI == key.KPI && t.Region == key.Region && t.Year == key.Year {
			return t, true
		}
	}
	return kpi.Target{}, false
}
