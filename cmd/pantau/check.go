package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/wilayah"
)

var checkCommand = &command{
	name:    "check",
	args:    "FILE...",
	summary: "validate KPI spec files and report every problem",
	help: `
Check validates each KPI spec file: YAML syntax, unknown keys, sources,
KPI kinds and levels, targets, thresholds and the queries' parameters and
columns. A query must be one statement that only reads: a data-modifying
WITH (DELETE, INSERT, UPDATE), SELECT … INTO, a locking FOR UPDATE/SHARE
and functions with side effects (nextval, pg_terminate_backend, lo_import,
dblink, …) are reported at their line in the file. Check does not
connect to any database; at run time each query also runs in a read-only
transaction, and the account should be read-only too (see README.md).

Every problem is printed to stderr as file:line:column: message, so editors
and CI logs can jump to it. Likely mistakes that still load are printed the
same way as warnings (file:line:column: warning: message) and do not change
the exit status: a query that never uses :period_end (its months would
include the rows after them), a flow or rate query comparing a date with
= :period_start (its year window would see only January), and, with
--store, a KPI that has no target anywhere and no fixed rate. A valid file gets a summary on stdout: its
sources and KPIs, what goes to Prometheus (the spec's exposure) and how
many series that is at most for a national deployment.

With --store, check also reads this year's targets from pantau's store
(--store-driver, --store-dsn, as for pantau targets; --year for another
year) and warns about each KPI that has no target there and no target rate
in the spec: every region of it would be no_target and no alert could fire.
` + storeHelp + `
Exit status: 0 when every file is valid, 1 when any is not, 2 on a usage
error.

Example:

	pantau check examples/dinsos.yaml
`,
}

func init() { checkCommand.run = runCheck }

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var sf storeFlags
	useStore := fs.Bool("store", false, "also warn about KPIs without any target in pantau's store (see --store-driver, --store-dsn)")
	year := fs.Int("year", 0, "the `year` whose targets --store reads (default: this year in Asia/Jakarta)")
	sf.register(fs)
	if code, ok := parseFlags(checkCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "pantau check: name at least one spec file, like: pantau check examples/dinsos.yaml")
		return exitUsage
	}
	var targeted map[string]bool
	if *useStore {
		if *year == 0 {
			*year = clockOf(ctx)().In(kpi.WIB).Year()
		}
		var err error
		if targeted, err = kpisWithTargets(ctx, &sf, *year); err != nil {
			fmt.Fprintf(stderr, "pantau check: %v\n", err)
			return exitFailure
		}
	}
	code := exitOK
	for _, file := range files {
		spec, err := config.Load(file)
		if err != nil {
			var errs config.Errors
			if errors.As(err, &errs) {
				for _, e := range errs {
					fmt.Fprintln(stderr, e)
				}
			} else {
				fmt.Fprintf(stderr, "%s: %v\n", file, err)
			}
			code = exitFailure
			continue
		}
		for _, w := range spec.Warnings {
			w := *w
			w.Message = "warning: " + w.Message
			fmt.Fprintln(stderr, &w)
		}
		for _, k := range spec.KPIs {
			if targeted != nil && !targeted[k.ID] && k.TargetRate == 0 {
				fmt.Fprintf(stderr, "%s:%d: warning: %s KPI %s has no target in the store for %d and no target rate in the spec: every region would be no_target and no alert could fire; import its targets with pantau targets import\n",
					file, k.Line, k.Kind, k.ID, *year)
			}
		}
		fmt.Fprintf(stdout, "%s: ok, %s, %s\n", file,
			plural(len(spec.Sources), "source", "sources"), plural(len(spec.KPIs), "KPI", "KPIs"))
		if err := printExposure(stdout, spec); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			code = exitFailure
		}
	}
	return code
}

// kpisWithTargets returns the KPIs that have at least one target of the
// year in the store.
func kpisWithTargets(ctx context.Context, sf *storeFlags, year int) (map[string]bool, error) {
	st, err := sf.openStore(ctx, false)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ts, err := st.Targets(ctx, year)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, t := range ts {
		out[t.KPI] = true
	}
	return out, nil
}

// printExposure says what the spec sends to Prometheus, KPIs with the same
// exposure on one line, and the most series a national deployment exposes
// (every region with a value; a region without data has fewer).
func printExposure(w io.Writer, spec *config.Spec) error {
	load := wilayah.Load
	if slices.ContainsFunc(spec.KPIs, func(k config.KPI) bool { return k.Level == kpi.LevelDesa }) {
		load = wilayah.LoadWithDesa
	}
	h, err := load()
	if err != nil {
		return err
	}
	var lines, ids [][]string
	total := len(h.Regions()) // pantau_region_info
	for _, k := range spec.KPIs {
		e := k.Exposure
		families := 0
		for _, f := range e.Families {
			if k.Kind == kpi.KindRate || (f != "pantau_kpi_numerator" && f != "pantau_kpi_denominator") {
				families++
			}
		}
		for _, l := range e.Levels {
			if l <= k.Level {
				total += h.Count(l) * len(e.Windows) * families
			}
		}
		line := []string{"levels " + describe(e.Levels, kpi.Levels), "windows " + describe(e.Windows, kpi.Windows), "families " + describe(e.Families, config.Families)}
		if len(e.Levels) == 0 || len(e.Windows) == 0 || len(e.Families) == 0 {
			line = []string{"not exposed (API only)"}
		}
		if i := slices.IndexFunc(lines, func(x []string) bool { return slices.Equal(x, line) }); i >= 0 {
			ids[i] = append(ids[i], k.ID)
		} else {
			lines, ids = append(lines, line), append(ids, []string{k.ID})
		}
	}
	fmt.Fprintf(w, "  to Prometheus, nationally at most %d series (the API serves every level):\n", total)
	for i, l := range lines {
		fmt.Fprintf(w, "    %s: %s\n", strings.Join(ids[i], ", "), strings.Join(l, "; "))
	}
	return nil
}

// describe lists the chosen values, or "all".
func describe[T any](chosen, all []T) string {
	if len(chosen) == len(all) {
		return "all"
	}
	words := make([]string, len(chosen))
	for i, c := range chosen {
		words[i] = strings.TrimPrefix(fmt.Sprint(c), "pantau_kpi_")
	}
	return strings.Join(words, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
