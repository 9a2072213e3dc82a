package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// The tests run the example spec over the collector's test data set
// (collector/testdata/dinsos-data.sql) in SQLite, refreshed at the pinned
// instant, with targets, history and tokens in a real store: SQLite and
// PostgreSQL (a fresh database per test, see sourcetest).

var storeDrivers = []string{"sqlite", "postgres"}

// pinnedNow: half of October 2026 has gone by in Jakarta, and 19/24 of the year.
var pinnedNow = time.Date(2026, time.October, 16, 12, 0, 0, 0, time.FixedZone("WIB", 7*3600))

const (
	// E is the share of a linear annual target due at pinnedNow.
	E = 19.0 / 24
	// M10 is the share due by the end of October.
	M10 = 10.0 / 12
)

// none marks an undefined number in expectations.
var none = math.NaN()

// testTargets are collector/dinsos_test.go's 2026 targets.
var testTargets = []kpi.Target{
	{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 5},
	{KPI: "ewarong_aktif", Region: "32.16.07", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "32.75", Year: 2026, Annual: 4},
	{KPI: "ewarong_aktif", Region: "31.71.01", Year: 2026, Annual: 3},
	{KPI: "ewarong_aktif", Region: "31.71.06", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "31", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 12},
	{KPI: "kube_jasa", Region: "32.16.07", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "32.75.02", Year: 2026, Annual: 12, Profile: []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 8}},
	{KPI: "kube_jasa", Region: "31", Year: 2026, Annual: 3},
}

// fixture is an API over a refreshed collector and a store.
type fixture struct {
	api       *API
	collector *collector.Collector
	store     *store.Store
	spec      *config.Spec
	regions   *kpi.Hierarchy
	source    *source.Source
	// clock is the collector's and the API's time, pinnedNow at first.
	clock atomic.Pointer[time.Time]
	// tokens by name: admin, bekasi (viewer, 32.16), jakarta (viewer, 31),
	// revoked (an admin token revoked).
	tokens map[string]string
}

type fixtureOptions struct {
	openRead bool
	// noRefresh leaves the collector without a snapshot.
	noRefresh bool
	// closed are months closed into history before the API is built.
	closed []kpi.Period
}

func newFixture(t testing.TB, storeDriver string, o fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, sc := range spec.Sources {
		sc.Driver = source.DriverSQLite
		spec.Sources[name] = sc
	}
	schema, err := os.ReadFile("../examples/dinsos-schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../collector/testdata/dinsos-data.sql")
	if err != nil {
		t.Fatal(err)
	}
	dsn := sourcetest.DSN(t, source.DriverSQLite)
	sourcetest.Exec(t, source.DriverSQLite, dsn, append(sourcetest.Statements(string(schema)), sourcetest.Statements(string(data))...)...)
	src, err := source.Open(ctx, source.Config{Name: "dinsos", Driver: source.DriverSQLite, DSN: dsn, Timeout: time.Minute, MaxConcurrent: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })

	st, err := store.OpenAndMigrate(ctx, storeDriver, sourcetest.DSN(t, storeDriver))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	changes, _, err := st.PlanChanges(ctx, testTargets)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyTargets(ctx, changes, "test", "fixture"); err != nil {
		t.Fatal(err)
	}
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, spec: spec, regions: regions, source: src, tokens: map[string]string{}}
	now := pinnedNow
	f.clock.Store(&now)
	clock := func() time.Time { return *f.clock.Load() }
	c, err := collector.New(collector.Options{Spec: spec, Regions: regions, Scope: "", Sources: map[string]collector.Querier{"dinsos": src},
		Targets: st, Now: clock, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range o.closed {
		if _, err := history.CloseMonth(ctx, c, st, spec.KPIIDs(), p, p.End()); err != nil {
			t.Fatalf("closing %s: %v", p, err)
		}
	}
	if !o.noRefresh {
		snap := c.Refresh(ctx)
		for _, k := range snap.KPIs {
			if k.Err != "" {
				t.Fatalf("KPI %s failed: %s", k.Def.ID, k.Err)
			}
		}
	}
	f.collector = c
	for _, tk := range []struct{ name, role, scope string }{
		{"admin", store.RoleAdmin, ""}, {"bekasi", store.RoleViewer, "32.16"}, {"jakarta", store.RoleViewer, "31"},
		{"bekasi-admin", store.RoleAdmin, "32.16"}, {"revoked", store.RoleAdmin, ""},
	} {
		tok, err := st.CreateToken(ctx, tk.name, tk.role, tk.scope)
		if err != nil {
			t.Fatal(err)
		}
		f.tokens[tk.name] = tok
	}
	if err := st.RevokeToken(ctx, "revoked"); err != nil {
		t.Fatal(err)
	}
	f.api, err = New(Options{Snapshots: c, Regions: regions, Store: st, OpenRead: o.openRead,
		Now: clock, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do sends a request as token (a name of f.tokens, or "" for none).
func (f *fixture) do(t testing.TB, method, url, token string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, url, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+f.tokens[token])
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.api.Handler().ServeHTTP(rec, req)
	return rec
}

// rows decodes a JSON array answer into generic rows.
func rows(t testing.TB, rec *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", rec.Code, rec.Body.String())
	}
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("body is not a JSON array of objects: %v\n%s", err, rec.Body.String())
	}
	return out
}

// errorCode decodes an error answer and returns its code; it fails the
// test when the body is not the error vocabulary.
func errorCode(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d: body is not {\"error\": {\"code\", \"message\"}}: %s", rec.Code, rec.Body.String())
	}
	return e.Error.Code
}

// near compares to a relative 1e-12.
func near(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 1e-12*math.Max(math.Abs(got), math.Abs(want))
}

// numberIs reports whether a decoded JSON value is the expected number
// (none: null).
func numberIs(v any, want float64) bool {
	if math.IsNaN(want) {
		return v == nil
	}
	f, ok := v.(float64)
	return ok && near(f, want)
}

// find returns the row with the given field values.
func find(rs []map[string]any, kv ...string) map[string]any {
	for _, r := range rs {
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if r[kv[i]] != kv[i+1] {
				ok = false
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func rowCode(r map[string]any) string {
	if c, ok := r["region_code"].(string); ok {
		return c
	}
	c, _ := r["code"].(string)
	return c
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func query(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(kv[i] + "=" + kv[i+1])
	}
	return b.String()
}

func readAll(t testing.TB, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding %.300s: %v", b, err)
	}
}

// csvRegions parses an exported CSV (title row, header row, data) and
// returns its region codes.
func csvRegions(t testing.TB, b []byte) []string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1 // the title row has one cell
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("export CSV: %v", err)
	}
	return exportCodes(t, recs)
}

func xlsxRegions(t testing.TB, b []byte) []string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("export XLSX: %v", err)
	}
	defer x.Close()
	recs, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return exportCodes(t, recs)
}

func exportCodes(t testing.TB, recs [][]string) []string {
	t.Helper()
	if len(recs) < 2 || !strings.HasPrefix(recs[0][0], "Laporan capaian KPI") || recs[1][0] != "Kode Wilayah" {
		t.Fatalf("export: no title and header rows: %.3v", recs)
	}
	var out []string
	for _, r := range recs[2:] {
		out = append(out, r[0])
	}
	return out
}

func geoRegions(t testing.TB, b []byte) []string {
	t.Helper()
	var g struct {
		Features []geoFeature `json:"features"`
	}
	decode(t, b, &g)
	var out []string
	for _, f := range g.Features {
		out = append(out, f.Properties.Code)
	}
	return out
}
