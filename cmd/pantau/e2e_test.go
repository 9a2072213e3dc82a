package main

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// promHow says where prometheus and promtool come from.
const promHow = "install the Debian package prometheus (apt-get install prometheus)"

// freePort returns a loopback address whose port was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// promResponse is the envelope of Prometheus' HTTP API.
type promResponse struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// promAPI calls Prometheus' HTTP API and decodes data into v.
func promAPI(t *testing.T, base, path string, params url.Values, v any) {
	t.Helper()
	u := base + path
	if params != nil {
		u += "?" + params.Encode()
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	var r promResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("GET %s: %d, decoding: %v", u, resp.StatusCode, err)
	}
	if r.Status != "success" {
		t.Fatalf("GET %s: %d %s: %s", u, resp.StatusCode, r.ErrorType, r.Error)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("GET %s: decoding data: %v", u, err)
	}
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"` // [unix time, "value"]
}

func (s sample) value(t *testing.T) float64 {
	t.Helper()
	str, ok := s.Value[1].(string)
	if !ok {
		t.Fatalf("sample value %v is not a string", s.Value[1])
	}
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// query evaluates an instant PromQL query at now.
func query(t *testing.T, base, q string) []sample {
	t.Helper()
	var data struct {
		ResultType string   `json:"resultType"`
		Result     []sample `json:"result"`
	}
	promAPI(t, base, "/api/v1/query", url.Values{"query": {q}}, &data)
	if data.ResultType != "vector" {
		t.Fatalf("%s: result type %s, want vector", q, data.ResultType)
	}
	return data.Result
}

// TestPrometheusScrapesPantau runs the real thing: the example spec on a
// PostgreSQL source, the pantau binary serving it, and a real Prometheus
// scraping pantau every second. The attainment Prometheus stores must be
// the one computed by hand from the rows loaded.
func TestPrometheusScrapesPantau(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL-backed pantau and Prometheus")
	}
	promBin := sourcetest.Program(t, "prometheus", promHow)
	start := time.Now()
	// pantau runs --at noon today, in the month the rows are loaded for,
	// however long the test takes.
	pin := noonToday()

	dsn := sourcetest.Postgres(t)
	sourcetest.Exec(t, "postgres", dsn, exampleData(pin)...)
	spec := exampleSpec(t, "postgres", "2s")
	bin := buildPantau(t)
	t.Logf("source loaded and pantau built in %s", time.Since(start).Round(time.Millisecond))

	// A Jawa Barat shard (--region 32, the way a national deployment is
	// split) exposes ~23,000 series, which Prometheus ingests well within
	// the 1s scrape interval; the national exposition (~275,000 series)
	// takes it about 3s per scrape, too slow to scrape every second.
	pantauProc := startBinary(t, bin, []string{dsnEnv + "=" + dsn}, "serve", "--config", spec, "--listen", "127.0.0.1:0", "--region", "32",
		"--at", pin.Format(time.RFC3339))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pantau log:\n%s", pantauProc.log.String())
		}
	})
	target := strings.TrimPrefix(pantauProc.url, "http://")

	prom := startPrometheus(t, promBin, target, "1s", "1s")
	promURL, promDone := prom.url, prom.done

	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	poll := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-promDone:
				t.Fatalf("prometheus exited while waiting for %s", what)
			case <-pantauProc.done:
				t.Fatalf("pantau exited while waiting for %s", what)
			case <-ctx.Done():
				t.Fatalf("gave up waiting for %s after %s", what, time.Since(start).Round(time.Millisecond))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}

	poll("Prometheus to be ready", prom.ready)
	t.Logf("Prometheus ready after %s", time.Since(start).Round(time.Millisecond))
	poll("the pantau target to be up", func() bool {
		var data struct {
			ActiveTargets []struct {
				Labels    map[string]string `json:"labels"`
				Health    string            `json:"health"`
				LastError string            `json:"lastError"`
				ScrapeURL string            `json:"scrapeUrl"`
			} `json:"activeTargets"`
		}
		promAPI(t, promURL, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
		for _, tg := range data.ActiveTargets {
			if tg.Labels["job"] == "pantau" && tg.Health == "up" {
				return true
			}
			if tg.LastError != "" {
				t.Logf("target %s: %s", tg.ScrapeURL, tg.LastError)
			}
		}
		return false
	})
	t.Logf("target up after %s", time.Since(start).Round(time.Millisecond))

	// The first scrapes may come before pantau's first refresh has
	// finished; wait for a scrape that has the KPI series.
	const attainment = `pantau_kpi_attainment_ratio{kpi="sembako_salur",region_code="32.16",window="month"}`
	var got []sample
	poll("Prometheus to have "+attainment, func() bool {
		got = query(t, promURL, attainment)
		return len(got) > 0
	})
	t.Logf("KPI series in Prometheus after %s", time.Since(start).Round(time.Millisecond))

	// Kabupaten Bekasi's rate is Σ paid ÷ Σ allocated over its kecamatan,
	// and attainment is that rate over the fixed target 0.95.
	num, den := sembakoSums("32.16")
	want := num / den / 0.95
	if len(got) != 1 {
		t.Fatalf("%s: %d series, want 1: %v", attainment, len(got), got)
	}
	if v := got[0].value(t); math.Abs(v-want) > 1e-12 {
		t.Errorf("%s = %v, want (%v/%v)/0.95 = %v", attainment, v, num, den, want)
	}
	if m := got[0].Metric; m["level"] != "kabupaten_kota" || m["province_code"] != "32" || m["regency_code"] != "32.16" || m["job"] != "pantau" {
		t.Errorf("labels %v: want level kabupaten_kota, province_code 32, regency_code 32.16, job pantau", m)
	}

	// Rates re-aggregate in PromQL from numerators and denominators (of
	// kabupaten/kota: kecamatan are not exposed by default).
	pnum, pden := sembakoSums("32")
	for q, want := range map[string]float64{
		`sum(pantau_kpi_numerator{kpi="sembako_salur",level="kabupaten_kota",province_code="32",window="month"})`:   pnum,
		`sum(pantau_kpi_denominator{kpi="sembako_salur",level="kabupaten_kota",province_code="32",window="month"})`: pden,
		`pantau_kpi_target{kpi="sembako_salur",region_code="32.16",window="month"}`:                                 0.95,
		`up{job="pantau"}`: 1,
	} {
		s := query(t, promURL, q)
		if len(s) != 1 {
			t.Errorf("%s: %d series, want 1: %v", q, len(s), s)
			continue
		}
		if v := s[0].value(t); v != want {
			t.Errorf("%s = %v, want %v", q, v, want)
		}
	}

	// Status is a state set: exactly one status series per KPI × region ×
	// window, of value 1.
	statuses := query(t, promURL, `pantau_kpi_status{kpi="sembako_salur",region_code="32.16",window="month"}`)
	if len(statuses) != 1 || statuses[0].value(t) != 1 {
		t.Errorf("pantau_kpi_status for sembako_salur in 32.16: %v, want one series of value 1", statuses)
	} else {
		switch st := statuses[0].Metric["status"]; st {
		case "on_track", "at_risk", "behind":
			t.Logf("sembako_salur in 32.16 is %s", st)
		default:
			t.Errorf("sembako_salur in 32.16 has status %q, want on_track, at_risk or behind (it has data and a target)", st)
		}
	}
	if s := query(t, promURL, `count(pantau_kpi_status{status="on_track"})`); len(s) != 1 || s[0].value(t) < 1 {
		t.Errorf("no pantau_kpi_status{status=\"on_track\"} series: %v", s)
	}
	if s := query(t, promURL, `pantau_region_info{region_code="32.16"}`); len(s) != 1 || s[0].Metric["name"] != "Kabupaten Bekasi" {
		t.Errorf("pantau_region_info for 32.16: %v, want Kabupaten Bekasi", s)
	}

	// Prometheus keeps scraping every second, every scrape succeeds, and
	// it sees pantau refresh (every 2s in this spec) between scrapes.
	const scrapes = `count_over_time(up{job="pantau"}[1m])`
	const refreshes = `changes(pantau_query_last_success_timestamp_seconds{kpi="sembako_salur"}[1m])`
	poll("four scrapes spanning two refreshes", func() bool {
		s, r := query(t, promURL, scrapes), query(t, promURL, refreshes)
		return len(s) == 1 && s[0].value(t) >= 4 && len(r) == 1 && r[0].value(t) >= 1
	})
	if s := query(t, promURL, `sum_over_time(up{job="pantau"}[1m]) == `+scrapes); len(s) != 1 {
		t.Errorf("some scrapes failed: %s is not %s", `sum_over_time(up{job="pantau"}[1m])`, scrapes)
	}
	if s := query(t, promURL, `pantau_source_up{source="dinsos"}`); len(s) != 1 || s[0].value(t) != 1 {
		t.Errorf("pantau_source_up{source=\"dinsos\"}: %v, want 1", s)
	}
	if s := query(t, promURL, `scrape_samples_scraped{job="pantau"}`); len(s) == 1 {
		t.Logf("%v samples per scrape", s[0].Value[1])
	}
	t.Logf("done in %s", time.Since(start).Round(time.Millisecond))
}

