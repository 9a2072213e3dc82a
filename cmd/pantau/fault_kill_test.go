package main

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// The kill -9 tests attack what the store makes durable, not pantau's
// concurrency: they run the plain binary (buildPantau), which under the
// race detector would take many times as long to import or close a month.

// killAttempts is how many times each kill -9 test kills pantau at a
// random moment of the write it attacks.
const killAttempts = 4

// kill9 kills the process at once, as the OOM killer or a power cut would,
// and waits for it to be gone.
func kill9(t *testing.T, cmd *exec.Cmd, done <-chan struct{}) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil && !strings.Contains(err.Error(), "finished") {
		t.Fatal(err)
	}
	<-done
}

// queryInts runs a query returning one row of integers on the store's
// database behind the store's back.
func queryInts(t *testing.T, ts testStore, query string, args ...any) []int {
	t.Helper()
	db, err := sql.Open(ts.driver, ts.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	row := db.QueryRow(sqlx.Rebind(sqlx.BindType(ts.driver), query), args...)
	cols := strings.Count(query[:strings.Index(query, " FROM ")], ",") + 1
	out := make([]int, cols)
	ptrs := make([]any, cols)
	for i := range out {
		ptrs[i] = &out[i]
	}
	if err := row.Scan(ptrs...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// kecamatanTargets writes a target file with an e-Warong target of value
// for every kecamatan in the country: 7,285 rows, so that an import takes
// long enough to be killed in the middle.
func kecamatanTargets(t *testing.T, year, value int) (path string, rows int) {
	t.Helper()
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("kode_wilayah;kpi;tahun;target\n")
	for _, r := range regions.Regions() {
		if r.Level != kpi.LevelKecamatan {
			continue
		}
		fmt.Fprintf(&b, "%s;ewarong_aktif;%d;%d\n", r.Code, year, value)
		rows++
	}
	path = filepath.Join(t.TempDir(), fmt.Sprintf("targets-%d.csv", value))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, rows
}

// TestKill9DuringTargetImport kills "pantau targets import" of 7,285
// targets at random moments: each import is all or nothing, and the audit
// trail has exactly one entry per target changed by the imports that
// finished.
func TestKill9DuringTargetImport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs large imports")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildPantau(t)
	spec := exampleSpec(t, "sqlite", "5m")
	year := time.Now().In(jakarta).Year()
	files := map[int]string{}
	var rows int
	for _, v := range []int{1, 2} {
		files[v], rows = kecamatanTargets(t, year, v)
	}
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			ts := migrated(t, newTestStore(t, driver))
			run := func(value int, killAfter time.Duration) (killed bool, took time.Duration) {
				t.Helper()
				cmd := exec.Command(bin, append(append([]string{"targets", "import", "--config", spec}, ts.flags()...), files[value])...)
				var out syncBuffer
				cmd.Stdout, cmd.Stderr = &out, &out
				start := time.Now()
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(killAfter):
					kill9(t, cmd, done)
					killed = true
				}
				if !killed && !cmd.ProcessState.Success() {
					t.Fatalf("import exited %v:\n%s", cmd.ProcessState, out.String())
				}
				return killed, time.Since(start)
			}
			// One import to completion: how long one takes, and the state
			// the attempts start from.
			_, full := run(1, time.Hour)
			state, audits := 1, rows
			killedMid := 0
			for range killAttempts {
				next := 3 - state // the other file: every row changes
				killed, _ := run(next, full/4+rand.N(full))
				// targets, distinct values, the lowest; audit entries
				got := queryInts(t, ts, "SELECT COUNT(*), COUNT(DISTINCT annual), MIN(annual) FROM targets")
				entries := queryInts(t, ts, "SELECT COUNT(*) FROM target_audit")[0]
				switch {
				case got[0] != rows || got[1] != 1:
					t.Fatalf("after kill -9: %d targets with %d distinct values, want %d all alike: the import was half-written", got[0], got[1], rows)
				case got[2] == next:
					state, audits = next, audits+rows
				case got[2] != state:
					t.Fatalf("after kill -9: all targets %d, want all %d or all %d", got[2], state, next)
				case !killed:
					t.Fatalf("the import finished but the targets are unchanged")
				default:
					killedMid++
				}
				if entries != audits {
					t.Fatalf("after kill -9: %d audit entries, want %d (one per change of the imports that finished)", entries, audits)
				}
			}
			if killedMid == 0 {
				t.Errorf("no kill landed before an import finished: the fault was not injected")
			}
			t.Logf("FAULT kill -9 during targets import (%s, %d rows, an import takes %s): %d attempts, %d killed mid-import and left nothing, %d finished whole; audit trail %d entries, as many as changes",
				driver, rows, full.Round(10*time.Millisecond), killAttempts, killedMid, killAttempts-killedMid, audits)
		})
	}
}

