package collector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// countingQuerier records the months each query covers: "2026-08" for a
// month, "2026-01..2026-10" for a year.
type countingQuerier struct {
	Querier
	mu      sync.Mutex
	queries []string
	// failYears makes every query longer than a month fail.
	failYears bool
}

func (c *countingQuerier) Query(ctx context.Context, query string, p source.Params) (source.Result, error) {
	from, to := kpi.PeriodAt(p.PeriodStart, nil), kpi.PeriodAt(p.PeriodEnd.Add(-time.Second), nil)
	span := from.String()
	if from != to {
		span += ".." + to.String()
	}
	c.mu.Lock()
	c.queries = append(c.queries, span)
	fail := c.failYears && from != to
	c.mu.Unlock()
	if fail {
		return source.Result{}, errors.New("canceling statement due to statement timeout")
	}
	return c.Querier.Query(ctx, query, p)
}

// expect fails the test unless the queries since the last take are want
// (in any order).
func (c *countingQuerier) expect(t *testing.T, what string, want []string) {
	t.Helper()
	if got, want := c.take(), slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
		t.Errorf("%s queried %v\nwant %v", what, got, want)
	}
}

// take returns the queries recorded since the last take, sorted.
func (c *countingQuerier) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.queries
	c.queries = nil
	slices.Sort(q)
	return q
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func closedChanges(t *testing.T, c *Collector, id string) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.metrics.closedChanges.WithLabelValues(id).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// refreshQueries are the queries of one refresh of spec at pinnedNow,
// sorted: October once per KPI and, when the closed months are read, each
// flow KPI's year and the stock count's baseline (December of the year
// before).
func refreshQueries(spec *config.Spec, closed bool) []string {
	var q []string
	for _, k := range spec.KPIs {
		q = append(q, "2026-10")
		if k.BaselineQuery() && closed {
			q = append(q, "2025-12")
		}
		if k.YearQuery() && closed {
			q = append(q, "2026-01..2026-10")
		}
	}
	slices.Sort(q)
	return q
}

// yearRows are a snapshot's year-window figures of its flow KPIs, by KPI and
// region: what closed-month sums must reproduce.
func yearRows(states []KPIState) map[string]kpi.Progress {
	out := map[string]kpi.Progress{}
	for _, st := range states {
		if !st.Def.YearQuery() {
			continue
		}
		for _, p := range st.Progress {
			if p.Window == kpi.WindowYear {
				out[p.KPI+" "+p.Region] = kpi.Progress{Actual: p.Actual, Numerator: p.Numerator, Denominator: p.Denominator}
			}
		}
	}
	return out
}

// diffYears lists the KPI × region year figures that differ.
func diffYears(got, want map[string]kpi.Progress) []string {
	var diffs []string
	for key, w := range want {
		if g, ok := got[key]; !ok || g != w {
			diffs = append(diffs, fmt.Sprintf("%s: actual %s num %s den %s, want %s, %s, %s", key,
				showNumber(g.Actual), showNumber(g.Numerator), showNumber(g.Denominator),
				showNumber(w.Actual), showNumber(w.Numerator), showNumber(w.Denominator)))
		}
	}
	if len(got) != len(want) {
		diffs = append(diffs, fmt.Sprintf("%d year rows, want %d", len(got), len(want)))
	}
	slices.Sort(diffs)
	return diffs
}

// lateRows arrive after their months closed: a Sembako allocation and its
// distribution in March, a KUBE formed in May, a graduation in February,
// and September's undistributed Sembako in 32.16.07 handed out in October
// (distributed by the year's end, not within September), and an e-Warong
// active since November 2025, which changes the level on 1 January.
var lateRows = []string{
	`INSERT INTO ewarong (id, kode_kecamatan, nama, status, tanggal_aktif, tanggal_tutup) VALUES (100, '32.16.08', 'e-Warong Terlambat', 'aktif', '2025-11-20', NULL)`,
	`UPDATE sembako_alokasi SET tanggal_salur = '2026-10-03' WHERE id = 19`,
	`INSERT INTO sembako_alokasi (id, no_kk, kode_kecamatan, periode, nominal, tanggal_salur) VALUES (100, '3216070000000009', '32.16.07', '2026-03-01', 200000, '2026-03-09')`,
	`INSERT INTO kube (id, kode_kecamatan, nama, jenis, tanggal_bentuk) VALUES (100, '31.71.01', 'KUBE Terlambat', 'jasa', '2026-05-20')`,
	`INSERT INTO pkh_graduasi (id, no_kk, kode_kecamatan, tanggal_graduasi) VALUES (100, '3275010000000099', '32.75.01', '2026-02-27')`,
}

