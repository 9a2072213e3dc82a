package collector

import (
	"context"

	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/wilayah"
)

// memSource answers every query with the same in-memory result: national
// scale rows without a database, so the benchmarks time pantau alone.
type memSource struct{ res source.Result }

func (m memSource) Query(context.Context, string, source.Params) (source.Result, error) {
	return m.res, nil
}
func (memSource) Ping(context.Context) error { return nil }

var benchOnce = sync.OnceValues(func() (*Collector, error) {
	regions, err := wilayah.Load()
	if err != nil {
		return nil, err
	}
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		return nil, err
	}
	// One row per kecamatan, with every column any KPI asks for.
	res := source.Result{Columns: []string{"region_code", "value", "numerator", "denominator"}}
	i := 0
	for _, r := range regions.Regions() {
		if r.Level == kpi.LevelKecamatan {
			i++
			res.Rows = append(res.Rows, []any{r.Code, int64(i % 17), int64(900 + i%100), int64(1000)})
		}
	}
	now := time.Date(2026, time.October, 16, 12, 0, 0, 0, kpi.WIB)
	return New(Options{Spec: spec, Regions: regions, Sources: map[string]Querier{"dinsos": memSource{res}},
		Now: func() time.Time { return now }})
})

func benchCollector(b *testing.B) *Collector {
	c, err := benchOnce()
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkRefreshNational builds a whole snapshot for 7,285 kecamatan ×
// the six example KPIs from in-memory rows: row validation, roll-up,
// progress for 7,838 regions × 2 windows, and rendering the exposition.
func BenchmarkRefreshNational(b *testing.B) {
	c := benchCollector(b)
	b.ReportAllocs()
	var s *Snapshot
	for b.Loop() {
		s = c.Refresh(context.Background())
	}
	b.ReportMetric(float64(s.Series()), "series")
	b.ReportMetric(float64(len(s.exposition.gzip)), "gzip-bytes")
}

// BenchmarkRender is the rendering part of a refresh alone.
func BenchmarkRender(b *testing.B) {
	s := benchCollector(b).Refresh(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		render(s)
	}
}

// BenchmarkScrapeNational serves /metrics from a national snapshot the
// way Prometheus asks for it (gzip), and uncompressed.
func BenchmarkScrapeNational(b *testing.B) {
	c := benchCollector(b)
	c.Refresh(context.Background())
	h := c.MetricsHandler()
	for _, enc := range []string{"gzip", "identity"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			b.ReportAllocs()
			var n int
			for b.Loop() {
				w := &countingResponse{header: http.Header{}}
				h.ServeHTTP(w, req)
				n = w.n
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

// countingResponse discards the body like a fast network would.
type countingResponse struct {
	header http.Header
	n      int
}

func (w *countingResponse) Header() http.Header { return w.header }
func (w *countingResponse) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
func (w *countingResponse) WriteHeader(int) {}

var _ io.Writer = (*countingResponse)(nil)
