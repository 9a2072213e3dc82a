package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fault suite (fault_*_test.go) attacks a running pantau: it breaks
// what pantau depends on while clients keep reading, and checks that the
// readers never notice more than stale values, that the self-metrics and
// /readyz say what is wrong, that pantau recovers by itself, and that
// nothing stored is lost or half-written. Every fault is injected into a
// private database server or process the test starts, never into the
// shared servers other tests use. docs/reliability.md quotes its output
// (the "FAULT" lines).

// buildFaultBinary builds the pantau binary the suite attacks, with the race
// detector when the tests run under it: the faults strike the running
// process, so that is where a race would show. The process' log is checked
// for race reports when the test ends (startFaultBinary).
func buildFaultBinary(t *testing.T) string {
	t.Helper()
	if raceEnabled() {
		return buildPantau(t, "-race")
	}
	return buildPantau(t)
}

func raceEnabled() bool {
	bi, _ := debug.ReadBuildInfo()
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// startFaultBinary is startBinary that fails the test, when it ends, if the
// race detector reported a data race in the process.
func startFaultBinary(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := startBinary(t, bin, env, args...)
	t.Cleanup(func() { checkRaces(t, p.log.String()) })
	return p
}

// checkRaces fails the test if log has a race detector's report.
func checkRaces(t *testing.T, log string) {
	t.Helper()
	if i := strings.Index(log, "WARNING: DATA RACE"); i >= 0 {
		t.Errorf("the race detector found a data race in pantau:\n%s", log[i:min(len(log), i+6000)])
	}
}

// faultRefresh is the refresh interval of the suite's specs, and
// faultTimeout the source's query timeout: a fault must show within one
// refresh (plus the timeout, for a query that hangs).
const (
	faultRefresh = 2 * time.Second
	faultTimeout = 3 * time.Second
)

// faultSpec is examples/dinsos.yaml on driver with the suite's refresh
// interval and query timeout.
func faultSpec(t *testing.T, driver string) string {
	t.Helper()
	path := exampleSpec(t, driver, faultRefresh.String())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	spec := rewrite(t, path, string(b), "timeout: 30s", "timeout: "+faultTimeout.String())
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// metricValue returns the value of the first sample of family name in a
// text exposition whose labels include every label (like kpi="kube_jasa").
func metricValue(body, name string, labels ...string) (float64, bool) {
	for line := range strings.Lines(body) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		all := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		fields := strings.Fields(rest)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		return v, err == nil
	}
	return 0, false
}

// scrape fetches base's /metrics, failing the test unless it answers 200.
func scrape(t *testing.T, base string) string {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	return body
}

// waitMetric waits until cond holds of a scrape and returns how long that
// took.
func waitMetric(t *testing.T, base string, timeout time.Duration, what string, cond func(body string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, timeout, what, func() bool { return cond(scrape(t, base)) })
	return time.Since(start)
}

// readers are clients reading pantau the way its users do (Prometheus'
// scrape, a dashboard's API query, a load balancer's /readyz) every
// 100ms while a fault is injected. Any answer but 200 counts as a failure:
// a fault may make values stale, never unreadable.
type readers struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	n    int
	bad  []string
}

func startReaders(base string, paths ...string) *readers {
	r := &readers{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, p := range paths {
		r.wg.Go(func() {
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-r.stop:
					return
				case <-tick.C:
				}
				resp, err := client.Get(base + p)
				problem := ""
				if err != nil {
					problem = err.Error()
				} else {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						problem = fmt.Sprintf("%s: %s", p, resp.Status)
					}
				}
				r.mu.Lock()
				r.n++
				if problem != "" {
					r.bad = append(r.bad, time.Now().Format("15:04:05.000 ")+problem)
				}
				r.mu.Unlock()
			}
		})
	}
	return r
}

// finish stops the readers, fails the test for every failed read and
// returns how many reads there were.
func (r *readers) finish(t *testing.T) int {
	t.Helper()
	close(r.stop)
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Errorf("%d of %d reads failed during the faults, first: %s", len(r.bad), r.n, strings.Join(r.bad[:min(len(r.bad), 5)], "; "))
	}
	return r.n
}
