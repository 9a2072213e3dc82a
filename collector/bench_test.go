package collector

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
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

// benchFull and benchDefault are national collectors over in-memory rows
// for the example spec, exposing every series or the default exposure.
var (
	benchFull    = sync.OnceValues(func() (*Collector, error) { return newBenchCollector(true) })
	benchDefault = sync.OnceValues(func() (*Collector, error) { return newBenchCollector(false) })
)

func newBenchCollector(full bool) (*Collector, error) {
	regions, err := wilayah.Load()
	if err != nil {
		return nil, err
	}
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		return nil, err
	}
	if full {
		for i := range spec.KPIs {
			spec.KPIs[i].Exposure = config.Exposure{Levels: kpi.Levels, Windows: kpi.Windows, Families: config.Families}
		}
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
}

// benchCollector is the national collector exposing every series: the
// most pantau ever renders and serves.
func benchCollector(b *testing.B) *Collector {
	c, err := benchFull()
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkRefreshNational builds a whole snapshot for 7,285 kecamatan ×
// the six example KPIs from in-memory rows: row validation, roll-up,
// progress for 7,838 regions × 2 windows, and rendering the exposition.
// It is pantau's whole share of a refresh, with no database.
// BenchmarkRefreshSQL compares it with real queries.
func BenchmarkRefreshNational(b *testing.B) {
	c := benchCollector(b)
	b.ReportAllocs()
	var s *Snapshot
	for b.Loop() {
		s = c.Refresh(context.Background())
	}
	b.ReportMetric(float64(s.Series()), "series")
	b.ReportMetric(float64(s.exposition.textBytes), "text-bytes")
	b.ReportMetric(float64(len(s.exposition.deflate)), "gzip-bytes")
}

// BenchmarkRender is the rendering part of a refresh alone: the text
// exposition of every KPI series, gzipped, with no KPI's share rendered in
// advance. MB/s is of text rendered.
func BenchmarkRender(b *testing.B) {
	s := unrendered(benchCollector(b).Refresh(context.Background()))
	b.SetBytes(int64(benchCollector(b).Snapshot().exposition.textBytes))
	b.ReportAllocs()
	var e *exposition
	for b.Loop() {
		e = render(s)
	}
	b.ReportMetric(float64(e.series), "series")
	b.ReportMetric(float64(len(e.deflate)), "gzip-bytes")
}

// BenchmarkScrapeNational serves /metrics from a national snapshot the
// way Prometheus asks for it (gzip), and uncompressed, with every series
// exposed (full) and with the default exposure. Both gather the
// self-metrics (Go and process collectors included) as a real scrape does;
// neither touches a source. bytes is the body's size.
func BenchmarkScrapeNational(b *testing.B) {
	for _, exp := range []string{"full", "default"} {
		c := benchCollector(b)
		if exp == "default" {
			var err error
			if c, err = benchDefault(); err != nil {
				b.Fatal(err)
			}
		}
		c.Refresh(context.Background())
		b.Run(exp, func(b *testing.B) { benchScrape(b, c.MetricsHandler()) })
	}
}

func benchScrape(b *testing.B, h http.Handler) {
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
	// The same gzip scrape over a loopback connection, read to the end by
	// Go's client: what a scraper on the same machine waits for, the
	// kernel's copies and the client's reads included.
	b.Run("gzip-tcp", func(b *testing.B) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		var n int64
		for b.Loop() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "bytes")
	})
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

// TestAppendValue holds render's fast path for whole numbers to the text
// strconv.AppendFloat(…, 'g', -1, 64) writes.
func TestAppendValue(t *testing.T) {
	check := func(v float64) {
		t.Helper()
		if got, want := string(appendValue(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("appendValue(%v) = %q, want %q", v, got, want)
		}
	}
	for i := -1_000_001; i <= 1_000_001; i += 7 {
		check(float64(i))
		check(float64(i) + 0.25)
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 999_999, -999_999, 1e6, -1e6, 1e6 + 1,
		999_999.5, 0.1, 1e-7, 1e15, 1e21, math.MaxInt64, math.MinInt64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		check(v)
	}
}

// unrendered copies a snapshot without the KPI shares Refresh rendered while
// querying, so that render does all the work.
func unrendered(s *Snapshot) *Snapshot {
	c := *s
	c.KPIs = slices.Clone(s.KPIs)
	for i := range c.KPIs {
		c.KPIs[i].part = nil
	}
	return &c
}
