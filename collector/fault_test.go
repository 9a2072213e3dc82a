package collector

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/source/sourcetest"
)

// faultSpec has one KPI per way a source can fail, each on the same kube
// table so that new rows change every KPI's values:
//
//   - kube: a plain count on dinsos, which never fails.
//   - tulis: calls catat_akses(), which a test replaces with a function that writes.
//   - putus: sleeps for jeda('putus') seconds, long enough to be killed.
//   - lambat: on source lambat (timeout 500ms), sleeps for jeda('lambat') seconds.
//   - arsip: a plain count on source arsip, reached through a proxy a test stops.
const faultSpec = `
timezone: Asia/Jakarta
exposure: {levels: all} # the tests read kecamatan series
sources:
  dinsos:
    driver: postgres
    dsn_env: PANTAU_TEST_DINSOS_DSN
    timeout: 10s
  lambat:
    driver: postgres
    dsn_env: PANTAU_TEST_LAMBAT_DSN
    timeout: 500ms
  arsip:
    driver: postgres
    dsn_env: PANTAU_TEST_ARSIP_DSN
    timeout: 2s
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
  - id: tulis
    name: KUBE, with an access log
    kind: count
    accumulation: stock
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube WHERE tanggal_bentuk < :period_end AND catat_akses()
      GROUP BY kode_kecamatan
  - id: putus
    name: KUBE, slowly
    kind: count
    accumulation: stock
    source: dinsos
    query: |
      SELECT k.kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube k CROSS JOIN (SELECT pg_sleep(detik) AS z FROM jeda WHERE nama = 'putus') j
      WHERE k.tanggal_bentuk < :period_end
      GROUP BY k.kode_kecamatan
  - id: lambat
    name: KUBE, too slowly
    kind: count
    accumulation: stock
    source: lambat
    query: |
      SELECT k.kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube k CROSS JOIN (SELECT pg_sleep(detik) AS z FROM jeda WHERE nama = 'lambat') j
      WHERE k.tanggal_bentuk < :period_end
      GROUP BY k.kode_kecamatan
  - id: arsip
    name: KUBE, from the archive
    kind: count
    accumulation: stock
    source: arsip
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube WHERE tanggal_bentuk < :period_end
      GROUP BY kode_kecamatan
`

var faultSchema = []string{
	`CREATE TABLE kube (id SERIAL PRIMARY KEY, kode_kecamatan VARCHAR(13) NOT NULL, tanggal_bentuk DATE NOT NULL)`,
	`INSERT INTO kube (kode_kecamatan, tanggal_bentuk) VALUES ('32.16.06', '2026-03-01'), ('32.16.06', '2026-10-02'), ('32.75.01', '2026-05-05')`,
	`CREATE TABLE jeda (nama VARCHAR(20) PRIMARY KEY, detik FLOAT NOT NULL)`,
	`INSERT INTO jeda (nama, detik) VALUES ('putus', 0), ('lambat', 0)`,
	`CREATE TABLE akses_log (waktu TIMESTAMPTZ NOT NULL)`,
	`CREATE FUNCTION catat_akses() RETURNS boolean LANGUAGE sql AS $$ SELECT true $$`,
}

// faultKPIs lists the KPIs of faultSpec.
var faultKPIs = []string{"kube", "tulis", "putus", "lambat", "arsip"}

type faultEnv struct {
	c     *Collector
	dsn   string
	db    *sql.DB
	proxy *tcpProxy
}

// newFaultEnv makes a fresh Postgres database and a collector over it whose
// arsip source goes through a proxy. The collector covers Jawa Barat only,
// which keeps each refresh quick under the race detector.
func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	spec, err := config.Parse("faults.yaml", []byte(faultSpec))
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	dsn := sourceDSN(t, "postgres", faultSchema...)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.addr()
	sources := map[string]Querier{
		"dinsos": openSource(t, spec, "dinsos", dsn),
		"lambat": openSource(t, spec, "lambat", dsn),
		"arsip":  openSource(t, spec, "arsip", u.String()),
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &faultEnv{c: newCollector(t, spec, "32", sources, nil), dsn: dsn, db: db, proxy: proxy}
}

