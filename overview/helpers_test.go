package overview

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

func TestMain(m *testing.M) { os.Exit(sourcetest.Main(m)) }

// The tests run the example spec over the collector's test data set
// (collector/testdata/dinsos-data.sql) in SQLite at the API tests' pinned
// instant, with the API tests' targets (and, when asked, September 2026
// closed into monthly history) in a real SQLite store.

// pinnedNow: half of October 2026 has gone by in Jakarta, and 19/24 of the year.
var pinnedNow = time.Date(2026, time.October, 16, 12, 0, 0, 0, kpi.WIB)

var testTargets = []kpi.Target{
	{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 5},
	{KPI: "ewarong_aktif", Region: "32.16.07", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "32.75", Year: 2026, Annual: 4},
	{KPI: "ewarong_aktif", Region: "31.71.01", Year: 2026, Annual: 3},
	{KPI: "ewarong_aktif", Region: "31.71.06", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "31", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 12},
	{KPI: "kube_jasa", Region: "32.16.07", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "31", Year: 2026, Annual: 3},
}

type fixture struct {
	collector *collector.Collector
	store     *store.Store // nil with noStore
	source    *source.Source
	mux       *http.ServeMux
	// tokens by name: bekasi (viewer, 32.16), national (viewer), revoked.
	tokens map[string]string
}

type fixtureOptions struct {
	openRead bool
	// noRefresh leaves the collector without a snapshot.
	noRefresh bool
	// noStore runs the pages without a store (no history, no tokens).
	noStore bool
	// root is the region the pantau collects (serve --region).
	root string
	// september closes September 2026 into monthly history (the whole
	// nation: it costs a second, many under -race).
	september bool
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
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
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{source: src, tokens: map[string]string{}}
	clock := func() time.Time { return pinnedNow }
	copts := collector.Options{Spec: spec, Regions: regions, Sources: map[string]collector.Querier{"dinsos": src}, Now: clock, Version: "test", Logger: slog.New(slog.DiscardHandler)}
	aopts := api.Options{Regions: regions, OpenRead: o.openRead, Now: clock, Logger: slog.New(slog.DiscardHandler)}
	var st *store.Store
	if !o.noStore {
		st, err = store.OpenAndMigrate(ctx, "sqlite", sourcetest.DSN(t, "sqlite"))
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
		copts.Targets = st
		aopts.Store = st
		f.store = st
	}
	f.collector, err = collector.New(copts)
	if err != nil {
		t.Fatal(err)
	}
	if st != nil && o.september {
		sep := kpi.NewPeriod(2026, time.September, nil)
		if _, err := history.CloseMonth(ctx, f.collector, st, spec.KPIIDs(), sep, sep.End()); err != nil {
			t.Fatal(err)
		}
	}
	if st != nil {
		for _, tk := range []struct{ name, scope string }{{"bekasi", "32.16"}, {"national", ""}, {"revoked", ""}} {
			if f.tokens[tk.name], err = st.CreateToken(ctx, tk.name, store.RoleViewer, tk.scope); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.RevokeToken(ctx, "revoked"); err != nil {
			t.Fatal(err)
		}
	}
	if !o.noRefresh {
		for _, k := range f.collector.Refresh(ctx).KPIs {
			if k.Err != "" {
				t.Fatalf("KPI %s failed: %s", k.Def.ID, k.Err)
			}
		}
	}
	aopts.Snapshots = f.collector
	a, err := api.New(aopts)
	if err != nil {
		t.Fatal(err)
	}
	ov, err := New(Options{Reader: a.Reader(), Root: o.root, Ready: f.collector.Ready, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	f.mux = http.NewServeMux()
	ov.Mount(f.mux)
	return f
}

// get fetches a page, with the token cookie of the named token if any.
func (f *fixture) get(t testing.TB, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: TokenCookie, Value: f.tokens[token]})
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

// login posts the token form, from the page of origin.
func (f *fixture) login(t testing.TB, secret, origin string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/masuk", strings.NewReader(url.Values{"token": {secret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

// doc parses a page.
func doc(t testing.TB, rec *httptest.ResponseRecorder) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// all returns the elements for which match holds, in document order.
func all(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func byID(n *html.Node, id string) *html.Node {
	if m := all(n, func(c *html.Node) bool { return attr(c, "id") == id }); len(m) > 0 {
		return m[0]
	}
	return nil
}

// text is an element's text with white space collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// rowCells returns the texts of a row's th and td cells.
func rowCells(tr *html.Node) []string {
	var out []string
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return out
}

// rankingRows returns the ranking's rows as their cells, in page order.
func rankingRows(n *html.Node) [][]string {
	var out [][]string
	for _, tr := range all(n, func(c *html.Node) bool { return c.Data == "tr" && attr(c, "data-code") != "" }) {
		out = append(out, rowCells(tr))
	}
	return out
}