// TestKill9DuringAPITargetWrites kills pantau serve while writers PUT
// targets through the API: no acknowledged write is lost, nothing is half
// written, and every target's audit trail is complete and in order.
func TestKill9DuringAPITargetWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pantau repeatedly")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildPantau(t)
	pin := noonToday()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			f := newStoreFixture(t, newTestStore(t, driver), pin)
			kecamatan := []string{"32.16.01", "32.16.02", "32.16.03", "32.16.04"}
			// acked[k] is the last value the API acknowledged for
			// kecamatan k, sent[k] the last sent; values only grow.
			acked, sent := map[string]int{}, map[string]int{}
			var mu sync.Mutex
			writes, acks := 0, 0
			for attempt := range killAttempts {
				p := f.serve(t, bin, pin)
				waitReady(t, p)
				stop := make(chan struct{})
				var wg sync.WaitGroup
				for _, kec := range kecamatan {
					wg.Go(func() {
						client := &http.Client{Timeout: 10 * time.Second}
						for {
							select {
							case <-stop:
								return
							default:
							}
							mu.Lock()
							v := sent[kec] + 1
							sent[kec] = v
							writes++
							mu.Unlock()
							url := fmt.Sprintf("%s/api/v1/targets/ewarong_aktif/%s/%d", p.url, kec, f.year)
							req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(fmt.Sprintf(`{"target": %d, "reason": "attempt %d"}`, v, attempt)))
							req.Header.Set("Authorization", "Bearer "+f.token)
							resp, err := client.Do(req)
							if err != nil {
								return // pantau was killed
							}
							resp.Body.Close()
							if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
								mu.Lock()
								acked[kec] = v
								acks++
								mu.Unlock()
							} else {
								t.Errorf("PUT %s: %s", url, resp.Status)
								return
							}
						}
					})
				}
				time.Sleep(500*time.Millisecond + rand.N(1500*time.Millisecond))
				kill9(t, p.cmd, p.done)
				close(stop)
				wg.Wait()

				stored := map[string]float64{}
				for _, tg := range storedTargets(t, f.ts) {
					if tg.KPI == "ewarong_aktif" && strings.HasPrefix(tg.Region, "32.16.0") {
						stored[tg.Region] = tg.Annual
					}
				}
				for _, kec := range kecamatan {
					if got := int(stored[kec]); got < acked[kec] || got > sent[kec] {
						t.Errorf("attempt %d: %s holds %d; acknowledged %d, last sent %d: an acknowledged write was lost", attempt, kec, got, acked[kec], sent[kec])
					}
					// Resume from what is stored, so the next value changes it.
					sent[kec] = max(sent[kec], int(stored[kec]))
				}
				checkAuditChains(t, f, kecamatan, stored)
			}
			if acks == 0 {
				t.Fatal("no write was acknowledged")
			}
			t.Logf("FAULT kill -9 during API target writes (%s): %d kills, %d PUTs sent, %d acknowledged, 0 lost; audit trail complete and in order",
				driver, killAttempts, writes, acks)
		})
	}
}

