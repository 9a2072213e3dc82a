package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

// sigterm sends SIGTERM and waits for pantau to exit, at most within.
func sigterm(t *testing.T, p *process, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("pantau did not exit within %s of SIGTERM", within)
	}
	took := time.Since(start)
	if code := p.state.ExitCode(); code != 0 {
		t.Errorf("exit %d after SIGTERM (%v), want 0", code, p.state)
	}
	return took
}

// slowGet starts a GET of path whose answer it reads at about rate bytes a
// second through a small receive buffer, so that pantau is still sending
// it for a while. received counts the body's bytes so far; wait waits for
// the end and returns the bytes received and the Content-Length announced.
func slowGet(t *testing.T, base, path string, rate int) (received *atomic.Int64, wait func() (got, announced int, err error)) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10)
		})
	}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: pantau\r\nConnection: close\r\n\r\n", path)
	type result struct {
		got, announced int
		err            error
	}
	done := make(chan result, 1)
	received = new(atomic.Int64)
	go func() {
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 4<<10)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			done <- result{err: err}
			return
		}
		announced, _ := strconv.Atoi(resp.Header.Get("Content-Length"))
		chunk := rate / 100
		buf := make([]byte, chunk)
		got := 0
		for {
			n, err := io.ReadFull(resp.Body, buf)
			got += n
			received.Add(int64(n))
			if err != nil {
				if err == io.ErrUnexpectedEOF || err == io.EOF {
					err = nil
				}
				done <- result{got, announced, err}
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return received, func() (int, int, error) {
		r := <-done
		return r.got, r.announced, r.err
	}
}

// TestGracefulShutdown sends SIGTERM to the pantau binary while it works:
// the refresh in flight is cancelled at once (not left to its query
// timeout), requests in flight complete, acknowledged writes are stored
// with their audit entries, nothing partial reaches monthly history, and
// pantau exits 0.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pantau")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildFaultBinary(t)
	pin := noonToday()
	historyRows := func(f *storeFixture) int {
		prev := kpi.PeriodAt(pin, jakarta).Prev().String()
		return queryInts(t, f.ts, "SELECT COUNT(*) FROM monthly_history WHERE period = ?", prev)[0]
	}

	t.Run("during the first refresh, which is cancelled and closes no month", func(t *testing.T) {
		f := newStoreFixture(t, newTestStore(t, "sqlite"), pin)
		release := lockSQLite(t, f.source)
		defer release()
		p := f.serve(t, bin, pin)
		time.Sleep(500 * time.Millisecond) // the refresh waits on the lock
		if code, _ := get(t, p.url+"/readyz"); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz %d while the first refresh waits, want 503", code)
		}
		took := sigterm(t, p, 8*time.Second)
		if n := historyRows(f); n != 0 {
			t.Errorf("%d history rows written by a cancelled refresh, want 0", n)
		}
		t.Logf("SHUTDOWN during the first refresh (its queries waiting on a locked source, timeout %s): exit 0 %s after SIGTERM, no history written",
			faultTimeout, took.Round(10*time.Millisecond))
	})

	t.Run("with requests in flight, which complete", func(t *testing.T) {
		f := newStoreFixture(t, newTestStore(t, "sqlite"), pin)
		p := startFaultBinary(t, bin, f.env(), "serve", "--config", f.spec, "--listen", "127.0.0.1:0", "--store", "--api-open-read",
			"--at", pin.Format(time.RFC3339), "--store-driver", f.ts.driver, "--store-dsn", f.ts.dsn)
		waitReady(t, p)
		waitFor(t, time.Minute, "the month to close", func() bool { return historyRows(f) > 0 })
		closed := historyRows(f)
		// The next refreshes wait on the lock: one is in flight at SIGTERM.
		release := lockSQLite(t, f.source)
		defer release()
		time.Sleep(faultRefresh + 500*time.Millisecond)

		code, body := get(t, p.url+"/metrics")
		if code != http.StatusOK {
			t.Fatalf("/metrics: %d", code)
		}
		size := len(body)
		// Read the national exposition over some 6 seconds.
		received, download := slowGet(t, p.url, "/metrics", max(size/6, 64<<10))

		// Readers and writers hammer the API; at SIGTERM every request
		// either completes or is refused a connection, never cut in its
		// answer. One sent just as the shutdown closes its connection (an
		// idle keep-alive one, or one still in the listener's backlog)
		// ends without any answer: HTTP/1.1 cannot tell the client before,
		// but pantau never read it, so it changed nothing (the stored
		// targets below are the acknowledged ones), and clients retry.
		var mu sync.Mutex
		statuses := map[int]int{}
		var cut []string
		unread := 0
		acked := map[string]int{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				client := &http.Client{Timeout: 20 * time.Second}
				kec := fmt.Sprintf("32.16.%02d", i+1)
				for n := 1; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					var req *http.Request
					if i%2 == 0 {
						req, _ = http.NewRequest(http.MethodGet, p.url+"/api/v1/progress?kpi=sembako_salur&level=provinsi", nil)
					} else {
						req, _ = http.NewRequest(http.MethodPut, fmt.Sprintf("%s/api/v1/targets/ewarong_aktif/%s/%d", p.url, kec, f.year),
							strings.NewReader(fmt.Sprintf(`{"target": %d, "reason": "shutdown"}`, n)))
						req.Header.Set("Authorization", "Bearer "+f.token)
					}
					resp, err := client.Do(req)
					if err != nil {
						var op *net.OpError
						mu.Lock()
						switch {
						case errors.As(err, &op) && op.Op == "dial":
							// refused: pantau has stopped listening
						case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
							unread++
						default:
							cut = append(cut, err.Error())
						}
						mu.Unlock()
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mu.Lock()
					statuses[resp.StatusCode]++
					if err != nil {
						cut = append(cut, err.Error())
					}
					if req.Method == http.MethodPut && resp.StatusCode < 300 {
						acked[kec] = n
					}
					mu.Unlock()
				}
			})
		}
		time.Sleep(500 * time.Millisecond)
		// Linux buffers up to tcp_wmem's 4 MiB a socket on the sending
		// side: with less than that left to read, pantau would have
		// finished sending and the download would not be in flight.
		atSignal := received.Load()
		if left := int64(size) - atSignal; left < 4<<20+64<<10 {
			t.Errorf("only %d bytes of /metrics were left to send at SIGTERM: the download was not in flight", left)
		}
		took := sigterm(t, p, 15*time.Second)
		close(stop)
		wg.Wait()
		got, announced, err := download()
		if err != nil || announced == 0 || got != announced {
			t.Errorf("the /metrics download in flight at SIGTERM: %d of %d bytes (%v), want all of it", got, announced, err)
		}
		if len(cut) > 0 {
			t.Errorf("%d requests cut at shutdown, first: %s", len(cut), cut[0])
		}
		requests := 0
		for code, n := range statuses {
			requests += n
			if code >= 300 {
				t.Errorf("%d requests answered %d during the shutdown", n, code)
			}
		}
		stored := map[string]float64{}
		for _, tg := range storedTargets(t, f.ts) {
			stored[tg.Region] = tg.Annual
		}
		for kec, n := range acked {
			if stored[kec] != float64(n) {
				t.Errorf("%s: the last acknowledged PUT set %d, the store holds %v", kec, n, stored[kec])
			}
		}
		var kecs []string
		for kec := range acked {
			kecs = append(kecs, kec)
		}
		checkAuditChains(t, f, kecs, stored)
		if n := historyRows(f); n != closed {
			t.Errorf("history of the closed month: %d rows after shutdown, %d before", n, closed)
		}
		t.Logf("SHUTDOWN with a refresh and requests in flight: exit 0 %s after SIGTERM; a %d-byte /metrics download (%d bytes read at SIGTERM) completed, %d API requests answered, 0 cut (%d sent as their connection closed, unread and unanswered), every acknowledged PUT stored and audited; history unchanged (%d rows)",
			took.Round(10*time.Millisecond), got, atSignal, requests, unread, closed)
	})
}
