package collector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/wilayah"
)

// BenchmarkRefreshSQL runs real refreshes of examples/dinsos.yaml at
// national scale against the demo data set (demo.Generate, Scale 1: every
// kecamatan, January 2025 to the pinned instant in October 2026, about
// 2.5 M rows) in SQLite and in PostgreSQL, and splits each refresh into
// the database's part and pantau's:
//
//   - sql-s: wall time of the query phase, from the start of Refresh (which
//     pings the sources) to the moment the last query returned. KPIs query
//     concurrently (max_concurrent 4), so this is what the database costs a
//     refresh; pantau's row checks and Evaluate of KPIs whose queries
//     finished early overlap it.
//   - build-s: the rest of the refresh, after the last query returned: the
//     last KPI's row checks and Evaluate, then render (text + gzip). This is
//     what pantau adds to the database's time.
//   - build/sql: their ratio. It understates pantau's work: what pantau
//     does for KPIs whose queries finished early overlaps the query phase
//     and is counted in sql-s.
//   - query-sum-s: the sum of the queries' own durations (slot waits
//     included); larger than sql-s because the queries overlap.
//   - cpu-s: the CPU time (user + system, getrusage) the whole process
//     used during the refresh: pantau's work wherever it overlaps, plus the
//     driver's, plus, for SQLite, the in-process database engine's.
//   - render-s: after the timed loop, render alone of the last snapshot
//     (text + gzip), the bulk of build-s.
//   - replay-s, replay-cpu-s: after the timed loop, the same refresh with
//     the rows this refresh read served from memory (no database): all of
//     pantau's work with nothing overlapping it, in wall time and in CPU
//     time. replay/sql is the wall ratio.
//   - cpu/sql: replay-cpu-s ÷ sql-s, pantau's own CPU time per refresh
//     against the query phase's wall time: what pantau costs on top of the
//     database, overlapping or not. The goal is under 0.10.
//   - db-cpu-s: the database's CPU time per refresh. PostgreSQL: the CPU
//     the server backends of the benchmark's database used (read from
//     /proc, so only for a server on this machine); SQLite: cpu-s minus
//     replay-cpu-s. cpu/db-cpu is replay-cpu-s ÷ db-cpu-s: CPU against
//     CPU, which other load on a shared machine distorts far less than the
//     wall times.
//
// The first run generates the SQLite file (about 10 s at Scale 1) and
// loads a copy into PostgreSQL (skipped when PostgreSQL is unreachable and
// CI is unset); both are kept for the rest of the test binary's run. With
// PANTAU_BENCH_CACHE set to a directory the SQLite file is kept there
// across runs, named after its scale and a hash of the demo generator's
// sources.
//
// PANTAU_BENCH_SCALE sets demo.Options.Scale, the size of the household
// tables (default 1, 0.5 % of real volumes; 10 is about 22 M Sembako rows,
// 3 GB of SQLite, and two minutes to generate). A list ("1,10") runs every
// scale in the same test binary, as sub-benchmarks
// BenchmarkRefreshSQL/{sqlite,postgres}/scale=N, so their ratios come from
// one session (benchstat -col /scale compares them).
func BenchmarkRefreshSQL(b *testing.B) {
	scales, err := benchScales()
	if err != nil {
		b.Fatal(err)
	}
	for _, driver := range []string{source.DriverSQLite, source.DriverPostgres} {
		b.Run(driver, func(b *testing.B) {
			for _, scale := range scales {
				b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
					benchRefreshSQL(b, driver, scale)
				})
			}
		})
	}
}

