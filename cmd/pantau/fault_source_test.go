package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// TestFaultsOfASource runs the pantau binary on a private PostgreSQL or
// MariaDB server, scraped every second by a real Prometheus while readers
// poll the API, and breaks the source in turn: its connections killed over
// and over, a query hanging past its timeout on a locked table, and the
// server stopped and started again.
func TestFaultsOfASource(t *testing.T) {
	if testing.Short() {
		t.Skip("starts private database servers, pantau and Prometheus")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	promBin := sourcetest.Program(t, "prometheus", promHow)
	bin := buildFaultBinary(t)
	for _, tc := range []struct {
		driver string
		server func(testing.TB) *sourcetest.Server
		// lock takes a lock on conn that makes every read of
		// sembako_alokasi wait; unlock releases it.
		lock, unlock string
		connID       string // the connection's id, to spare it
	}{
		{"postgres", sourcetest.PrivatePostgres,
			"BEGIN; LOCK TABLE sembako_alokasi IN ACCESS EXCLUSIVE MODE", "ROLLBACK", "SELECT pg_backend_pid()"},
		{"mysql", sourcetest.PrivateMySQL,
			"LOCK TABLES sembako_alokasi WRITE", "UNLOCK TABLES", "SELECT CONNECTION_ID()"},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			pin := noonToday()
			srv := tc.server(t)
			dsn := srv.Database("dinsos")
			sourcetest.Exec(t, tc.driver, dsn, exampleData(pin)...)
			p := startFaultBinary(t, bin, []string{dsnEnv + "=" + dsn}, "serve", "--config", faultSpec(t, tc.driver),
				"--listen", "127.0.0.1:0", "--region", "32.16", "--api-open-read", "--at", pin.Format(time.RFC3339))
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("pantau log:\n%s", p.log.String())
				}
			})
			prom := startPrometheus(t, promBin, strings.TrimPrefix(p.url, "http://"), "1s", "1s")
			waitReady(t, p)

			const sembako = `region_code="32.16"`
			num, den := sembakoSums("32.16")
			values := func(body string) string {
				n, _ := metricValue(body, "pantau_kpi_numerator", `kpi="sembako_salur"`, sembako, `window="month"`)
				d, _ := metricValue(body, "pantau_kpi_denominator", `kpi="sembako_salur"`, sembako, `window="month"`)
				return fmt.Sprintf("%v/%v", n, d)
			}
			want := fmt.Sprintf("%v/%v", num, den)
			if got := values(scrape(t, p.url)); got != want {
				t.Fatalf("Sembako of 32.16 before any fault: %s, want %s", got, want)
			}
			isFresh := func(id string) func(string) bool {
				return func(body string) bool {
					v, ok := metricValue(body, "pantau_kpi_up", `kpi="`+id+`"`)
					return ok && v == 1 && values(body) == want
				}
			}
			isStale := func(id string) func(string) bool {
				return func(body string) bool {
					v, ok := metricValue(body, "pantau_kpi_stale", `kpi="`+id+`"`)
					return ok && v == 1
				}
			}
			sourceUp := func(want float64) func(string) bool {
				return func(body string) bool {
					v, ok := metricValue(body, "pantau_source_up", `source="dinsos"`)
					return ok && v == want
				}
			}
			all := func(conds ...func(string) bool) func(string) bool {
				return func(body string) bool {
					for _, c := range conds {
						if !c(body) {
							return false
						}
					}
					return true
				}
			}
			allFresh := func() func(string) bool {
				var cs []func(string) bool
				for _, id := range exampleKPIs {
					cs = append(cs, isFresh(id))
				}
				return all(append(cs, sourceUp(1))...)
			}()
			// A fault must show within one refresh, plus the query timeout
			// when a query hangs; the slack is for a loaded CI machine.
			const slack = 10 * time.Second
			stale, recover := faultRefresh+faultTimeout+slack, 3*faultRefresh+slack

			r := startReaders(p.url, "/metrics", "/api/v1/progress?kpi=sembako_salur&region=32.16", "/readyz")

			// A connection of the test's own that can lock the table
			// Sembako's query reads.
			db, err := sql.Open(tc.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			lockDB := func(stmts string) {
				t.Helper()
				for _, s := range strings.Split(stmts, "; ") {
					if _, err := conn.ExecContext(context.Background(), s); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
			}
			var holder int64
			if err := conn.QueryRowContext(context.Background(), tc.connID).Scan(&holder); err != nil {
				t.Fatal(err)
			}

			// 1. Connections killed, again and again, while refreshes run:
			// with the table locked, Sembako's query waits, so some are
			// killed in the middle of a query; then idle ones.
			killed, midQuery := 0, 0
			kill := func(d, every time.Duration) {
				for end := time.Now().Add(d); time.Now().Before(end); {
					k, m := srv.KillConnections("dinsos", holder)
					killed, midQuery = killed+k, midQuery+m
					time.Sleep(every)
				}
			}
			lockDB(tc.lock)
			kill(2*faultRefresh, 250*time.Millisecond) // time for a query to start and wait
			lockDB(tc.unlock)
			kill(2*faultRefresh, 20*time.Millisecond)
			if killed == 0 || midQuery == 0 {
				t.Errorf("killed %d connections, %d of them mid-query: the fault was not injected", killed, midQuery)
			}
			took := waitMetric(t, p.url, recover, "every KPI fresh again after the killed connections", allFresh)
			t.Logf("FAULT %s connections killed: %d killed over %s (%d of them mid-query); all KPIs fresh %s after the last, values unchanged",
				tc.driver, killed, 4*faultRefresh, midQuery, took.Round(100*time.Millisecond))

			// 2. A query hanging past its timeout on a locked table.
			lockDB(tc.lock)
			took = waitMetric(t, p.url, stale, "sembako_salur stale behind the lock", all(isStale("sembako_salur"), sourceUp(1), isFresh("ewarong_aktif")))
			if got := values(scrape(t, p.url)); got != want {
				t.Errorf("Sembako of 32.16 while its query hangs: %s, want the last good %s", got, want)
			}
			if code, body := get(t, p.url+"/readyz"); code != http.StatusOK || !strings.Contains(body, "sembako_salur: ") || strings.Contains(body, "ewarong_aktif: ") {
				t.Errorf("/readyz while sembako_salur's query hangs: %d %q, want 200 naming sembako_salur alone", code, body)
			}
			checkStaleInAPI(t, p.url, true)
			lockDB(tc.unlock)
			took2 := waitMetric(t, p.url, recover, "sembako_salur fresh after the lock is released", allFresh)
			t.Logf("FAULT %s query hanging past its %s timeout: stale %s after the lock, fresh %s after its release, values unchanged",
				tc.driver, faultTimeout, took.Round(100*time.Millisecond), took2.Round(100*time.Millisecond))

			// 3. The server stopped, then started again.
			srv.Stop()
			stoppedAt := time.Now()
			conds := []func(string) bool{sourceUp(0)}
			for _, id := range exampleKPIs {
				conds = append(conds, isStale(id))
			}
			took = waitMetric(t, p.url, stale, "every KPI stale with the source stopped", all(conds...))
			if got := values(scrape(t, p.url)); got != want {
				t.Errorf("Sembako of 32.16 with its source stopped: %s, want the last good %s", got, want)
			}
			code, body := get(t, p.url+"/readyz")
			if code != http.StatusOK || !strings.HasPrefix(body, fmt.Sprintf("ok, with %d problems:\n", len(exampleKPIs))) {
				t.Errorf("/readyz with the source stopped: %d %q, want 200 naming the %d stale KPIs", code, body, len(exampleKPIs))
			}
			checkStaleInAPI(t, p.url, true)
			time.Sleep(2 * faultRefresh) // a few failed refreshes in a row
			srv.Start()
			down := time.Since(stoppedAt)
			took2 = waitMetric(t, p.url, recover, "every KPI fresh after the source is back", allFresh)
			checkStaleInAPI(t, p.url, false)
			if code, body := get(t, p.url+"/readyz"); code != http.StatusOK || body != "ok\n" {
				t.Errorf("/readyz after recovery: %d %q, want 200 ok", code, body)
			}
			t.Logf("FAULT %s server stopped for %s: all KPIs stale %s after the stop, fresh %s after the start, values unchanged",
				tc.driver, down.Round(100*time.Millisecond), took.Round(100*time.Millisecond), took2.Round(100*time.Millisecond))

			reads := r.finish(t)
			// Prometheus saw every scrape succeed, the staleness and the
			// recovery.
			time.Sleep(2 * time.Second) // the last scrapes' samples
			scrapes := query(t, prom.url, `count_over_time(up{job="pantau"}[10m])`)
			okScrapes := query(t, prom.url, `sum_over_time(up{job="pantau"}[10m])`)
			if len(scrapes) != 1 || len(okScrapes) != 1 || scrapes[0].value(t) != okScrapes[0].value(t) || scrapes[0].value(t) < 10 {
				t.Errorf("Prometheus: %v scrapes, %v succeeded; want at least 10, all of them", scrapes, okScrapes)
			}
			for q, want := range map[string]float64{
				`max_over_time(pantau_kpi_stale{kpi="sembako_salur"}[10m])`:                                        1,
				`pantau_kpi_stale{kpi="sembako_salur"}`:                                                            0,
				`min_over_time(pantau_source_up{source="dinsos"}[10m])`:                                            0,
				`pantau_source_up{source="dinsos"}`:                                                                1,
				`min_over_time(pantau_kpi_numerator{kpi="sembako_salur",region_code="32.16",window="month"}[10m])`: num,
				`max_over_time(pantau_kpi_numerator{kpi="sembako_salur",region_code="32.16",window="month"}[10m])`: num,
			} {
				if s := query(t, prom.url, q); len(s) != 1 || s[0].value(t) != want {
					t.Errorf("Prometheus: %s = %v, want %v", q, s, want)
				}
			}
			t.Logf("FAULT %s: 3 faults injected and survived; %d reads during them, 0 failed; Prometheus: %v scrapes, all up",
				tc.driver, reads, scrapes[0].Value[1])
		})
	}
}

// checkStaleInAPI checks that the API answers Sembako's progress of
// Kabupaten Bekasi with the loaded figures, marked stale or not.
func checkStaleInAPI(t *testing.T, base string, stale bool) {
	t.Helper()
	code, body := get(t, base+"/api/v1/progress?kpi=sembako_salur&region=32.16")
	num, den := sembakoSums("32.16")
	if want := fmt.Sprintf(`"numerator":%v,"denominator":%v,"stale":%v`, num, den, stale); code != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("GET /api/v1/progress: %d %s, want 200 with %s", code, body, want)
	}
}
