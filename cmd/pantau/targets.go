package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/suggest"
	"github.com/pantau-id/pantau/targetfile"
	"github.com/pantau-id/pantau/wilayah"
)

var targetsCommand = &command{
	name:    "targets",
	args:    "import|export|audit ...",
	summary: "import annual targets from CSV/XLSX into the store, export them, or show their audit trail",
	// help is completed in init with the subcommands' flags.
}

const targetsHelp = `
Targets manages the annual targets pantau measures progress against: one
per KPI, region and year, kept in pantau's store with an audit trail of
every change (who, when, why, the old and the new values).

	pantau targets import --config SPEC [flags] FILE
	pantau targets export --config SPEC [flags]
	pantau targets audit [--kpi ID] [--region CODE] [--since DATE] [--format csv]

Import reads a target file (.csv or .xlsx), checks every row against the
KPI spec and the Kepmendagri region master, and then writes all of it or
nothing: if any row is wrong, every problem is listed as
FILE:ROW: column value: reason, nothing is written, and the exit status is
1. Fix the rows and run the same command again.

The file needs a header row naming its columns, in Indonesian or English;
case and order do not matter, title rows above the header and other
columns (no, keterangan, ...) are ignored:

	kode_wilayah  region code, Kepmendagri dotted: 32 (provinsi), 32.16
	              (kabupaten/kota), 32.16.06 (kecamatan); also region_code, kode
	nama_wilayah  optional and ignored: names beside codes are for people
	kpi           a KPI id from the spec, like ewarong_aktif; also indikator
	tahun         the year, like 2026; also year
	target        the annual target of a count KPI, like 70 or 1.200
	rate          the target rate of a rate KPI, like 95% or 0,95 (optional
	              column; also target_rate, persentase)
	jan ... des   optional monthly targets of a count KPI (all twelve columns,
	              adding up to target); without them the target is spread
	              evenly over the year

For example, targets.csv:

	kode_wilayah,nama_wilayah,kpi,tahun,target,rate
	32.16.06,Tambun Selatan,ewarong_aktif,2026,70,
	32.16,Kabupaten Bekasi,sembako_salur,2026,,95%

Numbers follow Indonesian notation: '.' between thousands (1.234) and ','
before decimals (0,95); a dot that cannot separate thousands is a decimal
point (0.95). A number that could be read two ways, like 1,234, is rejected
rather than guessed. In XLSX files, cells stored as numbers are read
exactly, whatever their display format. CSV files may be separated by
commas or semicolons.

With --dry-run, import prints what it would do to each target (create;
update, with old → new; unchanged) and writes nothing. Otherwise it writes
every change in one transaction, records each in the audit trail with --by
and --reason, and prints a summary. Importing the same file again changes
nothing.

Export writes the stored targets in the same columns, with Indonesian
headers, so a file exported, edited and imported again changes exactly
what was edited. CSV goes to stdout unless -o names a file; XLSX needs -o.
Only the targets of the spec's KPIs are exported.

Audit shows the audit trail, newest first: when (in WIB), by whom, what
(create, update, delete), the KPI, region and year, the values old → new,
and the reason given. --format csv writes one column per value, old and new
apart, for a spreadsheet.

The store must exist and be migrated first: run pantau migrate once.
`

const targetsExamples = `
Exit status: 0 on success, 1 when the file, the spec or the store has a
problem (an import then writes nothing), 2 on a usage error.

Examples:

	pantau migrate
	pantau targets import --config dinsos.yaml --dry-run targets-2026.xlsx
	pantau targets import --config dinsos.yaml --reason "SK Kadinsos 12/2026" targets-2026.xlsx
	pantau targets export --config dinsos.yaml --year 2026 -o targets-2026.xlsx
	pantau targets export --config dinsos.yaml --kpi sembako_salur > sembako.csv
	pantau targets audit --region 31 --since 2026-01-01
	pantau targets audit --kpi ewarong_aktif --format csv > audit.csv
`

type importConfig struct {
	store      storeFlags
	config     string
	dryRun     bool
	by, reason string
}

func (c *importConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "KPI spec `file` whose KPIs the targets are for (required)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "print what would change and write nothing")
	fs.StringVar(&c.by, "by", "", "`name` recorded in the audit trail as making the changes (default $USER, else pantau)")
	fs.StringVar(&c.reason, "reason", "", "`text` recorded in the audit trail, like the decree the targets come from (default \"pantau targets import FILE\")")
	c.store.register(fs)
}

