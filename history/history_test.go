package history

import (
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// nov5 is the instant the tests run at: August to October 2026 are closed.
var nov5 = time.Date(2026, time.November, 5, 9, 0, 0, 0, kpi.WIB)

// sourceData is a little of every programme in August to October 2026.
var sourceData = []string{
	`INSERT INTO ewarong VALUES
	 (1,'32.16.06','Warung 1','aktif','2025-12-01',NULL),
	 (2,'32.16.06','Warung 2','aktif','2026-08-10',NULL),
	 (3,'32.16.07','Warung 3','tutup','2025-06-01','2026-09-15'),
	 (4,'31.71.01','Warung 4','aktif','2026-10-02',NULL)`,
	`INSERT INTO kube VALUES
	 (1,'32.16.06','KUBE 1','jasa','2026-08-03'),
	 (2,'32.16.06','KUBE 2','jasa','2026-09-03'),
	 (3,'31.71.01','KUBE 3','perdagangan','2026-10-03')`,
	`INSERT INTO sembako_alokasi VALUES
	 (1,'k1','32.16.06','2026-08-01',200000,'2026-08-10'),
	 (2,'k2','32.16.06','2026-08-01',200000,NULL),
	 (3,'k1','32.16.06','2026-09-01',200000,'2026-09-09'),
	 (4,'k2','32.16.06','2026-09-01',200000,'2026-10-02'),
	 (5,'k3','32.16.07','2026-10-01',200000,'2026-10-20')`,
	`INSERT INTO pkh_tahap VALUES
	 (1,'k1','32.16.06',2026,4,'2026-10-01',750000,'2026-10-11'),
	 (2,'k2','32.16.06',2026,4,'2026-10-01',750000,NULL)`,
	`INSERT INTO pkh_graduasi VALUES (1,'k1','32.75.01','2026-09-30')`,
}

// world is a source database with the example schema and data, and a
// collector reading it through the example spec.
type world struct {
	spec    *config.Spec
	regions *kpi.Hierarchy
	src     *source.Source
}

func newWorld(t *testing.T, driver string) *world {
	t.Helper()
	dsn := sourcetest.DSN(t, driver)
	schema, err := os.ReadFile("../examples/dinsos-schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.Exec(t, driver, dsn, append(sourcetest.Statements(string(schema)), sourceData...)...)
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec.Sources["dinsos"] = config.Source{Name: "dinsos", Driver: driver, Timeout: 10 * time.Second, MaxConcurrent: 2}
	src, err := source.Open(context.Background(), source.Config{Name: "dinsos", Driver: driver, DSN: dsn, Timeout: 10 * time.Second, MaxConcurrent: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	return &world{spec: spec, regions: regions, src: src}
}

func (w *world) collector(t *testing.T, now time.Time, targets collector.TargetStore) *collector.Collector {
	t.Helper()
	// Jawa Barat only keeps the race-enabled tests quick: ~650 regions, not 7,800.
	return w.shard(t, "32", now, targets)
}

func (w *world) shard(t *testing.T, scope string, now time.Time, targets collector.TargetStore) *collector.Collector {
	t.Helper()
	c, err := collector.New(collector.Options{Spec: w.spec, Regions: w.regions, Scope: scope, Sources: map[string]collector.Querier{"dinsos": w.src},
		Targets: targets, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openStore(t *testing.T, driver, dsn string) *store.Store {
	t.Helper()
	s, err := store.OpenAndMigrate(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestClosingAMonthWritesItOnceAcrossRestarts(t *testing.T) {
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run("a restarted "+driver+" store keeps October's history once", func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, "sqlite")
			storeDSN := sourcetest.DSN(t, driver)
			oct := kpi.PeriodAt(nov5, kpi.WIB).Prev()

			first := openStore(t, driver, storeDSN)
			n, err := CloseMonth(ctx, w.collector(t, nov5, first), first, w.spec.KPIIDs(), oct, nov5)
			if err != nil {
				t.Fatal(err)
			}
			// every KPI × region down to kecamatan × 2 windows
			jabar, _ := w.regions.Subtree("32")
			own := len(jabar.Regions()) - 1 // the shard's regions, not the nation's partial sums
			want := len(w.spec.KPIs) * own * 2
			if n != want {
				t.Fatalf("first close wrote %d rows, want %d", n, want)
			}
			first.Close()

			again := openStore(t, driver, storeDSN) // a restart
			n, err = CloseMonth(ctx, w.collector(t, nov5.Add(time.Hour), again), again, w.spec.KPIIDs(), oct, nov5.Add(time.Hour))
			if err != nil || n != 0 {
				t.Fatalf("second close wrote %d rows (err %v), want 0", n, err)
			}
			rows, err := again.History(ctx, store.HistoryFilter{KPI: "sembako_salur", From: "2026-10", To: "2026-10"})
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != own*2 {
				t.Errorf("sembako_salur has %d October rows, want one per region and window (%d)", len(rows), own*2)
			}
			for _, r := range rows {
				if !r.ClosedAt.Equal(nov5) {
					t.Fatalf("row %s %s closed at %s, want the first close at %s", r.Region, r.Window, r.ClosedAt, nov5)
				}
			}
		})
	}
}

func TestBackfillMatchesTheLiveCollectorAtEachMonthsEnd(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "postgres")
	st := openStore(t, "postgres", sourcetest.Postgres(t))
	targets := fixedTargets{{KPI: "ewarong_aktif", Region: "32", Year: 2026, Annual: 12}, {KPI: "kube_jasa", Region: "32.16", Year: 2026, Annual: 24}}
	aug, _ := kpi.ParsePeriod("2026-08", kpi.WIB)
	oct, _ := kpi.ParsePeriod("2026-10", kpi.WIB)

	var seen []string
	n, err := Backfill(ctx, w.collector(t, nov5, targets), st, w.spec.KPIIDs(), aug, oct, nov5, func(done, total int, p kpi.Period, _ int) {
		seen = append(seen, p.String())
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, " ") != "2026-08 2026-09 2026-10" || n == 0 {
		t.Fatalf("backfill reported months %v and %d rows", seen, n)
	}

	for p := aug; !oct.Before(p); p = p.Next() {
		t.Run(p.String()+" backfilled equals what the live collector showed in the month's last second", func(t *testing.T) {
			live := w.collector(t, p.End().Add(-time.Second), targets).Refresh(ctx)
			got, err := st.History(ctx, store.HistoryFilter{From: p.String(), To: p.String()})
			if err != nil {
				t.Fatal(err)
			}
			byKey := map[string]store.HistoryRow{}
			for _, r := range got {
				byKey[r.KPI+" "+r.Region+" "+string(r.Window)] = r
			}
			compared := 0
			for _, ks := range live.KPIs {
				if ks.Err != "" {
					t.Fatalf("live refresh of %s failed: %s", ks.Def.ID, ks.Err)
				}
				for _, want := range store.HistoryRows(ks.Period, nov5, ks.Progress) {
					if want.Region == kpi.NationalCode {
						continue // a Jawa Barat shard keeps no history for the nation
					}
					have, ok := byKey[want.KPI+" "+want.Region+" "+string(want.Window)]
					if !ok {
						t.Fatalf("no history row for %s %s %s", want.KPI, want.Region, want.Window)
					}
					// One second before the end, expected values differ by at
					// most a second's share of the month.
					if have.Status != want.Status || !close(have.Actual, want.Actual) || !close(have.Target, want.Target) ||
						!close(have.Numerator, want.Numerator) || !close(have.Denominator, want.Denominator) || !close(have.Expected, want.Expected) {
						t.Fatalf("%s %s %s: history %+v, live %+v", want.KPI, want.Region, want.Window, have, want)
					}
					compared++
				}
			}
			if compared != len(got) {
				t.Errorf("history has %d rows for %s, the live collector %d", len(got), p, compared)
			}
		})
	}
}

func TestProvinceShardsSharingAStoreEachWriteTheirOwnRegions(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite")
	st := openStore(t, "sqlite", sourcetest.SQLite(t))
	oct := kpi.PeriodAt(nov5, kpi.WIB).Prev()
	for _, scope := range []string{"32", "31"} {
		n, err := CloseMonth(ctx, w.shard(t, scope, nov5, nil), st, w.spec.KPIIDs(), oct, nov5)
		if err != nil || n == 0 {
			t.Fatalf("shard %s wrote %d rows (err %v), want its own regions", scope, n, err)
		}
	}
	rows, err := st.History(ctx, store.HistoryFilter{KPI: "kube_jasa", From: oct.String(), To: oct.String()})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r.Region] = true
	}
	if !seen["31"] || !seen["32"] || !seen["32.16.06"] {
		t.Errorf("history lacks a shard's regions: 31 %v, 32 %v, 32.16.06 %v", seen["31"], seen["32"], seen["32.16.06"])
	}
	if seen[kpi.NationalCode] {
		t.Error("a shard wrote the nation's partial sums into history")
	}
}

func TestAMonthALaggingSourceLacksIsLeftForLater(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "sqlite")
	src := w.spec.Sources["dinsos"]
	src.CurrentMonth = config.CurrentMonthLatestData
	w.spec.Sources["dinsos"] = src
	st := openStore(t, "sqlite", sourcetest.SQLite(t))
	// The data ends in October, so on 5 January 2027 December has none yet.
	jan5 := time.Date(2027, time.January, 5, 9, 0, 0, 0, kpi.WIB)
	dec := kpi.PeriodAt(jan5, kpi.WIB).Prev()
	if _, err := CloseMonth(ctx, w.collector(t, jan5, nil), st, w.spec.KPIIDs(), dec, jan5); err != nil {
		t.Fatalf("closing a month the lagging source lacks: %v, want no error", err)
	}
	// Flows have no December rows yet; stocks (active e-Warong) always have a level.
	for id, want := range map[string]bool{"sembako_salur": false, "kube_jasa": false, "pkh_graduasi": false, "ewarong_aktif": true} {
		if has, _ := st.HasHistory(ctx, id, dec.String(), ""); has != want {
			t.Errorf("%s December in history: %v, want %v", id, has, want)
		}
	}
}

func TestBackfillRefusesAMonthThatHasNotClosed(t *testing.T) {
	nov := kpi.PeriodAt(nov5, kpi.WIB)
	_, err := Backfill(context.Background(), nil, nil, nil, nov.Prev(), nov, nov5, nil)
	if err == nil || !strings.Contains(err.Error(), "has not closed") {
		t.Errorf("err = %v, want a refusal naming the open month", err)
	}
}

func TestAnInterruptedBackfillResumes(t *testing.T) {
	w := newWorld(t, "sqlite")
	st := openStore(t, "sqlite", sourcetest.SQLite(t))
	aug, _ := kpi.ParsePeriod("2026-08", kpi.WIB)
	oct, _ := kpi.ParsePeriod("2026-10", kpi.WIB)
	ctx, cancel := context.WithCancel(context.Background())
	c := w.collector(t, nov5, nil)
	_, err := Backfill(ctx, c, st, w.spec.KPIIDs(), aug, oct, nov5, func(done, _ int, _ kpi.Period, _ int) {
		if done == 1 {
			cancel() // Ctrl-C after August
		}
	})
	if err == nil || !strings.Contains(err.Error(), "run it again to resume") {
		t.Fatalf("err = %v, want an interruption telling how to resume", err)
	}
	var months []string
	_, err = Backfill(context.Background(), c, st, w.spec.KPIIDs(), aug, oct, nov5, func(_, _ int, p kpi.Period, written int) {
		months = append(months, p.String()+":"+map[bool]string{true: "written", false: "skipped"}[written > 0])
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(months, " "); got != "2026-08:skipped 2026-09:written 2026-10:written" {
		t.Errorf("resumed backfill did %s", got)
	}
}

type fixedTargets []kpi.Target

func (f fixedTargets) Targets(_ context.Context, year int) ([]kpi.Target, error) {
	var out []kpi.Target
	for _, t := range f {
		if t.Year == year {
			out = append(out, t)
		}
	}
	return out, nil
}

func close(a, b kpi.Number) bool {
	if a.OK != b.OK {
		return false
	}
	return !a.OK || math.Abs(a.V-b.V) <= 1e-6*math.Max(1, math.Abs(b.V))
}
