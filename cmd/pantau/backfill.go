package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/history"
	"github.com/pantau-id/pantau/kpi"
)

var backfillCommand = &command{
	name:    "backfill",
	args:    "--config FILE --from YYYY-MM [--to YYYY-MM]",
	summary: "write closed months' final values to monthly history",
	help: `
Backfill computes closed months from the sources, as they stood at each
month's end, and writes them to the store's monthly history, so the history
covers months from before pantau was running. Months already in history
are skipped, so an interrupted backfill (Ctrl-C) resumes where it stopped
when run again. --to defaults to the last closed month.

On a terminal it shows a progress bar; otherwise it prints one line per month.
` + storeHelp + `
Example:

	pantau backfill --config examples/dinsos.yaml --from 2026-01
`,
	flags: func(fs *flag.FlagSet) { backfillFlags(fs) },
}

type backfillConfig struct {
	config, from, to, region string
	store                    storeFlags
}

func backfillFlags(fs *flag.FlagSet) *backfillConfig {
	c := &backfillConfig{}
	fs.StringVar(&c.config, "config", "", "KPI spec `file` (required)")
	fs.StringVar(&c.from, "from", "", "first `month` to write, like 2026-01 (required)")
	fs.StringVar(&c.to, "to", "", "last `month` to write (default: the last closed month)")
	fs.StringVar(&c.region, "region", "", "only this region `code` and below, as with serve --region")
	c.store.register(fs)
	return c
}

func init() { backfillCommand.run = runBackfill }

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	cfg := backfillFlags(fs)
	if code, ok := parseFlags(backfillCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	if cfg.config == "" || cfg.from == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "pantau backfill: name the spec and the first month, like: pantau backfill --config examples/dinsos.yaml --from 2026-01")
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pantau backfill: %v\n", err)
		return exitFailure
	}
	spec, err := config.Load(cfg.config)
	if err != nil {
		return fail(fmt.Errorf("%v\nfix the spec above (pantau check %s lists every problem)", err, cfg.config))
	}
	now := clockOf(ctx)()
	from, err := kpi.ParsePeriod(cfg.from, spec.Location)
	if err != nil {
		return fail(fmt.Errorf("--from: %v", err))
	}
	to := kpi.PeriodAt(now, spec.Location).Prev()
	if cfg.to != "" {
		if to, err = kpi.ParsePeriod(cfg.to, spec.Location); err != nil {
			return fail(fmt.Errorf("--to: %v", err))
		}
	}
	st, err := cfg.store.openStore(ctx, false)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	log, _ := newLogger(stderr, "text", "warn")
	rt, err := startRuntime(ctx, spec, cfg.region, st, log)
	if err != nil {
		return fail(err)
	}
	defer rt.close()

	bar := newProgressLine(stdout)
	written, err := history.Backfill(ctx, rt.collector, st, spec.KPIIDs(), from, to, now, bar.update)
	bar.finish()
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "backfill %s..%s done: %d history rows written\n", from, to, written)
	return exitOK
}

// progressLine draws a progress bar on a terminal and plain lines elsewhere
// (logs, CI, cron mail).
type progressLine struct {
	w        io.Writer
	terminal bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progressLine) update(done, total int, month kpi.Period, written int) {
	if !p.terminal {
		fmt.Fprintf(p.w, "%s: %d rows written (%d/%d)\n", month, written, done, total)
		return
	}
	const width = 30
	filled := width * done / total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total, month)
}

func (p *progressLine) finish() {
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}