// TestSamplePrometheusConfigIsValid checks the repository's prometheus.yml
// with promtool, as a deployment would.
func TestSamplePrometheusConfigIsValid(t *testing.T) {
	promtool := sourcetest.Program(t, "promtool", promHow)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	config := filepath.Join("..", "..", "prometheus.yml")
	out, err := exec.CommandContext(ctx, promtool, "check", "config", config).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config %s: %v\n%s", config, err, out)
	}
	body, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"job_name: pantau", "scrape_interval: 1m", "scrape_timeout: 30s", "- 127.0.0.1:9875", "\nrule_files:\n  - rules/*.rules.yml", "alertmanagers:"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%s lacks %q", config, want)
		}
	}
}

// promProcess is a Prometheus server started by a test.
type promProcess struct {
	url  string
	done chan struct{}
}

// ready reports whether Prometheus answers /-/ready with 200.
func (p *promProcess) ready() bool {
	resp, err := httpClient.Get(p.url + "/-/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// startPrometheus runs Prometheus scraping target (host:port) as job
// pantau, with its data in a temporary directory, and kills it when the
// test ends.
func startPrometheus(t *testing.T, promBin, target, interval, timeout string) *promProcess {
	t.Helper()
	dir := t.TempDir()
	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, []byte(`global:
  scrape_interval: `+interval+`
  scrape_timeout: `+timeout+`
scrape_configs:
  - job_name: pantau
    static_configs:
      - targets: ['`+target+`']
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return runPrometheus(t, promBin, promConfig)
}

// runPrometheus runs Prometheus with the configuration file promConfig
// (rule files relative to it), its data next to it, on a free loopback
// port, and kills it when the test ends.
func runPrometheus(t *testing.T, promBin, promConfig string) *promProcess {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(promBin,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(filepath.Dir(promConfig), "data"),
		"--web.listen-address="+addr,
	)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &promProcess{url: "http://" + addr, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return p
}
