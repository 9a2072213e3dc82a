package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
)

// Querier runs one query against a source; *source.Source is one.
type Querier interface {
	Query(ctx context.Context, query string, p source.Params) (source.Result, error)
	Ping(ctx context.Context) error
}

// TargetStore supplies the annual targets of a year for every KPI.
type TargetStore interface {
	Targets(ctx context.Context, year int) ([]kpi.Target, error)
}

// Options wire a Collector.
type Options struct {
	Spec *config.Spec
	// Regions is the full region master; rows are validated against it.
	Regions *kpi.Hierarchy
	// Scope limits collection to one region and below ("32" for a Jawa
	// Barat shard); empty or kpi.NationalCode means the whole country.
	Scope string
	// Sources maps each source name of the spec to its connection.
	Sources map[string]Querier
	// Targets may be nil: count KPIs then have no targets.
	Targets TargetStore
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Version is reported in pantau_build_info.
	Version string
	// ClosedMonths, when set, keeps the closed months' sums of the
	// year-to-date window across restarts.
	ClosedMonths ClosedMonthStore
	// AfterRefresh, when set, runs after each refresh of Run with the new
	// snapshot (closing the previous month into history, for one).
	AfterRefresh func(ctx context.Context, s *Snapshot)
	// RetryAfter is the first wait before Run retries a refresh in which a
	// KPI failed; it doubles with each failure in a row, and a retry never
	// comes later than the next regular refresh. 0 means DefaultRetryAfter.
	RetryAfter time.Duration
}

// DefaultRetryAfter is the first retry delay after a failed refresh: long
// enough not to hammer a source that is restarting, short enough that a
// blip does not cost a whole refresh interval of stale values.
const DefaultRetryAfter = 5 * time.Second

// lagLimit is how many months back a latest_data source is searched for
// data before the calendar month is used anyway.
const lagLimit = 12

// Collector refreshes KPI progress and publishes snapshots.
type Collector struct {
	opts    Options
	scoped  *kpi.Hierarchy
	expose  *exposure
	log     *slog.Logger
	snap    atomic.Pointer[Snapshot]
	metrics *selfMetrics
	// refreshMu serialises refreshes: the loop and --once never overlap.
	refreshMu sync.Mutex
	// lastTargets keeps the last targets read successfully, by year.
	targetsMu   sync.Mutex
	lastTargets map[int][]kpi.Target
	// closed holds a flow KPI's closed months, baselines a stock count's
	// level on 1 January, latest a latest_data KPI's latest month with
	// data; all by KPI id, one for every KPI, made in New (and for a
	// changed KPI when a reload is applied) and touched only by that KPI's
	// live refresh.
	closed    map[string]*closedMonths
	baselines map[string]*baseline
	latest    map[string]*latestMonth
	// spec is the spec in use, for readers outside the refresh (opts.Spec
	// only changes under refreshMu); pending is a reloaded one waiting for
	// the next refresh.
	spec      atomic.Pointer[config.Spec]
	pendingMu sync.Mutex
	pending   *reload
	// problems are failures outside the KPIs' refresh, by what failed
	// (SetProblem).
	problemsMu sync.Mutex
	problems   map[string]string
}

// New checks the wiring and prepares the self-metrics. It does not touch the
// sources: the first Refresh does.
func New(opts Options) (*Collector, error) {
	if opts.Spec == nil || opts.Regions == nil {
		return nil, errors.New("collector: spec and regions are required")
	}
	for _, k := range opts.Spec.KPIs {
		if opts.Sources[k.Source] == nil {
			return nil, fmt.Errorf("collector: kpi %s: source %s is not connected", k.ID, k.Source)
		}
	}
	if opts.Scope == "" {
		opts.Scope = kpi.NationalCode
	}
	scoped, err := opts.Regions.Subtree(opts.Scope)
	if err != nil {
		return nil, fmt.Errorf("collector: region scope: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	c := &Collector{opts: opts, scoped: scoped, expose: newExposure(opts.Spec, opts.Scope), log: opts.Logger, lastTargets: map[int][]kpi.Target{},
		closed: map[string]*closedMonths{}, baselines: map[string]*baseline{}, latest: map[string]*latestMonth{}, problems: map[string]string{}}
	for _, k := range opts.Spec.KPIs {
		c.closed[k.ID] = &closedMonths{}
		c.baselines[k.ID] = &baseline{}
		c.latest[k.ID] = &latestMonth{}
	}
	c.spec.Store(opts.Spec)
	c.metrics = newSelfMetrics(c, opts)
	return c, nil
}

// Scope is the region the collector collects: kpi.NationalCode, or the
// region of a shard.
func (c *Collector) Scope() string { return c.opts.Scope }

// Snapshot returns the latest published snapshot, nil before the first refresh.
func (c *Collector) Snapshot() *Snapshot { return c.snap.Load() }

// Ready reports whether the collector has values to serve; see Readiness.
func (c *Collector) Ready() bool { return c.Readiness() == nil }

// Registry holds the self-metrics and the Go and process collectors.
func (c *Collector) Registry() *prometheus.Registry { return c.metrics.registry }

// Run refreshes at once and then every spec.Refresh until ctx is done. A
// refresh in which a KPI failed is retried sooner, with backoff: after
// RetryAfter, then twice that, and so on, but never later than the next
// regular refresh.
func (c *Collector) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	next := time.Now() // the regular schedule
	var backoff time.Duration
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		s := c.Refresh(ctx)
		if c.opts.AfterRefresh != nil && ctx.Err() == nil {
			c.opts.AfterRefresh(ctx, s)
		}
		now, interval := time.Now(), c.Spec().Refresh
		if !next.After(now) {
			next = next.Add((now.Sub(next)/interval + 1) * interval)
		}
		wake := next
		if failed := s.Failed(); len(failed) > 0 && ctx.Err() == nil {
			backoff = max(c.opts.RetryAfter, 2*backoff)
			if at := now.Add(backoff); at.Before(next) {
				wake = at
				c.log.Info("retrying the failed KPIs' refresh before the next interval", "in", backoff, "kpis", failed)
			}
		} else {
			backoff = 0
		}
		timer.Reset(time.Until(wake))
	}
}

