package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// The tests here attack a running pantau serve over real sockets with
// requests that are too big, malformed or too slow. The server's limits
// are shortened (testLimits) so that a dropped client shows in seconds;
// the properties are those of the production limits: the bad client is
// answered with a 4xx or dropped, the others are served meanwhile, and
// nothing stored changes.

var testLimits = httpLimits{
	readHeader: time.Second,
	read:       2 * time.Second,
	write:      5 * time.Second,
	bulkWrite:  10 * time.Second,
	idle:       5 * time.Second,
	maxHeader:  8 << 10,
}

// useLimits runs the servers the test starts with l.
func useLimits(t *testing.T, l httpLimits) {
	old := serverLimits
	serverLimits = l
	t.Cleanup(func() { serverLimits = old }) // after the server's own cleanup
}

// hostile is a pantau serve with the API, a SQLite store and one target
// written through the API.
type hostile struct {
	*served
	store  testStore
	token  string
	target string // the URL of the target written
}

func startHostile(t *testing.T) *hostile {
	t.Helper()
	useLimits(t, testLimits)
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	ts := newTestStore(t, "sqlite")
	mustRun(t, exitOK, append([]string{"migrate"}, ts.flags()...)...)
	out, _ := mustRun(t, exitOK, append([]string{"token", "create", "--role", "admin", "--name", "penguji"}, ts.flags()...)...)
	h := &hostile{store: ts, token: strings.TrimSpace(out)}
	h.served = startServe(t, append([]string{"--config", spec, "--store"}, ts.flags()...)...)
	waitFor(t, time.Minute, "the first refresh", func() bool {
		code, _ := get(t, h.url+"/readyz")
		return code == http.StatusOK
	})
	h.target = fmt.Sprintf("%s/api/v1/targets/kube_jasa/32.16.06/%d", h.url, time.Now().Year())
	if res := h.do(t, "PUT", h.target, `{"target": 12, "reason": "SK 1"}`); res.StatusCode != http.StatusCreated {
		t.Fatalf("PUT a good target: %d", res.StatusCode)
	}
	return h
}

func (h *hostile) do(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// stored is everything an attack must leave alone: the targets and the
// audit trail.
func (h *hostile) stored(t *testing.T) ([]kpi.Target, []store.AuditEntry) {
	t.Helper()
	return storeContents(t, h.store.open(t))
}

// stillServing fails t unless pantau answers a scrape and an API read, and
// never logged a panic.
func (h *hostile) stillServing(t *testing.T) {
	t.Helper()
	if code, body := get(t, h.url+"/metrics"); code != http.StatusOK || !strings.Contains(body, "pantau_") {
		t.Errorf("/metrics: %d", code)
	}
	if res := h.do(t, "GET", h.target, ""); res.StatusCode != http.StatusOK {
		t.Errorf("GET the target: %d", res.StatusCode)
	}
	if strings.Contains(h.stderr.String(), "panic") {
		t.Errorf("pantau logged a panic:\n%s", h.stderr.String())
	}
}

// errorJSON fails t unless res has status and the API's error JSON with
// the code.
func errorJSON(t *testing.T, res *http.Response, status int, code string) {
	t.Helper()
	b, _ := io.ReadAll(res.Body)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); res.StatusCode != status || err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s %s: %d %s, want %d with error code %s", res.Request.Method, res.Request.URL, res.StatusCode, b, status, code)
	}
}