// benchScales reads PANTAU_BENCH_SCALE: demo scales separated by commas or
// spaces, 1 when unset.
func benchScales() ([]float64, error) {
	env := os.Getenv("PANTAU_BENCH_SCALE")
	fields := strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return []float64{1}, nil
	}
	var scales []float64
	for _, f := range fields {
		s, err := strconv.ParseFloat(f, 64)
		if err != nil || !(s > 0 && s <= demo.MaxScale) {
			return nil, fmt.Errorf("PANTAU_BENCH_SCALE=%q: %q is not a scale in (0, %d]", env, f, demo.MaxScale)
		}
		if !slices.Contains(scales, s) {
			scales = append(scales, s)
		}
	}
	return scales, nil
}

// benchRefreshSQL is one BenchmarkRefreshSQL/driver/scale=N.
func benchRefreshSQL(b *testing.B, driver string, scale float64) {
	fx := demoFixture(b, scale)
	var dsn string
	if driver == source.DriverSQLite {
		dsn = fx.sqlitePath
	} else {
		dsn = fx.postgres(b)
	}
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		b.Fatal(err)
	}
	setDriver(spec, driver)
	src, err := source.Open(context.Background(), source.Config{Name: "dinsos", Driver: driver, DSN: dsn,
		Timeout: 10 * time.Minute, MaxConcurrent: spec.Sources["dinsos"].MaxConcurrent})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	tq := &timedQuerier{q: src}
	c, err := New(Options{Spec: spec, Regions: fx.regions, Sources: map[string]Querier{"dinsos": tq},
		Targets: fx.targets, Now: pinnedClock, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// One untimed refresh warms the connection pool and the
	// database's caches, and checks the data.
	checkRefresh(b, c.Refresh(ctx))

	var backends func() (time.Duration, bool)
	if driver == source.DriverPostgres {
		backends = postgresBackendsCPU(b, dsn)
	}

	b.ReportAllocs()
	var sqlT, buildT, sumT, cpuT, dbT time.Duration
	dbOK := backends != nil
	var s *Snapshot
	n := 0
	for b.Loop() {
		tq.reset()
		var db0, db1 time.Duration
		if dbOK {
			db0, dbOK = backends()
		}
		cpu0, cpuOK := processCPU()
		start := time.Now()
		s = c.Refresh(ctx)
		end := time.Now()
		cpu1, _ := processCPU()
		if cpuOK {
			cpuT += cpu1 - cpu0
		}
		if dbOK {
			db1, dbOK = backends()
			dbT += db1 - db0
		}
		first, last, sum := tq.span()
		if first.IsZero() {
			b.Fatal("the refresh ran no query")
		}
		sqlT += last.Sub(start)
		buildT += end.Sub(last)
		sumT += sum
		n++
	}
	checkRefresh(b, s)

	// Replay this refresh's rows from memory: pantau alone.
	rec := &recordingQuerier{q: src, res: map[string]source.Result{}}
	rc, err := New(Options{Spec: spec, Regions: fx.regions, Sources: map[string]Querier{"dinsos": rec},
		Targets: fx.targets, Now: pinnedClock, Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	checkRefresh(b, rc.Refresh(ctx))
	rec.replay = true
	const replays = 3
	var replayT, replayCPU time.Duration
	for range replays {
		cpu0, _ := processCPU()
		t0 := time.Now()
		checkRefresh(b, rc.Refresh(ctx))
		replayT += time.Since(t0)
		cpu1, _ := processCPU()
		replayCPU += cpu1 - cpu0
	}

	// And render alone, from scratch: every KPI's share included, as if
	// none had been rendered during the query phase.
	var renderT time.Duration
	for range replays {
		t0 := time.Now()
		render(unrendered(s))
		renderT += time.Since(t0)
	}

	sqlS, buildS := (sqlT / time.Duration(n)).Seconds(), (buildT / time.Duration(n)).Seconds()
	replayS := (replayT / replays).Seconds()
	b.ReportMetric((renderT / replays).Seconds(), "render-s")
	b.ReportMetric(sqlS, "sql-s")
	b.ReportMetric(buildS, "build-s")
	b.ReportMetric(buildS/sqlS, "build/sql")
	b.ReportMetric((sumT / time.Duration(n)).Seconds(), "query-sum-s")
	b.ReportMetric(replayS, "replay-s")
	b.ReportMetric(replayS/sqlS, "replay/sql")
	if _, ok := processCPU(); ok {
		replayCPUS := (replayCPU / replays).Seconds()
		b.ReportMetric((cpuT / time.Duration(n)).Seconds(), "cpu-s")
		b.ReportMetric(replayCPUS, "replay-cpu-s")
		b.ReportMetric(replayCPUS/sqlS, "cpu/sql")
		dbS := (cpuT / time.Duration(n)).Seconds() - replayCPUS // SQLite runs in this process
		if driver == source.DriverPostgres {
			dbS = (dbT / time.Duration(n)).Seconds()
		}
		if driver == source.DriverSQLite || dbOK {
			b.ReportMetric(dbS, "db-cpu-s")
			b.ReportMetric(replayCPUS/dbS, "cpu/db-cpu")
		}
	}
	b.ReportMetric(float64(s.Series()), "series")
	b.ReportMetric(float64(s.exposition.textBytes), "text-bytes")
	b.ReportMetric(float64(len(s.exposition.deflate)), "gzip-bytes")
}

// postgresBackendsCPU returns a function that reads the CPU time used so
// far by the PostgreSQL backends connected to dsn's database (other than
// its own), from /proc/PID/stat: the server must run on this machine. It
// reports false when it cannot read them.
func postgresBackendsCPU(b *testing.B, dsn string) func() (time.Duration, bool) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return func() (time.Duration, bool) {
		rows, err := db.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		if err != nil {
			return 0, false
		}
		defer rows.Close()
		var total time.Duration
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				return 0, false
			}
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				return 0, false
			}
			// Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s
			// (USER_HZ on Linux), after the command name in parentheses.
			f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
			if len(f) < 13 {
				return 0, false
			}
			utime, err1 := strconv.ParseInt(f[11], 10, 64)
			stime, err2 := strconv.ParseInt(f[12], 10, 64)
			if err1 != nil || err2 != nil {
				return 0, false
			}
			total += time.Duration(utime+stime) * 10 * time.Millisecond
		}
		return total, rows.Err() == nil
	}
}

