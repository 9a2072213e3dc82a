package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// wantRow is one expected progress row, worked out by hand from the test
// data (see collector/dinsos_test.go for the arithmetic).
type wantRow struct {
	kpi, region, window string
	actual, target      float64
	expected, pace      float64
	status              string
	num, den            float64
}

var progressWants = []wantRow{
	{"ewarong_aktif", "32.16.06", "month", 3, 2 + 3*M10, 2 + 3*E, 3 / (2 + 3*E), "behind", none, none},
	{"ewarong_aktif", "32.16", "year", 5, 7, 3 + 4*E, 5 / (3 + 4*E), "behind", none, none},
	{"ewarong_aktif", "32", "month", 8, 4 + 7*M10, 4 + 7*E, 8 / (4 + 7*E), "behind", none, none},
	{"ewarong_aktif", "ID", "year", 12, 17, 6 + 11*E, 12 / (6 + 11*E), "behind", none, none},
	{"kube_jasa", "32.16.07", "month", 0, 0.5, 0.25, 0, "behind", none, none},
	{"kube_jasa", "32.75.02", "month", 1, 2, 1, 1, "on_track", none, none},
	{"kube_jasa", "31", "year", 2, 3, 2.375, 2 / 2.375, "at_risk", none, none},
	{"sembako_salur", "32.16.06", "month", 3.0 / 4, 0.95, 0.475, 0.75 / 0.475, "on_track", 3, 4},
	{"sembako_salur", "32.75.01", "month", 2.0 / 5, 0.95, 0.475, 0.4 / 0.475, "behind", 2, 5},
	{"sembako_salur", "32", "year", 17.0 / 22, 0.95, 0.95 * 16.5 / 22, 17.0 / 22 / (0.95 * 16.5 / 22), "on_track", 17, 22},
	{"pkh_salur", "31.71", "month", 5.0 / 6, 0.95, 0.95, 5.0 / 6 / 0.95, "at_risk", 5, 6},
	{"kpm_per_ewarong", "32.75.02", "month", 0, 400, 400, none, "on_track", 0, 1},
	{"pkh_graduasi", "ID", "year", 6, none, none, none, "no_target", none, none},
}

func checkProgressRow(t *testing.T, got map[string]any, w wantRow) {
	t.Helper()
	for _, c := range []struct {
		field string
		want  float64
	}{{"actual", w.actual}, {"target", w.target}, {"expected", w.expected}, {"pace", w.pace}, {"numerator", w.num}, {"denominator", w.den}} {
		if !numberIs(got[c.field], c.want) {
			t.Errorf("%s %s %s: %s = %v, want %v", w.kpi, w.region, w.window, c.field, got[c.field], c.want)
		}
	}
	if got["status"] != w.status {
		t.Errorf("%s %s %s: status %v, want %s", w.kpi, w.region, w.window, got["status"], w.status)
	}
}

