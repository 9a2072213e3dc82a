package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// storeFixture is pantau's store made ready for serve: migrated, with one
// target of Kabupaten Bekasi imported, and an admin token.
type storeFixture struct {
	ts     testStore
	spec   string // the spec file, on a SQLite source with the example data
	source string // that source's DSN
	token  string
	year   int
}

// faultTarget is the e-Warong target the fixture imports.
const faultTarget = 10

func newStoreFixture(t *testing.T, ts testStore, pin time.Time) *storeFixture {
	t.Helper()
	f := &storeFixture{ts: migrated(t, ts), spec: faultSpec(t, "sqlite"), year: pin.In(jakarta).Year()}
	f.source = sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", f.source, exampleData(pin)...)
	csv := filepath.Join(t.TempDir(), "targets.csv")
	if err := os.WriteFile(csv, fmt.Appendf(nil, "kode_wilayah;kpi;tahun;target\n32.16;ewarong_aktif;%d;%d\n", f.year, faultTarget), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, exitOK, append(append([]string{"targets", "import", "--config", f.spec}, ts.flags()...), csv)...)
	stdout, _ := mustRun(t, exitOK, append([]string{"token", "create", "--role", "admin", "--name", "faults"}, ts.flags()...)...)
	f.token = strings.TrimSpace(stdout)
	return f
}

// env points the spec's source at the fixture's, for the binary.
func (f *storeFixture) env() []string { return []string{dsnEnv + "=" + f.source} }

// serve starts the pantau binary on the fixture's store, for Kabupaten
// Bekasi, at pin.
func (f *storeFixture) serve(t *testing.T, bin string, pin time.Time) *process {
	t.Helper()
	args := append([]string{"serve", "--config", f.spec, "--listen", "127.0.0.1:0", "--region", "32.16", "--store", "--api-open-read",
		"--at", pin.Format(time.RFC3339)}, f.ts.flags()...)
	p := startFaultBinary(t, bin, f.env(), args...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pantau log:\n%s", p.log.String())
		}
	})
	return p
}