// checkRefresh fails the benchmark when a KPI failed or rejected rows: a
// refresh that errors out early would time nothing worth writing down.
func checkRefresh(b *testing.B, s *Snapshot) {
	b.Helper()
	for _, st := range s.KPIs {
		if st.Err != "" || st.Stale || len(st.Progress) == 0 {
			b.Fatalf("KPI %s: err %q, stale %v, %d progress rows", st.Def.ID, st.Err, st.Stale, len(st.Progress))
		}
		for reason, n := range st.Rejected {
			if n > 0 {
				b.Fatalf("KPI %s rejected %d rows (%s)", st.Def.ID, n, reason)
			}
		}
	}
}

// timedQuerier records when the queries of a refresh started and ended.
type timedQuerier struct {
	q           Querier
	mu          sync.Mutex
	first, last time.Time
	sum         time.Duration
}

func (t *timedQuerier) Query(ctx context.Context, query string, p source.Params) (source.Result, error) {
	t0 := time.Now()
	res, err := t.q.Query(ctx, query, p)
	t1 := time.Now()
	t.mu.Lock()
	if t.first.IsZero() || t0.Before(t.first) {
		t.first = t0
	}
	if t1.After(t.last) {
		t.last = t1
	}
	t.sum += t1.Sub(t0)
	t.mu.Unlock()
	return res, err
}

func (t *timedQuerier) Ping(ctx context.Context) error { return t.q.Ping(ctx) }

func (t *timedQuerier) reset() {
	t.mu.Lock()
	t.first, t.last, t.sum = time.Time{}, time.Time{}, 0
	t.mu.Unlock()
}

