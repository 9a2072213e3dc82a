package collector

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/wilayah"
	dto "github.com/prometheus/client_model/go"
)

// flakyTargets fails while down is set.
type flakyTargets struct {
	down atomic.Bool
	ts   []kpi.Target
}

func (f *flakyTargets) Targets(context.Context, int) ([]kpi.Target, error) {
	if f.down.Load() {
		return nil, errors.New("store: connection refused")
	}
	return f.ts, nil
}

func TestATargetStoreFailure(t *testing.T) {
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := config.Parse("spec.yaml", []byte(`
sources:
  dinsos: {driver: sqlite, dsn_env: X}
kpis:
  - id: kube_jasa
    name: KUBE Jasa
    kind: count
    accumulation: flow
    source: dinsos
    query: SELECT region_code, value FROM t
`))
	if err != nil {
		t.Fatal(err)
	}
	rows := source.Result{Columns: []string{"region_code", "value"}, Rows: [][]any{{"32.16.06", int64(3)}}}
	now := time.Date(2026, time.October, 16, 12, 0, 0, 0, kpi.WIB)
	store := &flakyTargets{ts: []kpi.Target{{KPI: "kube_jasa", Region: "32.16", Year: 2026, Annual: 24}}}
	newC := func() *Collector {
		c, err := New(Options{Spec: spec, Regions: regions, Scope: "32", Sources: map[string]Querier{"dinsos": memSource{rows}},
			Targets: store, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	statusOf := func(s *Snapshot) kpi.Status {
		st, _ := s.KPI("kube_jasa")
		for _, p := range st.Progress {
			if p.Region == "32.16" && p.Window == kpi.WindowYear {
				return p.Status
			}
		}
		return ""
	}

	t.Run("after a good read, a failing store keeps the last good targets", func(t *testing.T) {
		c := newC()
		want := statusOf(c.Refresh(context.Background()))
		store.down.Store(true)
		defer store.down.Store(false)
		s := c.Refresh(context.Background())
		if got := statusOf(s); got != want || got == kpi.NoTarget {
			t.Errorf("status %s with the store down, want %s as before", got, want)
		}
		var m dto.Metric
		if err := c.metrics.targetFailures.Write(&m); err != nil {
			t.Fatal(err)
		}
		if n := m.GetCounter().GetValue(); n != 1 {
			t.Errorf("pantau_target_read_failures_total = %v, want 1", n)
		}
	})
	t.Run("with no good read yet, a failing store fails the KPI instead of showing no_target", func(t *testing.T) {
		store.down.Store(true)
		defer store.down.Store(false)
		c := newC()
		s := c.Refresh(context.Background())
		st, _ := s.KPI("kube_jasa")
		if st.Err == "" || st.Progress != nil {
			t.Errorf("KPI state %+v, want a failure without progress", st.Err)
		}
		if got := statusOf(s); got == kpi.NoTarget {
			t.Error("the KPI shows no_target: a store outage would silence alerts")
		}
	})
}
