package api

import (
	"context"
	"hash/fnv"
	"net/http"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// BenchmarkSlips answers /api/v1/slips as a first request (the answer
// cache emptied each time) against a national SQLite store the size of the
// demo's: 21 closed months, January 2025 to September 2026, of every KPI,
// region and window (about 2 million rows), each region's current run of
// behind months 0 to 21 months long. Every kecamatan has an e-Warong and a
// KUBE Jasa target and no rows in the test data, so all of them slip now:
// the answers are full. Run it with -benchtime 3x or so: the store takes
// about a minute to fill.
func BenchmarkSlips(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b, "sqlite", fixtureOptions{noRefresh: true})
	var targets []kpi.Target
	for _, r := range f.regions.Regions() {
		if r.Level == kpi.LevelKecamatan {
			for _, k := range []string{"ewarong_aktif", "kube_jasa"} {
				targets = append(targets, kpi.Target{KPI: k, Region: r.Code, Year: 2026, Annual: 12})
			}
		}
	}
	changes, _, err := f.store.PlanChanges(ctx, targets)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.store.ApplyTargets(ctx, changes, "bench", "every kecamatan"); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	written := 0
	for p := kpi.NewPeriod(2025, time.January, nil); p.Before(kpi.PeriodAt(pinnedNow, kpi.WIB)); p = p.Next() {
		back := (pinnedNow.Year()-p.Year())*12 + int(pinnedNow.Month()-p.Month())
		var hist []store.HistoryRow
		for _, k := range f.spec.KPIIDs() {
			for _, r := range f.regions.Regions() {
				h := fnv.New32a()
				h.Write([]byte(k + r.Code))
				st := kpi.OnTrack
				if back <= int(h.Sum32()%22) {
					st = kpi.Behind
				}
				for _, w := range kpi.Windows {
					hist = append(hist, store.HistoryRow{KPI: k, Region: r.Code, Level: r.Level, Period: p.String(), Window: w,
						Actual: kpi.Some(1), Target: kpi.Some(2), Status: st, ClosedAt: p.End()})
				}
			}
		}
		n, err := f.store.WriteHistory(ctx, hist)
		if err != nil {
			b.Fatal(err)
		}
		written += n
	}
	b.Logf("%d history rows written in %v", written, time.Since(start).Round(time.Second))
	f.collector.Refresh(ctx)

	for _, url := range []struct{ name, url string }{
		{"all", "/api/v1/slips"},
		{"kecamatan-1000", "/api/v1/slips?level=kecamatan&limit=1000"},
	} {
		b.Run(url.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				f.api.cache = answerCache{}
				rec := f.do(b, "GET", url.url, "admin", nil)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", url.url, rec.Code, rec.Body)
				}
				n = len(rows(b, rec))
			}
			b.ReportMetric(float64(n), "slips")
		})
	}
}