// checkAuditChains checks each kecamatan's audit trail: one create, then
// updates each replacing the previous entry's value, ids increasing, the
// last one's value the stored target.
func checkAuditChains(t *testing.T, f *storeFixture, kecamatan []string, stored map[string]float64) {
	t.Helper()
	entries := f.audit(t)
	for _, kec := range kecamatan {
		var last *store.AuditEntry
		for _, e := range entries {
			if e.KPI != "ewarong_aktif" || e.Region != kec {
				continue
			}
			switch {
			case last == nil && e.Old != nil:
				t.Errorf("%s: the first audit entry %d replaces %v", kec, e.ID, e.Old)
			case last != nil && (e.Old == nil || e.Old.Annual != last.New.Annual || e.ID <= last.ID):
				t.Errorf("%s: audit entry %d replaces %v after entry %d left %v", kec, e.ID, e.Old, last.ID, last.New)
			}
			last = &e
		}
		if stored[kec] == 0 {
			if last != nil {
				t.Errorf("%s: no target stored, but the audit trail has entry %d", kec, last.ID)
			}
			continue
		}
		if last == nil || last.New == nil || last.New.Annual != stored[kec] {
			t.Errorf("%s: stored %v, the last audit entry %v", kec, stored[kec], last)
		}
	}
}

// TestKill9DuringMonthClose kills a national pantau serve at random moments
// after it starts, while it closes the previous month into monthly history
// (some 94,000 rows: a write long enough to be killed in): each time the month is in history whole or not at
// all, and after a last run it is there exactly once.
func TestKill9DuringMonthClose(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pantau repeatedly")
	}
	t.Parallel() // mostly waiting on pantau and the databases
	bin := buildPantau(t)
	pin := noonToday()
	prev := kpi.PeriodAt(pin, jakarta).Prev().String()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			ts := migrated(t, newTestStore(t, driver))
			sourceDSN := sourcetest.SQLite(t)
			sourcetest.Exec(t, "sqlite", sourceDSN, exampleData(pin)...)
			spec := faultSpec(t, "sqlite")
			args := append([]string{"serve", "--config", spec, "--listen", "127.0.0.1:0", "--store", "--at", pin.Format(time.RFC3339)}, ts.flags()...)
			env := []string{dsnEnv + "=" + sourceDSN}
			// The store's primary key (kpi, region, period, window) makes a
			// row twice impossible; what a kill could do is leave part of
			// the month.
			count := func() int {
				t.Helper()
				return queryInts(t, ts, "SELECT COUNT(*) FROM monthly_history WHERE period = ?", prev)[0]
			}
			// How long a start takes to close the month, from the moment it
			// serves: the window the kills aim at.
			p := startBinary(t, bin, env, args...)
			start := time.Now()
			waitFor(t, 3*time.Minute, "the month to close", func() bool { return strings.Contains(p.log.String(), "month closed into history") })
			closing := time.Since(start)
			kill9(t, p.cmd, p.done)
			full := count()
			if full == 0 {
				t.Fatal("no history written")
			}
			// Start again from an empty history for the attempts, and again
			// after each that closed the month whole. A kill lands after the
			// close a third of the time: the attempts go on (three times as
			// many at most) until one has landed before it.
			ts.exec(t, "DELETE FROM monthly_history")
			kills, none, whole := 0, 0, 0
			for ; kills < killAttempts || (none == 0 && kills < 3*killAttempts); kills++ {
				p := startBinary(t, bin, env, args...)
				time.Sleep(rand.N(closing * 3 / 2))
				kill9(t, p.cmd, p.done)
				switch n := count(); n {
				case 0:
					none++
				case full:
					whole++
					ts.exec(t, "DELETE FROM monthly_history")
				default:
					t.Fatalf("kill -9 %d left %d history rows of %s, want 0 or %d: half-written", kills+1, n, prev, full)
				}
			}
			// A last run to the end: the month closes once, and a restart
			// leaves it as it is.
			for range 2 {
				p := startBinary(t, bin, env, args...)
				waitFor(t, 3*time.Minute, "the month in history", func() bool { return count() == full })
				time.Sleep(2 * faultRefresh) // later refreshes close nothing again
				kill9(t, p.cmd, p.done)
			}
			if got := count(); got != full {
				t.Errorf("history of %s after the last runs: %d rows, want %d", prev, got, full)
			}
			if none == 0 {
				t.Errorf("every kill came after the month closed: the fault was not injected")
			}
			t.Logf("FAULT kill -9 during the month close (%s, %d rows of %s, closed %s after serving): %d kills, %d before the commit (nothing written), %d after (all %d rows); then exactly once",
				driver, full, prev, closing.Round(10*time.Millisecond), kills, none, whole, full)
		})
	}
}
