package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/httpserve"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/overview"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

// defaultListen is pantau's port; 9875 is free among the well-known
// exporter ports.
const defaultListen = "127.0.0.1:9875"

var serveCommand = &command{
	name:    "serve",
	args:    "--config FILE",
	summary: "collect KPI progress from the sources and serve /metrics",
	help: `
Serve runs every KPI query of the spec at start and then every refresh
interval, computes progress for every region at every level, and serves it:

	/metrics   Prometheus exposition, rendered once per refresh
	/api/v1/   the JSON API (docs/api.md): progress, ranking, history,
	           slips, targets, export; needs a token (pantau token create)
	           unless --api-open-read
	/healthz   200 while the process runs
	/readyz    200 once every KPI has refreshed successfully at least once
	           (naming what is wrong, if anything: KPIs served stale, the
	           store failing); 503 naming the KPIs
	           that never have (a source unreachable since start-up) or
	           saying the first refresh is still running
	/          the overview (docs/overview.md): per KPI how the region stands
	           against its target, a map or ranked bars of the regions below,
	           a ranking and the year's history, and whether each KPI's data
	           is fresh, stale or failing; /wilayah/32.16 is one region.
	           Like the API it needs a token unless --api-open-read

Source connection strings come from the environment variables the spec
names (dsn_env). A source that is down or slow never stops the others: its
KPIs keep their last values, marked stale (pantau_kpi_stale, pantau_kpi_up
0); a KPI that has never succeeded has no values and says so
(pantau_kpi_never_succeeded). A refresh in which a KPI failed is retried
after 5s, then 10s, 20s, ... but never later than the next interval.

SIGHUP reloads the spec file (so does POST /-/reload with --enable-reload):
the new spec is checked first and, if it has any problem, the current one
stays in use, the reason is logged and pantau_spec_reloads_total{result=
"failure"} counts it; a good spec applies from the next refresh.

With --store it reads targets from pantau's store (migrating it first) and,
once a month has closed, writes its final values to monthly history.

With --once it runs a single refresh, prints a summary and exits: 0 when
every KPI refreshed, 1 when any failed. Useful from cron and for checking a
new spec against the real databases: per KPI the rows its month query
returned, the regions at its level without data and the rows rejected by
reason, then what to check (a query returning a region more than once, as
one without GROUP BY does; regions without data; a KPI without any target).

--web.config.file FILE takes Prometheus' web configuration (the format of
exporter-toolkit): TLS with tls_server_config, basic auth with
basic_auth_users (bcrypt hashes: htpasswd -nBC 10 "" | tr -d ':'). Basic
auth then guards /metrics, /readyz and the pages; a request to /api/v1
with a bearer token is authorized by the token instead. Every answer
carries security headers (nosniff, no framing, a strict
Content-Security-Policy).

SIGINT or SIGTERM stops serving gracefully: the refresh in flight is
cancelled and connections are closed.

Example:

	PANTAU_SOURCE_DINSOS_DSN='postgres://pantau@db/dinsos' \
	  pantau serve --config examples/dinsos.yaml --listen :9875
`,
	flags: func(fs *flag.FlagSet) { serveFlags(fs) },
}

type serveConfig struct {
	config, listen, region, logFormat, logLevel string
	webConfig                                   string
	once                                        bool
	store                                       storeFlags
	useStore                                    bool
	at                                          atFlag
	enableReload                                bool
	apiOpenRead                                 bool
}