func TestServeRefusesOversizedAndMalformedRequests(t *testing.T) {
	h := startHostile(t)
	targets, audit := h.stored(t)

	t.Run("a body over 64 KiB is a 413 with the error JSON", func(t *testing.T) {
		errorJSON(t, h.do(t, "PUT", h.target, `{"target": 13, "reason": "`+strings.Repeat("x", 70<<10)+`"}`), 413, "too_large")
		// Announced by Content-Length or not: chunked bodies are cut off too.
		req, _ := http.NewRequest("PUT", h.target, io.MultiReader(strings.NewReader(`{"target": 13, "reason": "`), strings.NewReader(strings.Repeat("x", 1<<20))))
		req.Header.Set("Authorization", "Bearer "+h.token)
		res, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		errorJSON(t, res, 413, "too_large")
	})

	t.Run("malformed JSON bodies are 400s with the error JSON", func(t *testing.T) {
		for _, body := range []string{`{"target": 13`, `{"target": "13"}`, `{"target": 13}{"target": 14}`, `{"target": 1e400}`, "\xff", ``, `[13]`} {
			errorJSON(t, h.do(t, "PUT", h.target, body), 400, "bad_body")
		}
	})

	t.Run("malformed query strings and parameters are 400s with the error JSON", func(t *testing.T) {
		for _, q := range []string{"kpi=%zz", "kpi=%", "kpi=kube_jasa;level=provinsi", "kpi=kube_jasa&kpi=kube_jasa", "period=2026-13", "limit=1e3", "level=%00"} {
			errorJSON(t, h.do(t, "GET", h.url+"/api/v1/progress?"+q, ""), 400, "bad_parameter")
		}
		errorJSON(t, h.do(t, "GET", h.url+"/api/v1/targets/kube_jasa/32.16.06/20x6", ""), 400, "bad_parameter")
	})

	t.Run("curl: an oversized header is a 431, a malformed query a 400 with the error JSON", func(t *testing.T) {
		curl := sourcetest.Program(t, "curl", "install curl (apt-get install curl)")
		out, err := exec.Command(curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Besar: "+strings.Repeat("a", 16<<10), h.url+"/metrics").CombinedOutput()
		if err != nil || string(out) != "431" {
			t.Errorf("curl with a 16 KiB header: %s %v, want 431", out, err)
		}
		out, err = exec.Command(curl, "-sS", "-g", "-H", "Authorization: Bearer "+h.token, "-w", "\n%{http_code}", h.url+"/api/v1/progress?kpi=%zz").CombinedOutput()
		if body, code, _ := strings.Cut(string(out), "\n"); err != nil || code != "400" || !strings.Contains(body, `"code":"bad_parameter"`) || !strings.Contains(body, "invalid URL escape") {
			t.Errorf("curl with %%zz: %s %v, want 400 bad_parameter", out, err)
		}
	})

	t.Run("a request line net/http cannot parse gets its 400 and the connection is closed", func(t *testing.T) {
		for _, tt := range []struct {
			line   string
			status int
		}{
			{"GET /api/v1/targets/%zz/32/2026 HTTP/1.1", 400},
			{"GET\x00 / HTTP/1.1", 400},
			{"GET /api/v1/kpis HTTP/9.9", 505},
			{"GET /" + strings.Repeat("a", 16<<10) + " HTTP/1.1", 431},
		} {
			status, closed := rawRequest(t, h.url, tt.line+"\r\nHost: pantau\r\n\r\n")
			if status != tt.status || !closed {
				t.Errorf("%.60q: status %d, closed %v; want %d and a closed connection", tt.line, status, closed, tt.status)
			}
		}
	})

	h.stillServing(t)
	if ts, a := h.stored(t); !reflect.DeepEqual(ts, targets) || len(a) != len(audit) {
		t.Errorf("the store changed: targets %v → %v, audit %d → %d entries", targets, ts, len(audit), len(a))
	}
}

func TestServeDropsSlowClientsAndServesTheOthers(t *testing.T) {
	h := startHostile(t)
	targets, audit := h.stored(t)
	addr := strings.TrimPrefix(h.url, "http://")

	t.Run("clients dribbling their headers are dropped after the header timeout", func(t *testing.T) {
		const clients = 20
		var wg sync.WaitGroup
		held := make([]time.Duration, clients)
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				held[i] = slowloris(t, addr, "GET /metrics HTTP/1.1\r\nHost: pantau\r\n", "X-Lambat: ya\r\n")
			}()
		}
		// Meanwhile everyone else is served.
		time.Sleep(testLimits.readHeader / 2)
		h.stillServing(t)
		wg.Wait()
		for i, d := range held {
			if d > testLimits.readHeader+5*time.Second {
				t.Errorf("slow client %d held its connection %s; the header timeout is %s", i, d, testLimits.readHeader)
			}
		}
		t.Logf("%d clients dribbling headers dropped, the longest after %s (header timeout %s)", clients, slices.Max(held).Round(10*time.Millisecond), testLimits.readHeader)
	})

	t.Run("a client dribbling its body is cut off after the read timeout and nothing is written", func(t *testing.T) {
		path := strings.TrimPrefix(h.target, h.url)
		body := `{"target": 99, "reason": "lambat"}`
		head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: pantau\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, h.token, len(body))
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		// One byte every 300 ms: the body would take 10 s, the read timeout is 2 s.
		go func() {
			for i := range len(body) {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
				time.Sleep(300 * time.Millisecond)
			}
		}()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		held := time.Since(start)
		if err != nil {
			t.Fatalf("no answer to a body cut off: %v", err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"code":"timeout"`) {
			t.Errorf("a body cut off: %d %s, want 408 timeout", res.StatusCode, b)
		}
		if held > testLimits.read+5*time.Second {
			t.Errorf("the slow body held the request %s; the read timeout is %s", held, testLimits.read)
		}
		t.Logf("a dribbled body answered 408 after %s (read timeout %s)", held.Round(10*time.Millisecond), testLimits.read)
	})

	t.Run("a client that stops reading a big answer is cut off after the write timeout", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// Every region's progress, uncompressed: megabytes, more than the
		// sockets' buffers hold.
		fmt.Fprintf(conn, "GET /api/v1/progress HTTP/1.1\r\nHost: pantau\r\nAuthorization: Bearer %s\r\n\r\n", h.token)
		time.Sleep(testLimits.write / 2)
		h.stillServing(t)
		time.Sleep(testLimits.write/2 + 2*time.Second)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		n, err := io.Copy(io.Discard, res.Body)
		if err == nil || n >= res.ContentLength {
			t.Errorf("read %d of %d bytes (%v): the answer was not cut off", n, res.ContentLength, err)
		} else {
			t.Logf("cut off after %d of %d bytes: %v", n, res.ContentLength, err)
		}
	})

	h.stillServing(t)
	if ts, a := h.stored(t); !reflect.DeepEqual(ts, targets) || len(a) != len(audit) {
		t.Errorf("the store changed: targets %v → %v, audit %d → %d entries", targets, ts, len(audit), len(a))
	}
}

// slowloris sends head, then line every 200 ms until the server closes the
// connection, and returns how long it held it (at most 30 s).
func slowloris(t *testing.T, addr, head, line string) time.Duration {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Error(err)
		return 0
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		io.Copy(io.Discard, conn) // until the server closes it
	}()
	for {
		select {
		case <-closed:
			return time.Since(start)
		case <-time.After(200 * time.Millisecond):
			if _, err := io.WriteString(conn, line); err != nil {
				<-closed
				return time.Since(start)
			}
		}
	}
}

// rawRequest writes raw to the server and returns the answer's status and
// whether the server then closed the connection.
func rawRequest(t *testing.T, url, raw string) (status int, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%.60q: %v", raw, err)
	}
	io.Copy(io.Discard, res.Body)
	_, err = br.ReadByte()
	return res.StatusCode, errors.Is(err, io.EOF)
}

func TestBulkAnswersGetALongerWriteBudget(t *testing.T) {
	// Each answer is written after a pause longer than the write budget of
	// the JSON API but shorter than that of /metrics and exports.
	l := httpLimits{readHeader: time.Second, read: time.Second, write: 500 * time.Millisecond, bulkWrite: 10 * time.Second, idle: time.Second, maxHeader: 8 << 10}
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		io.WriteString(w, "ok\n")
	}), l)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	for _, tt := range []struct {
		path     string
		answered bool
	}{
		{"/metrics", true},
		{"/api/v1/export", true},
		{"/api/v1/progress", false},
		{"/", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			res, err := httpClient.Get("http://" + ln.Addr().String() + tt.path)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if answered := err == nil && string(body) == "ok\n"; answered != tt.answered {
				t.Errorf("%s: answered %v (%v), want %v", tt.path, answered, err, tt.answered)
			}
		})
	}
}
