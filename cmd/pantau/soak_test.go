package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/bench/loadgen"
)

// soakFor is how long TestSoak holds its load: a minute in CI, ten minutes
// for docs/reliability.md (go test -run TestSoak -soak 10m ./cmd/pantau).
var soakFor = flag.Duration("soak", time.Minute, "how long TestSoak holds its load")

// TestSoak holds a steady, bounded loopback load on the pantau binary for
// -soak while it refreshes every 2s: /metrics scraped every second, four
// API readers (snapshot and store routes) ten requests a second each, two
// target writers two PUTs a second each. No request may fail, and pantau's
// goroutines, heap, file descriptors and database connections must end
// where they started.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a load for a minute")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildFaultBinary(t)
	pin := noonToday()
	f := newStoreFixture(t, newTestStore(t, "postgres"), pin)
	args := append([]string{"serve", "--config", f.spec, "--listen", "127.0.0.1:0", "--region", "32", "--store",
		"--at", pin.Format(time.RFC3339)}, f.ts.flags()...)
	p := startFaultBinary(t, bin, f.env(), args...)
	t.Cleanup(func() {
		if t.Failed() {
			log := p.log.String()
			t.Logf("pantau log (last 4 KB):\n%s", log[max(0, len(log)-4096):])
		}
	})
	waitReady(t, p)
	kecamatan := []string{"32.16.06", "32.16.07", "32.16.08", "32.16.09"}
	soak := loadgen.Soak{
		Duration:    *soakFor,
		ScrapeEvery: time.Second,
		Readers:     4,
		ReadEvery:   100 * time.Millisecond,
		ReadPaths: []string{
			"/api/v1/progress?kpi=sembako_salur&level=kabupaten_kota&parent=32",
			"/api/v1/ranking?kpi=sembako_salur&level=kabupaten_kota&limit=10",
			"/api/v1/targets?kpi=ewarong_aktif&parent=32.16",
			"/api/v1/targets/audit?limit=20",
			"/api/v1/history?kpi=sembako_salur&region=32.16",
		},
		Writers:    2,
		WriteEvery: 500 * time.Millisecond,
		Write: func(i, n int) (string, string, string) {
			kec := kecamatan[(2*n+i)%len(kecamatan)]
			return http.MethodPut, fmt.Sprintf("/api/v1/targets/ewarong_aktif/%s/%d", kec, f.year),
				fmt.Sprintf(`{"target": %d, "reason": "soak"}`, 10+n%7)
		},
		SampleEvery: time.Second,
	}
	res := soak.Run(context.Background(), loadgen.NewClient(p.url, f.token, 8))
	t.Logf("SOAK %s at refresh %s (--region 32):\n%s", res.Elapsed.Round(time.Second), faultRefresh, res.Report())

	total := 0
	for kind, st := range res.Streams {
		total += st.Requests
		if n := st.Failures(); n > 0 {
			t.Errorf("%s: %d of %d requests failed (5xx or no answer), first: %s", kind, n, st.Requests, strings.Join(st.First, "; "))
		}
		for code, n := range st.Status {
			if code >= 300 {
				t.Errorf("%s: %d answers %d", kind, n, code)
			}
		}
	}
	if total == 0 || res.Streams["write"] == nil || res.Streams["scrape"] == nil {
		t.Fatalf("the load did not run: %v", res.Streams)
	}
	// What flat means: a little room for a goroutine or connection that
	// happens to be busy at the last sample, and for the garbage collector's
	// timing; a leak of one per request would be thousands over.
	tolerance := map[string]func(start float64) float64{
		"go_goroutines":                func(s float64) float64 { return s + 20 },
		"go_memstats_heap_inuse_bytes": func(s float64) float64 { return 1.5*s + 32<<20 },
		"process_open_fds":             func(s float64) float64 { return s + 10 },
		"process_resident_memory_bytes": func(s float64) float64 {
			return 1.5*s + 64<<20
		},
		`pantau_db_open_connections{pool="source/dinsos"}`: func(s float64) float64 { return s + 4 },
		`pantau_db_open_connections{pool="store"}`:         func(s float64) float64 { return s + 4 },
	}
	drifts := res.Drifts()
	if len(drifts) != len(tolerance) {
		t.Errorf("sampled %d health series, want %d: %+v", len(drifts), len(tolerance), drifts)
	}
	for _, d := range drifts {
		if limit := tolerance[d.Series](d.Start); d.End > limit {
			t.Errorf("%s grew from %.0f to %.0f during the soak (limit %.0f): a leak", d.Series, d.Start, d.End, limit)
		}
	}
	// The load ran while refreshes did: the refreshes went on.
	if _, body := get(t, p.url+"/metrics"); !strings.Contains(body, "pantau_kpi_up{kpi=\"sembako_salur\"} 1") {
		t.Errorf("sembako_salur is not fresh after the soak")
	}
}