// putTarget sets the e-Warong target of Kabupaten Bekasi through the API
// and returns the status and the error code, if any.
func (f *storeFixture) putTarget(t *testing.T, base string, value int) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"target": %d, "reason": "fault suite"}`, value)
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v1/targets/ewarong_aktif/32.16/%d", base, f.year), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("PUT target: %v", err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	json.Unmarshal(buf.Bytes(), &e)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		t.Errorf("PUT target: 503 without Retry-After: %s", buf.String())
	}
	return resp.StatusCode, e.Error.Code
}

// audit returns the store's audit trail, oldest first.
func (f *storeFixture) audit(t *testing.T) []store.AuditEntry {
	t.Helper()
	entries := auditTrail(t, f.ts)
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	return entries
}

// checkAuditChain checks that the audit trail of the e-Warong target is
// complete and in order: each entry's old value is the previous entry's
// new one, ids and times never go back, and the last new value is the
// target stored now. It returns the values the trail went through.
func (f *storeFixture) checkAuditChain(t *testing.T) []float64 {
	t.Helper()
	var values []float64
	var prev *store.AuditEntry
	for _, e := range f.audit(t) {
		if e.KPI != "ewarong_aktif" || e.Region != "32.16" {
			continue
		}
		if prev == nil && e.Old != nil {
			t.Errorf("audit: the first entry (%d) replaces %v: an earlier entry is missing", e.ID, e.Old)
		}
		if prev != nil {
			if e.Old == nil || prev.New == nil || e.Old.Annual != prev.New.Annual {
				t.Errorf("audit: entry %d replaces %v, but entry %d left %v: an entry is missing", e.ID, e.Old, prev.ID, prev.New)
			}
			if e.ID <= prev.ID || e.ChangedAt.Before(prev.ChangedAt) {
				t.Errorf("audit: entry %d (%s) after entry %d (%s): out of order", e.ID, e.ChangedAt, prev.ID, prev.ChangedAt)
			}
		}
		if e.New != nil {
			values = append(values, e.New.Annual)
		}
		prev = &e
	}
	stored := storedTargets(t, f.ts)
	var cur *kpi.Target
	for i, tg := range stored {
		if tg.KPI == "ewarong_aktif" && tg.Region == "32.16" {
			cur = &stored[i]
		}
	}
	switch {
	case prev == nil:
		t.Errorf("audit: no entry for the e-Warong target")
	case cur == nil || prev.New == nil || cur.Annual != prev.New.Annual:
		t.Errorf("audit: the last entry left %v, the store holds %v", prev.New, cur)
	}
	return values
}

// TestFaultStoreUnavailable stops pantau's store, a private PostgreSQL
// server, under a running pantau: scrapes and the API's snapshot reads go
// on with the last good targets, the store's routes answer 503, /readyz and
// the self-metrics say what is wrong, and once the store is back
// everything recovers without a lost or half-written change.
func TestFaultStoreUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL server and pantau")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildFaultBinary(t)
	pin := noonToday()
	srv := sourcetest.PrivatePostgres(t)
	f := newStoreFixture(t, testStore{"postgres", srv.Database("pantau")}, pin)
	p := f.serve(t, bin, pin)
	waitReady(t, p)
	target := func(body string) float64 {
		v, _ := metricValue(body, "pantau_kpi_target", `kpi="ewarong_aktif"`, `region_code="32.16"`, `window="year"`)
		return v
	}
	if got := target(scrape(t, p.url)); got != faultTarget {
		t.Fatalf("e-Warong target of 32.16: %v, want %v", got, faultTarget)
	}
	r := startReaders(p.url, "/metrics", "/api/v1/progress?kpi=ewarong_aktif&region=32.16")

	srv.Stop()
	stopped := time.Now()
	const slack = 10 * time.Second
	took := waitMetric(t, p.url, faultRefresh+slack, "a failed read of the targets", func(body string) bool {
		v, _ := metricValue(body, "pantau_target_read_failures_total")
		return v >= 1
	})
	body := scrape(t, p.url)
	for _, id := range exampleKPIs {
		if v, ok := metricValue(body, "pantau_kpi_up", `kpi="`+id+`"`); !ok || v != 1 {
			t.Errorf("pantau_kpi_up{kpi=%q} = %v with the store down, want 1 (the last good targets are used)", id, v)
		}
	}
	if got := target(body); got != faultTarget {
		t.Errorf("e-Warong target of 32.16 with the store down: %v, want the last good %v", got, faultTarget)
	}
	if code, body := get(t, p.url+"/readyz"); code != http.StatusOK || !strings.Contains(body, "targets: ") {
		t.Errorf("/readyz with the store down: %d %q, want 200 naming the targets' read", code, body)
	}
	if code, body := get(t, p.url+"/api/v1/targets?kpi=ewarong_aktif"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"store_unavailable"`) {
		t.Errorf("GET /api/v1/targets with the store down: %d %s, want 503 store_unavailable", code, body)
	}
	if code, errCode := f.putTarget(t, p.url, 99); code != http.StatusServiceUnavailable || errCode != "store_unavailable" {
		t.Errorf("PUT target with the store down: %d %s, want 503 store_unavailable", code, errCode)
	}
	time.Sleep(2 * faultRefresh)

	srv.Start()
	down := time.Since(stopped)
	took2 := waitMetric(t, p.url, 3*faultRefresh+slack, "/readyz ok after the store is back", func(string) bool {
		code, body := get(t, p.url+"/readyz")
		return code == http.StatusOK && body == "ok\n"
	})
	if code, _ := get(t, p.url+"/api/v1/targets?kpi=ewarong_aktif"); code != http.StatusOK {
		t.Errorf("GET /api/v1/targets after the store is back: %d, want 200", code)
	}
	if code, errCode := f.putTarget(t, p.url, 12); code != http.StatusOK {
		t.Errorf("PUT target after the store is back: %d %s, want 200", code, errCode)
	}
	reads := r.finish(t)
	if values := f.checkAuditChain(t); fmt.Sprint(values) != fmt.Sprint([]float64{faultTarget, 12}) {
		t.Errorf("audit trail of the e-Warong target: %v, want the import's %d then the PUT's 12 (none of the refused PUT)", values, faultTarget)
	}
	t.Logf("FAULT store (postgres) stopped for %s: target read failure counted %s after the stop, the last good targets kept, "+
		"store routes 503 store_unavailable; ready without problems %s after the start; %d snapshot reads, 0 failed; audit trail complete",
		down.Round(100*time.Millisecond), took.Round(100*time.Millisecond), took2.Round(100*time.Millisecond), reads)
}

// tmpfs mounts a size-limited tmpfs on a new directory and unmounts it when
// the test ends; it needs root.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Getuid() != 0 {
		sourcetest.Unavailable(t, "root (to mount a small tmpfs)", "run the test as root", errors.New("not root"))
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		sourcetest.Unavailable(t, "mount -t tmpfs", "run the test as root on Linux", fmt.Errorf("%v: %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk fills the file system of dir and keeps it full, taking any
// space SQLite frees (a rolled-back WAL) as soon as it is free, until the
// returned function removes the filler and so frees the space.
func fillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 512)
	write := func() error {
		for {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
	}
	if err := write(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				write()
			}
		}
	}()
	var freed bool
	free = func() {
		if freed {
			return
		}
		freed = true
		close(stop)
		<-done
		w.Close()
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(free)
	return free
}