func TestProgress(t *testing.T) {
	for _, driver := range storeDrivers {
		t.Run(driver, func(t *testing.T) {
			f := newFixture(t, driver, fixtureOptions{closed: []kpi.Period{kpi.NewPeriod(2026, time.September, nil)}})

			t.Run("every level of the current month has the values worked out by hand", func(t *testing.T) {
				for _, w := range progressWants {
					lvl, _ := kpi.CodeLevel(w.region)
					rs := rows(t, f.do(t, "GET", "/api/v1/progress?"+query("kpi", w.kpi, "region", w.region, "window", w.window), "admin", nil))
					if len(rs) != 1 {
						t.Fatalf("%s %s %s: %d rows, want 1", w.kpi, w.region, w.window, len(rs))
					}
					got := rs[0]
					checkProgressRow(t, got, w)
					reg, _ := f.regions.Lookup(w.region)
					if got["region_name"] != reg.Name || got["level"] != lvl.String() || got["period"] != "2026-10" || got["window"] != w.window {
						t.Errorf("%s %s: names and keys %v %v %v %v", w.kpi, w.region, got["region_name"], got["level"], got["period"], got["window"])
					}
					if got["computed_at"] != "2026-10-16T12:00:00+07:00" || got["stale"] != false {
						t.Errorf("%s %s: computed_at %v stale %v, want 2026-10-16T12:00:00+07:00 and false", w.kpi, w.region, got["computed_at"], got["stale"])
					}
				}
			})

			t.Run("level and parent select the kabupaten of one province, ordered by code", func(t *testing.T) {
				rs := rows(t, f.do(t, "GET", "/api/v1/progress?kpi=ewarong_aktif&level=kabupaten_kota&parent=32", "admin", nil))
				if want := len(f.regions.Children("32")); len(rs) != want {
					t.Fatalf("%d rows, want Jawa Barat's %d kabupaten/kota", len(rs), want)
				}
				for i, r := range rs {
					if r["province_code"] != "32" || r["level"] != "kabupaten_kota" || r["regency_code"] != r["region_code"] {
						t.Errorf("row %d: %v", i, r)
					}
					if i > 0 && rs[i-1]["region_code"].(string) >= r["region_code"].(string) {
						t.Errorf("rows not ordered by code at %d", i)
					}
				}
				checkProgressRow(t, find(rs, "region_code", "32.16"), wantRow{"ewarong_aktif", "32.16", "month", 5, 3 + 4*M10, 3 + 4*E, 5 / (3 + 4*E), "behind", none, none})
			})

			t.Run("a closed month comes from history and equals what the live snapshot said when the month ended", func(t *testing.T) {
				// A collector whose clock stands at the last instant of September.
				end := kpi.NewPeriod(2026, time.September, nil).End().Add(-time.Nanosecond)
				c, err := collector.New(collector.Options{Spec: f.spec, Regions: f.regions, Sources: map[string]collector.Querier{"dinsos": f.source},
					Targets: f.store, Now: func() time.Time { return end }, Version: "test"})
				if err != nil {
					t.Fatal(err)
				}
				live := c.Refresh(context.Background())
				for _, id := range f.spec.KPIIDs() {
					st, _ := live.KPI(id)
					if st.Period.String() != "2026-09" {
						t.Fatalf("the live snapshot of %s is for %s", id, st.Period)
					}
					for _, window := range []string{"month", "year"} {
						rs := rows(t, f.do(t, "GET", "/api/v1/progress?"+query("kpi", id, "period", "2026-09", "window", window), "admin", nil))
						byRegion := map[string]map[string]any{}
						for _, r := range rs {
							byRegion[r["region_code"].(string)] = r
						}
						n := 0
						for _, p := range st.Progress {
							if string(p.Window) != window {
								continue
							}
							n++
							got := byRegion[p.Region]
							if got == nil {
								t.Fatalf("%s %s %s: no row from history", id, p.Region, window)
							}
							for field, want := range map[string]kpi.Number{"actual": p.Actual, "target": p.Target, "expected": p.Expected,
								"attainment": p.Attainment, "pace": p.Pace, "numerator": p.Numerator, "denominator": p.Denominator} {
								w := none
								if want.OK {
									w = want.V
								}
								if !numberIs(got[field], w) {
									t.Errorf("%s %s %s: history %s = %v, live %v", id, p.Region, window, field, got[field], want)
								}
							}
							if got["status"] != string(p.Status) || got["period"] != "2026-09" || got["computed_at"] != "2026-10-01T00:00:00+07:00" {
								t.Errorf("%s %s %s: status %v period %v computed_at %v, live status %s", id, p.Region, window, got["status"], got["period"], got["computed_at"], p.Status)
							}
						}
						if len(rs) != n {
							t.Errorf("%s %s: %d rows from history, the live snapshot has %d", id, window, len(rs), n)
						}
					}
				}
			})

			t.Run("ranking ranks the kabupaten of a province by pace, worst first, and closed months by attainment", func(t *testing.T) {
				rs := rows(t, f.do(t, "GET", "/api/v1/ranking?kpi=sembako_salur&parent=32.75&level=kecamatan&order=worst", "admin", nil))
				// Kota Bekasi: 32.75.01 has pace 0.4/0.475; 32.75.02 has no
				// allocation in October and is not ranked.
				if len(rs) != 1 || rs[0]["region_code"] != "32.75.01" || rs[0]["rank"] != 1.0 || rs[0]["ranked_by"] != "pace" || !numberIs(rs[0]["value"], 0.4/0.475) {
					t.Errorf("ranking: %v", rs)
				}
				rs = rows(t, f.do(t, "GET", "/api/v1/ranking?kpi=ewarong_aktif&parent=32&order=best&limit=2", "admin", nil))
				// Jawa Barat's kabupaten with a target: 32.75 (3/(1+3E)) above 32.16 (5/(3+4E)).
				if len(rs) != 2 || rs[0]["region_code"] != "32.75" || rs[1]["region_code"] != "32.16" || rs[1]["rank"] != 2.0 {
					t.Errorf("best ewarong_aktif kabupaten in Jawa Barat: %v", rs)
				}
				rs = rows(t, f.do(t, "GET", "/api/v1/ranking?kpi=sembako_salur&parent=32.16&period=2026-09", "admin", nil))
				// September: 32.16.06 4/4, 32.16.07 1/2 against 0.95.
				if len(rs) != 2 || rs[0]["region_code"] != "32.16.07" || rs[0]["ranked_by"] != "attainment" || !numberIs(rs[0]["value"], 0.5/0.95) ||
					rs[1]["region_code"] != "32.16.06" || !numberIs(rs[1]["value"], 1/0.95) {
					t.Errorf("September ranking of Kabupaten Bekasi: %v", rs)
				}
				// Named regions of a closed month are read by name, not by level.
				rs = rows(t, f.do(t, "GET", "/api/v1/progress?kpi=sembako_salur&region=32.16.07,32.16.06,31&period=2026-09", "admin", nil))
				if len(rs) != 3 || rs[0]["region_code"] != "31" || rs[1]["region_code"] != "32.16.06" || !numberIs(rs[1]["actual"], 1) ||
					rs[2]["region_code"] != "32.16.07" || !numberIs(rs[2]["actual"], 0.5) {
					t.Errorf("September progress of three named regions: %v", rs)
				}
			})

			t.Run("slips list the regions at risk or behind, worst first, with the gap in the KPI's unit and since when", func(t *testing.T) {
				rs := rows(t, f.do(t, "GET", "/api/v1/slips?kpi=sembako_salur&level=kecamatan", "admin", nil))
				got := find(rs, "region_code", "32.75.01")
				// Behind in October; September (3 of 3) was on track.
				if got == nil || !numberIs(got["behind_by"], 0.475-0.4) || got["since"] != "2026-10" {
					t.Errorf("32.75.01: %v", got)
				}
				for i, r := range rs {
					if r["status"] != "behind" && r["status"] != "at_risk" {
						t.Errorf("row %d has status %v", i, r["status"])
					}
					if i > 0 && rs[i-1]["pace"].(float64) > r["pace"].(float64) {
						t.Errorf("not worst first at %d", i)
					}
				}
			})

			t.Run("history has each month with the year-to-date line, in time order", func(t *testing.T) {
				rs := rows(t, f.do(t, "GET", "/api/v1/history?kpi=kube_jasa&region=32.16.06&from=2026-09", "admin", nil))
				if len(rs) != 2 {
					t.Fatalf("%d rows, want September (closed) and October (current): %v", len(rs), rs)
				}
				sep, oct := rs[0], rs[1]
				// 12 a year spread evenly: 1 a month; formed: none in September, 2 in October, 3 this year.
				if sep["time"] != "2026-09-01T00:00:00+07:00" || sep["final"] != true || !numberIs(sep["actual"], 0) || !numberIs(sep["target"], 1) ||
					!numberIs(sep["cumulative_actual"], 1) || !numberIs(sep["cumulative_target"], none) {
					// January..August are not in history: the running target line is unknown.
					t.Errorf("September: %v", sep)
				}
				if oct["time"] != "2026-10-01T00:00:00+07:00" || oct["final"] != false || !numberIs(oct["actual"], 2) || !numberIs(oct["cumulative_actual"], 3) {
					t.Errorf("October: %v", oct)
				}
			})
		})
	}
}

