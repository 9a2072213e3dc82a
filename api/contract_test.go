package api

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

// TestInfinityContract holds the answers Grafana's Infinity datasource
// reads (backend parser, no columns configured) to what it needs: a JSON
// array of flat objects that all have the same keys; per key one type,
// taken from the first non-null value, so numbers are always JSON numbers
// and a key may be null only where openapi.json says so; times are RFC
// 3339 strings with the spec's offset (+07:00), and time series come in
// time order.
func TestInfinityContract(t *testing.T) {
	f := newFixture(t, "sqlite", fixtureOptions{closed: []kpi.Period{kpi.NewPeriod(2026, time.September, nil)}})
	for _, url := range []string{
		"/api/v1/kpis",
		"/api/v1/regions?level=provinsi",
		"/api/v1/progress?kpi=sembako_salur&level=kabupaten_kota",
		"/api/v1/progress?kpi=ewarong_aktif,kube_jasa,sembako_salur,pkh_salur,kpm_per_ewarong,pkh_graduasi&level=provinsi&window=year",
		"/api/v1/progress?kpi=kube_jasa&level=kecamatan&period=2026-09",
		"/api/v1/ranking?kpi=ewarong_aktif&level=kecamatan&limit=50",
		"/api/v1/history?kpi=sembako_salur,kube_jasa&region=32.16.06&from=1756659600000&to=2026-10",
		"/api/v1/slips?level=kecamatan",
		"/api/v1/targets?year=2026",
		"/api/v1/targets/audit",
	} {
		t.Run(url, func(t *testing.T) {
			path, _, _ := strings.Cut(strings.TrimPrefix(url, Prefix), "?")
			var rt *route
			for i := range f.api.routes {
				if f.api.routes[i].path == path && f.api.routes[i].method == "GET" {
					rt = &f.api.routes[i]
				}
			}
			schema := schemaOf(reflect.TypeOf(rt.rows))["properties"].(map[string]any)
			rs := rows(t, f.do(t, "GET", url, "admin", nil))
			if len(rs) == 0 {
				t.Fatal("no rows: the contract cannot be checked")
			}
			var keys []string
			for k := range rs[0] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var documented []string
			for k := range schema {
				documented = append(documented, k)
			}
			slices.Sort(documented)
			if !slices.Equal(keys, documented) {
				t.Errorf("keys %v, openapi.json documents %v", keys, documented)
			}
			kinds := map[string]string{}
			for i, r := range rs {
				if len(r) != len(keys) {
					t.Errorf("row %d has %d keys, the first %d", i, len(r), len(keys))
				}
				for _, k := range keys {
					v, ok := r[k]
					if !ok {
						t.Errorf("row %d lacks %s", i, k)
						continue
					}
					s := schema[k].(map[string]any)
					kind := fmt.Sprintf("%T", v)
					if v == nil {
						if !allows(s["type"], "null") {
							t.Errorf("row %d: %s is null, and openapi.json does not say it may be", i, k)
						}
						continue
					}
					if prev, seen := kinds[k]; seen && prev != kind {
						t.Errorf("row %d: %s is a %s, earlier rows a %s", i, k, kind, prev)
					}
					kinds[k] = kind
					if allows(s["type"], "number") || allows(s["type"], "integer") {
						if _, ok := v.(float64); !ok {
							t.Errorf("row %d: %s = %#v is not a JSON number", i, k, v)
						}
					}
					if s["format"] == "date-time" {
						ts, _ := v.(string)
						if at, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "+07:00") {
							t.Errorf("row %d: %s = %q is not RFC 3339 with +07:00 (%v, %v)", i, k, ts, at, err)
						}
					}
				}
				if i > 0 && path == "/history" && rs[i-1]["time"].(string) > r["time"].(string) {
					t.Errorf("history rows out of time order at %d", i)
				}
			}
		})
	}
}

func allows(typ any, want string) bool {
	switch t := typ.(type) {
	case string:
		return t == want
	case []string:
		return slices.Contains(t, want)
	case []any:
		for _, x := range t {
			if allows(x, want) {
				return true
			}
		}
	}
	return false
}

// TestConcurrentReadsRefreshesAndWrites runs readers of every kind while
// refreshes swap snapshots and targets are written; run it with -race.
func TestConcurrentReadsRefreshesAndWrites(t *testing.T) {
	for _, driver := range storeDrivers {
		t.Run(driver, func(t *testing.T) {
			f := newFixture(t, driver, fixtureOptions{})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Go(func() {
				for ctx.Err() == nil {
					f.collector.Refresh(ctx)
				}
			})
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					body := fmt.Sprintf(`{"target": %d}`, 10+i%5)
					if rec := f.do(t, "PUT", "/api/v1/targets/kube_jasa/32.16.07/2026", "admin", strings.NewReader(body)); rec.Code != http.StatusOK {
						t.Errorf("PUT: %d %s", rec.Code, rec.Body.String())
						return
					}
				}
			})
			var readers sync.WaitGroup
			for i := range 8 {
				readers.Go(func() {
					for j := range 15 {
						s := samples[(i+j)%len(samples)]
						if s.method != "GET" {
							continue
						}
						if rec := f.do(t, s.method, s.url, "bekasi", nil); rec.Code != http.StatusOK {
							t.Errorf("%s: %d %s", s.url, rec.Code, rec.Body.String())
						}
					}
				})
			}
			readers.Wait()
			cancel()
			wg.Wait()
		})
	}
}
