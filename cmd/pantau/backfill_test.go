package main

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// demoSource generates the demo's synthetic source for DKI Jakarta alone
// (44 kecamatan: quick even under the race detector) into a temporary
// SQLite file, points the example spec's DSN variable at it and returns
// its path.
func demoSource(t *testing.T, now time.Time) string {
	t.Helper()
	regions, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	dki, err := regions.Subtree("31")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dinsos-demo.db")
	start := time.Now()
	info, err := demo.Generate(context.Background(), path, demo.Options{Seed: 1, Scale: 0.05, Now: now, Regions: dki})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %s in %s", info, time.Since(start).Round(time.Millisecond))
	t.Setenv(dsnEnv, path)
	return path
}

// backfillLine is the plain progress line backfill prints per month when
// stdout is not a terminal.
var backfillLine = regexp.MustCompile(`^(\d{4}-\d{2}): (\d+) rows written \((\d+)/(\d+)\)$`)

// checkBackfillOutput asserts one progress line per month from..to in
// order, then the done line, and returns the rows written per month.
func checkBackfillOutput(t *testing.T, stdout string, months []kpi.Period) []int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(months)+1 {
		t.Fatalf("stdout has %d lines, want one per month (%d) and the done line:\n%s", len(lines), len(months), stdout)
	}
	written, total := make([]int, len(months)), 0
	for i, p := range months {
		m := backfillLine.FindStringSubmatch(lines[i])
		if m == nil || m[1] != p.String() || m[3] != strconv.Itoa(i+1) || m[4] != strconv.Itoa(len(months)) {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], fmt.Sprintf("%s: N rows written (%d/%d)", p, i+1, len(months)))
			continue
		}
		written[i], _ = strconv.Atoi(m[2])
		total += written[i]
	}
	if want := fmt.Sprintf("backfill %s..%s done: %d history rows written", months[0], months[len(months)-1], total); lines[len(months)] != want {
		t.Errorf("last line = %q, want %q", lines[len(months)], want)
	}
	return written
}

func TestBackfillWritesEachClosedMonthOnce(t *testing.T) {
	now := time.Now()
	demoSource(t, now)
	spec := exampleSpec(t, "sqlite", "5m")
	ts := migrated(t, newTestStore(t, "sqlite"))
	current := kpi.PeriodAt(now, jakarta)
	from := current.Prev().Prev().Prev()
	months := []kpi.Period{from, from.Next(), from.Next().Next()}
	// --region 31, as a per-province shard runs it: nationally every
	// kecamatan is zero-filled and a month is ~94,000 history rows, which
	// takes about a minute for three months under the race detector.
	args := append([]string{"backfill", "--config", spec, "--from", from.String(), "--region", "31"}, ts.flags()...)

	start := time.Now()
	stdout, stderr := mustRunIn(t, at(now), exitOK, args...)
	t.Logf("first backfill of %s..%s in %s", months[0], months[2], time.Since(start).Round(time.Millisecond))
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing", stderr)
	}
	for i, n := range checkBackfillOutput(t, stdout, months) {
		if n == 0 {
			t.Errorf("%s: no rows written", months[i])
		}
	}

	st := ts.open(t)
	ctx := context.Background()
	for _, p := range append(months, from.Prev(), current) {
		wantHas := p != from.Prev() && p != current
		for _, id := range exampleKPIs {
			has, err := st.HasHistory(ctx, id, p.String(), "")
			if err != nil {
				t.Fatal(err)
			}
			if has != wantHas {
				t.Errorf("history of %s for %s: %v, want %v", id, p, has, wantHas)
			}
		}
	}
	// Each month holds DKI Jakarta's level of that month's end.
	rows, err := st.History(ctx, store.HistoryFilter{KPI: "ewarong_aktif", Regions: []string{"31"}, Window: kpi.WindowMonth})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(months) {
		t.Errorf("ewarong_aktif history of 31: %d rows, want %d: %+v", len(rows), len(months), rows)
	}
	for i, r := range rows {
		if i < len(months) && (r.Period != months[i].String() || !r.Actual.OK || r.Actual.V <= 0) {
			t.Errorf("ewarong_aktif history of 31, row %d: %s actual %v; want %s with a positive level", i, r.Period, r.Actual, months[i])
		}
	}

	start = time.Now()
	stdout, _ = mustRunIn(t, at(now), exitOK, args...)
	t.Logf("second backfill in %s", time.Since(start).Round(time.Millisecond))
	for i, n := range checkBackfillOutput(t, stdout, months) {
		if n != 0 {
			t.Errorf("second run: %s: %d rows written, want 0", months[i], n)
		}
	}
}