// sample is a request that exercises one route.
type sample struct {
	method, url, body string
}

// samples has at least one request per route; the matrix and the OpenAPI
// test hold it to the route table.
var samples = []sample{
	{"GET", "/api/v1/kpis", ""},
	{"GET", "/api/v1/regions?level=kecamatan", ""},
	{"GET", "/api/v1/progress?kpi=ewarong_aktif&level=kabupaten_kota", ""},
	{"GET", "/api/v1/ranking?kpi=sembako_salur&level=kecamatan&limit=100", ""},
	{"GET", "/api/v1/history?kpi=sembako_salur&from=2026-09", ""},
	{"GET", "/api/v1/slips", ""},
	{"GET", "/api/v1/targets?year=2026", ""},
	{"GET", "/api/v1/targets/audit", ""},
	{"GET", "/api/v1/targets/kube_jasa/32.16.06/2026", ""},
	{"PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", `{"target": 24, "reason": "test"}`},
	{"GET", "/api/v1/export?format=csv&level=kabupaten_kota", ""},
	{"GET", "/api/v1/export?format=xlsx&kpi=kube_jasa&level=kabupaten_kota", ""},
	{"GET", "/api/v1/geo/provinces", ""},
	{"GET", "/api/v1/openapi.json", ""},
}

func (s sample) route() string {
	path, _, _ := strings.Cut(s.url, "?")
	return s.method + " " + path
}

func TestSlipsSince(t *testing.T) {
	for _, driver := range storeDrivers {
		t.Run(driver, func(t *testing.T) {
			f := newFixture(t, driver, fixtureOptions{})
			oct := kpi.NewPeriod(2026, time.October, nil)
			closedAt := oct.Start()
			var hist []store.HistoryRow
			// months writes a region's history, latest month first, back from September.
			months := func(kpiID, region string, w kpi.Window, statuses ...kpi.Status) {
				p := oct
				for _, st := range statuses {
					p = p.Prev()
					hist = append(hist, store.HistoryRow{KPI: kpiID, Region: region, Level: kpi.LevelKecamatan, Period: p.String(),
						Window: w, Status: st, ClosedAt: closedAt})
				}
			}
			months("sembako_salur", "32.75.01", kpi.WindowMonth, kpi.Behind, kpi.AtRisk, kpi.OnTrack, kpi.Behind)
			// 33 months behind, January 2024 on: more than are followed.
			months("ewarong_aktif", "31.71.06", kpi.WindowMonth, slices.Repeat([]kpi.Status{kpi.Behind}, 33)...)
			months("ewarong_aktif", "32.16.06", kpi.WindowMonth, kpi.OnTrack)
			months("ewarong_aktif", "32.16.06", kpi.WindowYear, kpi.Behind)
			if _, err := f.store.WriteHistory(context.Background(), hist); err != nil {
				t.Fatal(err)
			}
			rs := rows(t, f.do(t, "GET", "/api/v1/slips?level=kecamatan", "admin", nil))
			for _, tc := range []struct{ name, kpi, region, since string }{
				{"a run of behind and at-risk months starts after the last month on track", "sembako_salur", "32.75.01", "2026-08"},
				{"a run is followed back 24 months at most", "ewarong_aktif", "31.71.06", "2024-10"},
				{"only the asked window's history counts", "ewarong_aktif", "32.16.06", "2026-10"},
				{"a region without history slips since the current month", "kube_jasa", "32.16.07", "2026-10"},
			} {
				got := find(rs, "kpi", tc.kpi, "region_code", tc.region)
				if got == nil || got["since"] != tc.since {
					t.Errorf("%s: %s %s since %v, want %s", tc.name, tc.kpi, tc.region, got["since"], tc.since)
				}
			}
		})
	}
}