type exportConfig struct {
	store          storeFlags
	config         string
	year           int
	kpi            string
	format, output string
}

func (c *exportConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "KPI spec `file` whose KPIs' targets are exported (required)")
	fs.IntVar(&c.year, "year", 0, "export only this `year`'s targets, like 2026 (default every year)")
	fs.StringVar(&c.kpi, "kpi", "", "export only this KPI's targets (an `id` from the spec)")
	fs.StringVar(&c.format, "format", "", "`format` csv or xlsx (default from the -o file's extension, else csv)")
	fs.StringVar(&c.output, "o", "", "write to `file` instead of stdout (required for xlsx)")
	c.store.register(fs)
}

func init() {
	targetsCommand.run = runTargets
	var b strings.Builder
	b.WriteString(targetsHelp)
	b.WriteString(storeHelp)
	for _, sub := range []struct {
		name     string
		register func(fs *flag.FlagSet)
	}{
		{"import", func(fs *flag.FlagSet) { new(importConfig).register(fs) }},
		{"export", func(fs *flag.FlagSet) { new(exportConfig).register(fs) }},
		{"audit", func(fs *flag.FlagSet) { new(auditConfig).register(fs) }},
	} {
		fs := flag.NewFlagSet(sub.name, flag.ContinueOnError)
		sub.register(fs)
		fs.SetOutput(&b)
		fmt.Fprintf(&b, "\nFlags of %s:\n", sub.name)
		fs.PrintDefaults()
	}
	b.WriteString(targetsExamples)
	targetsCommand.help = b.String()
}

func runTargets(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "pantau targets: name what to do, import, export or audit, like: pantau targets import --config dinsos.yaml targets.xlsx\nRun 'pantau help targets' for usage.")
		return exitUsage
	}
	switch sub := args[0]; sub {
	case "import":
		return runTargetsImport(ctx, args[1:], stdout, stderr)
	case "export":
		return runTargetsExport(ctx, args[1:], stdout, stderr)
	case "audit":
		return runTargetsAudit(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		commandUsage(targetsCommand, stdout)
		return exitOK
	default:
		hint := ""
		for _, s := range []string{"import", "export", "audit"} {
			if suggest.Distance(sub, s) <= 2 {
				hint = " (did you mean " + s + "?)"
			}
		}
		fmt.Fprintf(stderr, "pantau targets: unknown subcommand %q%s; use import, export or audit\nRun 'pantau help targets' for usage.\n", sub, hint)
		return exitUsage
	}
}

// parseInterspersed parses flags that may come before or after the
// positional arguments (pantau targets import FILE --dry-run) and returns
// the positional ones. "--" ends the flags.
func parseInterspersed(name string, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (positional []string, code int, ok bool) {
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				commandUsage(targetsCommand, stdout)
				return nil, exitOK, false
			}
			fmt.Fprintf(stderr, "pantau %s: %v\nRun 'pantau help targets' for usage.\n", name, err)
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, exitOK, true
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(positional, rest...), exitOK, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// loadSpec loads the KPI spec, printing its problems.
func loadSpec(cmd, path string, stderr io.Writer) (*config.Spec, bool) {
	spec, err := config.Load(path)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		fmt.Fprintf(stderr, "pantau %s: fix the spec above (pantau check %s lists every problem)\n", cmd, path)
		return nil, false
	}
	return spec, true
}

// regionsFor loads the region master, with the desa/kelurahan only when a
// code needs them (they are ten times the rest).
func regionsFor(codes func(yield func(string) bool)) (*kpi.Hierarchy, error) {
	for code := range codes {
		if lvl, err := kpi.CodeLevel(code); err == nil && lvl == kpi.LevelDesa {
			return wilayah.LoadWithDesa()
		}
	}
	return wilayah.Load()
}

func runTargetsImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "targets import"
	var cfg importConfig
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfg.register(fs)
	files, code, ok := parseInterspersed(cmd, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if cfg.config == "" || len(files) != 1 {
		what := "name the KPI spec with --config and one target file"
		if len(files) > 1 {
			what = fmt.Sprintf("import one file at a time (got %d)", len(files))
		}
		fmt.Fprintf(stderr, "pantau %s: %s, like: pantau targets import --config dinsos.yaml targets.xlsx\nRun 'pantau help targets' for usage.\n", cmd, what)
		return exitUsage
	}
	if _, _, err := cfg.store.resolve(); err != nil {
		fmt.Fprintf(stderr, "pantau %s: %v\n", cmd, err)
		return exitUsage
	}
	file := files[0]
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "pantau %s: %s\n", cmd, fmt.Sprintf(format, args...))
		return exitFailure
	}

	spec, ok := loadSpec(cmd, cfg.config, stderr)
	if !ok {
		return exitFailure
	}
	rows, err := targetfile.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return fail("nothing was imported")
	}
	regions, err := regionsFor(func(yield func(string) bool) {
		for _, r := range rows {
			if !yield(r.Region) {
				return
			}
		}
	})
	if err != nil {
		return fail("region master: %v", err)
	}
	targets, problems := targetfile.Validate(rows, spec, regions)
	if len(problems) > 0 {
		badRows := map[int]bool{}
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
			badRows[p.Row] = true
		}
		return fail("%s in %s of %d; nothing was imported. Fix them and run the import again.",
			plural(len(problems), "problem", "problems"), plural(len(badRows), "row", "rows"), len(rows))
	}
	if len(targets) == 0 {
		return fail("%s has no target rows under its header; nothing to import", file)
	}

	s, err := cfg.store.openStore(ctx, false)
	if err != nil {
		return fail("%v", err)
	}
	defer s.Close()
	changes, planned, err := s.PlanChanges(ctx, targets)
	if err != nil {
		return fail("%v", err)
	}
	if cfg.dryRun {
		// Every row became one target, in order (there were no problems).
		for i, ch := range changes {
			fmt.Fprintf(stdout, "%s:%d: %s\n", file, rows[i].Line, describeChange(ch, regions))
		}
		fmt.Fprintf(stdout, "dry run: would create %d, update %d, leave %d unchanged; nothing was written\n",
			planned.Created, planned.Updated, planned.Unchanged)
		return exitOK
	}
	by := cfg.by
	if by == "" {
		by = os.Getenv("USER")
	}
	if strings.TrimSpace(by) == "" {
		by = "pantau"
	}
	reason := cfg.reason
	if reason == "" {
		reason = "pantau targets import " + filepath.Base(file)
	}
	done, err := s.ApplyTargets(ctx, changes, by, reason)
	if err != nil {
		return fail("%v; nothing was imported", err)
	}
	fmt.Fprintf(stdout, "imported %s: %d created, %d updated, %d unchanged (by %s)\n",
		file, done.Created, done.Updated, done.Unchanged, by)
	return exitOK
}

// describeChange writes one planned change, like
// "update ewarong_aktif 32.16.06 (Tambun Selatan) 2026: target 60 → 70".
func describeChange(ch store.Change, regions *kpi.Hierarchy) string {
	t := ch.Target
	region := t.Region
	if r, ok := regions.Lookup(t.Region); ok && r.Name != "" {
		region += " (" + r.Name + ")"
	}
	head := fmt.Sprintf("%s %s %s %d: ", ch.Action, t.KPI, region, t.Year)
	if ch.Action == store.ActionUpdate && ch.Old != nil {
		return head + describeUpdate(*ch.Old, t)
	}
	return head + describeTarget(t)
}

func describeTarget(t kpi.Target) string {
	if t.Annual == 0 && t.Rate != 0 {
		return "rate " + targetfile.FormatNumber(t.Rate)
	}
	s := "target " + targetfile.FormatNumber(t.Annual)
	if t.Rate != 0 {
		s += ", rate " + targetfile.FormatNumber(t.Rate)
	}
	if t.Profile != nil {
		s += ", monthly " + describeProfile(t.Profile)
	}
	return s
}

func describeUpdate(old, cur kpi.Target) string {
	var parts []string
	num := func(v float64) string {
		if v == 0 {
			return "none"
		}
		return targetfile.FormatNumber(v)
	}
	if old.Annual != cur.Annual {
		parts = append(parts, "target "+targetfile.FormatNumber(old.Annual)+" → "+targetfile.FormatNumber(cur.Annual))
	}
	if old.Rate != cur.Rate {
		parts = append(parts, "rate "+num(old.Rate)+" → "+num(cur.Rate))
	}
	if (old.Profile == nil) != (cur.Profile == nil) || !slices.Equal(old.Profile, cur.Profile) {
		parts = append(parts, "monthly "+describeProfile(old.Profile)+" → "+describeProfile(cur.Profile))
	}
	return strings.Join(parts, "; ")
}