// TestFaultSQLiteStoreDiskFull runs pantau on a SQLite store whose disk is
// full: closing the month into history, an API target write and a target
// import all fail cleanly and write nothing, reads go on, and once space is
// freed the month closes exactly once and writes succeed.
func TestFaultSQLiteStoreDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs and starts pantau")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildFaultBinary(t)
	pin := noonToday()
	dir := tmpfs(t, "16m")
	f := newStoreFixture(t, testStore{"sqlite", filepath.Join(dir, "pantau.db")}, pin)
	// Hold the database open, so that its WAL index exists before the disk
	// fills (as it does under a pantau that was running when it filled).
	held := f.ts.open(t)
	if _, err := held.ListTargets(context.Background(), store.TargetFilter{}); err != nil {
		t.Fatal(err)
	}
	free := fillDisk(t, dir)

	p := f.serve(t, bin, pin)
	waitReady(t, p)
	r := startReaders(p.url, "/metrics", "/api/v1/progress?kpi=ewarong_aktif&region=32.16")
	const slack = 10 * time.Second
	waitMetric(t, p.url, 2*faultRefresh+slack, "a failed close of the month", func(body string) bool {
		v, _ := metricValue(body, "pantau_history_close_failures_total")
		return v >= 1
	})
	if code, body := get(t, p.url+"/readyz"); code != http.StatusOK || !strings.Contains(body, "monthly history: ") {
		t.Errorf("/readyz with the disk full: %d %q, want 200 naming monthly history", code, body)
	}
	prev := kpi.PeriodAt(pin, jakarta).Prev().String()
	history := func() []store.HistoryRow {
		t.Helper()
		rows, err := held.History(context.Background(), store.HistoryFilter{From: prev, To: prev})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if rows := history(); len(rows) != 0 {
		t.Errorf("%d history rows of %s written on a full disk, want none", len(rows), prev)
	}
	if code, errCode := f.putTarget(t, p.url, 99); code != http.StatusServiceUnavailable || errCode != "store_unavailable" {
		t.Errorf("PUT target on a full disk: %d %s, want 503 store_unavailable", code, errCode)
	}
	csv := filepath.Join(t.TempDir(), "more.csv")
	os.WriteFile(csv, fmt.Appendf(nil, "kode_wilayah;kpi;tahun;target\n32.16.06;ewarong_aktif;%d;4\n32.16.07;ewarong_aktif;%d;5\n", f.year, f.year), 0o644)
	_, stderr, code := pantau(append(append([]string{"targets", "import", "--config", f.spec}, f.ts.flags()...), csv)...)
	if code != exitFailure || !strings.Contains(stderr, "full") {
		t.Errorf("targets import on a full disk: exit %d, want 1 saying the disk is full:\n%s", code, stderr)
	}
	if n := len(storedTargets(t, f.ts)); n != 1 {
		t.Errorf("%d targets stored after the failed writes, want the 1 imported before", n)
	}

	time.Sleep(2 * faultRefresh) // the close is retried after every refresh
	failures, _ := metricValue(scrape(t, p.url), "pantau_history_close_failures_total")
	t.Logf("targets import on the full disk: %s", strings.TrimSpace(stderr))
	free()
	took := waitMetric(t, p.url, 2*faultRefresh+slack, "/readyz ok once space is freed", func(string) bool {
		code, body := get(t, p.url+"/readyz")
		return code == http.StatusOK && body == "ok\n"
	})
	rows := history()
	time.Sleep(2 * faultRefresh) // later refreshes must not write the month again
	// A row twice is impossible (the primary key); its count is what a
	// rewrite could change.
	again := history()
	kpis := map[string]bool{}
	for _, r := range rows {
		kpis[r.KPI] = true
	}
	if len(rows) == 0 || len(again) != len(rows) || len(kpis) != len(exampleKPIs) {
		t.Errorf("history of %s: %d rows of %d KPIs once space was freed, %d later; want every KPI's rows, once", prev, len(rows), len(kpis), len(again))
	}
	if code, errCode := f.putTarget(t, p.url, 12); code != http.StatusOK {
		t.Errorf("PUT target once space is freed: %d %s, want 200", code, errCode)
	}
	reads := r.finish(t)
	if values := f.checkAuditChain(t); fmt.Sprint(values) != fmt.Sprint([]float64{faultTarget, 12}) {
		t.Errorf("audit trail of the e-Warong target: %v, want the import's %d then the PUT's 12", values, faultTarget)
	}
	t.Logf("FAULT SQLite store disk full: month close (%v attempts), API PUT (503 store_unavailable) and import (exit 1) refused, nothing written; "+
		"%s closed (%d rows, once) %s after space was freed; %d reads, 0 failed", failures, prev, len(rows), took.Round(100*time.Millisecond), reads)
}