// matrixTokens are the fixture's tokens plus a province and a kecamatan
// scope, by name: each scope level the API knows, and a scope beside
// another (jakarta beside the Jawa Barat ones).
var matrixTokens = []struct{ name, role, scope string }{
	{"admin", store.RoleAdmin, kpi.NationalCode},
	{"jabar", store.RoleViewer, "32"},
	{"bekasi", store.RoleViewer, "32.16"},
	{"bekasi-admin", store.RoleAdmin, "32.16"},
	{"kecamatan", store.RoleViewer, "32.16.06"},
	{"jakarta", store.RoleViewer, "31"},
}

// outside is, per scope, a region beside it: in the same parent where
// there is one, so that only the scope check can refuse it.
var outside = map[string]string{"32": "31", "32.16": "32.75", "32.16.06": "32.16.07", "31": "32"}

// methods are the methods tried on every path.
var methods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}

// routePattern matches the concrete paths of a route's path (":kpi" is any
// segment).
func routePattern(path string) *regexp.Regexp {
	return regexp.MustCompile("^" + Prefix + regexp.MustCompile(`:[a-z]+`).ReplaceAllString(path, "[^/]+") + "$")
}

// wantStatus is the status a sample should get as tok: the route table
// says what needs a token or an admin, and every region and level the
// request names must be inside the token's scope.
func wantStatus(rt route, s sample, role, scope string) int {
	switch {
	case rt.public:
		return http.StatusOK
	case role == "":
		return http.StatusUnauthorized
	case rt.admin && role != store.RoleAdmin:
		return http.StatusForbidden
	}
	u, _ := url.Parse(s.url)
	var codes []string
	for _, seg := range strings.Split(u.Path, "/") {
		if _, err := kpi.CodeLevel(seg); err == nil {
			codes = append(codes, seg)
		}
	}
	q := u.Query()
	codes = append(codes, q.Get("parent"))
	codes = append(codes, strings.Split(q.Get("region"), ",")...)
	for _, c := range codes {
		if c != "" && !kpi.Contains(scope, c) {
			return http.StatusForbidden
		}
	}
	if l, err := kpi.ParseLevel(q.Get("level")); err == nil {
		if sl, _ := kpi.CodeLevel(scope); l < sl {
			return http.StatusForbidden
		}
	}
	return http.StatusOK
}