func (e *faultEnv) exec(t *testing.T, stmts ...string) {
	t.Helper()
	sourcetest.Exec(t, "postgres", e.dsn, stmts...)
}

// kubeActual reads a KPI's month actual for Tambun Selatan (32.16.06) from
// a parsed exposition.
func kubeActual(t *testing.T, mfs map[string]*dto.MetricFamily, id string) float64 {
	t.Helper()
	v, ok := sample(mfs, "pantau_kpi_actual", map[string]string{"kpi": id, "region_code": "32.16.06", "window": "month"})
	if !ok {
		t.Fatalf("the exposition has no pantau_kpi_actual for %s in 32.16.06", id)
	}
	return v
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name    string
		failing string
		// source is the failing KPI's source; sourceUp its pantau_source_up after the fault.
		source   string
		sourceUp float64
		// errHas are words the failing KPI's error must contain.
		errHas []string
		// breakIt breaks the KPI's source; refresh runs the refresh that
		// meets the fault (it may act while the refresh runs).
		breakIt func(t *testing.T, e *faultEnv)
		refresh func(t *testing.T, e *faultEnv)
		after   func(t *testing.T, e *faultEnv)
	}{
		{
			name:    "a source that refuses connections leaves its KPI stale and the source down",
			failing: "arsip", source: "arsip", sourceUp: 0,
			errHas:  []string{"arsip", "connect"},
			breakIt: func(t *testing.T, e *faultEnv) { e.proxy.stop() },
		},
		{
			name:    "a query slower than its timeout leaves its KPI stale",
			failing: "lambat", source: "lambat", sourceUp: 1,
			errHas:  []string{"lambat", "timed out after 500ms"},
			breakIt: func(t *testing.T, e *faultEnv) { e.exec(t, `UPDATE jeda SET detik = 3 WHERE nama = 'lambat'`) },
			after: func(t *testing.T, e *faultEnv) {
				st, _ := e.c.Snapshot().KPI("lambat")
				if d := st.Durations["month"]; d < 500*time.Millisecond || d > 2*time.Second {
					t.Errorf("KPIState.Durations: the slow query ran for %v; it should have been stopped after 500ms, long before its 3s sleep", d)
				}
				d, _ := sample(gatherSelf(t, e.c), "pantau_query_duration_seconds", map[string]string{"kpi": "lambat", "query": "month"})
				if d < 0.5 || d > 2 {
					t.Errorf("pantau_query_duration_seconds{kpi=\"lambat\",query=\"month\"} = %v, want about 0.5", d)
				}
			},
		},
		{
			name:    "a backend killed mid-query leaves its KPI stale",
			failing: "putus", source: "dinsos", sourceUp: 1,
			errHas:  []string{"putus"},
			breakIt: func(t *testing.T, e *faultEnv) { e.exec(t, `UPDATE jeda SET detik = 5 WHERE nama = 'putus'`) },
			refresh: func(t *testing.T, e *faultEnv) {
				killed := make(chan error, 1)
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
				defer cancel()
				go func() { killed <- killSleeper(ctx, e.db) }()
				e.c.Refresh(context.Background())
				if err := <-killed; err != nil {
					t.Fatalf("killing the backend: %v", err)
				}
				st, _ := e.c.Snapshot().KPI("putus")
				if d := st.Durations["month"]; d > 4*time.Second {
					t.Errorf("the killed query ran for %v; it should have failed when killed, before its 5s sleep ended", d)
				}
			},
		},
		{
			name:    "a query that tries to write is stopped by the read-only transaction",
			failing: "tulis", source: "dinsos", sourceUp: 1,
			errHas: []string{"tulis", "read-only transaction"},
			breakIt: func(t *testing.T, e *faultEnv) {
				e.exec(t, `CREATE OR REPLACE FUNCTION catat_akses() RETURNS boolean LANGUAGE plpgsql AS $$
					BEGIN
						INSERT INTO akses_log (waktu) VALUES (now());
						RETURN true;
					END $$`)
			},
			after: func(t *testing.T, e *faultEnv) {
				var n int
				if err := e.db.QueryRow(`SELECT count(*) FROM akses_log`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("the query wrote %d rows into akses_log", n)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newFaultEnv(t)

			// A first good refresh: 32.16.06 has two KUBE everywhere.
			first := e.c.Refresh(context.Background())
			for _, st := range first.KPIs {
				if st.Err != "" {
					t.Fatalf("the first refresh failed for %s: %s", st.Def.ID, st.Err)
				}
			}
			before := parseFamilies(t, onlyRegions(metricsText(t, e.c), "32.16.06"))
			for _, id := range faultKPIs {
				if v := kubeActual(t, before, id); v != 2 {
					t.Fatalf("%s: 32.16.06 has %v KUBE after the first refresh, want 2", id, v)
				}
			}

			// New data for every KPI, then the fault.
			e.exec(t, `INSERT INTO kube (kode_kecamatan, tanggal_bentuk) VALUES ('32.16.06', '2026-10-12')`)
			tt.breakIt(t, e)
			if tt.refresh != nil {
				tt.refresh(t, e)
			} else {
				e.c.Refresh(context.Background())
			}

			res := scrape(t, e.c, "gzip")
			if res.StatusCode != 200 {
				t.Fatalf("/metrics answered %d after the fault, want 200", res.StatusCode)
			}
			mfs := parseFamilies(t, onlyRegions(readBody(t, res), "32.16.06"))
			for _, id := range faultKPIs {
				stale, _ := sample(mfs, "pantau_kpi_stale", map[string]string{"kpi": id})
				fails, _ := sample(mfs, "pantau_refresh_failures_total", map[string]string{"kpi": id})
				actual := kubeActual(t, mfs, id)
				if id == tt.failing {
					if stale != 1 || fails != 1 || actual != 2 {
						t.Errorf("failing KPI %s: stale %v, failures %v, actual %v; want stale 1, failures 1 and its last good value 2", id, stale, fails, actual)
					}
					continue
				}
				if stale != 0 || fails != 0 || actual != 3 {
					t.Errorf("KPI %s: stale %v, failures %v, actual %v; want stale 0, failures 0 and the new value 3", id, stale, fails, actual)
				}
			}
			for _, name := range []string{"dinsos", "lambat", "arsip"} {
				want := 1.0
				if name == tt.source {
					want = tt.sourceUp
				}
				if v, ok := sample(mfs, "pantau_source_up", map[string]string{"source": name}); !ok || v != want {
					t.Errorf("pantau_source_up{source=%q} = %v (present %v), want %v", name, v, ok, want)
				}
			}
			// The last good refresh time of the failing KPI is kept.
			if v, ok := sample(mfs, "pantau_query_last_success_timestamp_seconds", map[string]string{"kpi": tt.failing}); !ok || v != float64(pinnedNow.Unix()) {
				t.Errorf("pantau_query_last_success_timestamp_seconds{kpi=%q} = %v, want %d", tt.failing, v, pinnedNow.Unix())
			}

			st, _ := e.c.Snapshot().KPI(tt.failing)
			if !st.Stale {
				t.Errorf("KPIState of %s is not stale", tt.failing)
			}
			for _, w := range tt.errHas {
				if !strings.Contains(st.Err, w) {
					t.Errorf("%s's error %q does not mention %q", tt.failing, st.Err, w)
				}
			}
			t.Logf("%s failed with: %s", tt.failing, st.Err)
			if tt.after != nil {
				tt.after(t, e)
			}
		})
	}
}

// killSleeper terminates the backend running a pg_sleep query in the
// collector's database, as soon as one shows up.
func killSleeper(ctx context.Context, db *sql.DB) error {
	for {
		var pid int
		err := db.QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()
			  AND state = 'active' AND query LIKE '%pg_sleep%nama = ''putus''%'
			LIMIT 1`).Scan(&pid)
		switch {
		case err == sql.ErrNoRows:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		case err != nil:
			return err
		}
		var ok bool
		if err := db.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
}