// Refresh runs every KPI once, publishes the new snapshot and returns it.
// KPIs whose queries fail keep their previous values, marked stale.
func (c *Collector) Refresh(ctx context.Context) *Snapshot {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	c.applyReload()
	start := time.Now()
	now := c.opts.Now()
	spec := c.opts.Spec
	calendar := kpi.PeriodAt(now, spec.Location)

	c.pingSources(ctx)
	prev := c.snap.Load()

	targets := &yearTargets{c: c, ctx: ctx}
	states := make([]KPIState, len(spec.KPIs))
	var wg sync.WaitGroup
	for i, k := range spec.KPIs {
		wg.Go(func() {
			st, err := c.safeRefreshKPI(ctx, k, calendar, now, targets, true)
			if err != nil {
				c.metrics.refreshFailures.WithLabelValues(k.ID).Inc()
				durations := st.Durations // of this refresh's queries, the failed one included
				st = staleState(prev, k.KPI, calendar, err)
				st.Durations = durations
				if st.Data() == DataStale {
					c.log.Warn("kpi refresh failed; keeping last good values", "kpi", k.ID, "source", k.Source, "err", err, "last_success", st.LastSuccess)
				} else {
					c.log.Warn("kpi refresh failed; it has never succeeded, so it has no values", "kpi", k.ID, "source", k.Source, "err", err)
				}
			} else {
				// Render now, while other KPIs' queries still run.
				st.part = renderKPI(&st, c.expose)
			}
			states[i] = st
		})
	}
	wg.Wait()

	snap := &Snapshot{At: now, Hierarchy: c.scoped, KPIs: states, exposure: c.expose}
	snap.exposition = render(snap)
	snap.Duration = time.Since(start)
	c.snap.Store(snap)
	c.metrics.observe(snap)
	return snap
}

func (c *Collector) pingSources(ctx context.Context) {
	var wg sync.WaitGroup
	for _, name := range c.opts.Spec.SourceNames {
		q := c.opts.Sources[name]
		if q == nil {
			continue
		}
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, c.opts.Spec.Sources[name].Timeout)
			defer cancel()
			up := 1.0
			if err := q.Ping(pctx); err != nil {
				up = 0
				c.log.Warn("source down", "source", name, "err", err)
			}
			c.metrics.sourceUp.WithLabelValues(name).Set(up)
		})
	}
	wg.Wait()
}

// ComputeMonth evaluates every KPI for a closed month as it stood at the
// month's end: the final values that go to monthly history. It publishes
// nothing. KPIs whose queries fail are left out and their errors joined.
func (c *Collector) ComputeMonth(ctx context.Context, p kpi.Period) ([]KPIState, error) {
	targets := &yearTargets{c: c, ctx: ctx}
	states := make([]KPIState, len(c.opts.Spec.KPIs))
	errs := make([]error, len(states))
	var wg sync.WaitGroup
	for i, k := range c.opts.Spec.KPIs {
		wg.Go(func() {
			states[i], errs[i] = c.safeRefreshKPI(ctx, k, p, p.End(), targets, false)
		})
	}
	wg.Wait()
	var ok []KPIState
	for i, st := range states {
		if errs[i] == nil {
			ok = append(ok, st)
		}
	}
	return ok, errors.Join(errs...)
}