// TestAuthorizationMatrix runs on SQLite only: authorization does not
// depend on the store's database, and the other tests cover both. The
// route table is the source of truth: a route without a sample fails.
func TestAuthorizationMatrix(t *testing.T) {
	for _, driver := range storeDrivers[:1] {
		t.Run(driver, func(t *testing.T) {
			f := newFixture(t, driver, fixtureOptions{})
			scopes := map[string]string{"": kpi.NationalCode, "revoked": kpi.NationalCode}
			roles := map[string]string{"": "", "revoked": ""}
			for _, tk := range matrixTokens {
				if _, ok := f.tokens[tk.name]; !ok {
					tok, err := f.store.CreateToken(context.Background(), tk.name, tk.role, tk.scope)
					if err != nil {
						t.Fatal(err)
					}
					f.tokens[tk.name] = tok
				}
				scopes[tk.name], roles[tk.name] = tk.scope, tk.role
			}
			routeOf := func(method, path string) (route, bool) {
				for _, rt := range f.api.routes {
					if rt.method == method && routePattern(rt.path).MatchString(path) {
						return rt, true
					}
				}
				return route{}, false
			}

			t.Run("every route has a sample, and every answer format is sampled", func(t *testing.T) {
				for _, rt := range f.api.routes {
					types := map[string]bool{}
					sampled := false
					for _, s := range samples {
						path, _, _ := strings.Cut(s.url, "?")
						if s.method != rt.method || !routePattern(rt.path).MatchString(path) {
							continue
						}
						sampled = true
						rec := f.do(t, s.method, s.url, "admin", strings.NewReader(s.body))
						types[strings.TrimSuffix(strings.SplitN(rec.Header().Get("Content-Type"), ";", 2)[0], " ")] = true
					}
					if !sampled {
						t.Errorf("%s %s has no sample request: add one to samples", rt.method, rt.path)
					}
					for _, ct := range rt.content {
						if !types[ct] {
							t.Errorf("%s %s answers %s, but no sample gets it (got %v)", rt.method, rt.path, ct, types)
						}
					}
				}
			})

			t.Run("every sample as every token", func(t *testing.T) {
				defer func() { t.Logf("%d samples × %d tokens", len(samples), len(scopes)) }()
				for _, s := range samples {
					path, _, _ := strings.Cut(s.url, "?")
					rt, ok := routeOf(s.method, path)
					if !ok {
						t.Fatalf("sample %s %s matches no route", s.method, s.url)
					}
					for tok := range scopes {
						rec := f.do(t, s.method, s.url, tok, strings.NewReader(s.body))
						want := wantStatus(rt, s, roles[tok], scopes[tok])
						if rec.Code != want {
							t.Errorf("%s %s as %q: status %d, want %d: %.300s", s.method, s.url, tok, rec.Code, want, rec.Body.String())
							continue
						}
						if want != http.StatusOK {
							errorCode(t, rec)
							continue
						}
						if tok == "" {
							continue
						}
						scope := scopes[tok]
						for _, code := range bodyRegions(t, s, rec) {
							inScope := kpi.Contains(scope, code)
							if strings.Contains(s.url, "/geo/") {
								// Boundaries: the scope's own province.
								inScope = scope == kpi.NationalCode || code == strings.SplitN(scope, ".", 2)[0]
							}
							if !inScope {
								t.Errorf("%s %s as %q (scope %s): a row of region %s", s.method, s.url, tok, scope, code)
							}
						}
					}
				}
			})

			t.Run("every other method on every path is a 405 with the error JSON", func(t *testing.T) {
				n := 0
				defer func() { t.Logf("%d requests with a method the path does not take, each a 405", n) }()
				for _, s := range samples {
					path, _, _ := strings.Cut(s.url, "?")
					for _, m := range methods {
						if _, ok := routeOf(m, path); ok {
							continue
						}
						for _, tok := range []string{"", "admin"} {
							n++
							rec := f.do(t, m, path, tok, strings.NewReader(s.body))
							if rec.Code != http.StatusMethodNotAllowed {
								t.Errorf("%s %s as %q: status %d, want 405", m, path, tok, rec.Code)
								continue
							}
							if m != "HEAD" && errorCode(t, rec) != "method_not_allowed" {
								t.Errorf("%s %s: error code %q", m, path, errorCode(t, rec))
							}
						}
					}
				}
			})

			t.Run("a filter outside the scope is a 403, never an empty list", func(t *testing.T) {
				tried := 0
				for _, tk := range matrixTokens {
					out, ok := outside[tk.scope]
					if !ok {
						continue
					}
					sl, _ := kpi.CodeLevel(tk.scope)
					for _, s := range samples {
						path, _, _ := strings.Cut(s.url, "?")
						rt, _ := routeOf(s.method, path)
						if rt.public || rt.admin && tk.role != store.RoleAdmin {
							continue
						}
						var urls []string
						u, _ := url.Parse(s.url)
						for _, p := range rt.params {
							q := u.Query()
							switch p {
							case "region", "parent":
								q.Set(p, out)
							case "level":
								q.Set(p, kpi.LevelNasional.String())
								if sl == kpi.LevelNasional {
									continue
								}
							default:
								continue
							}
							urls = append(urls, path+"?"+q.Encode())
						}
						if strings.Contains(rt.path, ":region") {
							urls = append(urls, strings.Replace(s.url, "32.16.06", out+strings.Repeat(".01", 3-strings.Count(out, ".")-1), 1))
						}
						for _, target := range urls {
							tried++
							rec := f.do(t, s.method, target, tk.name, strings.NewReader(s.body))
							if rec.Code != http.StatusForbidden || errorCode(t, rec) != "forbidden" {
								t.Errorf("%s %s as %s (scope %s): status %d, want 403: %.300s", s.method, target, tk.name, tk.scope, rec.Code, rec.Body.String())
							}
						}
					}
				}
				if tried < 50 {
					t.Errorf("only %d out-of-scope requests tried", tried)
				}
				t.Logf("%d out-of-scope requests, each a 403", tried)
			})

			t.Run("a scoped ranking ranks inside its scope", func(t *testing.T) {
				rs := rows(t, f.do(t, "GET", "/api/v1/ranking?kpi=ewarong_aktif", "bekasi", nil))
				for _, r := range rs {
					if r["level"] != "kecamatan" || !kpi.Contains("32.16", r["region_code"].(string)) {
						t.Errorf("ranking for a token scoped to 32.16 has %v %v", r["level"], r["region_code"])
					}
				}
				if len(rs) == 0 {
					t.Error("empty ranking")
				}
			})
			t.Run("an open API reads without a token but writes only with an admin token", func(t *testing.T) {
				f.api.opts.OpenRead = true
				defer func() { f.api.opts.OpenRead = false }()
				if rec := f.do(t, "GET", "/api/v1/progress?kpi=kube_jasa&region=32", "", nil); rec.Code != http.StatusOK {
					t.Errorf("open read: status %d", rec.Code)
				}
				if rec := f.do(t, "GET", "/api/v1/kpis", "revoked", nil); rec.Code != http.StatusUnauthorized {
					t.Errorf("open read with a revoked token: status %d, want 401", rec.Code)
				}
				if rec := f.do(t, "PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", "", strings.NewReader(`{"target": 5}`)); rec.Code != http.StatusUnauthorized {
					t.Errorf("open write without a token: status %d, want 401", rec.Code)
				}
			})
		})
	}
}

