package collector

import (
	"context"
	"errors"
	"strings"
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

// twoKPIs is a spec with a count and a rate KPI (per-region rates, no
// fixed one) on two sources.
func twoKPIs(t *testing.T) *config.Spec {
	t.Helper()
	spec, err := config.Parse("spec.yaml", []byte(`
sources:
  dinsos: {driver: sqlite, dsn_env: X}
  salur: {driver: sqlite, dsn_env: Y}
kpis:
  - id: kube_jasa
    name: KUBE Jasa
    kind: count
    accumulation: flow
    source: dinsos
    query: SELECT region_code, value FROM t
  - id: sembako_salur
    name: Penyaluran Sembako
    kind: rate
    share: true
    source: salur
    query: SELECT region_code, numerator, denominator FROM t
`))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

var (
	countRows = source.Result{Columns: []string{"region_code", "value"}, Rows: [][]any{{"32.16.06", int64(3)}}}
	rateRows  = source.Result{Columns: []string{"region_code", "numerator", "denominator"}, Rows: [][]any{{"32.16.06", int64(3), int64(4)}}}
)

func TestTargetsThatCannotBeUsedAreCounted(t *testing.T) {
	c, err := New(Options{Spec: twoKPIs(t), Regions: regionMaster(t), Scope: "32",
		Sources: map[string]Querier{"dinsos": memSource{countRows}, "salur": memSource{rateRows}},
		Targets: fixedTargets{2026, []kpi.Target{
			{KPI: "kube_jasa", Region: "32.99", Year: 2026, Annual: 5},
			{KPI: "kube_jasa", Region: "32.16", Year: 2026, Annual: 55, Profile: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}},
			{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 12},
			{KPI: "sembako_salur", Region: "32.16.99", Year: 2026, Rate: 0.9},
			{KPI: "sembako_salur", Region: "32.16.07", Year: 2026, Rate: 95},
		}},
		Now: pinnedClock})
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(context.Background())
	s := c.Refresh(context.Background())
	mfs := gatherSelf(t, c)
	for _, w := range []struct {
		kpi, reason string
		want        float64
	}{
		{"kube_jasa", kpi.RejectUnknownRegion, 2}, // one per refresh
		{"kube_jasa", kpi.RejectInvalidTarget, 2},
		{"sembako_salur", kpi.RejectUnknownRegion, 2},
		{"sembako_salur", kpi.RejectInvalidTarget, 2},
	} {
		got, ok := sample(mfs, "pantau_targets_rejected_total", map[string]string{"kpi": w.kpi, "reason": w.reason})
		if !ok || got != w.want {
			t.Errorf("pantau_targets_rejected_total{kpi=%q,reason=%q} = %v (present %v), want %v", w.kpi, w.reason, got, ok, w.want)
		}
	}
	// The usable targets still count: Tambun Selatan has its 12.
	if p := progressOf(t, s, "kube_jasa", "32.16.06", kpi.WindowYear); !numberIs(p.Target, 12) {
		t.Errorf("kube_jasa 32.16.06 target %s, want 12", showNumber(p.Target))
	}
}

// panicking is a source whose queries panic while on is set, as a bug met
// by one KPI's refresh would.
type panicking struct {
	memSource
	on *atomic.Bool
}

func (p panicking) Query(ctx context.Context, q string, params source.Params) (source.Result, error) {
	if p.on.Load() {
		panic("index out of range [11] with length 11")
	}
	return p.memSource.Query(ctx, q, params)
}

func TestAPanicInOneKPIFailsThatKPIOnly(t *testing.T) {
	on := &atomic.Bool{}
	c, err := New(Options{Spec: twoKPIs(t), Regions: regionMaster(t), Scope: "32",
		Sources: map[string]Querier{"dinsos": memSource{countRows}, "salur": panicking{memSource{rateRows}, on}},
		Now:     pinnedClock})
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(context.Background())
	on.Store(true)
	s := c.Refresh(context.Background())
	st, _ := s.KPI("sembako_salur")
	if !st.Stale || !strings.Contains(st.Err, "panic") || st.Progress == nil {
		t.Errorf("sembako_salur: stale %v, err %q, %d rows; want its last values, stale, with the panic as error", st.Stale, st.Err, len(st.Progress))
	}
	if ok, _ := s.KPI("kube_jasa"); ok.Err != "" || ok.Stale {
		t.Errorf("kube_jasa failed along: %q", ok.Err)
	}
	if got, _ := sample(gatherSelf(t, c), "pantau_refresh_failures_total", map[string]string{"kpi": "sembako_salur"}); got != 1 {
		t.Errorf("pantau_refresh_failures_total{kpi=sembako_salur} = %v, want 1", got)
	}
	if _, err := c.ComputeMonth(context.Background(), kpi.PeriodAt(pinnedNow, kpi.WIB).Prev()); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("ComputeMonth: err = %v, want the panic as an error", err)
	}
}
