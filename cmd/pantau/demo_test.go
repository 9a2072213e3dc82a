package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// demoScale keeps the demo's household tables small: the e-Warong and KUBE
// counts, which DKI Jakarta's targets are about, do not depend on it.
const demoScale = "0.05"

// startDemo runs "pantau demo" from the built binary on a free port with
// its data in dataDir, and waits until it serves and has printed its
// banner. startBinary kills it when the test ends.
func startDemo(t *testing.T, bin, dataDir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"demo", "--data-dir", dataDir, "--listen", freePort(t), "--scale", demoScale}, extra...)
	p := startBinary(t, bin, nil, args...)
	// The banner goes to stdout just before the log line startBinary
	// waits for; both share one pipe, so it is normally there already.
	waitFor(t, 5*time.Second, "the demo banner", func() bool {
		return strings.Contains(p.log.String(), "pantau demo is running on "+p.url+" (Ctrl-C stops it).")
	})
	return p
}

// stopProcess sends SIGTERM and waits for the process to exit 0.
func stopProcess(t *testing.T, p *process) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("pantau did not exit within 15s of SIGTERM:\n%s", p.log.String())
	}
	if code := p.state.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM (%v), want 0\n%s", code, p.state, p.log.String())
	}
}

// waitReady waits until /readyz answers 200: the first refresh is done
// (the bound is for a race-built pantau on a loaded machine).
func waitReady(t *testing.T, p *process) {
	t.Helper()
	waitFor(t, time.Minute, "/readyz to answer 200", func() bool {
		select {
		case <-p.done:
			t.Fatalf("pantau exited before it was ready: %v\n%s", p.state, p.log.String())
		default:
		}
		code, _ := get(t, p.url+"/readyz")
		return code == http.StatusOK
	})
}

// dkiTargetLine matches DKI Jakarta's provincial target series of the demo's
// count KPIs and captures the KPI, the window and the value.
var dkiTargetLine = regexp.MustCompile(`^pantau_kpi_target\{kpi="(ewarong_aktif|kube_jasa)",level="provinsi",region_code="31",[^}]*window="(month|year)"\} (\S+)$`)

