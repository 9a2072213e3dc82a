package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"hash/crc32"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/wilayah"
)

// testDrivers are the source testDrivers the integration tests run on.
var testDrivers = []string{source.DriverPostgres, source.DriverMySQL, source.DriverSQLite}

// pinnedNow is the refresh instant of the integration tests: half of
// October 2026 has gone by in Jakarta (elapsed 0.5), and 19/24 of the year.
var pinnedNow = time.Date(2026, time.October, 16, 12, 0, 0, 0, time.FixedZone("WIB", 7*3600))

func pinnedClock() time.Time { return pinnedNow }

// none marks an undefined kpi.Number in expectations (a Number never holds NaN).
var none = math.NaN()

// fixedTargets is a TargetStore that returns the same targets for one year.
type fixedTargets struct {
	year    int
	targets []kpi.Target
}

func (f fixedTargets) Targets(_ context.Context, year int) ([]kpi.Target, error) {
	if year != f.year {
		return nil, nil
	}
	return f.targets, nil
}

// regions is the shipped region master down to kecamatan.
func regionMaster(t testing.TB) *kpi.Hierarchy {
	t.Helper()
	h, err := wilayah.Load()
	if err != nil {
		t.Fatalf("wilayah.Load: %v", err)
	}
	return h
}

// openSource opens a source on dsn with the spec's settings for name, and
// closes it when the test ends.
func openSource(t testing.TB, spec *config.Spec, name, dsn string) *source.Source {
	t.Helper()
	sc, ok := spec.Sources[name]
	if !ok {
		t.Fatalf("the spec has no source %s", name)
	}
	s, err := source.Open(context.Background(), source.Config{Name: name, Driver: sc.Driver, DSN: dsn, Timeout: sc.Timeout, MaxConcurrent: sc.MaxConcurrent})
	if err != nil {
		t.Fatalf("source.Open(%s): %v", name, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// setDriver points every source of a spec at driver.
func setDriver(spec *config.Spec, driver string) {
	for name, sc := range spec.Sources {
		sc.Driver = driver
		spec.Sources[name] = sc
	}
}

// newCollector wires a collector with the pinned clock and the full region
// master, collecting for scope ("" for the whole country). Tests that need
// only one province scope to it ("32", Jawa Barat): a national refresh
// takes seconds under the race detector.
func newCollector(t testing.TB, spec *config.Spec, scope string, sources map[string]Querier, targets TargetStore) *Collector {
	t.Helper()
	c, err := New(Options{Spec: spec, Regions: regionMaster(t), Scope: scope, Sources: sources, Targets: targets, Now: pinnedClock, Version: "test"})
	if err != nil {
		t.Fatalf("collector.New: %v", err)
	}
	return c
}

// near compares floats to a relative 1e-12: expected values are written as
// the arithmetic that derives them, which may round differently in the last bit.
func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return got == want || math.Abs(got-want) <= 1e-12*math.Max(math.Abs(got), math.Abs(want))
}

// numberIs reports whether n is the expected value (none: undefined).
func numberIs(n kpi.Number, want float64) bool {
	if math.IsNaN(want) {
		return !n.OK
	}
	return n.OK && near(n.V, want)
}

func showNumber(n kpi.Number) string {
	if !n.OK {
		return "none"
	}
	return model.SampleValue(n.V).String()
}

// progressOf finds one progress row of a snapshot.
func progressOf(t testing.TB, s *Snapshot, kpiID, region string, w kpi.Window) kpi.Progress {
	t.Helper()
	st, ok := s.KPI(kpiID)
	if !ok {
		t.Fatalf("the snapshot has no KPI %s", kpiID)
	}
	for _, p := range st.Progress {
		if p.Region == region && p.Window == w {
			return p
		}
	}
	t.Fatalf("KPI %s has no progress for %s, window %s", kpiID, region, w)
	return kpi.Progress{}
}

// scrape requests /metrics from the collector's handler.
func scrape(t testing.TB, c *Collector, acceptEncoding string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	c.MetricsHandler().ServeHTTP(rec, req)
	return rec.Result()
}

// body reads a response body, gunzipping it when it says gzip.
func readBody(t testing.TB, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if res.Header.Get("Content-Encoding") == "gzip" {
		return gunzip(t, b)
	}
	return b
}

// gunzip decompresses b, which must be exactly one gzip member (what zlib
// and libcurl read): anything after the first member fails the test.
func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	r := bytes.NewReader(b)
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if r.Len() > 0 {
		t.Fatalf("gzip: %d bytes follow the first member", r.Len())
	}
	return out
}

// cachedText inflates a rendered exposition and checks its CRC-32 and
// length against the text.
func cachedText(t testing.TB, e *exposition) []byte {
	t.Helper()
	text, err := io.ReadAll(inflate(e.deflate))
	if err != nil {
		t.Fatalf("inflating the exposition: %v", err)
	}
	if e.textBytes != len(text) {
		t.Errorf("render counted %d bytes of text, the DEFLATE holds %d", e.textBytes, len(text))
	}
	if crc := crc32.ChecksumIEEE(text); crc != e.crc {
		t.Errorf("render's CRC-32 %08x, the text's %08x", e.crc, crc)
	}
	return text
}

// metricsText scrapes /metrics uncompressed, checks the status, and returns the body.
func metricsText(t testing.TB, c *Collector) []byte {
	t.Helper()
	res := scrape(t, c, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics answered %d, want 200", res.StatusCode)
	}
	return readBody(t, res)
}

// families parses an exposition in the text format.
func parseFamilies(t testing.TB, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	return mfs
}

// onlyRegions keeps the exposition's comments, its series that are not per
// region, and the per-region series of the given regions: parsing the
// full national exposition (tens of MB) takes seconds.
func onlyRegions(text []byte, codes ...string) []byte {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(text, []byte("\n")) {
		keep := len(l) == 0 || l[0] == '#' || !bytes.Contains(l, []byte(`region_code="`))
		for _, c := range codes {
			keep = keep || bytes.Contains(l, []byte(`region_code="`+c+`"`))
		}
		if keep {
			out.Write(l)
		}
	}
	return out.Bytes()
}

// sample returns the value of the sample of family name whose labels include
// all of want, and whether there is exactly one such sample.
func sample(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
	var found []float64
	for _, m := range mf.GetMetric() {
		if labelsMatch(m, want) {
			switch {
			case m.Gauge != nil:
				found = append(found, m.GetGauge().GetValue())
			case m.Counter != nil:
				found = append(found, m.GetCounter().GetValue())
			case m.Untyped != nil:
				found = append(found, m.GetUntyped().GetValue())
			}
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, lp := range m.GetLabel() {
		have[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// gatherSelf gathers the collector's self-metrics registry.
func gatherSelf(t testing.TB, c *Collector) map[string]*dto.MetricFamily {
	t.Helper()
	got, err := c.Registry().Gather()
	if err != nil {
		t.Fatalf("gathering the self-metrics: %v", err)
	}
	mfs := make(map[string]*dto.MetricFamily, len(got))
	for _, mf := range got {
		mfs[mf.GetName()] = mf
	}
	return mfs
}

// sortedKeys lists a map's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tcpProxy forwards loopback connections to a database server until it is
// stopped; then its port refuses connections, like a source that went down.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	closed bool
	wg     sync.WaitGroup
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	return startProxyOn(t, "127.0.0.1:0", target)
}

// startProxyOn is startProxy listening on a given address.
func startProxyOn(t testing.TB, addr, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &tcpProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.DialTimeout("tcp", p.target, 3*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// stop closes the listening port and every forwarded connection.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// sourceDSN creates a fresh database for driver, runs the setup statements
// in it, and returns its DSN.
func sourceDSN(t testing.TB, driver string, setup ...string) string {
	t.Helper()
	dsn := sourcetest.DSN(t, driver)
	if len(setup) > 0 {
		sourcetest.Exec(t, driver, dsn, setup...)
	}
	return dsn
}

// loadDinsos creates a fresh database for driver holding the example schema
// and the test data set, and returns its DSN.
func loadDinsos(t testing.TB, driver string) string {
	t.Helper()
	schema, err := os.ReadFile("../examples/dinsos-schema.sql")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/dinsos-data.sql")
	if err != nil {
		t.Fatal(err)
	}
	stmts := append(sourcetest.Statements(string(schema)), sourcetest.Statements(string(data))...)
	return sourceDSN(t, driver, stmts...)
}

// lines splits text into its non-empty lines.
func textLines(text []byte) []string {
	var out []string
	for _, l := range strings.Split(string(text), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}