func serveFlags(fs *flag.FlagSet) *serveConfig {
	serveCfg := &serveConfig{}
	fs.StringVar(&serveCfg.config, "config", "", "KPI spec `file` (required)")
	fs.StringVar(&serveCfg.listen, "listen", defaultListen, "`address` to serve HTTP on")
	webConfigFlag(fs, &serveCfg.webConfig)
	fs.StringVar(&serveCfg.region, "region", "", "collect only this region `code` and below (like 32 for Jawa Barat), to shard a national deployment per province")
	fs.BoolVar(&serveCfg.once, "once", false, "run one refresh, print a summary and exit")
	fs.StringVar(&serveCfg.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&serveCfg.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.BoolVar(&serveCfg.useStore, "store", false, "read targets from pantau's store and write closed months to its history (see --store-driver, --store-dsn)")
	fs.BoolVar(&serveCfg.enableReload, "enable-reload", false, "serve POST /-/reload, which reloads the spec like SIGHUP (off by default: anyone who can reach the port could trigger it)")
	fs.BoolVar(&serveCfg.apiOpenRead, "api-open-read", false, "let requests without a token read the JSON API at /api/v1 (writes still need an admin token)")
	serveCfg.store.register(fs)
	serveCfg.at.register(fs, "to replay a day or pin one in tests, never for a live deployment")
	return serveCfg
}

func init() { serveCommand.run = runServe }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := serveFlags(fs)
	if code, ok := parseFlags(serveCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	if cfg.config == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "pantau serve: name the KPI spec with --config FILE, like: pantau serve --config examples/dinsos.yaml")
		return exitUsage
	}
	ctx = cfg.at.clock(ctx)
	log, err := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "pantau serve: %v\n", err)
		return exitUsage
	}
	// The MySQL driver logs a cut connection itself, to stderr: into
	// pantau's log instead, in its format. The driver's logger is global,
	// so the first serve of the process sets it.
	mysqlLogOnce.Do(func() { _ = mysql.SetLogger(mysqlLog{log}) })
	spec, err := config.Load(cfg.config)
	if err != nil {
		fmt.Fprintf(stderr, "%v\npantau serve: fix the spec above (pantau check %s lists every problem)\n", err, cfg.config)
		return exitFailure
	}
	logSpecWarnings(log, spec)
	webCfg, err := httpserve.Load(cfg.webConfig, api.Prefix+"/")
	if err != nil {
		fmt.Fprintf(stderr, "pantau serve: --web.config.file: %v\n", err)
		return exitFailure
	}
	var st *store.Store
	if cfg.useStore {
		// Serving migrates at start-up, as 'pantau migrate' would; a store
		// newer than this binary is refused.
		if st, err = cfg.store.openStore(ctx, true); err != nil {
			fmt.Fprintf(stderr, "pantau serve: %v\n", err)
			return exitFailure
		}
		defer st.Close()
		if applied, err := st.Migrate(ctx); err != nil {
			fmt.Fprintf(stderr, "pantau serve: %v\n", err)
			return exitFailure
		} else if len(applied) > 0 {
			log.Info("store migrated", "applied", applied)
		}
	}
	rt, err := startRuntime(ctx, spec, cfg.region, st, log)
	if err != nil {
		fmt.Fprintf(stderr, "pantau serve: %v\n", err)
		return exitFailure
	}
	defer rt.close()
	rt.web = webCfg
	hint := storeHint(spec, cfg.config)
	if cfg.once {
		snap := rt.collector.Refresh(ctx)
		code := printSummary(stdout, snap, spec, cfg.useStore)
		if !cfg.useStore && hint != "" {
			fmt.Fprintf(stdout, "\nNote: %s\n", hint)
		}
		return code
	}
	if !cfg.useStore && hint != "" {
		log.Warn("serving without --store: " + hint)
	}
	rt.reloader = newReloader(cfg.config, rt.collector.Registry())
	rt.reloader.enabled = cfg.enableReload
	handler, err := rt.api(st, cfg.apiOpenRead)
	if err != nil {
		fmt.Fprintf(stderr, "pantau serve: %v\n", err)
		return exitFailure
	}
	if !cfg.apiOpenRead && st == nil {
		log.Warn("the JSON API needs tokens, and tokens live in the store: run with --store, or --api-open-read to let anyone read")
	}
	if err := rt.serve(ctx, cfg.listen, handler); err != nil {
		fmt.Fprintf(stderr, "pantau serve: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// webConfigFlag registers --web.config.file, named as in Prometheus and
// its exporters.
func webConfigFlag(fs *flag.FlagSet, p *string) {
	fs.StringVar(p, "web.config.file", "", "Prometheus-style web configuration `file`: TLS (tls_server_config) and basic auth (basic_auth_users) for the listener")
}

// logSpecWarnings logs what pantau check would warn about the spec.
func logSpecWarnings(log *slog.Logger, spec *config.Spec) {
	for _, w := range spec.Warnings {
		log.Warn("spec warning: "+w.Message, "file", w.File, "line", w.Line)
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

// mysqlLog passes the MySQL driver's messages to slog, as warnings.
type mysqlLog struct{ log *slog.Logger }

var mysqlLogOnce sync.Once

func (l mysqlLog) Print(v ...any) { l.log.Warn("mysql driver: " + fmt.Sprint(v...)) }

// app is a running collector with its open sources.
type app struct {
	regions   *kpi.Hierarchy
	collector *collector.Collector
	pool      sourcePool
	log       *slog.Logger
	// reloader is nil when there is no spec file to reload (the demo).
	reloader *reloader
	// web is the listener's TLS and basic auth; nil is plain HTTP.
	web *httpserve.Web
}

// startRuntime opens the spec's sources and wires a collector. With a store
// it reads targets from it, keeps the closed months' sums of the year
// window in it and, after each refresh, closes the previous month into
// monthly history (once: the store ignores rows already there).
// It does not refresh: serve refreshes in the background so /healthz
// answers at once.
func startRuntime(ctx context.Context, spec *config.Spec, region string, st *store.Store, log *slog.Logger) (*app, error) {
	regions, err := wilayah.Load()
	if err != nil {
		return nil, err
	}
	if region != "" {
		if _, err := kpi.CodeLevel(region); err != nil {
			return nil, fmt.Errorf("--region: %v", err)
		}
		if _, ok := regions.Lookup(region); !ok {
			return nil, fmt.Errorf("--region %s is not in the region master", region)
		}
	}
	rt := &app{regions: regions, log: log}
	queriers, err := rt.pool.connect(ctx, spec)
	if err != nil {
		rt.close()
		return nil, err
	}
	opts := collector.Options{Spec: spec, Regions: regions, Scope: region, Sources: queriers, Logger: log, Version: buildVersion(), Now: clockOf(ctx)}
	// Counted apart from the refresh: a month that cannot be closed is
	// retried after every refresh, and its values are not lost meanwhile.
	historyFailures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pantau_history_close_failures_total",
		Help: "Attempts to close the previous month into monthly history that failed (the store unreachable or full, a source query failing); each is retried after the next refresh.",
	})
	if st != nil {
		opts.Targets = st
		opts.ClosedMonths = st
		opts.AfterRefresh = func(ctx context.Context, s *collector.Snapshot) {
			spec := rt.collector.Spec() // the reloaded one, if any
			prev := kpi.PeriodAt(s.At, spec.Location).Prev()
			n, err := history.CloseMonth(ctx, rt.collector, st, spec.KPIIDs(), prev, s.At)
			if err != nil {
				historyFailures.Inc()
			}
			rt.collector.SetProblem("monthly history", err)
			switch {
			case err != nil:
				log.Warn("closing month into history", "period", prev.String(), "err", err)
			case n > 0:
				log.Info("month closed into history", "period", prev.String(), "rows", n)
			}
		}
	}
	rt.collector, err = collector.New(opts)
	if err != nil {
		rt.close()
		return nil, err
	}
	rt.collector.Registry().MustRegister(newPoolMetrics(&rt.pool, st))
	if st != nil {
		rt.collector.Registry().MustRegister(historyFailures)
	}
	return rt, nil
}

// api builds the JSON API over the collector and the store (st may be nil),
// and the overview pages over the API, and returns what mounts both on the
// mux.
func (rt *app) api(st *store.Store, openRead bool) (func(*http.ServeMux), error) {
	opts := api.Options{Snapshots: rt.collector, Regions: rt.regions, OpenRead: openRead, Logger: rt.log}
	if st != nil {
		opts.Store = st // a nil *store.Store must stay a nil interface
	}
	a, err := api.New(opts)
	if err != nil {
		return nil, err
	}
	ov, err := overview.New(overview.Options{Reader: a.Reader(), Root: rt.collector.Scope(), Ready: rt.collector.Ready, Logger: rt.log})
	if err != nil {
		return nil, err
	}
	return func(mux *http.ServeMux) {
		mux.Handle(api.Prefix+"/", a.Handler())
		ov.Mount(mux)
	}, nil
}

func buildVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionString(version, bi)
}

func (rt *app) close() {
	rt.pool.closeAll(func(name string, err error) { rt.log.Warn("closing source", "source", name, "err", err) })
}

// serve runs the refresh loop and the HTTP server until ctx is cancelled,
// then shuts both down. extra mounts more handlers (the API) on the mux.
func (rt *app) serve(ctx context.Context, listen string, extra func(*http.ServeMux)) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	return rt.serveOn(ctx, ln, extra)
}

