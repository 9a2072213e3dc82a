package collector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
)

func TestCRC32Combine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sizes := range [][2]int{{0, 0}, {0, 7}, {7, 0}, {1, 1}, {100, 3}, {3, 100_000}, {65_536, 65_537}} {
		t.Run(fmt.Sprintf("the CRC-32 of %d then %d bytes equals the CRC-32 of the whole", sizes[0], sizes[1]), func(t *testing.T) {
			data := make([]byte, sizes[0]+sizes[1])
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			a, b := data[:sizes[0]], data[sizes[0]:]
			if got, want := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), len(b)), crc32.ChecksumIEEE(data); got != want {
				t.Errorf("combined %08x, want %08x", got, want)
			}
		})
	}
}

// TestClientsReadTheWholeGzipBody has clients other than Go's decode a
// gzip scrape: libcurl and zlib read one gzip member, so a body of several
// members shows them only its first.
func TestClientsReadTheWholeGzipBody(t *testing.T) {
	c, snap := refreshDinsos(t, "sqlite", "32")
	srv := httptest.NewServer(c.MetricsHandler())
	t.Cleanup(srv.Close)
	kpiText := cachedText(t, snap.exposition)
	identity := metricsText(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	tests := []struct {
		name, tool, pkg string
		args            []string
	}{
		{"curl --compressed reads every series and the self-metrics", "curl", "curl", []string{"--silent", "--show-error", "--fail", "--compressed", srv.URL}},
		{"Python's urllib with one zlib decompressobj reads the whole body as one member", "python3", "python3", []string{"-c", `
import sys, urllib.request, zlib
req = urllib.request.Request(sys.argv[1], headers={"Accept-Encoding": "gzip"})
with urllib.request.urlopen(req) as res:
    assert res.headers["Content-Encoding"] == "gzip", res.headers
    body = res.read()
d = zlib.decompressobj(16 + zlib.MAX_WBITS)
text = d.decompress(body) + d.flush()
assert d.eof, "the gzip member did not end"
assert d.unused_data == b"", "%d bytes follow the first member" % len(d.unused_data)
sys.stdout.buffer.write(text)
`, srv.URL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := exec.CommandContext(ctx, sourcetest.Program(t, tt.tool, "install the Debian package "+tt.pkg), tt.args...).Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("%s: %v\n%s", tt.tool, err, stderr)
			}
			if !strings.HasPrefix(string(out), string(kpiText)) {
				t.Fatalf("%s read %d bytes that do not start with the %d bytes of KPI series", tt.tool, len(out), len(kpiText))
			}
			got, want := selfSeries(out[len(kpiText):]), selfSeries(identity[len(kpiText):])
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s read other self-metrics than the identity answer:\n%s\n---\n%s", tt.tool, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// promServer is a Prometheus server started by a test, scraping jobs of
// one target each.
type promServer struct{ url string }

// syncBuffer collects a process's output; the process writes while a
// failing test may read.
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

func startPrometheus(t *testing.T, jobs map[string]string) *promServer {
	t.Helper()
	bin := sourcetest.Program(t, "prometheus", "install the Debian package prometheus (apt-get install prometheus)")
	dir := t.TempDir()
	cfg := "global: {scrape_interval: 1s, scrape_timeout: 1s}\nscrape_configs:\n"
	for job, target := range jobs {
		cfg += fmt.Sprintf("  - {job_name: %s, static_configs: [{targets: ['%s']}]}\n", job, target)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log syncBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return &promServer{url: "http://" + addr}
}

// query runs an instant PromQL query and returns its samples by the value
// of label by.
func (p *promServer) query(t *testing.T, q, by string) map[string]float64 {
	t.Helper()
	res, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil // not up yet
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusServiceUnavailable {
		return nil // starting
	}
	var body struct {
		Status string
		Error  string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, body.Error)
	}
	out := map[string]float64{}
	for _, r := range body.Data.Result {
		s, _ := r.Value[1].(string)
		var v float64
		fmt.Sscan(s, &v)
		out[r.Metric[by]] = v
	}
	return out
}

// TestShardsFederateToTheNation scrapes a national pantau and two province
// shards (31 and 32: every region of the test data) into one real
// Prometheus. The shards expose their province and below only, and the
// national figures re-aggregated in PromQL from the shards' provinces equal
// the national instance's own. Prometheus also reads every sample of each
// gzip body.
func TestShardsFederateToTheNation(t *testing.T) {
	dsn := loadDinsos(t, "sqlite")
	spec := dinsosSpec(t, "sqlite")
	src := openSource(t, spec, "dinsos", dsn)
	jobs := map[string]string{}
	bodies := map[string][]byte{}
	for job, scope := range map[string]string{"national": "", "shard_31": "31", "shard_32": "32"} {
		c := newCollector(t, spec, scope, map[string]Querier{"dinsos": src}, dinsosTargets)
		c.Refresh(context.Background())
		srv := httptest.NewServer(c.MetricsHandler())
		t.Cleanup(srv.Close)
		jobs[job] = strings.TrimPrefix(srv.URL, "http://")
		bodies[job] = metricsText(t, c)
	}
	p := startPrometheus(t, jobs)

	// Wait until every job has been scraped.
	deadline := time.Now().Add(time.Minute)
	for len(p.query(t, `pantau_build_info`, "job")) < len(jobs) {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape all of %v within a minute; up: %v", jobs, p.query(t, "up", "job"))
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("Prometheus ingests every sample of each gzip body", func(t *testing.T) {
		scraped := p.query(t, `scrape_samples_scraped`, "job")
		for job, body := range bodies {
			samples := 0
			for _, l := range textLines(body) {
				if !strings.HasPrefix(l, "#") {
					samples++
				}
			}
			// The Go and process collectors may add or drop a series or two
			// between the identity scrape and Prometheus'.
			if got := scraped[job]; math.Abs(got-float64(samples)) > 2 {
				t.Errorf("%s: Prometheus scraped %v samples, the body has %d", job, got, samples)
			}
		}
	})

	t.Run("a shard exposes no region above its scope", func(t *testing.T) {
		for _, level := range []string{"nasional"} {
			if got := p.query(t, fmt.Sprintf(`count by (job) ({job=~"shard_.*",level=%q})`, level), "job"); len(got) > 0 {
				t.Errorf("shards expose %s series: %v", level, got)
			}
		}
		if got := p.query(t, `count by (job) (pantau_kpi_actual{job="shard_31",province_code!="31"})`, "job"); len(got) > 0 {
			t.Errorf("shard 31 exposes other provinces: %v", got)
		}
	})

	t.Run("the shards' provinces re-aggregate to the national instance's figures", func(t *testing.T) {
		for _, k := range spec.KPIs {
			for _, w := range kpi.Windows {
				sel := fmt.Sprintf(`{job=~"shard_.*",kpi=%q,level="provinsi",window=%q}`, k.ID, w)
				q := `sum by (kpi) (pantau_kpi_actual` + sel + `)`
				if k.Kind == kpi.KindRate {
					q = `sum by (kpi) (pantau_kpi_numerator` + sel + `) / sum by (kpi) (pantau_kpi_denominator` + sel + `)`
				}
				fed, ok := p.query(t, q, "kpi")[k.ID]
				national, ok2 := p.query(t, fmt.Sprintf(`pantau_kpi_actual{job="national",kpi=%q,level="nasional",window=%q}`, k.ID, w), "kpi")[k.ID]
				if !ok || !ok2 {
					t.Errorf("%s %s: federated %v (%v), national %v (%v)", k.ID, w, fed, ok, national, ok2)
					continue
				}
				if !near(fed, national) {
					t.Errorf("%s %s: re-aggregated from the shards %v, the national instance %v", k.ID, w, fed, national)
				}
			}
		}
	})
}
