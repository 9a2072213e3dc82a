package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

func TestClosedSums(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 10, 16, 5, 0, 0, 0, time.UTC)
	october := ClosedSums{Open: "2026-10", QueryHash: "h1", CheckedAt: at, Sums: map[string]kpi.Observation{
		"32.16.06": {Numerator: 3, Denominator: 4},
		"32.16.07": {Value: 2},
		"32.75.01": {Invalid: true},
	}}
	read := func(t *testing.T, s *Store, id, scope, open string) (ClosedSums, bool) {
		t.Helper()
		c, ok, err := s.ClosedSums(ctx, id, scope, open)
		if err != nil {
			t.Fatal(err)
		}
		return c, ok
	}
	runStoreTests(t, []storeTest{
		{"sums read back as written, per KPI, scope and open month", func(t *testing.T, s *Store) {
			if err := s.SaveClosedSums(ctx, "sembako_salur", "ID", october); err != nil {
				t.Fatal(err)
			}
			shard := ClosedSums{Open: "2026-10", QueryHash: "h1", CheckedAt: at, Sums: map[string]kpi.Observation{}}
			if err := s.SaveClosedSums(ctx, "sembako_salur", "32", shard); err != nil {
				t.Fatal(err)
			}
			if got, ok := read(t, s, "sembako_salur", "ID", "2026-10"); !ok || !reflect.DeepEqual(got, october) {
				t.Errorf("got %+v (%v), want %+v", got, ok, october)
			}
			if got, ok := read(t, s, "sembako_salur", "32", "2026-10"); !ok || !reflect.DeepEqual(got, shard) {
				t.Errorf("the shard's: got %+v (%v), want %+v", got, ok, shard)
			}
			if _, ok := read(t, s, "kube_jasa", "ID", "2026-10"); ok {
				t.Error("another KPI has sums")
			}
			if _, ok := read(t, s, "sembako_salur", "ID", "2026-09"); ok {
				t.Error("another open month has sums")
			}
		}},
		{"saving the sums of a later open month replaces the earlier ones", func(t *testing.T, s *Store) {
			if err := s.SaveClosedSums(ctx, "k", "ID", october); err != nil {
				t.Fatal(err)
			}
			november := ClosedSums{Open: "2026-11", QueryHash: "h2", CheckedAt: at.Add(time.Hour), Sums: map[string]kpi.Observation{"32.16.06": {Numerator: 4, Denominator: 5}}}
			if err := s.SaveClosedSums(ctx, "k", "ID", november); err != nil {
				t.Fatal(err)
			}
			if got, ok := read(t, s, "k", "ID", "2026-11"); !ok || !reflect.DeepEqual(got, november) {
				t.Errorf("got %+v (%v), want %+v", got, ok, november)
			}
			if _, ok := read(t, s, "k", "ID", "2026-10"); ok {
				t.Error("October's sums are still stored")
			}
		}},
		{"a bad open month is refused and nothing is written", func(t *testing.T, s *Store) {
			bad := october
			bad.Open = "2026-13"
			err := s.SaveClosedSums(ctx, "k", "ID", bad)
			if err == nil || !strings.Contains(err.Error(), "2026-13") {
				t.Fatalf("error = %v, want one naming 2026-13", err)
			}
			if _, ok := read(t, s, "k", "ID", "2026-13"); ok {
				t.Error("stored after a refused write")
			}
		}},
	})
}
