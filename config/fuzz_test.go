package config

import (
	"errors"
	"os"
	"testing"

	"github.com/pantau-id/pantau/sqlcheck"
)

// FuzzParse checks that no input makes Parse panic, that failures are
// always Errors, and that a spec accepted without error holds only valid KPI
// definitions whose sources exist. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("../examples/dinsos.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := Parse("fuzz.yaml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T is not a non-empty Errors: %v", err, err)
			}
			if spec != nil {
				t.Fatal("spec returned along with errors")
			}
			return
		}
		if spec == nil || len(spec.KPIs) == 0 || len(spec.Sources) == 0 || spec.Location == nil || spec.Refresh < MinRefresh {
			t.Fatalf("accepted an incomplete spec: %+v", spec)
		}
		ids := map[string]bool{}
		for _, k := range spec.KPIs {
			if err := k.KPI.Validate(); err != nil {
				t.Fatalf("accepted KPI %s that does not validate: %v", k.ID, err)
			}
			if ids[k.ID] {
				t.Fatalf("accepted duplicate KPI id %s", k.ID)
			}
			ids[k.ID] = true
			if _, ok := spec.Sources[k.Source]; !ok {
				t.Fatalf("KPI %s names undefined source %q", k.ID, k.Source)
			}
			if err := sqlcheck.Check(spec.Sources[k.Source].Driver, k.Query); err != nil {
				t.Fatalf("KPI %s: accepted a query that source refuses: %v", k.ID, err)
			}
		}
	})
}