func describeProfile(p []float64) string {
	if p == nil {
		return "linear"
	}
	parts := make([]string, len(p))
	for i, v := range p {
		parts[i] = targetfile.FormatNumber(v)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func runTargetsExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "targets export"
	var cfg exportConfig
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	cfg.register(fs)
	extra, code, ok := parseInterspersed(cmd, fs, args, stdout, stderr)
	if !ok {
		return code
	}
	usage := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "pantau %s: %s\nRun 'pantau help targets' for usage.\n", cmd, fmt.Sprintf(format, args...))
		return exitUsage
	}
	switch {
	case len(extra) > 0:
		return usage("takes no file argument (got %q); name the output file with -o", extra[0])
	case cfg.config == "":
		return usage("name the KPI spec with --config, like: pantau targets export --config dinsos.yaml -o targets.xlsx")
	case cfg.year != 0 && (cfg.year < targetfile.MinYear || cfg.year > targetfile.MaxYear):
		return usage("--year %d is out of range; pantau takes years %d to %d", cfg.year, targetfile.MinYear, targetfile.MaxYear)
	}
	var format targetfile.Format
	if cfg.format != "" {
		f, err := targetfile.ParseFormat(cfg.format)
		if err != nil {
			return usage("--format: %v", err)
		}
		format = f
	}
	if cfg.output != "" {
		f, err := targetfile.FormatOf(cfg.output)
		switch {
		case err != nil && format == "":
			return usage("-o %s: name the file .csv or .xlsx, or give --format", cfg.output)
		case err == nil && format != "" && f != format:
			return usage("--format %s but -o %s; make them agree", format, cfg.output)
		case format == "":
			format = f
		}
	}
	if format == "" {
		format = targetfile.CSV
	}
	if format == targetfile.XLSX && cfg.output == "" {
		return usage("an XLSX workbook goes to a file: add -o targets.xlsx")
	}
	if _, _, err := cfg.store.resolve(); err != nil {
		return usage("%v", err)
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "pantau %s: %s\n", cmd, fmt.Sprintf(format, args...))
		return exitFailure
	}

	spec, ok := loadSpec(cmd, cfg.config, stderr)
	if !ok {
		return exitFailure
	}
	if cfg.kpi != "" {
		if _, found := spec.KPI(cfg.kpi); !found {
			ids := make([]string, len(spec.KPIs))
			for i, k := range spec.KPIs {
				ids[i] = k.ID
			}
			return usage("--kpi %s is not in %s; its KPIs are %s", cfg.kpi, cfg.config, strings.Join(ids, ", "))
		}
	}
	s, err := cfg.store.openStore(ctx, false)
	if err != nil {
		return fail("%v", err)
	}
	defer s.Close()
	stored, err := s.ListTargets(ctx, store.TargetFilter{KPI: cfg.kpi, Year: cfg.year})
	if err != nil {
		return fail("%v", err)
	}
	targets := stored[:0:0]
	skipped := map[string]int{}
	for _, t := range stored {
		if _, found := spec.KPI(t.KPI); found {
			targets = append(targets, t)
		} else {
			skipped[t.KPI]++
		}
	}
	if len(skipped) > 0 {
		ids := make([]string, 0, len(skipped))
		n := 0
		for id, c := range skipped {
			ids = append(ids, id)
			n += c
		}
		slices.Sort(ids)
		fmt.Fprintf(stderr, "pantau %s: left out %s of KPIs not in %s: %s\n",
			cmd, plural(n, "target", "targets"), cfg.config, strings.Join(ids, ", "))
	}
	regions, err := regionsFor(func(yield func(string) bool) {
		for _, t := range targets {
			if !yield(t.Region) {
				return
			}
		}
	})
	if err != nil {
		return fail("region master: %v", err)
	}

	var buf bytes.Buffer
	if err := targetfile.Write(&buf, format, targets, regions); err != nil {
		return fail("%v", err)
	}
	if cfg.output == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fail("%v", err)
		}
		if len(targets) == 0 {
			fmt.Fprintf(stderr, "pantau %s: no targets match; wrote the header only\n", cmd)
		}
		return exitOK
	}
	if err := writeFileAtomic(cfg.output, buf.Bytes()); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "exported %s to %s\n", plural(len(targets), "target", "targets"), cfg.output)
	return exitOK
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so a failed export never leaves half a file behind.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
