package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// dsnEnv is the variable examples/dinsos.yaml reads its source DSN from.
const dsnEnv = "PANTAU_SOURCE_DINSOS_DSN"

// exampleKPIs are the KPI ids of examples/dinsos.yaml.
var exampleKPIs = []string{"ewarong_aktif", "kube_jasa", "sembako_salur", "pkh_salur", "kpm_per_ewarong", "pkh_graduasi"}

// jakarta is the spec's timezone; the binary embeds tzdata, and so does
// this test binary (main.go imports time/tzdata).
var jakarta = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		panic(err)
	}
	return loc
}()

// exampleSpec writes a copy of examples/dinsos.yaml into a temporary
// directory with the source's driver and the refresh interval replaced,
// and returns its path.
func exampleSpec(t *testing.T, driver, refresh string) string {
	t.Helper()
	spec := string(examples.DinsosSpec)
	for old, new := range map[string]string{
		"driver: postgres": "driver: " + driver,
		"refresh: 5m":      "refresh: " + refresh,
	} {
		if !strings.Contains(spec, old) {
			t.Fatalf("examples/dinsos.yaml no longer contains %q; update this test", old)
		}
		spec = strings.Replace(spec, old, new, 1)
	}
	path := filepath.Join(t.TempDir(), "dinsos.yaml")
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sembakoRow is one Sembako allocation of the current month in a kecamatan,
// paid or not yet.
type sembakoRow struct {
	kecamatan string
	paid      bool
}

// sembakoRows are the current month's allocations the tests load: three
// kecamatan of Kabupaten Bekasi (32.16), one of Kota Bekasi (32.75) and
// one of Jakarta Pusat (31.71).
var sembakoRows = func() []sembakoRow {
	var rows []sembakoRow
	add := func(kec string, paid, unpaid int) {
		for range paid {
			rows = append(rows, sembakoRow{kec, true})
		}
		for range unpaid {
			rows = append(rows, sembakoRow{kec, false})
		}
	}
	add("32.16.06", 3, 1) // Tambun Selatan
	add("32.16.07", 2, 3) // Cibitung
	add("32.16.08", 2, 0) // Cikarang Barat
	add("32.75.01", 9, 1) // Bekasi Timur, Kota Bekasi: not in 32.16
	add("31.71.01", 1, 4) // Gambir, Jakarta Pusat
	return rows
}()

// sembakoSums returns Σ numerator and Σ denominator of the current month's
// Sembako rows in the kecamatan under region.
func sembakoSums(region string) (num, den float64) {
	for _, r := range sembakoRows {
		if strings.HasPrefix(r.kecamatan, region+".") {
			den++
			if r.paid {
				num++
			}
		}
	}
	return num, den
}

// exampleData returns the example schema and deterministic rows for it.
// now is the refresh instant: Sembako rows go into its Jakarta month,
// with one decoy row of the month before that must not count.
func exampleData(now time.Time) []string {
	now = now.In(jakarta)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, jakarta)
	day := func(t time.Time) string { return "'" + t.Format("2006-01-02") + "'" }
	stmts := sourcetest.Statements(examples.DinsosSchema)

	var values []string
	for i, r := range sembakoRows {
		salur := "NULL"
		if r.paid {
			salur = day(month) // the 1st: never after the refresh instant
		}
		values = append(values, fmt.Sprintf("(%d, '%016d', '%s', %s, 200000, %s)", i+1, 3216000000000000+i, r.kecamatan, day(month), salur))
	}
	prev := month.AddDate(0, -1, 0)
	values = append(values, fmt.Sprintf("(%d, '3216999999999999', '32.16.06', %s, 200000, NULL)", len(sembakoRows)+1, day(prev)))
	stmts = append(stmts,
		"INSERT INTO sembako_alokasi (id, no_kk, kode_kecamatan, periode, nominal, tanggal_salur) VALUES\n"+strings.Join(values, ",\n"),
		`INSERT INTO ewarong (id, kode_kecamatan, nama, status, tanggal_aktif, tanggal_tutup) VALUES
			(1, '32.16.06', 'e-Warong Sejahtera', 'aktif', '2020-01-15', NULL),
			(2, '32.16.06', 'e-Warong Mandiri', 'aktif', '2021-06-01', NULL),
			(3, '32.16.07', 'e-Warong Cibitung', 'aktif', '2022-03-10', NULL),
			(4, '31.71.01', 'e-Warong Gambir', 'tutup', '2019-02-01', '2020-02-01')`,
		fmt.Sprintf(`INSERT INTO kube (id, kode_kecamatan, nama, jenis, tanggal_bentuk) VALUES
			(1, '32.16.06', 'KUBE Jasa Tambun', 'jasa', %s),
			(2, '32.16.07', 'KUBE Dagang Cibitung', 'perdagangan', %s)`, day(month), day(month)),
		fmt.Sprintf(`INSERT INTO pkh_graduasi (id, no_kk, kode_kecamatan, tanggal_graduasi) VALUES
			(1, '3216000000009001', '32.16.06', %s)`, day(month)),
	)
	return stmts
}

