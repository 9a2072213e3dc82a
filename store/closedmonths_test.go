package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

func TestClosedMonthSums(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 10, 16, 5, 0, 0, 0, time.UTC)
	march := MonthSums{Period: "2026-03", QueryHash: "h1", CheckedAt: at, Sums: map[string]kpi.Observation{
		"32.16.06": {Numerator: 3, Denominator: 4},
		"32.16.07": {Value: 2},
		"32.75.01": {Invalid: true},
	}}
	runStoreTests(t, []storeTest{
		{"sums read back as written, per KPI, scope and year", func(t *testing.T, s *Store) {
			jan := MonthSums{Period: "2026-01", QueryHash: "h1", CheckedAt: at, Sums: map[string]kpi.Observation{}}
			lastYear := MonthSums{Period: "2025-12", QueryHash: "h1", CheckedAt: at, Sums: march.Sums}
			if err := s.SaveClosedMonthSums(ctx, "sembako_salur", "ID", []MonthSums{march, jan, lastYear}); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveClosedMonthSums(ctx, "sembako_salur", "32", []MonthSums{jan}); err != nil {
				t.Fatal(err)
			}
			got, err := s.ClosedMonthSums(ctx, "sembako_salur", "ID", 2026)
			if err != nil {
				t.Fatal(err)
			}
			if want := []MonthSums{jan, march}; !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			if got, _ := s.ClosedMonthSums(ctx, "kube_jasa", "ID", 2026); len(got) != 0 {
				t.Errorf("another KPI's sums: %+v", got)
			}
		}},
		{"saving a month again replaces its sums", func(t *testing.T, s *Store) {
			if err := s.SaveClosedMonthSums(ctx, "k", "ID", []MonthSums{march}); err != nil {
				t.Fatal(err)
			}
			late := MonthSums{Period: "2026-03", QueryHash: "h2", CheckedAt: at.Add(time.Hour), Sums: map[string]kpi.Observation{"32.16.06": {Numerator: 4, Denominator: 5}}}
			if err := s.SaveClosedMonthSums(ctx, "k", "ID", []MonthSums{late}); err != nil {
				t.Fatal(err)
			}
			got, err := s.ClosedMonthSums(ctx, "k", "ID", 2026)
			if err != nil || !reflect.DeepEqual(got, []MonthSums{late}) {
				t.Errorf("got %+v, %v; want %+v", got, err, late)
			}
		}},
		{"a bad month is refused and nothing is written", func(t *testing.T, s *Store) {
			bad := MonthSums{Period: "2026-13", QueryHash: "h", CheckedAt: at}
			err := s.SaveClosedMonthSums(ctx, "k", "ID", []MonthSums{march, bad})
			if err == nil || !strings.Contains(err.Error(), "2026-13") {
				t.Fatalf("error = %v, want one naming 2026-13", err)
			}
			if got, _ := s.ClosedMonthSums(ctx, "k", "ID", 2026); len(got) != 0 {
				t.Errorf("stored %+v after a refused write", got)
			}
		}},
	})
}