// staleState carries a failed KPI's last good values over, marked stale.
func staleState(prev *Snapshot, def kpi.KPI, calendar kpi.Period, err error) KPIState {
	st := KPIState{Def: def, Period: calendar}
	if prev != nil {
		if old, ok := prev.KPI(def.ID); ok {
			st = old
		}
	}
	// Without earlier values there is nothing to be stale about: the KPI
	// simply has no data yet.
	st.Stale = st.Progress != nil
	st.Err = err.Error()
	st.Rejected, st.RejectedTargets = nil, nil
	return st
}

// yearTargets reads each year's targets at most once per refresh, and falls
// back to the last good read when the store fails.
type yearTargets struct {
	c    *Collector
	ctx  context.Context
	mu   sync.Mutex
	read map[int][]kpi.Target
	errs map[int]error
}

// forKPI returns the year's targets of one KPI. When the store fails and no
// earlier read of that year exists, it fails too: evaluating without targets
// would turn every region to no_target and silence the alerts.
func (y *yearTargets) forKPI(year int, id string) ([]kpi.Target, error) {
	if y.c.opts.Targets == nil {
		return nil, nil
	}
	y.mu.Lock()
	defer y.mu.Unlock()
	if y.errs == nil {
		y.read, y.errs = map[int][]kpi.Target{}, map[int]error{}
	}
	all, ok := y.read[year]
	if err := y.errs[year]; err != nil {
		return nil, err
	}
	if !ok {
		var err error
		all, err = y.c.opts.Targets.Targets(y.ctx, year)
		y.c.targetsMu.Lock()
		y.c.SetProblem("targets", err)
		if err != nil {
			y.c.metrics.targetFailures.Inc()
			last, had := y.c.lastTargets[year]
			if !had {
				y.c.targetsMu.Unlock()
				y.errs[year] = fmt.Errorf("reading the %d targets: %w", year, err)
				return nil, y.errs[year]
			}
			y.c.log.Warn("reading targets failed; using the last good ones", "year", year, "err", err)
			all = last
		} else {
			y.c.lastTargets[year] = all
		}
		y.c.targetsMu.Unlock()
		y.read[year] = all
	}
	var out []kpi.Target
	for _, t := range all {
		if t.KPI == id {
			out = append(out, t)
		}
	}
	return out, nil
}

// windowParams are the bound parameters of each query a KPI needs.
func monthParams(p kpi.Period) source.Params {
	return source.Params{PeriodStart: p.Start(), PeriodEnd: p.End(), YearStart: p.YearStart()}
}

func yearParams(p kpi.Period) source.Params {
	return source.Params{PeriodStart: p.YearStart(), PeriodEnd: p.End(), YearStart: p.YearStart()}
}

// baselineParams ask for the level on 1 January: the last month of the
// previous year.
func baselineParams(p kpi.Period) source.Params {
	dec := kpi.NewPeriod(p.Year()-1, time.December, p.Location())
	return monthParams(dec)
}

// ErrMonthNotAvailable says a lagging (latest_data) source has no rows for
// a closed month yet: the month is closed into history once it has.
var ErrMonthNotAvailable = errors.New("the source has no data for this month yet")

// safeRefreshKPI is refreshKPI with a panic turned into the KPI's error:
// a bug or bad input met by one KPI leaves that KPI stale and counted,
// never the process down with every other KPI.
func (c *Collector) safeRefreshKPI(ctx context.Context, k config.KPI, calendar kpi.Period, now time.Time, targets *yearTargets, live bool) (st KPIState, err error) {
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("kpi refresh panicked", "kpi", k.ID, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("kpi %s: internal error (panic: %v)", k.ID, v)
		}
	}()
	return c.refreshKPI(ctx, k, calendar, now, targets, live)
}