// dkiTargets fetches /metrics and returns DKI Jakarta's targets by
// "kpi/window". The national exposition is some 75 MB: it is scanned line
// by line rather than parsed.
func dkiTargets(t *testing.T, p *process) map[string]float64 {
	t.Helper()
	code, body := get(t, p.url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	got := map[string]float64{}
	for line := range strings.Lines(body) {
		if !strings.HasPrefix(line, `pantau_kpi_target{kpi="`) {
			continue
		}
		m := dkiTargetLine.FindStringSubmatch(strings.TrimSuffix(line, "\n"))
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		key := m[1] + "/" + m[2]
		if _, dup := got[key]; dup {
			t.Errorf("two target series for DKI Jakarta's %s", key)
		}
		got[key] = v
	}
	return got
}

// dkiEwarongStart counts DKI Jakarta's e-Warong active on 1 January of year
// in the demo's generated source: the level its stock target phases from.
func dkiEwarongStart(t *testing.T, dataDir string, year int) float64 {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "dinsos-demo.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	jan1 := fmt.Sprintf("%04d-01-01", year)
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ewarong
		WHERE tanggal_aktif < ? AND (tanggal_tutup IS NULL OR tanggal_tutup >= ?)
		  AND kode_kecamatan LIKE '31.%'`, jan1, jan1).Scan(&n); err != nil {
		t.Fatalf("counting DKI Jakarta's e-Warong active on %s: %v", jan1, err)
	}
	return float64(n)
}

// checkDKITargets asserts DKI Jakarta's targets in the demo's /metrics:
// 70 e-Warong and 71 KUBE Jasa for the year, and e-Warong for the month
// phased linearly from the level on 1 January.
func checkDKITargets(t *testing.T, p *process, start float64, month time.Month) map[string]float64 {
	t.Helper()
	got := dkiTargets(t, p)
	wantMonth := start + (70-start)*float64(month)/12
	for key, want := range map[string]float64{
		"ewarong_aktif/year":  70,
		"ewarong_aktif/month": wantMonth,
		"kube_jasa/year":      71,
	} {
		v, ok := got[key]
		switch {
		case !ok:
			t.Errorf("/metrics has no pantau_kpi_target for DKI Jakarta's %s; found %v", key, got)
		case math.Abs(v-want) > 1e-9:
			t.Errorf("DKI Jakarta's %s target = %v, want %v", key, v, want)
		}
	}
	t.Logf("DKI Jakarta: %d e-Warong on 1 January; targets %v", int(start), got)
	return got
}

// bannerTargets matches the banner's line about the targets written.
var bannerTargets = regexp.MustCompile(`(?m)^  Targets:  (\d+) created, (\d+) updated, (\d+) unchanged \(store (.+)/pantau\.db\)$`)

func bannerCounts(t *testing.T, log string) (created, updated, unchanged int) {
	t.Helper()
	m := bannerTargets.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("banner lacks the Targets line:\n%s", log)
	}
	created, _ = strconv.Atoi(m[1])
	updated, _ = strconv.Atoi(m[2])
	unchanged, _ = strconv.Atoi(m[3])
	return created, updated, unchanged
}

// noonToday is noon of the current Jakarta day. A demo started --at it
// keeps that day, and so its data and targets, however long the test runs.
func noonToday() time.Time {
	y, m, d := time.Now().In(jakarta).Date()
	return time.Date(y, m, d, 12, 0, 0, 0, jakarta)
}

// TestDemo runs "pantau demo" from the built binary, as a user would: no
// database to set up, the whole country at a small scale.
func TestDemo(t *testing.T) {
	bin := buildPantau(t)

	t.Run("serves DKI Jakarta's targets, reuses its data on the next start and regenerates on request", func(t *testing.T) {
		dir := t.TempDir()
		now := noonToday()
		pin := []string{"--at", now.Format(time.RFC3339)}
		p := startDemo(t, bin, dir, pin...)
		log := p.log.String()
		for _, want := range []string{
			"Generating synthetic data for ",
			"\npantau demo is running on " + p.url + " (Ctrl-C stops it).\n",
			"  Data:     " + dir + "\n",
			"  Month:    " + kpi.PeriodAt(now, jakarta).String() + " (Asia/Jakarta)\n",
			p.url + "/metrics     Prometheus metrics",
		} {
			if !strings.Contains(log, want) {
				t.Errorf("first start: output lacks %q:\n%s", want, log)
			}
		}
		if !regexp.MustCompile(`Note: kpm_per_ewarong's target is the store's national rate [\d.]+, not the 400 of examples/dinsos.yaml`).MatchString(log) {
			t.Errorf("first start: output does not explain kpm_per_ewarong's target:\n%s", log)
		}
		created, updated, unchanged := bannerCounts(t, log)
		if created == 0 || updated != 0 || unchanged != 0 {
			t.Errorf("first start wrote targets %d created, %d updated, %d unchanged; want all created", created, updated, unchanged)
		}
		waitReady(t, p)
		start := dkiEwarongStart(t, dir, now.Year())
		if start <= 0 || start >= 70 {
			t.Errorf("DKI Jakarta has %v e-Warong on 1 January; the demo's target 70 should lie above a positive start", start)
		}
		first := checkDKITargets(t, p, start, now.Month())
		stopProcess(t, p)

		stamp, err := os.Stat(filepath.Join(dir, "dinsos-demo.db"))
		if err != nil {
			t.Fatal(err)
		}
		p = startDemo(t, bin, dir, pin...)
		log = p.log.String()
		if want := "Reusing the synthetic data in " + filepath.Join(dir, "dinsos-demo.db") + "\n"; !strings.Contains(log, want) || strings.Contains(log, "Generating") {
			t.Errorf("second start: output lacks %q or generates again:\n%s", want, log)
		}
		if c, u, n := bannerCounts(t, log); c != 0 || u != 0 || n != created {
			t.Errorf("second start: targets %d created, %d updated, %d unchanged; want 0, 0, %d", c, u, n, created)
		}
		waitReady(t, p)
		if again := checkDKITargets(t, p, start, now.Month()); fmt.Sprint(again) != fmt.Sprint(first) {
			t.Errorf("second start: DKI Jakarta's targets %v, first start %v", again, first)
		}
		stopProcess(t, p)

		p = startDemo(t, bin, dir, append(pin, "--regenerate")...)
		log = p.log.String()
		if !regexp.MustCompile(`Generating synthetic data for \d+ kecamatan \(seed 1, scale 0\.05\)\.\.\.\nDone in `).MatchString(log) || strings.Contains(log, "Reusing") {
			t.Errorf("--regenerate: output does not show the data generated again:\n%s", log)
		}
		if c, u, n := bannerCounts(t, log); c != 0 || u != 0 || n != created {
			t.Errorf("--regenerate: targets %d created, %d updated, %d unchanged; want 0, 0, %d (same day, same data)", c, u, n, created)
		}
		if fi, err := os.Stat(filepath.Join(dir, "dinsos-demo.db")); err != nil {
			t.Error(err)
		} else if os.SameFile(fi, stamp) {
			t.Errorf("--regenerate left the source database file in place; want a new file renamed over it")
		}
		stopProcess(t, p)
	})

	t.Run("closes every month since January of last year into the store's monthly history", func(t *testing.T) {
		dir := t.TempDir()
		now := noonToday()
		prev := kpi.PeriodAt(now, jakarta).Prev()
		from := kpi.NewPeriod(now.Year()-1, time.January, jakarta)
		p := startDemo(t, bin, dir, "--at", now.Format(time.RFC3339))
		closed := regexp.MustCompile(`History: (\S+)\.\.(\S+) closed, (\d+) rows written`)
		var m []string
		waitFor(t, 5*time.Minute, "the demo to say the months were closed into history", func() bool {
			select {
			case <-p.done:
				t.Fatalf("pantau exited: %v\n%s", p.state, p.log.String())
			default:
			}
			m = closed.FindStringSubmatch(p.log.String())
			return m != nil
		})
		if m[1] != from.String() || m[2] != prev.String() {
			t.Errorf("closed %s..%s into history, want %s..%s", m[1], m[2], from, prev)
		}
		if !strings.Contains(p.log.String(), from.String()+": ") {
			t.Errorf("no progress line for %s:\n%s", from, p.log.String())
		}
		t.Logf("%s..%s closed with %s rows", m[1], m[2], m[3])
		stopProcess(t, p)

		ctx := context.Background()
		st, err := store.Open(ctx, "sqlite", filepath.Join(dir, "pantau.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for p := from; !prev.Before(p); p = p.Next() {
			for _, id := range exampleKPIs {
				has, err := st.HasHistory(ctx, id, p.String(), "")
				if err != nil {
					t.Fatal(err)
				}
				if !has {
					t.Errorf("the store has no history of %s for %s", id, p)
				}
			}
		}
		rows, err := st.History(ctx, store.HistoryFilter{KPI: "ewarong_aktif", Regions: []string{"31"}, Window: kpi.WindowYear, From: prev.String(), To: prev.String()})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Period != prev.String() {
			t.Fatalf("history of DKI Jakarta's ewarong_aktif, year window: %+v; want one row for %s", rows, prev)
		}
		// The demo writes this year's targets: in January the closed
		// month is last December, which has none.
		if prev.Year() == now.Year() {
			if r := rows[0]; !r.Target.OK || r.Target.V != 70 || r.Status == kpi.NoTarget {
				t.Errorf("history of DKI Jakarta's ewarong_aktif for %s: target %v, status %s; want 70 and a status against it", prev, r.Target, r.Status)
			}
		}
	})

	t.Run("is scraped end to end by a real Prometheus", func(t *testing.T) {
		if testing.Short() {
			t.Skip("starts the demo and Prometheus")
		}
		promBin := sourcetest.Program(t, "prometheus", promHow)
		start := time.Now()
		// The bound is generous for a loaded machine under -race: the demo
		// generates its data first, then Prometheus ingests the national
		// exposition (docs/benchmarks.md has the measured figures).
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		p := startDemo(t, bin, t.TempDir())
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("pantau log:\n%s", p.log.String())
			}
		})
		prom := startPrometheus(t, promBin, strings.TrimPrefix(p.url, "http://"), "5s", "5s")
		poll := func(what string, cond func() bool) {
			t.Helper()
			for !cond() {
				select {
				case <-prom.done:
					t.Fatalf("prometheus exited while waiting for %s", what)
				case <-p.done:
					t.Fatalf("pantau exited while waiting for %s", what)
				case <-ctx.Done():
					t.Fatalf("gave up waiting for %s after %s", what, time.Since(start).Round(time.Millisecond))
				case <-time.After(200 * time.Millisecond):
				}
			}
		}
		poll("Prometheus to be ready", prom.ready)
		t.Logf("Prometheus ready after %s", time.Since(start).Round(time.Millisecond))

		type target struct {
			Labels             map[string]string `json:"labels"`
			Health             string            `json:"health"`
			LastError          string            `json:"lastError"`
			LastScrapeDuration float64           `json:"lastScrapeDuration"`
		}
		var up target
		poll("the demo target to be up", func() bool {
			var data struct {
				ActiveTargets []target `json:"activeTargets"`
			}
			promAPI(t, prom.url, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
			for _, tg := range data.ActiveTargets {
				if tg.Labels["job"] == "pantau" && tg.Health == "up" {
					up = tg
					return true
				}
			}
			return false
		})
		t.Logf("target up after %s (last scrape took %.2fs)", time.Since(start).Round(time.Millisecond), up.LastScrapeDuration)

		// The first scrapes may come before the demo's first refresh.
		const q = `pantau_kpi_target{kpi="ewarong_aktif",level="provinsi",region_code="31",window="year"}`
		var got []sample
		poll("Prometheus to have "+q, func() bool {
			got = query(t, prom.url, q)
			return len(got) > 0
		})
		t.Logf("DKI Jakarta's target in Prometheus after %s", time.Since(start).Round(time.Millisecond))
		if len(got) != 1 {
			t.Fatalf("%s: %d series, want 1: %v", q, len(got), got)
		}
		if v := got[0].value(t); v != 70 {
			t.Errorf("%s = %v, want 70", q, v)
		}
		if m := got[0].Metric; m["job"] != "pantau" || m["province_code"] != "31" {
			t.Errorf("labels %v: want job pantau, province_code 31", m)
		}
		for _, q := range []string{`scrape_samples_scraped{job="pantau"}`, `scrape_duration_seconds{job="pantau"}`} {
			if s := query(t, prom.url, q); len(s) == 1 {
				t.Logf("%s %v", q, s[0].Value[1])
			}
		}
		t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
	})
}