func (rt *app) serveOn(ctx context.Context, ln net.Listener, extra func(*http.ServeMux)) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", rt.collector.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := rt.collector.Readiness(); err != nil {
			http.Error(w, "not ready: "+err.Error()+"\n", http.StatusServiceUnavailable)
			return
		}
		if problems := rt.collector.Problems(); len(problems) > 0 {
			fmt.Fprintf(w, "ok, with %d problems:\n%s\n", len(problems), strings.Join(problems, "\n"))
			return
		}
		io.WriteString(w, "ok\n")
	})
	rt.mountReload(mux)
	if extra != nil {
		extra(mux)
	}
	srv := newHTTPServer(mux, serverLimits)

	loopCtx, stopLoop := context.WithCancel(ctx)
	rt.watchReloads(loopCtx)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		rt.collector.Run(loopCtx)
	}()
	serveErr := make(chan error, 1)
	serve := rt.web.Configure(srv)
	go func() { serveErr <- serve(ln) }()
	spec := rt.collector.Spec()
	rt.log.Info("pantau serving", "address", rt.web.Scheme()+"://"+ln.Addr().String(), "listener", rt.web.Describe(),
		"kpis", len(spec.KPIs), "refresh", spec.Refresh)

	var err error
	select {
	case <-ctx.Done():
		rt.log.Info("shutting down")
	case err = <-serveErr:
	}
	stopLoop() // cancels the refresh in flight
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := srv.Shutdown(shutdownCtx); e != nil && err == nil {
		err = e
	}
	<-loopDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// printSummary reports a --once refresh: per KPI its month, the rows its