// syncBuffer is a bytes.Buffer safe for a command writing and a test
// reading at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// servingAddr matches the log line serve writes once it listens.
var servingAddr = regexp.MustCompile(`msg="pantau serving" address=(https?://[^ ]+)`)

// waitFor polls cond every 20ms until it returns true or the deadline
// passes, then fails the test with what.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// served is a "pantau serve" running in-process.
type served struct {
	url    string // like http://127.0.0.1:41234
	stderr *syncBuffer
	stop   func() int // cancels the context and returns the exit code
}

// startServe runs "pantau serve" with args on 127.0.0.1:0 in-process and
// waits until it logs its address.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	s := &served{stderr: &stderr}
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(15 * time.Second):
				t.Errorf("pantau serve did not stop within 15s of cancellation\nstderr:\n%s", stderr.String())
			}
		})
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.After(startTimeout)
	for s.url == "" {
		select {
		case code := <-done:
			t.Fatalf("pantau serve exited %d before serving\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("pantau serve did not log its address within %v\nstderr:\n%s", startTimeout, stderr.String())
		case <-time.After(10 * time.Millisecond):
			if m := servingAddr.FindStringSubmatch(stderr.String()); m != nil {
				s.url = m[1]
			}
		}
	}
	return s
}

// startTimeout and httpClient's timeout only bound a hung process: they are
// generous because the demo generates its data before it serves, which takes
// minutes under -race on a loaded 2-core machine. Nothing here times pantau.
const startTimeout = 3 * time.Minute

var httpClient = &http.Client{Timeout: time.Minute}

// get fetches url and returns the status code and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// parseMetrics parses a text exposition into families by name.
func parseMetrics(t *testing.T, text string) map[string][]map[string]string {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	out := map[string][]map[string]string{}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{"__value__": fmt.Sprint(m.GetGauge().GetValue())}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			out[name] = append(out[name], labels)
		}
	}
	return out
}

// sqliteSource makes a SQLite source database with the example schema and
// data, points the DSN variable at it and returns its DSN.
func sqliteSource(t *testing.T) string {
	t.Helper()
	dsn := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", dsn, exampleData(time.Now())...)
	t.Setenv(dsnEnv, dsn)
	return dsn
}

func TestServeOncePrintsASummaryOfEveryKPI(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	now := time.Now()
	month := now.In(jakarta).Format("2006-01")
	stdout, stderr, code := pantauIn(at(now), "serve", "--config", spec, "--once")
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(stdout, "\n")
	if !strings.HasPrefix(lines[0], "KPI ") || !strings.Contains(lines[0], "STATUS") || !strings.HasSuffix(lines[0], "ERROR") {
		t.Errorf("first line is not the table header: %q", lines[0])
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		if id, _, ok := strings.Cut(l, " "); ok {
			rows[id] = l
		}
	}
	for _, id := range exampleKPIs {
		row, ok := rows[id]
		switch {
		case !ok:
			t.Errorf("summary has no row for %s:\n%s", id, stdout)
		case !strings.HasSuffix(row, " -"):
			t.Errorf("%s: the error column is not empty: %q", id, row)
		case !strings.Contains(row, " "+month+" "):
			t.Errorf("%s: the row does not name the month %s: %q", id, month, row)
		}
	}
	// The loaded Sembako rows give the month's rate a status somewhere.
	if !regexp.MustCompile(`(on_track|at_risk|behind) \d+`).MatchString(rows["sembako_salur"]) {
		t.Errorf("sembako_salur has no region with data: %q", rows["sembako_salur"])
	}
	if !regexp.MustCompile(`(?m)^\d+ series, refreshed in .+ at .+$`).MatchString(stdout) {
		t.Errorf("summary lacks the series line:\n%s", stdout)
	}
}