func (t *timedQuerier) span() (first, last time.Time, sum time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.first, t.last, t.sum
}

// recordingQuerier keeps every result it reads; once replay is set it
// answers from them without touching the database.
type recordingQuerier struct {
	q      Querier
	mu     sync.Mutex
	res    map[string]source.Result
	replay bool
}

func (r *recordingQuerier) Query(ctx context.Context, query string, p source.Params) (source.Result, error) {
	key := fmt.Sprint(query, p.PeriodStart.Unix(), p.PeriodEnd.Unix(), p.YearStart.Unix())
	r.mu.Lock()
	res, ok := r.res[key]
	replay := r.replay
	r.mu.Unlock()
	if replay {
		if !ok {
			return source.Result{}, fmt.Errorf("replay: query not recorded")
		}
		return res, nil
	}
	res, err := r.q.Query(ctx, query, p)
	if err == nil {
		r.mu.Lock()
		r.res[key] = res
		r.mu.Unlock()
	}
	return res, err
}

func (r *recordingQuerier) Ping(ctx context.Context) error {
	if r.replay {
		return nil
	}
	return r.q.Ping(ctx)
}

// demoData is a demo data set the SQL benchmarks read, made once per scale
// and test binary run.
type demoData struct {
	regions    *kpi.Hierarchy
	opts       demo.Options
	targets    fixedTargets
	sqlitePath string
	info       string

	pgMu  sync.Mutex
	pgDSN string
}

var (
	demoMu   sync.Mutex
	demoSets = map[float64]*demoData{}
)

// demoFixture returns the demo data set at scale, generating it on first
// use. A failed or skipped attempt is retried by the next caller.
func demoFixture(b *testing.B, scale float64) *demoData {
	b.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if d := demoSets[scale]; d != nil {
		return d
	}
	regions, err := wilayah.Load()
	if err != nil {
		b.Fatal(err)
	}
	opts := demo.Options{Seed: 1, Scale: scale, Now: pinnedNow, Regions: regions}
	key, err := demoKey(opts)
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("PANTAU_BENCH_CACHE")
	if dir == "" {
		dir = benchTempDir(b)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("demo-scale%g-%s.db", scale, key))
	d := &demoData{regions: regions, opts: opts, sqlitePath: path,
		targets: fixedTargets{year: pinnedNow.Year(), targets: demo.Targets(opts)}}
	if _, err := os.Stat(path); err == nil {
		d.info = "reused " + path
	} else {
		start := time.Now()
		info, err := demo.Generate(context.Background(), path, opts)
		if err != nil {
			b.Fatal(err)
		}
		d.info = fmt.Sprintf("generated in %v: %s", time.Since(start).Round(100*time.Millisecond), info)
	}
	b.Logf("demo data, scale %g: %s", scale, d.info)
	demoSets[scale] = d
	return d
}