// month query returned, the regions at its level without data, status
// counts and problems; then what deserves a look before the spec goes live.
func printSummary(w io.Writer, s *collector.Snapshot, spec *config.Spec, useStore bool) int {
	code := exitOK
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "KPI\tPERIOD\tROWS\tNO DATA\tREGIONS\tSTATUS (month, %s)\tREJECTED\tERROR\n", "all levels")
	for _, st := range s.KPIs {
		counts := map[kpi.Status]int{}
		regions := 0
		for _, p := range st.Progress {
			if p.Window == kpi.WindowMonth {
				counts[p.Status]++
				regions++
			}
		}
		var parts []string
		for _, status := range kpi.Statuses {
			if counts[status] > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", status, counts[status]))
			}
		}
		var rejected []string
		for reason, n := range st.Rejected {
			rejected = append(rejected, fmt.Sprintf("%s %d", reason, n))
		}
		sort.Strings(rejected)
		errText, rows, noData := "-", "-", "-"
		if st.Err != "" {
			errText = st.Err
			code = exitFailure
		} else {
			rows = fmt.Sprint(st.Rows["month"])
			missing, of := withoutData(st)
			noData = fmt.Sprintf("%d/%d", len(missing), of)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", st.Def.ID, st.Period, rows, noData, regions,
			orDash(strings.Join(parts, ", ")), orDash(strings.Join(rejected, ", ")), errText)
	}
	tw.Flush()
	printRejectedTargets(w, s)
	printSpecWarnings(w, s, spec, useStore)
	fmt.Fprintf(w, "\n%d series, refreshed in %s at %s\n", s.Series(), s.Duration.Round(time.Millisecond), s.At.Format(time.RFC3339))
	return code
}