func TestServeOnceExitsOneWhenAQueryFails(t *testing.T) {
	// A source database without the example's tables: every query fails.
	dsn := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", dsn, "CREATE TABLE unrelated (id INTEGER)")
	t.Setenv(dsnEnv, dsn)
	spec := exampleSpec(t, "sqlite", "5m")
	stdout, stderr, code := pantau("serve", "--config", spec, "--once")
	if code != exitFailure {
		t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailure, stdout, stderr)
	}
	for _, id := range exampleKPIs {
		if !regexp.MustCompile(`(?m)^` + id + ` .*no such table`).MatchString(stdout) {
			t.Errorf("summary row for %s does not report the failed query:\n%s", id, stdout)
		}
	}
	if !strings.Contains(stderr, "kpi refresh failed") {
		t.Errorf("log lacks the failed refresh:\n%s", stderr)
	}
}

func TestServeOnceFailsNamingAnUnsetDSNVariable(t *testing.T) {
	spec := exampleSpec(t, "sqlite", "5m")
	t.Setenv(dsnEnv, "")
	os.Unsetenv(dsnEnv) // t.Setenv restores it when the test ends
	stdout, stderr, code := pantau("serve", "--config", spec, "--once")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if want := "environment variable " + dsnEnv + " is not set"; !strings.HasPrefix(stderr, "pantau serve: ") || !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

// lockSQLite takes an exclusive lock on a SQLite database, so that every
// query pantau runs on it waits, and returns the function releasing it.
func lockSQLite(t *testing.T, dsn string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatalf("BEGIN EXCLUSIVE: %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
				t.Errorf("COMMIT: %v", err)
			}
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

func TestServeAnswersHealthAtOnceAndReadyAfterTheFirstRefresh(t *testing.T) {
	dsn := sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	// Hold the first refresh back: its queries wait on the lock (up to the
	// source's 10s busy timeout) until the test releases it.
	release := lockSQLite(t, dsn)
	s := startServe(t, "--config", spec, "--api-open-read")

	if code, body := get(t, s.url+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz before the first refresh: %d %q, want 200 ok", code, body)
	}
	if code, body := get(t, s.url+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "first refresh") {
		t.Errorf("/readyz before the first refresh: %d %q, want 503 naming the first refresh", code, body)
	}
	if code, body := get(t, s.url+"/"); code != http.StatusServiceUnavailable || !strings.Contains(body, `href="/metrics"`) || !strings.Contains(body, "Menunggu pembaruan pertama") {
		t.Errorf("/ before the first refresh: %d, want 503 with a link to metrics and the waiting note:\n%s", code, body)
	}

	release()
	waitFor(t, 15*time.Second, "/readyz to answer 200 after the first refresh", func() bool {
		code, _ := get(t, s.url+"/readyz")
		return code == http.StatusOK
	})
	if code, _ := get(t, s.url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after the first refresh: %d, want 200", code)
	}

	code, body := get(t, s.url+"/")
	if code != http.StatusOK {
		t.Errorf("/: %d, want 200", code)
	}
	for _, want := range append([]string{`<a href="/metrics">/metrics</a>`, `href="/healthz"`, `href="/readyz"`}, exampleKPIs...) {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "gagal:") || strings.Contains(body, "basi:") {
		t.Errorf("the overview reports a failed KPI:\n%s", body)
	}
	// Each KPI says its data is fresh, and as of when in WIB.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Pembaruan terakhir: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d WIB`),
		regexp.MustCompile(`(?s)\(sembako_salur\).*?terkini</span><br><small>data per \d{4}-\d\d-\d\d \d\d:\d\d:\d\d WIB</small>`),
	} {
		if !want.MatchString(body) {
			t.Errorf("the overview does not match %s:\n%s", want, body)
		}
	}
	// The test data has Sembako rows in Jawa Barat and DKI Jakarta only: on
	// the map the other 36 provinces have no data.
	if _, body := get(t, s.url+"/?kpi=sembako_salur"); strings.Count(body, "<path id=\"prov-") != 38 || strings.Count(body, `fill="#d0d7de"`) != 36 {
		t.Errorf("Sembako's map should have 38 provinces, 36 of them without data:\n%s", body)
	}
	if code, _ := get(t, s.url+"/nope"); code != http.StatusNotFound {
		t.Errorf("/nope: %d, want 404", code)
	}

	resp, err := httpClient.Get(s.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("/metrics: %d %s, want 200 text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The national exposition is some 40 MB: scan it for the info
	// series rather than parse it all (which takes seconds under -race).
	info := map[string]bool{}
	kpiLabel := regexp.MustCompile(`^pantau_kpi_info\{kpi="([^"]+)"`)
	for line := range strings.Lines(string(metrics)) {
		if m := kpiLabel.FindStringSubmatch(line); m != nil {
			info[m[1]] = true
		}
	}
	for _, id := range exampleKPIs {
		if !info[id] {
			t.Errorf("/metrics has no pantau_kpi_info{kpi=%q}", id)
		}
	}

	if code := s.stop(); code != exitOK {
		t.Errorf("exit %d after cancellation, want 0", code)
	}
	if log := s.stderr.String(); !strings.Contains(log, `msg="shutting down"`) {
		t.Errorf("log lacks shutting down:\n%s", log)
	}
}

// TestServeRegionServesOnlyThatProvince runs a Jawa Barat shard: it
// exposes Jawa Barat and below, never the nation it computes from Jawa
// Barat alone (a partial sum that would clash with the real one in a
// federation), and with the default exposure no kecamatan series (but
// their names).
func TestServeRegionServesOnlyThatProvince(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	s := startServe(t, "--config", spec, "--region", "32")
	waitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := get(t, s.url+"/readyz")
		return code == http.StatusOK
	})
	code, body := get(t, s.url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	fams := parseMetrics(t, body)

	seen := map[string]bool{}
	for _, m := range fams["pantau_region_info"] {
		c := m["region_code"]
		seen[c] = true
		if c != "32" && !strings.HasPrefix(c, "32.") {
			t.Errorf("pantau_region_info has %s (%s), outside Jawa Barat", c, m["name"])
		}
	}
	for _, c := range []string{"32", "32.16", "32.16.06", "32.75"} {
		if !seen[c] {
			t.Errorf("pantau_region_info lacks %s", c)
		}
	}
	for name, ms := range fams {
		for _, m := range ms {
			if c, ok := m["region_code"]; ok && (c == "ID" || strings.HasPrefix(c, "31")) {
				t.Errorf("%s has a series for %s, outside --region 32", name, c)
			}
			if m["level"] == "kecamatan" && name != "pantau_region_info" {
				t.Errorf("%s has a kecamatan series, which the default exposure leaves to the API", name)
			}
		}
	}

	// Jawa Barat sums its own rows: Jakarta's in the same source are left out.
	num, den := sembakoSums("32")
	for fam, want := range map[string]float64{"pantau_kpi_numerator": num, "pantau_kpi_denominator": den} {
		found := false
		for _, m := range fams[fam] {
			if m["kpi"] == "sembako_salur" && m["region_code"] == "32" && m["window"] == "month" {
				found = true
				if got := m["__value__"]; got != fmt.Sprint(want) {
					t.Errorf("sembako_salur %s of 32 = %s, want %v (Jawa Barat rows)", fam, got, want)
				}
			}
		}
		if !found {
			t.Errorf("no sembako_salur %s for 32", fam)
		}
	}
}

func TestServeRejectsABadCommandLine(t *testing.T) {
	spec := exampleSpec(t, "sqlite", "5m")
	t.Setenv(dsnEnv, filepath.Join(t.TempDir(), "never-opened.db"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"without --config it says how to name the spec", nil, exitUsage,
			"pantau serve: name the KPI spec with --config FILE, like: pantau serve --config examples/dinsos.yaml"},
		{"an unknown flag points at the help", []string{"--config", spec, "--bogus"}, exitUsage,
			"pantau serve: flag provided but not defined: -bogus\nRun 'pantau help serve' for usage."},
		{"--config without a value is a usage error", []string{"--config"}, exitUsage,
			"flag needs an argument: -config"},
		{"a stray argument is a usage error", []string{"--config", spec, "extra"}, exitUsage,
			"name the KPI spec with --config FILE"},
		{"a bad --once value is a usage error", []string{"--config", spec, "--once=perhaps"}, exitUsage,
			"invalid boolean value"},
		{"an unknown log format names the choices", []string{"--config", spec, "--log-format", "xml"}, exitUsage,
			`--log-format "xml": use text or json`},
		{"an unknown log level names the choices", []string{"--config", spec, "--log-level", "loud"}, exitUsage,
			`--log-level "loud": use debug, info, warn or error`},
		{"a missing spec file fails", []string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, exitFailure,
			"cannot read the spec"},
		{"a region outside the master fails", []string{"--config", spec, "--region", "99", "--once"}, exitFailure,
			"--region 99 is not in the region master"},
		{"a malformed region fails", []string{"--config", spec, "--region", "Jawa Barat", "--once"}, exitFailure,
			"pantau serve: --region"},
		{"an address it cannot listen on fails", []string{"--config", spec, "--listen", "256.0.0.1:1"}, exitFailure,
			"pantau serve: listen on 256.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := pantau(append([]string{"serve"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestServeHelpFlagPrintsUsage(t *testing.T) {
	stdout, stderr, code := pantau("serve", "-h")
	if code != exitOK || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"Usage: pantau serve --config FILE", "/readyz", "-listen address", "-region code", "-once"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("usage lacks %q:\n%s", want, stdout)
		}
	}
}

// buildPantau builds the pantau binary into a temporary directory (the go
// build cache makes every build after the first a link), with buildFlags
// like -race. The bound is for a first -race build on a loaded machine.
func buildPantau(t *testing.T, buildFlags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pantau")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append(append([]string{"build"}, buildFlags...), "-o", bin, ".")
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// process is a pantau binary running as a subprocess.
type process struct {
	cmd  *exec.Cmd
	url  string      // where it serves, from its log
	log  *syncBuffer // its stdout and stderr
	done chan struct{}
	// state is set when done is closed.
	state *os.ProcessState
}

// startBinary runs the built pantau with args and env added, waits until it
// logs its address, and kills it when the test ends.
func startBinary(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.log
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.state = p.cmd.ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.After(startTimeout)
	for {
		select {
		case <-p.done:
			t.Fatalf("pantau exited before serving: %v\n%s", p.state, p.log.String())
		case <-deadline:
			t.Fatalf("pantau did not log its address within %v:\n%s", startTimeout, p.log.String())
		case <-time.After(10 * time.Millisecond):
			if m := servingAddr.FindStringSubmatch(p.log.String()); m != nil {
				p.url = m[1]
				return p
			}
		}
	}
}

func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	bin := buildPantau(t)
	dsn := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", dsn, exampleData(time.Now())...)
	spec := exampleSpec(t, "sqlite", "5m")
	p := startBinary(t, bin, []string{dsnEnv + "=" + dsn}, "serve", "--config", spec, "--listen", "127.0.0.1:0")

	waitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := get(t, p.url+"/readyz")
		return code == http.StatusOK
	})
	if code, body := get(t, p.url+"/metrics"); code != http.StatusOK || !strings.Contains(body, "pantau_kpi_info{") {
		t.Errorf("/metrics: %d, want 200 with pantau_kpi_info", code)
	}

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("pantau did not exit within 5s of SIGTERM:\n%s", p.log.String())
	}
	t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	if code := p.state.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM (%v), want 0\n%s", code, p.state, p.log.String())
	}
	if log := p.log.String(); !strings.Contains(log, `msg="shutting down"`) {
		t.Errorf("log lacks shutting down:\n%s", log)
	}
}

