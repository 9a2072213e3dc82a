// Command apiload puts an HTTP load on a running pantau (pantau demo) over
// loopback and reports latency percentiles and throughput, for
// docs/benchmarks.md. It is bounded in requests and time.
//
// In one run it measures /metrics scrapes alone, then each URL (by default
// /healthz as the baseline, then the API's progress and ranking) at the
// given concurrency with scrapes going on beside it, so the scrape's p50
// with and without API load come from the same process and machine state.
//
//	go run ./bench/apiload -base http://127.0.0.1:9875 -c 64 -d 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pantau-id/pantau/bench/loadgen"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:9875", "pantau's base `URL`")
	conns := flag.Int("c", 64, "concurrent `connections` of API load")
	dur := flag.Duration("d", 10*time.Second, "`duration` of each load phase")
	max := flag.Int("n", 2_000_000, "at most this many API `requests` per phase")
	token := flag.String("token", "", "bearer `token` (the demo reads without one)")
	flag.Parse()
	urls := flag.Args()
	if len(urls) == 0 {
		// /healthz is the baseline: the cheapest answer over the same
		// HTTP stack, so the API's figures read as ratios to it.
		urls = []string{"/healthz", "/api/v1/progress?kpi=sembako_salur&level=kabupaten_kota", "/api/v1/ranking?kpi=sembako_salur&level=kabupaten_kota&limit=10"}
	}
	client := loadgen.NewClient(*base, *token, *conns)
	get := func(url string) (time.Duration, error) { return client.Get(context.Background(), url) }
	// scrapes runs /metrics every 100 ms until ctx ends.
	scrapes := func(ctx context.Context) []time.Duration {
		var out []time.Duration
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			d, err := get("/metrics")
			if err != nil {
				fail(err)
			}
			out = append(out, d)
			select {
			case <-ctx.Done():
				return out
			case <-t.C:
			}
		}
	}
	for _, u := range append([]string{"/metrics"}, urls...) { // warm up
		if _, err := get(u); err != nil {
			fail(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	alone := scrapes(ctx)
	cancel()
	fmt.Printf("scrape alone: p50 %v (%d scrapes)\n", pct(alone, 50), len(alone))

	for _, u := range urls {
		ctx, cancel := context.WithTimeout(context.Background(), *dur)
		var left atomic.Int64
		left.Store(int64(*max))
		lat := make([][]time.Duration, *conns)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range *conns {
			wg.Go(func() {
				for ctx.Err() == nil && left.Add(-1) >= 0 {
					d, err := get(u)
					if err != nil {
						if ctx.Err() != nil {
							return
						}
						fail(err)
					}
					lat[i] = append(lat[i], d)
				}
			})
		}
		under := scrapes(ctx)
		wg.Wait()
		elapsed := time.Since(start)
		cancel()
		all := slices.Concat(lat...)
		fmt.Printf("%s at %d connections: %d requests in %v: %.0f req/s, p50 %v, p99 %v; scrape meanwhile: p50 %v (%d scrapes)\n",
			u, *conns, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds(), pct(all, 50), pct(all, 99), pct(under, 50), len(under))
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	return loadgen.Percentile(ds, p).Round(10 * time.Microsecond)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "apiload:", err)
	os.Exit(1)
}