func TestBackfillRefusesAMonthThatHasNotClosed(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	ts := migrated(t, newTestStore(t, "sqlite"))
	now := time.Now()
	current := kpi.PeriodAt(now, jakarta)
	stdout, stderr := mustRunIn(t, at(now), exitFailure, append([]string{"backfill", "--config", spec, "--from", current.Prev().String(), "--to", current.String()}, ts.flags()...)...)
	if want := "pantau backfill: backfill: " + current.String() + " has not closed yet; the latest closed month is " + current.Prev().String(); !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	st := ts.open(t)
	for _, id := range exampleKPIs {
		if has, err := st.HasHistory(context.Background(), id, current.Prev().String(), ""); err != nil || has {
			t.Errorf("history of %s for %s after a refused backfill: %v %v, want none", id, current.Prev(), has, err)
		}
	}
}

func TestBackfillRejectsABadCommandLine(t *testing.T) {
	t.Parallel()
	spec := "../../examples/dinsos.yaml"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"without --from it says how to name the first month", []string{"--config", spec}, exitUsage,
			"pantau backfill: name the spec and the first month, like: pantau backfill --config examples/dinsos.yaml --from 2026-01"},
		{"without --config it says how to name the spec", []string{"--from", "2026-01"}, exitUsage,
			"name the spec and the first month"},
		{"a stray argument is a usage error", []string{"--config", spec, "--from", "2026-01", "extra"}, exitUsage,
			"name the spec and the first month"},
		{"an unknown flag points at the help", []string{"--config", spec, "--bogus"}, exitUsage,
			"pantau backfill: flag provided but not defined: -bogus\nRun 'pantau help backfill' for usage."},
		{"a malformed --from fails naming the flag", []string{"--config", spec, "--from", "Januari 2026"}, exitFailure,
			"pantau backfill: --from: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := pantau(append([]string{"backfill"}, tc.args...)...)
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

// statusesOf returns the status column of a KPI's row in serve --once's
// summary.
func statusesOf(t *testing.T, summary, id string) string {
	t.Helper()
	for line := range strings.Lines(summary) {
		if strings.HasPrefix(line, id+" ") {
			return line
		}
	}
	t.Fatalf("summary has no row for %s:\n%s", id, summary)
	return ""
}

func TestServeStoreOnceShowsTheStoresTargets(t *testing.T) {
	sqliteSource(t)
	spec := exampleSpec(t, "sqlite", "5m")
	ts := migrated(t, newTestStore(t, "sqlite"))
	now := time.Now()
	year := now.In(jakarta).Year()

	// The spec gives ewarong_aktif no target: every region has none.
	// --region 32 keeps the refresh, and the month it closes into the
	// store's history, to Jawa Barat: quick under the race detector.
	stdout, stderr := mustRunIn(t, at(now), exitOK, "serve", "--config", spec, "--once", "--region", "32")
	judged := regexp.MustCompile(`\b(on_track|at_risk|behind) \d+`)
	if row := statusesOf(t, stdout, "ewarong_aktif"); judged.MatchString(row) || !strings.Contains(row, "no_target ") {
		t.Errorf("without the store, ewarong_aktif has a status against a target: %q\nstderr:\n%s", row, stderr)
	}
	if n := strings.Count(stdout, "Note:"); n != 1 || !regexp.MustCompile(`Note: ewarong_aktif, kube_jasa.* pantau's store.*pantau targets import --config `).MatchString(stdout) {
		t.Errorf("without the store, the summary should say once (not %d times) that count targets live in the store:\n%s", n, stdout)
	}

	// Kabupaten Bekasi: 3 e-Warong in the source, 5 due by December.
	ctx := context.Background()
	st, err := store.Open(ctx, ts.driver, ts.dsn)
	if err != nil {
		t.Fatal(err)
	}
	changes, _, err := st.PlanChanges(ctx, []kpi.Target{{KPI: "ewarong_aktif", Region: "32.16", Year: year, Annual: 5}})
	if err == nil {
		_, err = st.ApplyTargets(ctx, changes, "test", "Kabupaten Bekasi target")
	}
	st.Close()
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr = mustRunIn(t, at(now), exitOK, append([]string{"serve", "--config", spec, "--once", "--region", "32", "--store"}, ts.flags()...)...)
	if strings.Contains(stdout, "Note:") {
		t.Errorf("with --store, the summary still points at the store:\n%s", stdout)
	}
	if row := statusesOf(t, stdout, "ewarong_aktif"); !judged.MatchString(row) {
		t.Errorf("with the store, ewarong_aktif has no region on_track, at_risk or behind: %q\nstdout:\n%s\nstderr:\n%s", row, stdout, stderr)
	}
	// The other KPIs keep their spec's targets (or none).
	if row := statusesOf(t, stdout, "kube_jasa"); judged.MatchString(row) {
		t.Errorf("kube_jasa has a status against a target it does not have: %q", row)
	}
}
