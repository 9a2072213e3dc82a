package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/httpserve"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

var demoCommand = &command{
	name:    "demo",
	summary: "run pantau on synthetic data for every kecamatan: nothing to install",
	help: `
Demo shows pantau working without any database to set up. It generates a
deterministic synthetic Dinas Sosial database (SQLite) for all 38 provinces
and every kecamatan, from January of last year up to today: e-Warong opening
and closing, KUBE groups, monthly Sembako allocations and distributions,
PKH stages and graduations, with a few regions lagging or stalled so that
there is something to find. It writes this year's targets (DKI Jakarta:
70 e-Warong and 71 KUBE Jasa) into a SQLite store, and then serves exactly
like 'pantau serve' with the ordinary spec examples/dinsos.yaml, only with
the source switched to the generated SQLite file. The overview at / (map,
ranking, drill-down and history; docs/overview.md) and the JSON API at
/api/v1 are open for reading without a token (serve's --api-open-read).
--web.config.file adds TLS and basic auth as for 'pantau serve' (see
pantau help serve).

While it serves, it closes every month from January of last year into the
store's monthly history, printing its progress, so that the API's history,
past months' progress and charts show more than a year from the first run.

The data directory is reused on the next run; the data is regenerated when
the day, --seed or --scale changes, or with --regenerate.

Example:

	go run ./cmd/pantau demo
	go run ./cmd/pantau demo --listen 127.0.0.1:9875 --scale 4
`,
	flags: func(fs *flag.FlagSet) { demoFlags(fs) },
}

type demoConfig struct {
	dataDir, listen, logFormat, logLevel string
	webConfig                            string
	scale                                float64
	seed                                 uint64
	regenerate                           bool
	at                                   atFlag
}

func demoFlags(fs *flag.FlagSet) *demoConfig {
	c := &demoConfig{}
	fs.StringVar(&c.dataDir, "data-dir", defaultDemoDir(), "`directory` for the generated source database and the store")
	fs.StringVar(&c.listen, "listen", defaultListen, "`address` to serve HTTP on")
	webConfigFlag(fs, &c.webConfig)
	fs.Float64Var(&c.scale, "scale", 1, "size `factor` of the household tables (1: about 13 Sembako households per kecamatan a month; larger for benchmarks)")
	fs.Uint64Var(&c.seed, "seed", 1, "`seed` of the synthetic data; the same seed, scale and day give the same data")
	fs.BoolVar(&c.regenerate, "regenerate", false, "generate the data again even if it is up to date")
	fs.StringVar(&c.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	c.at.register(fs, "data up to that day, progress as of that instant")
	return c
}

func defaultDemoDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "pantau-demo")
	}
	return "pantau-demo"
}

func init() { demoCommand.run = runDemo }

// demoStamp records what the generated data is, to decide whether it can
// be reused.
type demoStamp struct {
	Seed  uint64  `json:"seed"`
	Scale float64 `json:"scale"`
	Day   string  `json:"day"`
	Info  string  `json:"info"`
}

// demoSourceEnv is the variable the demo sets for the example spec's source.
const demoSourceEnv = "PANTAU_DEMO_SOURCE_DSN"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfg := demoFlags(fs)
	if code, ok := parseFlags(demoCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "pantau demo: takes no arguments; see pantau help demo")
		return exitUsage
	}
	log, err := newLogger(stderr, cfg.logFormat, cfg.logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "pantau demo: %v\n", err)
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pantau demo: %v\n", err)
		return exitFailure
	}
	if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
		return fail(err)
	}
	webCfg, err := httpserve.Load(cfg.webConfig, api.Prefix+"/")
	if err != nil {
		return fail(fmt.Errorf("--web.config.file: %w", err))
	}
	// Listen first: a port in use should fail before a minute of generating.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w (pick another with --listen)", cfg.listen, err))
	}
	defer ln.Close()

	ctx = cfg.at.clock(ctx)
	now := clockOf(ctx)()
	regions, err := wilayah.Load()
	if err != nil {
		return fail(err)
	}
	opts := demo.Options{Seed: cfg.seed, Scale: cfg.scale, Now: now, Regions: regions}
	sourcePath := filepath.Join(cfg.dataDir, "dinsos-demo.db")
	info, err := ensureDemoData(ctx, cfg, sourcePath, opts, stdout)
	if err != nil {
		return fail(err)
	}

	st, err := store.OpenAndMigrate(ctx, "sqlite", filepath.Join(cfg.dataDir, "pantau.db"))
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	targets := demo.Targets(opts)
	changes, _, err := st.PlanChanges(ctx, targets)
	if err != nil {
		return fail(err)
	}
	sum, err := st.ApplyTargets(ctx, changes, "pantau demo", "demo targets")
	if err != nil {
		return fail(err)
	}

	spec, err := config.Parse("examples/dinsos.yaml", examples.DinsosSpec)
	if err != nil {
		return fail(err)
	}
	for name, src := range spec.Sources {
		src.Driver, src.DSNEnv = "sqlite", demoSourceEnv
		spec.Sources[name] = src
	}
	os.Setenv(demoSourceEnv, sourcePath)
	rt, err := startRuntime(ctx, spec, "", st, log)
	if err != nil {
		return fail(err)
	}
	defer rt.close()
	rt.web = webCfg

	// The demo's API is open for reading: there is nothing secret in it.
	handler, err := rt.api(st, true)
	if err != nil {
		return fail(err)
	}
	current := kpi.PeriodAt(now, spec.Location)
	printDemoBanner(stdout, webCfg.Scheme()+"://"+ln.Addr().String(), cfg.dataDir, info, sum, current)
	printRateOverrides(stdout, spec, targets)

	// Close every month of the data into history, so that history, past
	// months' progress and charts have more than a year from the first
	// run. It runs beside serving, which answers at once; months already
	// closed are skipped, so later starts are quick.
	backfillCtx, stopBackfill := context.WithCancel(ctx)
	backfillDone := make(chan struct{})
	go func() {
		defer close(backfillDone)
		from := kpi.NewPeriod(current.Year()-1, time.January, spec.Location)
		fmt.Fprintf(stdout, "Closing %s..%s into monthly history...\n", from, current.Prev())
		bar := newProgressLine(stdout)
		written, err := history.Backfill(backfillCtx, rt.collector, st, spec.KPIIDs(), from, current.Prev(), now, bar.update)
		bar.finish()
		if err != nil {
			log.Warn("closing the demo's months into history", "err", err)
			return
		}
		fmt.Fprintf(stdout, "History: %s..%s closed, %d rows written\n", from, current.Prev(), written)
	}()
	defer func() { stopBackfill(); <-backfillDone }()
	if err := rt.serveOn(ctx, ln, handler); err != nil {
		return fail(err)
	}
	return exitOK
}