// demoKey names a generated data set after its options and the sources of
// the generator and schema, so a cached file is never stale.
func demoKey(opts demo.Options) (string, error) {
	files, err := filepath.Glob("../demo/*.go")
	if err != nil {
		return "", err
	}
	files = append(files, "../examples/dinsos-schema.sql")
	slices.Sort(files)
	h := sha256.New()
	fmt.Fprintf(h, "seed %d scale %g now %s\n", opts.Seed, opts.Scale, opts.Now.UTC().Format(time.RFC3339))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// postgres returns the DSN of a PostgreSQL database holding a copy of the
// SQLite data set, loading it on first use.
func (d *demoData) postgres(b *testing.B) string {
	b.Helper()
	d.pgMu.Lock()
	defer d.pgMu.Unlock()
	if d.pgDSN != "" {
		return d.pgDSN
	}
	start := time.Now()
	dsn := sourcetest.Postgres(processTB{b})
	if err := copyToPostgres(d.sqlitePath, dsn); err != nil {
		b.Fatal(err)
	}
	b.Logf("demo data copied to PostgreSQL in %v", time.Since(start).Round(100*time.Millisecond))
	d.pgDSN = dsn
	return dsn
}

// copyToPostgres creates the example schema in PostgreSQL and copies every
// table of the SQLite file into it with COPY, in batches of one
// transaction each; the indexes are built after the rows, then the tables
// are analysed, as a real source's would be.
func copyToPostgres(sqlitePath, pgDSN string) error {
	ctx := context.Background()
	lite, err := sql.Open("sqlite", "file:"+sqlitePath+"?mode=ro")
	if err != nil {
		return err
	}
	defer lite.Close()
	pg, err := sql.Open("postgres", pgDSN)
	if err != nil {
		return err
	}
	defer pg.Close()

	var tables, indexes []string
	for _, stmt := range sourcetest.Statements(examples.DinsosSchema) {
		if strings.HasPrefix(strings.ToUpper(stmt), "CREATE INDEX") {
			indexes = append(indexes, stmt)
		} else {
			tables = append(tables, stmt)
		}
	}
	for _, stmt := range tables {
		if _, err := pg.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("postgres: %s: %w", stmt, err)
		}
	}
	for _, table := range demo.Tables {
		if err := copyTable(ctx, lite, pg, table); err != nil {
			return fmt.Errorf("copy %s: %w", table, err)
		}
	}
	for _, stmt := range append(indexes, "VACUUM ANALYZE") {
		if _, err := pg.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("postgres: %s: %w", stmt, err)
		}
	}
	return nil
}

func copyTable(ctx context.Context, lite, pg *sql.DB, table string) error {
	const batch = 200_000
	rows, err := lite.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var tx *sql.Tx
	var stmt *sql.Stmt
	flush := func() error {
		if tx == nil {
			return nil
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			tx.Rollback()
			return err
		}
		stmt.Close()
		err := tx.Commit()
		tx, stmt = nil, nil
		return err
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if tx == nil {
			if tx, err = pg.BeginTx(ctx, nil); err != nil {
				return err
			}
			if stmt, err = tx.PrepareContext(ctx, "COPY "+table+" ("+strings.Join(cols, ", ")+") FROM STDIN"); err != nil {
				tx.Rollback()
				return err
			}
		}
		for i, v := range vals {
			switch v := v.(type) {
			case time.Time: // a DATE column, read back by the SQLite driver as a time
				vals[i] = v.Format(time.DateOnly)
			case []byte:
				vals[i] = string(v)
			}
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			tx.Rollback()
			return err
		}
		if n++; n%batch == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		if tx != nil {
			tx.Rollback()
		}
		return err
	}
	return flush()
}

// processTB hands its cleanups to the end of the test binary's run rather
// than to the benchmark it was made from: the PostgreSQL copy of the demo
// data outlives one benchmark function (b.Loop, -count) and is dropped in
// TestMain.
type processTB struct{ testing.TB }

func (processTB) Cleanup(f func()) { atExit.add(f) }

// Errorf reports a failed cleanup, which runs after the benchmark ended.
func (processTB) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// benchTempDir is a temporary directory removed when the test binary ends.
func benchTempDir(b *testing.B) string {
	dir, err := os.MkdirTemp("", "pantau-bench-")
	if err != nil {
		b.Fatal(err)
	}
	atExit.add(func() { os.RemoveAll(dir) })
	return dir
}

// cleanups run once, last added first.
type cleanups struct {
	mu sync.Mutex
	fs []func()
}

func (c *cleanups) add(f func()) {
	c.mu.Lock()
	c.fs = append(c.fs, f)
	c.mu.Unlock()
}

func (c *cleanups) run() {
	c.mu.Lock()
	fs := c.fs
	c.fs = nil
	c.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

var atExit cleanups

func TestMain(m *testing.M) {
	code := sourcetest.Main(m)
	atExit.run()
	os.Exit(code)
}
