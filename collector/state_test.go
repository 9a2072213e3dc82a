package collector

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/source/sourcetest"
)

// coldSpec has a KPI on a source that a test breaks (dinsos) and one on a
// healthy source (arsip).
const coldSpec = `
timezone: Asia/Jakarta
refresh: 1h
sources:
  dinsos:
    driver: postgres
    dsn_env: PANTAU_TEST_DINSOS_DSN
    timeout: 3s
  arsip:
    driver: postgres
    dsn_env: PANTAU_TEST_ARSIP_DSN
    timeout: 3s
kpis:
  - id: kube
    name: KUBE
    kind: count
    accumulation: stock
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube WHERE tanggal_bentuk < :period_end
      GROUP BY kode_kecamatan
  - id: kube_arsip
    name: KUBE, from the archive
    kind: count
    accumulation: stock
    source: arsip
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube WHERE tanggal_bentuk < :period_end
      GROUP BY kode_kecamatan
`

// lockedBuffer collects a logger's output while the collector writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestColdStartWithASourceDown(t *testing.T) {
	tests := []struct {
		name string
		// down returns a DSN for the dinsos source that fails, and a
		// function that brings it up with the kube table.
		down   func(t *testing.T, healthy string) (dsn string, up func())
		errHas string
	}{
		{
			name: "a source on a port that refuses connections is reported as never succeeded until it comes up",
			down: func(t *testing.T, healthy string) (string, func()) {
				u, err := url.Parse(healthy)
				if err != nil {
					t.Fatal(err)
				}
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := ln.Addr().String()
				ln.Close() // nothing listens there now: connections are refused
				target := u.Host
				u.Host = addr
				return u.String(), func() { startProxyOn(t, addr, target) }
			},
			errHas: "refused",
		},
		{
			name: "a source whose database does not exist is reported as never succeeded until it is created",
			down: func(t *testing.T, healthy string) (string, func()) {
				u, err := url.Parse(healthy)
				if err != nil {
					t.Fatal(err)
				}
				name := strings.TrimPrefix(u.Path, "/") + "_spaet"
				u.Path = "/" + name
				missing := u.String()
				return missing, func() {
					admin, err := sql.Open("postgres", healthy)
					if err != nil {
						t.Fatal(err)
					}
					defer admin.Close()
					if _, err := admin.Exec(`CREATE DATABASE "` + name + `"`); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() {
						if admin, err := sql.Open("postgres", healthy); err == nil {
							admin.Exec(`DROP DATABASE IF EXISTS "` + name + `" WITH (FORCE)`)
							admin.Close()
						}
					})
					sourcetest.Exec(t, "postgres", missing, faultSchema[:2]...)
				}
			},
			errHas: "does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := config.Parse("cold.yaml", []byte(coldSpec))
			if err != nil {
				t.Fatalf("config.Parse: %v", err)
			}
			healthy := sourceDSN(t, "postgres", faultSchema[:2]...)
			broken, up := tt.down(t, healthy)
			var log lockedBuffer
			c, err := New(Options{
				Spec: spec, Regions: regionMaster(t), Scope: "32", Now: pinnedClock, Version: "test",
				Sources: map[string]Querier{
					"dinsos": openSource(t, spec, "dinsos", broken),
					"arsip":  openSource(t, spec, "arsip", healthy),
				},
				Logger:     slog.New(slog.NewTextHandler(&log, nil)),
				RetryAfter: 50 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}

			if err := c.Readiness(); err == nil || !strings.Contains(err.Error(), "first refresh") {
				t.Errorf("Readiness before any refresh = %v, want the first refresh named", err)
			}
			s := c.Refresh(context.Background())
			kube, _ := s.KPI("kube")
			if kube.Data() != DataNeverSucceeded || kube.Stale || !strings.Contains(kube.Err, tt.errHas) {
				t.Errorf("kube after a failed first refresh: data %s, stale %v, err %q; want never_succeeded, not stale, an error with %q",
					kube.Data(), kube.Stale, kube.Err, tt.errHas)
			}
			if arsip, _ := s.KPI("kube_arsip"); arsip.Data() != DataFresh {
				t.Errorf("kube_arsip on the healthy source: data %s (%s), want fresh", arsip.Data(), arsip.Err)
			}
			err = c.Readiness()
			if err == nil || !strings.Contains(err.Error(), "kube: ") || strings.Contains(err.Error(), "kube_arsip") {
				t.Errorf("Readiness = %v, want an error naming kube and not kube_arsip", err)
			}
			if c.Ready() {
				t.Error("Ready() is true while a KPI has never succeeded")
			}
			mfs := parseFamilies(t, readBody(t, scrape(t, c, "gzip")))
			for _, m := range []struct {
				name, kpi string
				want      float64
			}{
				{"pantau_kpi_up", "kube", 0},
				{"pantau_kpi_never_succeeded", "kube", 1},
				{"pantau_kpi_stale", "kube", 0},
				{"pantau_kpi_up", "kube_arsip", 1},
				{"pantau_kpi_never_succeeded", "kube_arsip", 0},
			} {
				if v, ok := sample(mfs, m.name, map[string]string{"kpi": m.kpi}); !ok || v != m.want {
					t.Errorf("%s{kpi=%q} = %v (present %v), want %v", m.name, m.kpi, v, ok, m.want)
				}
			}
			if l := log.String(); !strings.Contains(l, "never succeeded") || strings.Contains(l, "keeping last good values") {
				t.Errorf("the log should say kube never succeeded, and not that it keeps last good values:\n%s", l)
			}

			// Run retries with backoff long before the hour's refresh; once
			// the source is up, a retry makes the KPI fresh and pantau ready.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); c.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			retries := regexp.MustCompile(`msg="retrying the failed KPIs' refresh[^"]*" in=(\S+)`)
			waitUntil(t, 10*time.Second, "two retries", func() bool { return len(retries.FindAllString(log.String(), -1)) >= 2 })
			var delays []string
			for _, m := range retries.FindAllStringSubmatch(log.String(), 2) {
				delays = append(delays, m[1])
			}
			if strings.Join(delays, " ") != "50ms 100ms" {
				t.Errorf("retry delays %v, want 50ms then 100ms (doubling)", delays)
			}
			up()
			waitUntil(t, 10*time.Second, "the collector to become ready once the source is up", c.Ready)
			if kube, _ := c.Snapshot().KPI("kube"); kube.Data() != DataFresh {
				t.Errorf("kube after the source came up: %s (%s), want fresh", kube.Data(), kube.Err)
			}
		})
	}
}

// waitUntil polls cond until it holds or the timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