// refreshKPI runs one KPI's queries and evaluates its progress at now. A
// live refresh queries the month containing now (or, for a latest_data
// source, the latest month with data) and updates the self-metrics; closing
// a month (live false) evaluates exactly that month and leaves the live
// self-metrics alone.
func (c *Collector) refreshKPI(ctx context.Context, k config.KPI, calendar kpi.Period, now time.Time, targets *yearTargets, live bool) (KPIState, error) {
	st := KPIState{Def: k.KPI, Rejected: map[string]int{}, Durations: map[string]time.Duration{}, Rows: map[string]int{}}
	q := c.opts.Sources[k.Source]
	var examples []Rejection
	run := func(name string, p source.Params) (map[string]kpi.Observation, error) {
		t0 := time.Now()
		res, err := q.Query(ctx, k.Query, p)
		st.Durations[name] = time.Since(t0)
		if live {
			c.metrics.queryDuration.WithLabelValues(k.ID, name).Set(st.Durations[name].Seconds())
		}
		if err != nil {
			return nil, fmt.Errorf("kpi %s, %s query: %w", k.ID, name, err)
		}
		st.Rows[name] = len(res.Rows)
		obs, rejected, err := observations(c.opts.Regions, k.KPI, res)
		if err != nil {
			return nil, err
		}
		for _, r := range rejected {
			st.Rejected[r.Reason]++
			if st.Rejected[r.Reason] == 1 {
				examples = append(examples, r)
			}
		}
		return c.inScope(obs), nil
	}

	period := calendar
	var month map[string]kpi.Observation
	var err error
	lagging := c.opts.Spec.Sources[k.Source].CurrentMonth == config.CurrentMonthLatestData
	if live && lagging {
		period, month, err = c.latestWithData(k, calendar, now, run)
	} else {
		month, err = run("month", monthParams(period))
	}
	if err != nil {
		return st, err
	}
	if !live && lagging && len(month) == 0 {
		return st, fmt.Errorf("kpi %s, %s: %w", k.ID, period, ErrMonthNotAvailable)
	}
	in := kpi.Input{KPI: k.KPI, Hierarchy: c.scoped, Period: period, At: now, Month: month}
	if !period.Contains(now) {
		// A lagging source's latest month is judged as closed.
		in.At = period.End()
	}
	switch {
	case k.YearQuery() && live:
		if in.Year, err = c.yearFromClosed(ctx, k, period, now, month, run); err != nil {
			return st, err
		}
	case k.YearQuery():
		// Closing a month reads its year whole: once a month, and for
		// past years too (backfill).
		if in.Year, err = run("year", yearParams(period)); err != nil {
			return st, err
		}
	}
	switch {
	case k.BaselineQuery() && live:
		if in.Baseline, err = c.baselineOf(k, period, now, run); err != nil {
			return st, err
		}
	case k.BaselineQuery():
		if in.Baseline, err = run("baseline", baselineParams(period)); err != nil {
			return st, err
		}
	}
	ts, err := targets.forKPI(period.Year(), k.ID)
	if err != nil {
		return st, fmt.Errorf("kpi %s: %w", k.ID, err)
	}
	in.Targets = c.targetsInScope(ts)
	st.Targets = len(in.Targets)

	st.Progress, st.RejectedTargets = kpi.Evaluate(in)
	st.Period, st.LastSuccess = period, now

	if !live {
		return st, nil
	}
	for reason, n := range st.Rejected {
		c.metrics.rowsRejected.WithLabelValues(k.ID, reason).Add(float64(n))
	}
	if len(examples) > 0 {
		sort.Slice(examples, func(i, j int) bool { return examples[i].Reason < examples[j].Reason })
		for _, e := range examples {
			c.log.Warn("rows rejected", "kpi", k.ID, "reason", e.Reason, "count", st.Rejected[e.Reason], "example_row", e.Row, "example", e.Detail)
		}
	}
	c.reportTargets(k.ID, st.RejectedTargets)
	return st, nil
}

// reportTargets counts and logs the targets Evaluate could not use: one
// log line per reason, with the regions and the first one's detail.
func (c *Collector) reportTargets(id string, rejected []kpi.Rejection) {
	for _, reason := range kpi.TargetRejectReasons {
		var regions []string
		example := ""
		for _, r := range rejected {
			if r.Reason != reason {
				continue
			}
			if regions = append(regions, r.Region); len(regions) == 1 {
				example = r.Region + ": " + r.Detail
			}
			c.metrics.targetsRejected.WithLabelValues(id, reason).Inc()
		}
		if len(regions) > 0 {
			c.log.Warn("targets ignored", "kpi", id, "reason", reason, "regions", regions, "example", example)
		}
	}
}

// targetsInScope drops the targets of regions outside the collector's
// scope, as inScope drops their rows; targets for codes missing from the
// region master are kept, to be reported as unknown.
func (c *Collector) targetsInScope(ts []kpi.Target) []kpi.Target {
	if c.opts.Scope == kpi.NationalCode {
		return ts
	}
	var out []kpi.Target
	for _, t := range ts {
		_, inScope := c.scoped.Lookup(t.Region)
		_, inMaster := c.opts.Regions.Lookup(t.Region)
		if inScope || !inMaster {
			out = append(out, t)
		}
	}
	return out
}

// inScope drops rows outside the collector's region scope: a Jawa Barat
// shard reading a national database ignores the other provinces quietly.
func (c *Collector) inScope(obs map[string]kpi.Observation) map[string]kpi.Observation {
	if c.opts.Scope == kpi.NationalCode {
		return obs
	}
	for code := range obs {
		if !kpi.Contains(c.opts.Scope, code) {
			delete(obs, code)
		}
	}
	return obs
}
