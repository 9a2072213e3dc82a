package main

import (
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// kpiName reads the name label of a KPI's pantau_kpi_info from /metrics.
func kpiName(t *testing.T, base, id string) string {
	t.Helper()
	_, body := get(t, base+"/metrics")
	m := regexp.MustCompile(`pantau_kpi_info\{kpi="` + id + `",name="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// metricLine reports whether /metrics has exactly this sample line.
func metricLine(t *testing.T, base, line string) bool {
	t.Helper()
	_, body := get(t, base+"/metrics")
	for l := range strings.Lines(body) {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func writeSpec(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSIGHUPReloadsTheSpecOnlyWhenItIsValid(t *testing.T) {
	bin := buildPantau(t)
	dsn := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", dsn, exampleData(time.Now())...)
	spec := exampleSpec(t, "sqlite", "1s")
	good, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	// Jakarta Pusat alone keeps every 1s refresh short.
	p := startBinary(t, bin, []string{dsnEnv + "=" + dsn}, "serve", "--config", spec, "--listen", "127.0.0.1:0", "--region", "31.71")
	waitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := get(t, p.url+"/readyz")
		return code == http.StatusOK
	})
	if name := kpiName(t, p.url, "kube_jasa"); name != "KUBE Jasa terbentuk" {
		t.Fatalf("kube_jasa is named %q before any reload; update this test to the example spec", name)
	}

	// A spec with a mistake is refused: the reason is logged and counted,
	// and the running spec stays.
	writeSpec(t, spec, strings.Replace(string(good), "refresh: 1s", "refresh: 1s\nrefresh_typo: 2s", 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the failed reload in the log", func() bool {
		return strings.Contains(p.log.String(), "spec reload failed; keeping the current spec")
	})
	if log := p.log.String(); !strings.Contains(log, "refresh_typo") {
		t.Errorf("the log does not give the reason (the unknown key refresh_typo):\n%s", log)
	}
	for _, line := range []string{`pantau_spec_reloads_total{result="failure"} 1`, `pantau_spec_reloads_total{result="success"} 0`, `pantau_spec_last_reload_successful 0`} {
		if !metricLine(t, p.url, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	time.Sleep(1500 * time.Millisecond) // a refresh or two with the spec kept
	if name := kpiName(t, p.url, "kube_jasa"); name != "KUBE Jasa terbentuk" {
		t.Errorf("after a failed reload kube_jasa is named %q; the old spec should stay", name)
	}
	if code, _ := get(t, p.url+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d after a failed reload, want 200", code)
	}

	// A good spec is taken, and shows from the next refresh on.
	writeSpec(t, spec, strings.Replace(string(good), "name: KUBE Jasa terbentuk", "name: KUBE Jasa baru", 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "kube_jasa to carry its new name", func() bool {
		return kpiName(t, p.url, "kube_jasa") == "KUBE Jasa baru"
	})
	for _, line := range []string{`pantau_spec_reloads_total{result="failure"} 1`, `pantau_spec_reloads_total{result="success"} 1`, `pantau_spec_last_reload_successful 1`} {
		if !metricLine(t, p.url, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if log := p.log.String(); !strings.Contains(log, "spec reloaded") || !strings.Contains(log, "reloaded spec applied") {
		t.Errorf("the log does not record the reload and when it applied:\n%s", log)
	}
	select {
	case <-p.done:
		t.Fatalf("pantau exited after SIGHUP: %v\n%s", p.state, p.log.String())
	default:
	}
}

func TestPostReloadNeedsTheFlagAndReportsTheReason(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	good, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	post := func(base string) (int, string) {
		t.Helper()
		resp, err := httpClient.Post(base+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	off := startServe(t, "--config", spec, "--region", "31.71")
	if code, _ := post(off.url); code == http.StatusOK {
		t.Errorf("POST /-/reload without --enable-reload: %d, want it refused", code)
	}
	off.stop()

	on := startServe(t, "--config", spec, "--region", "31.71", "--enable-reload")
	writeSpec(t, spec, strings.Replace(string(good), "kind: count", "kind: jumlah", 1))
	if code, body := post(on.url); code != http.StatusInternalServerError || !strings.Contains(body, "current spec stays in use") || !strings.Contains(body, "jumlah") {
		t.Errorf("POST /-/reload with a bad spec: %d %q, want 500 with the reason", code, body)
	}
	writeSpec(t, spec, string(good))
	if code, body := post(on.url); code != http.StatusOK || !strings.Contains(body, "next refresh") {
		t.Errorf("POST /-/reload with a good spec: %d %q, want 200", code, body)
	}
	if code, _ := get(t, on.url+"/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
}

func TestReloadSwitchesToAnotherSource(t *testing.T) {
	sqliteSource(t)
	// The other database has none of the example's tables, so every query
	// on it fails: the switch shows as failing, stale KPIs.
	other := sourcetest.SQLite(t)
	sourcetest.Exec(t, "sqlite", other, "CREATE TABLE unrelated (id INTEGER)")
	t.Setenv("PANTAU_SOURCE_OTHER_DSN", other)
	spec := exampleSpec(t, "sqlite", "1s")
	good, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "--config", spec, "--region", "31.71", "--enable-reload", "--api-open-read")
	waitFor(t, 15*time.Second, "/readyz to answer 200", func() bool {
		code, _ := get(t, s.url+"/readyz")
		return code == http.StatusOK
	})
	writeSpec(t, spec, strings.Replace(string(good), "dsn_env: "+dsnEnv, "dsn_env: PANTAU_SOURCE_OTHER_DSN", 1))
	resp, err := httpClient.Post(s.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /-/reload: %d", resp.StatusCode)
	}
	waitFor(t, 15*time.Second, "kube_jasa to fail on the other source", func() bool {
		return metricLine(t, s.url, `pantau_kpi_up{kpi="kube_jasa"} 0`)
	})
	_, page := get(t, s.url+"/")
	if !strings.Contains(page, "no such table") || !strings.Contains(page, "basi: pembaruan terakhir gagal") {
		t.Errorf("after switching to a source without the tables, the overview should show stale KPIs and the error:\n%s", page)
	}
	// /readyz stays 200: every KPI has values from before the switch.
	if code, _ := get(t, s.url+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz %d with stale KPIs, want 200", code)
	}
}