// ensureDemoData generates the source database unless the one in the data
// directory was made today with the same seed and scale.
func ensureDemoData(ctx context.Context, cfg *demoConfig, path string, opts demo.Options, stdout io.Writer) (string, error) {
	stampPath := filepath.Join(cfg.dataDir, "demo.json")
	want := demoStamp{Seed: opts.Seed, Scale: opts.Scale, Day: opts.Now.In(kpi.WIB).Format(time.DateOnly)}
	if !cfg.regenerate {
		var have demoStamp
		if b, err := os.ReadFile(stampPath); err == nil && json.Unmarshal(b, &have) == nil {
			if _, err := os.Stat(path); err == nil && have.Seed == want.Seed && have.Scale == want.Scale && have.Day == want.Day {
				fmt.Fprintf(stdout, "Reusing the synthetic data in %s\n", path)
				return have.Info, nil
			}
		}
	}
	fmt.Fprintf(stdout, "Generating synthetic data for %d kecamatan (seed %d, scale %g)...\n",
		opts.Regions.Count(kpi.LevelKecamatan), opts.Seed, opts.Scale)
	start := time.Now()
	info, err := demo.Generate(ctx, path, opts)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "Done in %s: %s\n", time.Since(start).Round(100*time.Millisecond), info)
	want.Info = info.String()
	b, _ := json.MarshalIndent(want, "", "  ")
	if err := os.WriteFile(stampPath, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	return want.Info, nil
}

// printRateOverrides explains the rate KPIs whose national target in the
// demo's store differs from the fixed rate of the spec: a reader comparing
// examples/dinsos.yaml with /metrics would otherwise take it for a bug.
func printRateOverrides(w io.Writer, spec *config.Spec, targets []kpi.Target) {
	for _, t := range targets {
		k, ok := spec.KPI(t.KPI)
		if !ok || t.Region != kpi.NationalCode || t.Rate == 0 || k.TargetRate == 0 || t.Rate == k.TargetRate {
			continue
		}
		fmt.Fprintf(w, `Note: %s's target is the store's national rate %.4g, not the %.4g of examples/dinsos.yaml.
      A target in the store overrides the spec's fixed rate; the demo sets its own
      because the synthetic data has far fewer households than the real programme.

`, t.KPI, t.Rate, k.TargetRate)
	}
}

func printDemoBanner(w io.Writer, base, dataDir, info string, targets store.Summary, period kpi.Period) {
	fmt.Fprintf(w, `
pantau demo is running on %[1]s (Ctrl-C stops it).

  Overview: %[1]s/
            open it in a browser: map, ranking, drill-down and history (read-only)
  Data:     %[2]s
            %[3]s
  Targets:  %[4]d created, %[5]d updated, %[6]d unchanged (store %[2]s/pantau.db)
  Month:    %[7]s (Asia/Jakarta)

Look at:
  %[1]s/metrics     Prometheus metrics (the first refresh takes a few seconds)
  %[1]s/api/v1/     the JSON API (docs/api.md), open for reading without a
      token in the demo (--api-open-read); writes need an admin token:
      pantau token create --store-dsn %[2]s/pantau.db --role admin --name me

Try:
  curl -s %[1]s/metrics | grep 'pantau_kpi_target{kpi="ewarong_aktif",level="provinsi",region_code="31",'
      DKI Jakarta's e-Warong target: 70 for the year, phased for this month
  curl -s '%[1]s/api/v1/ranking?kpi=sembako_salur&level=provinsi&limit=5'
      the five provinces furthest behind in distributing Sembako this month
  curl -s '%[1]s/api/v1/history?kpi=ewarong_aktif&region=31'
      DKI Jakarta's e-Warong month by month since January last year

Example PromQL, once Prometheus scrapes it (see prometheus.yml):
  pantau_kpi_status{kpi="sembako_salur",level="kabupaten_kota",window="month",status="behind"}
      * on (region_code) group_left (name) pantau_region_info
  bottomk(10, pantau_kpi_pace_ratio{kpi="ewarong_aktif",level="provinsi",window="year"})
  sum(pantau_kpi_numerator{kpi="sembako_salur",level="kabupaten_kota",province_code="32",window="month"})
    / sum(pantau_kpi_denominator{kpi="sembako_salur",level="kabupaten_kota",province_code="32",window="month"})

`, base, dataDir, info, targets.Created, targets.Updated, targets.Unchanged, period)
}
