// Package loadgen puts a bounded HTTP load on a running pantau over
// loopback: timed requests with latency percentiles (bench/apiload's
// throughput phases), and a soak that mixes what a deployment sees —
// Prometheus scraping every second, dashboards reading the API, an office
// writing targets — for a set duration while sampling pantau's own
// goroutines, heap, file descriptors and database connections, so that a
// leak shows as a figure that grows from start to end.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Client sends requests to one pantau, with a bearer token when set.
type Client struct {
	Base  string // like http://127.0.0.1:9875
	Token string
	HTTP  *http.Client
}

// NewClient is a client keeping up to conns connections alive.
func NewClient(base, token string, conns int) *Client {
	return &Client{Base: base, Token: token, HTTP: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: conns + 2},
		Timeout:   30 * time.Second,
	}}
}

// Do sends one request (body may be empty), reads the whole answer and
// returns its status and how long it took.
func (c *Client) Do(ctx context.Context, method, path, body string) (int, time.Duration, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept-Encoding", "gzip") // as Grafana and Prometheus send it
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.HTTP.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, time.Since(start), err
}

// Get is Do for a GET that must answer 200.
func (c *Client) Get(ctx context.Context, path string) (time.Duration, error) {
	code, d, err := c.Do(ctx, http.MethodGet, path, "")
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("%s: %d %s", path, code, http.StatusText(code))
	}
	return d, err
}

// Percentile is the p-th percentile (0–100) of ds, 0 for none.
func Percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// Write is the n-th request (from 0) of writer i of a soak.
type Write func(i, n int) (method, path, body string)

// Soak is a mixed load held for Duration. Every stream is paced (one
// request per interval), so the load is bounded whatever pantau's speed.
type Soak struct {
	Duration    time.Duration
	ScrapeEvery time.Duration // /metrics, as Prometheus scrapes it
	Readers     int           // API readers, each one request per ReadEvery
	ReadEvery   time.Duration
	ReadPaths   []string // the readers take them in turn
	Writers     int      // target writers, each one request per WriteEvery
	WriteEvery  time.Duration
	Write       Write
	SampleEvery time.Duration // how often pantau's health figures are read
}

// Stream is what one kind of request (scrape, read, write) met.
type Stream struct {
	Requests  int
	Status    map[int]int // answers by status code
	Errors    int         // transport errors: no answer at all
	Latencies []time.Duration
	First     []string // the first few failures (5xx and errors)
}

// P99 is the stream's 99th percentile latency.
func (s *Stream) P99() time.Duration { return Percentile(s.Latencies, 99) }

// Failures are answers of 500 and above and requests without an answer.
func (s *Stream) Failures() int {
	n := s.Errors
	for code, c := range s.Status {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// Sample is pantau's health at one moment of a soak, from its /metrics.
type Sample struct {
	At     time.Duration // since the soak started
	Values map[string]float64
}

// HealthSeries are the series a soak samples: a value that grows from
// start to end under a steady load is a leak.
var HealthSeries = []string{
	"go_goroutines",
	"go_memstats_heap_inuse_bytes",
	"process_open_fds",
	"process_resident_memory_bytes",
	`pantau_db_open_connections{pool="source/dinsos"}`,
	`pantau_db_open_connections{pool="store"}`,
}

// Result is what a soak measured.
type Result struct {
	Elapsed time.Duration
	Streams map[string]*Stream // "scrape", "read", "write"
	Samples []Sample
}

// Run holds the load until the duration is over or ctx ends.
func (s Soak) Run(ctx context.Context, c *Client) *Result {
	ctx, cancel := context.WithTimeout(ctx, s.Duration)
	defer cancel()
	res := &Result{Streams: map[string]*Stream{}}
	var mu sync.Mutex
	record := func(kind string, code int, d time.Duration, err error, what string) {
		mu.Lock()
		defer mu.Unlock()
		st := res.Streams[kind]
		if st == nil {
			st = &Stream{Status: map[int]int{}}
			res.Streams[kind] = st
		}
		st.Requests++
		switch {
		case err != nil:
			st.Errors++
		default:
			st.Status[code]++
			st.Latencies = append(st.Latencies, d)
		}
		if (err != nil || code >= 500) && len(st.First) < 5 {
			st.First = append(st.First, fmt.Sprintf("%s: %d %v", what, code, err))
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	paced := func(every time.Duration, fn func(n int)) {
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for n := 0; ; n++ {
				fn(n)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	// A request cut short by the end of the soak is not a failure.
	send := func(kind, method, path, body string) {
		code, d, err := c.Do(ctx, method, path, body)
		if ctx.Err() == nil {
			record(kind, code, d, err, method+" "+path)
		}
	}
	paced(s.ScrapeEvery, func(int) { send("scrape", http.MethodGet, "/metrics", "") })
	for i := range s.Readers {
		paced(s.ReadEvery, func(n int) { send("read", http.MethodGet, s.ReadPaths[(i+n)%len(s.ReadPaths)], "") })
	}
	for i := range s.Writers {
		paced(s.WriteEvery, func(n int) {
			method, path, body := s.Write(i, n)
			send("write", method, path, body)
		})
	}
	paced(s.SampleEvery, func(int) {
		if v, err := c.Health(ctx); err == nil {
			mu.Lock()
			res.Samples = append(res.Samples, Sample{At: time.Since(start), Values: v})
			mu.Unlock()
		}
	})
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// Health reads HealthSeries from pantau's /metrics.
func (c *Client) Health(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for line := range strings.Lines(string(body)) {
		for _, name := range HealthSeries {
			if rest, ok := strings.CutPrefix(line, name); ok && strings.HasPrefix(rest, " ") {
				if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
					out[name] = v
				}
			}
		}
	}
	return out, nil
}

// Drift compares a health series at the start and at the end of a soak:
// the median of the samples of its second fifth (the first fifth is the
// warm-up, so that caches filled once do not count) and of its last fifth.
type Drift struct {
	Series     string
	Start, End float64
}

// Drifts are every health series' start and end.
func (r *Result) Drifts() []Drift {
	n := len(r.Samples)
	if n < 5 {
		return nil
	}
	fifth := n / 5
	median := func(ss []Sample, name string) float64 {
		var vs []float64
		for _, s := range ss {
			if v, ok := s.Values[name]; ok {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			return 0
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	var out []Drift
	for _, name := range HealthSeries {
		if _, ok := r.Samples[n-1].Values[name]; !ok {
			continue
		}
		out = append(out, Drift{Series: name, Start: median(r.Samples[fifth:2*fifth], name), End: median(r.Samples[n-fifth:], name)})
	}
	return out
}

// Report is the soak's figures as text, one line per stream and per
// health series.
func (r *Result) Report() string {
	var b strings.Builder
	for _, kind := range []string{"scrape", "read", "write"} {
		st := r.Streams[kind]
		if st == nil {
			continue
		}
		codes := make([]int, 0, len(st.Status))
		for code := range st.Status {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		var parts []string
		for _, code := range codes {
			parts = append(parts, fmt.Sprintf("%d×%d", st.Status[code], code))
		}
		fmt.Fprintf(&b, "%-6s %6d requests (%s), %d without an answer, 5xx+errors %d; p50 %v, p99 %v\n", kind, st.Requests,
			strings.Join(parts, ", "), st.Errors, st.Failures(), Percentile(st.Latencies, 50).Round(10*time.Microsecond), st.P99().Round(10*time.Microsecond))
	}
	for _, d := range r.Drifts() {
		fmt.Fprintf(&b, "%-52s start %12.0f  end %12.0f\n", d.Series, d.Start, d.End)
	}
	return b.String()
}
