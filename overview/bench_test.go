package overview

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// memSource answers every query with the same rows: national scale
// without a source database, so that only pantau is measured.
type memSource struct{ res source.Result }

func (m memSource) Query(context.Context, string, source.Params) (source.Result, error) {
	return m.res, nil
}
func (memSource) Ping(context.Context) error { return nil }

// national is the pages over a national snapshot (7,285 kecamatan × the
// example spec's six KPIs, every region with a target) with the months
// from January to closed into a SQLite store.
type national struct {
	mux    *http.ServeMux
	reader *api.Reader
	snap   *collector.Snapshot
}

func newNational(tb testing.TB, from time.Month) *national {
	tb.Helper()
	ctx := context.Background()
	regions, err := wilayah.Load()
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	res := source.Result{Columns: []string{"region_code", "value", "numerator", "denominator"}}
	var targets []kpi.Target
	i := 0
	for _, r := range regions.Regions() {
		if r.Level != kpi.LevelKecamatan {
			continue
		}
		i++
		res.Rows = append(res.Rows, []any{r.Code, int64(i % 17), int64(900 + i%100), int64(1000)})
		for _, id := range []string{"ewarong_aktif", "kube_jasa", "pkh_graduasi"} {
			targets = append(targets, kpi.Target{KPI: id, Region: r.Code, Year: 2026, Annual: float64(10 + i%13)})
		}
	}
	st, err := store.OpenAndMigrate(ctx, "sqlite", sourcetest.DSN(tb, "sqlite"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	changes, _, err := st.PlanChanges(ctx, targets)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.ApplyTargets(ctx, changes, "bench", "national"); err != nil {
		tb.Fatal(err)
	}
	now := pinnedNow
	clock := func() time.Time { return now }
	quiet := slog.New(slog.DiscardHandler)
	c, err := collector.New(collector.Options{Spec: spec, Regions: regions, Sources: map[string]collector.Querier{"dinsos": memSource{res}},
		Targets: st, Now: clock, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	for m := from; m < time.October; m++ {
		p := kpi.NewPeriod(2026, m, nil)
		if _, err := history.CloseMonth(ctx, c, st, spec.KPIIDs(), p, p.End()); err != nil {
			tb.Fatal(err)
		}
	}
	n := &national{snap: c.Refresh(ctx)}
	a, err := api.New(api.Options{Snapshots: c, Regions: regions, Store: st, OpenRead: true, Now: clock, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	n.reader = a.Reader()
	ov, err := New(Options{Reader: n.reader, Ready: c.Ready, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	n.mux = http.NewServeMux()
	ov.Mount(n.mux)
	return n
}

func (n *national) page(tb testing.TB, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	n.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d\n%.2000s", path, rec.Code, rec.Body.String())
	}
	return rec
}

func TestTheNationalPageWeighsUnder300KB(t *testing.T) {
	n := newNational(t, time.October) // no month closed: the slip column is "—", a few bytes less
	for _, path := range []string{"/", "/?kpi=sembako_salur&warna=capaian", "/wilayah/32"} {
		if size := n.page(t, path).Body.Len(); size >= 300<<10 {
			t.Errorf("GET %s weighs %d bytes, want under 300 KB", path, size)
		} else {
			t.Logf("GET %s: %d bytes", path, size)
		}
	}
}

// benchPages are the pages measured: the nation (the map and 38
// provinces), the largest province by kabupaten/kota (Jawa Timur, 38) and
// the kabupaten with the most kecamatan.
var benchPages = []struct{ name, path, parent string }{
	{"Nasional", "/", kpi.NationalCode},
	{"Provinsi", "/wilayah/35", "35"},
	{"Kabupaten", "/wilayah/32.01", "32.01"},
}

var benchNational *national

func nationalForBench(b *testing.B) *national {
	if benchNational == nil {
		benchNational = newNational(b, time.January)
	}
	return benchNational
}

// BenchmarkOverviewPage renders whole pages, as a browser gets them.
func BenchmarkOverviewPage(b *testing.B) {
	n := nationalForBench(b)
	for _, p := range benchPages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				n.mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p.path, nil))
			}
		})
	}
}

// BenchmarkOverviewBaseline is what the JSON API does for the same rows
// (the region and its children, both windows, every KPI, as
// /api/v1/progress?region=… and ?parent=…&level=… before its cache): read
// through the same reader and encode as JSON. The page's cost over it is
// the history, the slip, the map and the HTML.
func BenchmarkOverviewBaseline(b *testing.B) {
	n := nationalForBench(b)
	ctx := context.Background()
	for _, p := range benchPages {
		reg, _ := n.snap.Hierarchy.Lookup(p.parent)
		level := reg.Level + 1
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				for _, w := range kpi.Windows {
					for _, q := range []api.ProgressQuery{{Regions: []string{p.parent}, Window: w}, {Parent: p.parent, Level: &level, Window: w}} {
						rows, err := n.reader.Progress(ctx, n.snap, q)
						if err != nil {
							b.Fatal(err)
						}
						if err := json.NewEncoder(io.Discard).Encode(rows); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
		})
	}
}