// withoutData returns the regions at a KPI's own level that have no data
// this month (no row, or only rejected ones), and how many regions that
// level has in scope.
func withoutData(st collector.KPIState) (missing []string, of int) {
	for _, p := range st.Progress {
		if p.Window != kpi.WindowMonth || p.Level != st.Def.Level {
			continue
		}
		of++
		if p.Status == kpi.NoData {
			missing = append(missing, p.Region)
		}
	}
	return missing, of
}

// printSpecWarnings lists what a refresh shows of a spec's likely mistakes:
// a query returning a row per record instead of per region, regions without
// data, a KPI with no target anywhere.
func printSpecWarnings(w io.Writer, s *collector.Snapshot, spec *config.Spec, useStore bool) {
	header := "\nCheck these:\n"
	say := func(format string, args ...any) {
		fmt.Fprintf(w, "%s  "+format+"\n", append([]any{header}, args...)...)
		header = ""
	}
	for _, st := range s.KPIs {
		if st.Err != "" {
			continue
		}
		k, _ := spec.KPI(st.Def.ID)
		if n := st.Rejected[collector.RejectDuplicate]; n > 0 {
			why := "check that it returns one row per region"
			if !k.GroupBy {
				why = "the query has no GROUP BY, so it returns a row per record: aggregate with GROUP BY region_code"
			}
			say("%s: the query returns regions more than once (%s dropped in this refresh's queries; the first row of each region counts); %s", st.Def.ID, plural(n, "row", "rows"), why)
		}
		if missing, of := withoutData(st); len(missing) > 0 {
			examples := missing
			if len(missing) > 3 {
				examples = append(missing[:3:3], "…")
			}
			say("%s: %d of %d %s have no data this month (%s): they show no_data, not zero", st.Def.ID, len(missing), of, st.Def.Level.Label(), strings.Join(examples, ", "))
		}
		if useStore && st.Targets == 0 && st.Def.TargetRate == 0 {
			say("%s: no target anywhere (none in the store for %d and no target rate in the spec): every region is no_target and no alert can fire; import targets with 'pantau targets import'", st.Def.ID, st.Period.Year())
		}
	}
}

// rejectedTargetText says what each reason of pantau_targets_rejected_total means.
var rejectedTargetText = map[string]string{
	kpi.RejectUnknownRegion: "for regions not in the region master",
	kpi.RejectInvalidTarget: "invalid",
}

// printRejectedTargets lists per KPI and reason the targets the refresh
// could not use, with a few examples: a target for a code missing from the
// region master would otherwise count for nothing without a word.
func printRejectedTargets(w io.Writer, s *collector.Snapshot) {
	header := "\nTargets not used (pantau_targets_rejected_total):\n"
	for _, st := range s.KPIs {
		for _, reason := range kpi.TargetRejectReasons {
			var n int
			var examples []string
			for _, r := range st.RejectedTargets {
				if r.Reason != reason {
					continue
				}
				if n++; n <= 3 && reason == kpi.RejectUnknownRegion {
					examples = append(examples, r.Region)
				} else if n <= 3 {
					examples = append(examples, r.Region+" ("+r.Detail+")")
				}
			}
			if n == 0 {
				continue
			}
			if n > 3 {
				examples = append(examples, "…")
			}
			fmt.Fprintf(w, "%s  %s: %d %s: %s\n", header, st.Def.ID, n, rejectedTargetText[reason], strings.Join(examples, ", "))
			header = ""
		}
	}
}

// storeHint says where targets come from, when the spec has KPIs that can
// only get theirs from the store: without --store they are all no_target.
func storeHint(spec *config.Spec, file string) string {
	var ids []string
	for _, k := range spec.KPIs {
		if k.Kind == kpi.KindCount || k.TargetRate == 0 {
			ids = append(ids, k.ID)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	return fmt.Sprintf("%s take their targets from pantau's store, so without --store they show no_target. "+
		"Import the targets with 'pantau targets import --config %s FILE' (after 'pantau migrate'), then run with --store.",
		strings.Join(ids, ", "), file)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