func TestServeOnceNamesTargetsItCannotUse(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	ts := migrated(t, newTestStore(t, "sqlite"))
	now := time.Now()
	year := now.In(jakarta).Year()
	ctx := context.Background()
	st, err := store.Open(ctx, ts.driver, ts.dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Well-formed codes the region master does not have: a count target
	// and a rate target, reported alike.
	changes, _, err := st.PlanChanges(ctx, []kpi.Target{
		{KPI: "ewarong_aktif", Region: "32.99", Year: year, Annual: 5},
		{KPI: "sembako_salur", Region: "32.16.99", Year: year, Rate: 0.9},
	})
	if err == nil {
		_, err = st.ApplyTargets(ctx, changes, "test", "codes not in the master")
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	stdout, _ := mustRunIn(t, at(now), exitOK, append([]string{"serve", "--config", spec, "--once", "--region", "32", "--store"}, ts.flags()...)...)
	for _, want := range []string{
		"\nTargets not used (pantau_targets_rejected_total):\n",
		"\n  ewarong_aktif: 1 for regions not in the region master: 32.99\n",
		"\n  sembako_salur: 1 for regions not in the region master: 32.16.99\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestServeTellsAColdStartWithItsSourceDownFromAHealthyOne(t *testing.T) {
	tests := []struct {
		name   string
		dsn    func(t *testing.T) string
		errHas string
	}{
		{
			name: "a source on a port that refuses connections",
			// freePort's port has no listener: connections are refused.
			dsn:    func(t *testing.T) string { return "postgres://pantau@" + freePort(t) + "/dinsos?sslmode=disable" },
			errHas: "connection refused",
		},
		{
			name: "a source whose database does not exist",
			dsn: func(t *testing.T) string {
				u, err := url.Parse(sourcetest.Postgres(t))
				if err != nil {
					t.Fatal(err)
				}
				u.Path += "_tidak_ada"
				return u.String()
			},
			errHas: "does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(dsnEnv, tt.dsn(t))
			s := startServe(t, "--config", exampleSpec(t, "postgres", "5m"), "--api-open-read")
			waitFor(t, 15*time.Second, "the first refresh to fail", func() bool {
				return strings.Contains(s.stderr.String(), "retrying the failed KPIs")
			})

			code, body := get(t, s.url+"/readyz")
			if code != http.StatusServiceUnavailable || !strings.Contains(body, "6 of 6 KPIs have never refreshed successfully") || !strings.Contains(body, tt.errHas) {
				t.Errorf("/readyz: %d %q, want 503 saying no KPI has ever refreshed, with the reason %q", code, body, tt.errHas)
			}
			for _, id := range exampleKPIs {
				if !strings.Contains(body, id+": ") {
					t.Errorf("/readyz does not name %s: %q", id, body)
				}
			}

			_, metrics := get(t, s.url+"/metrics")
			mfs := parseMetrics(t, metrics)
			for _, name := range []string{"pantau_kpi_up", "pantau_kpi_never_succeeded", "pantau_kpi_stale"} {
				if n := len(mfs[name]); n != len(exampleKPIs) {
					t.Errorf("/metrics has %d %s series, want one per KPI (%d)", n, name, len(exampleKPIs))
				}
			}
			for _, want := range []string{`pantau_kpi_up{kpi="kube_jasa"} 0`, `pantau_kpi_never_succeeded{kpi="kube_jasa"} 1`, `pantau_kpi_stale{kpi="kube_jasa"} 0`, `pantau_source_up{source="dinsos"} 0`} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}

			_, page := get(t, s.url+"/")
			if n := strings.Count(page, "gagal: belum pernah berhasil diperbarui"); n != len(exampleKPIs) || !strings.Contains(page, "Belum siap") {
				t.Errorf("the overview says %d KPIs never succeeded (want %d) or lacks 'Belum siap':\n%s", n, len(exampleKPIs), page)
			}
			if log := s.stderr.String(); !strings.Contains(log, "it has never succeeded") || strings.Contains(log, "keeping last good values") {
				t.Errorf("the log should say the KPIs never succeeded, not that it keeps last good values:\n%s", log)
			}
		})
	}
}

func TestServeOnceSaysWhatToCheckInANewSpec(t *testing.T) {
	sqliteSource(t)
	ts := migrated(t, newTestStore(t, "sqlite"))
	// A count over raw rows (one per e-Warong, no GROUP BY), and the
	// Sembako rate, which has rows for a few kecamatan of Jawa Barat only.
	spec := filepath.Join(t.TempDir(), "baru.yaml")
	writeSpec := `sources:
  dinsos:
    driver: sqlite
    dsn_env: ` + dsnEnv + `
kpis:
  - id: ewarong_baris
    name: e-Warong aktif (per baris)
    kind: count
    accumulation: stock
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code, 1 AS value
      FROM ewarong WHERE status = 'aktif' AND tanggal_aktif < :period_end
  - id: sembako_salur
    name: Penyaluran Sembako
    kind: rate
    source: dinsos
    target: {rate: 0.95}
    query: |
      SELECT kode_kecamatan AS region_code,
             SUM(CASE WHEN tanggal_salur < :period_end THEN 1 ELSE 0 END) AS numerator,
             COUNT(*) AS denominator
      FROM sembako_alokasi
      WHERE periode >= :period_start AND periode < :period_end
      GROUP BY kode_kecamatan
`
	if err := os.WriteFile(spec, []byte(writeSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	jabar, err := h.Subtree("32")
	if err != nil {
		t.Fatal(err)
	}
	kecamatan := jabar.Count(kpi.LevelKecamatan)
	withData := map[string]bool{}
	for _, r := range sembakoRows {
		if strings.HasPrefix(r.kecamatan, "32.") { // the shard's
			withData[r.kecamatan] = true
		}
	}
	noData := kecamatan - len(withData)

	stdout, stderr := mustRunIn(t, at(time.Now()), exitOK, append([]string{"serve", "--config", spec, "--once", "--region", "32", "--store"}, ts.flags()...)...)
	_, warnings, ok := strings.Cut(stdout, "\nCheck these:\n")
	if !ok {
		t.Fatalf("the summary has no 'Check these:' section:\n%s\nstderr:\n%s", stdout, stderr)
	}
	for _, want := range []string{
		// 32.16.06 has two active e-Warong: the second row is dropped, in
		// the month query and in the baseline query (December's level).
		"ewarong_baris: the query returns regions more than once (2 rows dropped in this refresh's queries; the first row of each region counts); the query has no GROUP BY",
		fmt.Sprintf("sembako_salur: %d of %d kecamatan have no data this month", noData, kecamatan),
		"ewarong_baris: no target anywhere (none in the store for",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("the warnings lack %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "sembako_salur: no target anywhere") {
		t.Errorf("sembako_salur has a target rate in the spec, yet is said to have no target:\n%s", warnings)
	}
	// The table counts the rows of the month query and the regions without data.
	row := statusesOf(t, stdout, "ewarong_baris")
	if !regexp.MustCompile(`^ewarong_baris\s+\d{4}-\d\d\s+3\s+`).MatchString(row) {
		t.Errorf("ewarong_baris should show the 3 rows its month query returned: %q", row)
	}
	if row := statusesOf(t, stdout, "sembako_salur"); !strings.Contains(row, fmt.Sprintf(" %d/%d ", noData, kecamatan)) {
		t.Errorf("sembako_salur should show %d/%d kecamatan without data: %q", noData, kecamatan, row)
	}
	// The spec's own warning (no :period_end would be one) is absent here,
	// and the log says nothing of spec warnings.
	if strings.Contains(stderr, "spec warning") {
		t.Errorf("the spec has no static warning, yet the log has one:\n%s", stderr)
	}
}

func TestCheckWithTheStoreWarnsOfKPIsWithoutAnyTarget(t *testing.T) {
	ts := migrated(t, newTestStore(t, "sqlite"))
	spec := exampleSpec(t, "sqlite", "5m")
	ctx := context.Background()
	st := ts.open(t)
	changes, _, err := st.PlanChanges(ctx, []kpi.Target{{KPI: "ewarong_aktif", Region: "31", Year: 2026, Annual: 70}})
	if err == nil {
		_, err = st.ApplyTargets(ctx, changes, "test", "DKI Jakarta")
	}
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := mustRun(t, exitOK, append([]string{"check", "--store", "--year", "2026"}, append(ts.flags(), spec)...)...)
	if !strings.Contains(stdout, ": ok, 1 source, 6 KPIs") {
		t.Errorf("stdout = %q", stdout)
	}
	// kube_jasa and pkh_graduasi are counts without targets in the store;
	// the rates have target rates in the spec.
	for id, want := range map[string]bool{"ewarong_aktif": false, "kube_jasa": true, "pkh_graduasi": true, "kpm_per_ewarong": false, "sembako_salur": false, "pkh_salur": false} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(spec) + `:\d+: warning: \w+ KPI ` + id + ` has no target in the store for 2026`)
		if got := re.MatchString(stderr); got != want {
			t.Errorf("%s: warned = %v, want %v\nstderr:\n%s", id, got, want, stderr)
		}
	}
	// Without --store there is nothing to say about targets.
	if _, stderr := mustRun(t, exitOK, "check", spec); strings.Contains(stderr, "no target") {
		t.Errorf("without --store, check warns about targets:\n%s", stderr)
	}
}