// bodyRegions returns the region codes of every row of an answer: JSON
// rows, CSV and XLSX rows, GeoJSON features.
func bodyRegions(t *testing.T, s sample, rec interface {
	Result() *http.Response
}) []string {
	t.Helper()
	res := rec.Result()
	body := readAll(t, res)
	ct := res.Header.Get("Content-Type")
	switch {
	case strings.Contains(s.url, "openapi.json"):
		return nil
	case strings.HasPrefix(ct, "text/csv"):
		return csvRegions(t, body)
	case strings.HasPrefix(ct, "application/vnd.openxmlformats"):
		return xlsxRegions(t, body)
	case strings.HasPrefix(ct, "application/geo+json"):
		return geoRegions(t, body)
	}
	var out []string
	if s.method == "PUT" || strings.Count(s.url, "/") > 4 {
		var one map[string]any
		decode(t, body, &one)
		return []string{rowCode(one)}
	}
	var rs []map[string]any
	decode(t, body, &rs)
	for _, r := range rs {
		if c := rowCode(r); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	f := newFixture(t, "sqlite", fixtureOptions{})
	var served []string
	for _, r := range f.api.engine.Routes() {
		served = append(served, r.Method+" "+openAPIPath(strings.TrimPrefix(r.Path, Prefix)))
	}
	var documented []string
	rec := f.do(t, "GET", "/api/v1/openapi.json", "", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	decode(t, rec.Body.Bytes(), &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Errorf("routes served:\n%s\ndocumented:\n%s", strings.Join(served, "\n"), strings.Join(documented, "\n"))
	}
	// Every documented route answers: the samples cover each one, and the
	// matrix test sends them.
	sampled := map[string]bool{}
	for _, s := range samples {
		path := s.route()
		for _, p := range []string{"kube_jasa/32.16.06/2026"} {
			path = strings.Replace(path, p, "{kpi}/{region}/{year}", 1)
		}
		sampled[path] = true
	}
	for _, d := range documented {
		if !sampled[d] {
			t.Errorf("%s has no sample request", d)
		}
	}
	for _, s := range samples {
		if rec := f.do(t, s.method, s.url, "admin", strings.NewReader(s.body)); rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d", s.method, s.url, rec.Code)
		}
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t, "sqlite", fixtureOptions{})
	for _, tc := range []struct {
		name, method, url, body string
		status                  int
		code, mention           string
	}{
		{"an unknown query parameter is rejected, naming the allowed ones", "GET", "/api/v1/progress?kpi=kube_jasa&levl=provinsi", "", 400, "bad_parameter", "allowed: kpi, level"},
		{"a parameter given twice is rejected", "GET", "/api/v1/progress?kpi=kube_jasa&kpi=ewarong_aktif", "", 400, "bad_parameter", "comma-separated"},
		{"an unknown KPI is a 404 listing the KPIs", "GET", "/api/v1/progress?kpi=ewarong", "", 404, "unknown_kpi", "ewarong_aktif"},
		{"an unknown region is a 404", "GET", "/api/v1/progress?region=32.99", "", 404, "unknown_region", "32.99"},
		{"a malformed region code is a 400", "GET", "/api/v1/progress?region=32.1", "", 400, "bad_parameter", "2 digits"},
		{"a malformed level is a 400 naming the levels", "GET", "/api/v1/progress?level=kabupatem", "", 400, "bad_parameter", "kabupaten_kota"},
		{"a malformed period is a 400", "GET", "/api/v1/progress?period=2026-13", "", 400, "bad_parameter", "01..12"},
		{"a future period is a 400", "GET", "/api/v1/progress?period=2026-11", "", 400, "bad_parameter", "no values yet"},
		{"a malformed percent-encoding is a 400, not a parameter silently dropped", "GET", "/api/v1/progress?kpi=%zz", "", 400, "bad_parameter", "invalid URL escape"},
		{"a semicolon between parameters is a 400", "GET", "/api/v1/progress?kpi=kube_jasa;level=provinsi", "", 400, "bad_parameter", "semicolon"},
		{"epoch milliseconds millions of years away are a 400", "GET", "/api/v1/history?kpi=kube_jasa&from=-9223372036854775808", "", 400, "bad_parameter", "1900 to 9999"},
		{"a limit above the cap is a 400", "GET", "/api/v1/ranking?kpi=kube_jasa&limit=1001", "", 400, "bad_parameter", "1 to 1000"},
		{"ranking needs one KPI", "GET", "/api/v1/ranking", "", 400, "bad_parameter", "name one KPI"},
		{"an unknown order is a 400", "GET", "/api/v1/ranking?kpi=kube_jasa&order=top", "", 400, "bad_parameter", "worst or best"},
		{"an unknown export format is a 400", "GET", "/api/v1/export?format=pdf", "", 400, "bad_parameter", "csv or xlsx"},
		{"an unknown path is a 404", "GET", "/api/v1/progres", "", 404, "not_found", "openapi.json"},
		{"a trailing slash is a 404, not a redirect", "GET", "/api/v1/kpis/", "", 404, "not_found", "openapi.json"},
		{"a target path without its year is a 404, not a redirect", "PUT", "/api/v1/targets/kube_jasa/32.16.06/", `{"target": 1}`, 404, "not_found", "openapi.json"},
		{"a wrong method is a 405", "DELETE", "/api/v1/progress", "", 405, "method_not_allowed", "DELETE"},
		{"a malformed Authorization header is a 401", "GET", "/api/v1/kpis", "", 401, "unauthorized", "Bearer"},
		{"a target a count KPI cannot have is a 400 from the import's validation", "PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", `{"rate": 0.9}`, 400, "invalid_target", "count KPI"},
		{"a target for a region not in the master is a 404", "PUT", "/api/v1/targets/kube_jasa/32.16.06.2001/2026", `{"target": 1}`, 404, "unknown_region", "32.16.06.2001"},
		{"a profile that does not add up is a 400", "PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", `{"target": 12, "profile": [1,1,1,1,1,1,1,1,1,1,1,2]}`, 400, "invalid_target", "profile"},
		{"an unknown body field is a 400", "PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", `{"targte": 12}`, 400, "bad_body", "targte"},
		{"a body too large is a 413", "PUT", "/api/v1/targets/kube_jasa/32.16.06/2026", `{"reason": "` + strings.Repeat("x", maxBody) + `"}`, 413, "too_large", "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *httptest.ResponseRecorder
			if strings.Contains(tc.name, "Authorization") {
				r = f.do(t, tc.method, tc.url, "", strings.NewReader(tc.body), "Authorization", "Token abc")
			} else {
				r = f.do(t, tc.method, tc.url, "admin", strings.NewReader(tc.body))
			}
			if r.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Code, tc.status, r.Body.String())
			}
			if code := errorCode(t, r); code != tc.code || !strings.Contains(r.Body.String(), tc.mention) {
				t.Errorf("error %s %s, want code %s mentioning %q", code, r.Body.String(), tc.code, tc.mention)
			}
		})
	}

	t.Run("before the first refresh every data route is a 503 with Retry-After", func(t *testing.T) {
		g := newFixture(t, "sqlite", fixtureOptions{noRefresh: true})
		rec := g.do(t, "GET", "/api/v1/progress", "admin", nil)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || errorCode(t, rec) != "not_ready" {
			t.Errorf("status %d, Retry-After %q: %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
		}
		if rec := g.do(t, "GET", "/api/v1/openapi.json", "", nil); rec.Code != http.StatusOK {
			t.Errorf("openapi.json before the first refresh: %d", rec.Code)
		}
	})

	t.Run("a panic is answered with the error JSON and the request id", func(t *testing.T) {
		a, err := New(Options{Snapshots: panicking{f.collector}, Regions: f.regions, OpenRead: true, Logger: discardLogger()})
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/kpis", nil))
		if rec.Code != http.StatusInternalServerError || errorCode(t, rec) != "internal" || !strings.Contains(rec.Body.String(), rec.Header().Get("X-Request-Id")) {
			t.Errorf("status %d: %s", rec.Code, rec.Body.String())
		}
	})

	t.Run("an answer carries an ETag from the refresh and a revalidation is a 304", func(t *testing.T) {
		rec := f.do(t, "GET", "/api/v1/progress?kpi=kube_jasa", "admin", nil)
		etag := rec.Header().Get("ETag")
		if etag == "" || !strings.Contains(rec.Header().Get("Cache-Control"), "private") {
			t.Fatalf("ETag %q, Cache-Control %q", etag, rec.Header().Get("Cache-Control"))
		}
		if again := f.do(t, "GET", "/api/v1/progress?kpi=kube_jasa", "admin", nil, "If-None-Match", etag); again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("revalidation: status %d, %d bytes", again.Code, again.Body.Len())
		}
		later := pinnedNow.Add(time.Minute)
		f.clock.Store(&later)
		defer f.clock.Store(&pinnedNow)
		f.collector.Refresh(context.Background())
		if again := f.do(t, "GET", "/api/v1/progress?kpi=kube_jasa", "admin", nil, "If-None-Match", etag); again.Code != http.StatusOK {
			t.Errorf("revalidation after a refresh: status %d, want 200", again.Code)
		}
	})

	t.Run("large answers are gzipped when the client accepts it", func(t *testing.T) {
		rec := f.do(t, "GET", "/api/v1/progress?level=kabupaten_kota", "admin", nil, "Accept-Encoding", "gzip")
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("Content-Encoding %q", rec.Header().Get("Content-Encoding"))
		}
		small := f.do(t, "GET", "/api/v1/progress?kpi=kube_jasa&region=32", "admin", nil, "Accept-Encoding", "gzip")
		if small.Header().Get("Content-Encoding") != "" {
			t.Errorf("a small answer is compressed")
		}
	})
}