func TestYearFromClosedMonths(t *testing.T) {
	for _, driver := range testDrivers {
		t.Run("the year window equals a full year query at every level, late rows included, on "+driver, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dsn := loadDinsos(t, driver)
			spec := dinsosSpec(t, driver)
			q := &countingQuerier{Querier: openSource(t, spec, "dinsos", dsn)}
			clk := &clock{t: pinnedNow}
			c, err := New(Options{Spec: spec, Regions: regionMaster(t), Scope: "32", Sources: map[string]Querier{"dinsos": q},
				Targets: dinsosTargets, Now: clk.Now, Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			october := kpi.NewPeriod(2026, time.October, nil)
			fullYear := func() map[string]kpi.Progress {
				t.Helper()
				states, err := c.ComputeMonth(ctx, october)
				if err != nil {
					t.Fatal(err)
				}
				q.take()
				return yearRows(states)
			}
			want := fullYear()

			// Start-up: each flow KPI reads its year once, besides the month.
			snap := c.Refresh(ctx)
			q.expect(t, "the first refresh", refreshQueries(spec, true))
			if d := diffYears(yearRows(snap.KPIs), want); len(d) > 0 {
				t.Errorf("year window from closed months differs from the full year query:\n%v", d)
			}
			first := yearRows(snap.KPIs)

			sourcetest.Exec(t, driver, dsn, lateRows...)
			wantLate := fullYear()
			if len(diffYears(wantLate, want)) == 0 {
				t.Fatal("the late rows change nothing in the full year query; the test would prove nothing")
			}

			// Five minutes later: only the open month is read, the late
			// rows are not seen yet.
			clk.Set(pinnedNow.Add(5 * time.Minute))
			snap = c.Refresh(ctx)
			q.expect(t, "a refresh between rechecks", refreshQueries(spec, false))
			if d := diffYears(yearRows(snap.KPIs), first); len(d) > 0 {
				t.Errorf("the year window changed without a recheck:\n%v", d)
			}

			// An hour after start-up the recheck finds the late rows.
			clk.Set(pinnedNow.Add(time.Hour))
			snap = c.Refresh(ctx)
			q.expect(t, "the recheck", refreshQueries(spec, true))
			if d := diffYears(yearRows(snap.KPIs), wantLate); len(d) > 0 {
				t.Errorf("after the recheck the year window differs from the full year query:\n%v", d)
			}
			for id, want := range map[string]float64{"sembako_salur": 1, "kube_jasa": 0, "pkh_graduasi": 1, "pkh_salur": 0, "ewarong_aktif": 1} {
				// kube_jasa's late row is in Jakarta, outside the shard.
				if got := closedChanges(t, c, id); got != want {
					t.Errorf("pantau_closed_month_changes_total{kpi=%q} = %v, want %v", id, got, want)
				}
			}
		})
	}
}

func TestClosedMonthsInTheStore(t *testing.T) {
	ctx := context.Background()
	dsn := loadDinsos(t, "sqlite")
	spec := dinsosSpec(t, "sqlite")
	src := openSource(t, spec, "dinsos", dsn)
	st, err := store.Open(ctx, "sqlite", sourcetest.DSN(t, "sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: pinnedNow}
	start := func(s *config.Spec) (*Collector, *countingQuerier) {
		q := &countingQuerier{Querier: src}
		c, err := New(Options{Spec: s, Regions: regionMaster(t), Scope: "32", Sources: map[string]Querier{"dinsos": q},
			Targets: dinsosTargets, Now: clk.Now, Version: "test", ClosedMonths: st})
		if err != nil {
			t.Fatal(err)
		}
		return c, q
	}
	first, _ := start(spec)
	want := yearRows(first.Refresh(ctx).KPIs)

	t.Run("a restart takes the closed months from the store and reads only the open month", func(t *testing.T) {
		clk.Set(pinnedNow.Add(10 * time.Minute))
		c, q := start(spec)
		snap := c.Refresh(ctx)
		// The baseline is not kept in the store: one month query.
		q.expect(t, "the restarted collector", append(refreshQueries(spec, false), "2025-12"))
		if d := diffYears(yearRows(snap.KPIs), want); len(d) > 0 {
			t.Errorf("year window after a restart:\n%v", d)
		}
	})

	t.Run("a changed query does not trust the stored sums", func(t *testing.T) {
		changed := dinsosSpec(t, "sqlite")
		for i, k := range changed.KPIs {
			if k.ID == "pkh_graduasi" {
				changed.KPIs[i].Query += " HAVING COUNT(*) > 2"
			}
		}
		c, q := start(changed)
		snap := c.Refresh(ctx)
		q.expect(t, "the collector with one changed query (its year read again)", append(refreshQueries(spec, false), "2025-12", "2026-01..2026-10"))
		// With the HAVING the year query keeps 32.75.01's five graduations
		// (over two), its October query three: the closed part, read
		// again, is two, and the year five, as the year query says.
		if p := progressOf(t, snap, "pkh_graduasi", "32.75.01", inYear); !numberIs(p.Actual, 5) {
			t.Errorf("pkh_graduasi 32.75.01 year = %s with the changed query, want 5", showNumber(p.Actual))
		}
		if p := progressOf(t, snap, "pkh_graduasi", "32.16.06", inYear); !numberIs(p.Actual, 0) {
			t.Errorf("pkh_graduasi 32.16.06 year = %s with the changed query, want 0 (its one graduation is not over two)", showNumber(p.Actual))
		}
	})

	t.Run("a recheck that finds late rows stores them for the next start", func(t *testing.T) {
		sourcetest.Exec(t, "sqlite", dsn, lateRows...)
		clk.Set(pinnedNow.Add(2 * time.Hour))
		c, _ := start(spec)
		late := yearRows(c.Refresh(ctx).KPIs)
		if n := closedChanges(t, c, "sembako_salur"); n != 1 {
			t.Errorf("the recheck after a restart counted %v changes of sembako_salur, want 1", n)
		}
		clk.Set(pinnedNow.Add(2*time.Hour + 5*time.Minute))
		again, q := start(spec)
		snap := again.Refresh(ctx)
		q.expect(t, "the next start", append(refreshQueries(spec, false), "2025-12"))
		if d := diffYears(yearRows(snap.KPIs), late); len(d) > 0 {
			t.Errorf("the next start lost the late rows:\n%v", d)
		}
	})
}

func TestAFailedRecheckKeepsTheClosedMonths(t *testing.T) {
	ctx := context.Background()
	dsn := loadDinsos(t, "sqlite")
	spec := dinsosSpec(t, "sqlite")
	q := &countingQuerier{Querier: openSource(t, spec, "dinsos", dsn)}
	clk := &clock{t: pinnedNow}
	c, err := New(Options{Spec: spec, Regions: regionMaster(t), Scope: "32", Sources: map[string]Querier{"dinsos": q},
		Targets: dinsosTargets, Now: clk.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want := yearRows(c.Refresh(ctx).KPIs)
	q.take()

	t.Run("a year query that fails at the recheck leaves the KPIs fresh, with the closed months as last read", func(t *testing.T) {
		q.failYears = true
		clk.Set(pinnedNow.Add(time.Hour))
		snap := c.Refresh(ctx)
		for _, st := range snap.KPIs {
			if st.Err != "" || st.Stale {
				t.Errorf("%s: stale %v, error %q", st.Def.ID, st.Stale, st.Err)
			}
		}
		if d := diffYears(yearRows(snap.KPIs), want); len(d) > 0 {
			t.Errorf("year window after a failed recheck:\n%v", d)
		}
		q.take()
	})

	t.Run("the next refreshes do not retry before recheck_closed has passed again", func(t *testing.T) {
		q.failYears = false
		clk.Set(pinnedNow.Add(time.Hour + 5*time.Minute))
		c.Refresh(ctx)
		q.expect(t, "the refresh after a failed recheck", refreshQueries(spec, false))
		clk.Set(pinnedNow.Add(2 * time.Hour))
		c.Refresh(ctx)
		q.expect(t, "the refresh an hour after it", refreshQueries(spec, true))
	})
}