// panicking has the collector's spec and panics when asked for a snapshot.
type panicking struct{ *collector.Collector }

func (panicking) Snapshot() *collector.Snapshot { panic("boom") }

func TestTargets(t *testing.T) {
	for _, driver := range storeDrivers {
		t.Run(driver, func(t *testing.T) {
			f := newFixture(t, driver, fixtureOptions{})
			url := "/api/v1/targets/kube_jasa/32.16.06/2026"
			rec := f.do(t, "GET", url, "admin", nil)
			etag := rec.Header().Get("ETag")
			var got struct {
				Target  float64   `json:"target"`
				Monthly []float64 `json:"monthly"`
				ETag    string    `json:"etag"`
			}
			decode(t, rec.Body.Bytes(), &got)
			if rec.Code != 200 || etag == "" || got.ETag != etag || got.Target != 12 || len(got.Monthly) != 12 || got.Monthly[0] != 1 {
				t.Fatalf("GET: %d %s %+v", rec.Code, etag, got)
			}
			put := f.do(t, "PUT", url, "admin", strings.NewReader(`{"target": 24, "reason": "SK 1/2026"}`), "If-Match", etag)
			if put.Code != 200 || put.Header().Get("ETag") == etag {
				t.Fatalf("PUT with the current ETag: %d %s", put.Code, put.Body.String())
			}
			stale := f.do(t, "PUT", url, "admin", strings.NewReader(`{"target": 36}`), "If-Match", etag)
			if stale.Code != http.StatusConflict || errorCode(t, stale) != "stale" {
				t.Errorf("PUT with a stale ETag: %d %s", stale.Code, stale.Body.String())
			}
			ts, err := f.store.ListTargets(context.Background(), store.TargetFilter{KPI: "kube_jasa", Region: "32.16.06", Year: 2026})
			if err != nil || len(ts) != 1 || ts[0].Annual != 24 {
				t.Errorf("stored after a stale write: %v %v; want 24", ts, err)
			}
			created := f.do(t, "PUT", "/api/v1/targets/sembako_salur/32.16/2026", "bekasi-admin", strings.NewReader(`{"rate": 0.9}`))
			if created.Code != http.StatusCreated {
				t.Errorf("creating a rate target within the scope: %d %s", created.Code, created.Body.String())
			}
			if rec := f.do(t, "PUT", "/api/v1/targets/sembako_salur/32/2026", "bekasi-admin", strings.NewReader(`{"rate": 0.9}`)); rec.Code != http.StatusForbidden {
				t.Errorf("a scoped admin writing above its scope: %d", rec.Code)
			}
			audit := rows(t, f.do(t, "GET", "/api/v1/targets/audit?kpi=kube_jasa&region=32.16.06", "admin", nil))
			if len(audit) != 2 || audit[0]["action"] != "update" || audit[0]["changed_by"] != "api token admin" || audit[0]["reason"] != "SK 1/2026" ||
				!numberIs(audit[0]["old_target"], 12) || !numberIs(audit[0]["new_target"], 24) || !numberIs(audit[0]["new_rate"], none) {
				t.Errorf("audit: %v", audit)
			}
			scoped := rows(t, f.do(t, "GET", "/api/v1/targets/audit", "bekasi", nil))
			for _, r := range scoped {
				if !kpi.Contains("32.16", r["region_code"].(string)) {
					t.Errorf("audit for a token scoped to 32.16 shows %v", r["region_code"])
				}
			}
			if len(scoped) == 0 {
				t.Error("the scoped audit is empty")
			}
			list := rows(t, f.do(t, "GET", "/api/v1/targets?kpi=ewarong_aktif&parent=31", "jakarta", nil))
			var codes []string
			for _, r := range list {
				codes = append(codes, r["region_code"].(string))
			}
			if fmt.Sprint(codes) != "[31 31.71.01 31.71.06]" {
				t.Errorf("DKI Jakarta's ewarong_aktif targets: %v", codes)
			}
		})
	}
}
