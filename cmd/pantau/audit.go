package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/targetfile"
)

type auditConfig struct {
	store       storeFlags
	kpi, region string
	since       string
	year        int
	format      string
}

func (c *auditConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kpi, "kpi", "", "show only the changes to this KPI's targets (an `id`, like ewarong_aktif)")
	fs.StringVar(&c.region, "region", "", "show only the changes to this region's targets (a `code`, like 32.16)")
	fs.StringVar(&c.since, "since", "", "show only the changes made on or after this `date` (2026-01-15, a day in WIB, or an RFC 3339 instant)")
	fs.IntVar(&c.year, "year", 0, "show only the changes to this `year`'s targets")
	fs.StringVar(&c.format, "format", "table", "`format` table (for people) or csv (for spreadsheets)")
	c.store.register(fs)
}

// parseSince reads --since: a day in Jakarta time, or an exact instant.
func parseSince(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, kpi.WIB); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: write a day like 2026-01-15 or an instant like 2026-01-15T08:00:00+07:00", s)
}

func runTargetsAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "targets audit"
	var cfg auditConfig
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
	f := store.AuditFilter{KPI: cfg.kpi, Region: cfg.region, Year: cfg.year}
	switch {
	case len(extra) > 0:
		return usage("takes no arguments (got %q); filter with --kpi, --region, --year and --since", extra[0])
	case cfg.format != "table" && cfg.format != "csv":
		return usage("--format %q: use table or csv", cfg.format)
	case cfg.since != "":
		t, err := parseSince(cfg.since)
		if err != nil {
			return usage("%v", err)
		}
		f.Since = t
	}
	if cfg.region != "" {
		if _, err := kpi.CodeLevel(cfg.region); err != nil {
			return usage("--region: %v", err)
		}
	}
	if _, _, err := cfg.store.resolve(); err != nil {
		return usage("%v", err)
	}
	s, err := cfg.store.openStore(ctx, false)
	if err != nil {
		fmt.Fprintf(stderr, "pantau %s: %v\n", cmd, err)
		return exitFailure
	}
	defer s.Close()
	entries, err := s.Audit(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "pantau %s: %v\n", cmd, err)
		return exitFailure
	}
	regions, err := regionsFor(func(yield func(string) bool) {
		for _, e := range entries {
			if !yield(e.Region) {
				return
			}
		}
	})
	if err != nil {
		fmt.Fprintf(stderr, "pantau %s: region master: %v\n", cmd, err)
		return exitFailure
	}
	if cfg.format == "csv" {
		err = writeAuditCSV(stdout, entries, regions)
	} else {
		err = writeAuditTable(stdout, entries, regions)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pantau %s: %v\n", cmd, err)
		return exitFailure
	}
	if len(entries) == 0 {
		fmt.Fprintf(stderr, "pantau %s: no changes match\n", cmd)
	}
	return exitOK
}

// regionName is a region's name from the master, empty when unknown.
func regionName(regions *kpi.Hierarchy, code string) string {
	r, _ := regions.Lookup(code)
	return r.Name
}

// auditChange says what an entry changed: the new target of a create, old
// → new of an update, the removed target of a delete.
func auditChange(e store.AuditEntry) string {
	switch {
	case e.Old != nil && e.New != nil:
		return describeUpdate(*e.Old, *e.New)
	case e.New != nil:
		return describeTarget(*e.New)
	case e.Old != nil:
		return "was " + describeTarget(*e.Old)
	}
	return ""
}

func writeAuditTable(w io.Writer, entries []store.AuditEntry, regions *kpi.Hierarchy) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN (WIB)\tBY\tACTION\tKPI\tREGION\tYEAR\tCHANGE\tREASON")
	for _, e := range entries {
		region := e.Region
		if name := regionName(regions, e.Region); name != "" {
			region += " " + name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ChangedAt.In(kpi.WIB).Format("2006-01-02 15:04:05"),
			e.ChangedBy, e.Action, e.KPI, region, e.Year, auditChange(e), orDash(e.Reason))
	}
	return tw.Flush()
}

// auditCSVHeader are the CSV columns: one per value, old and new apart, so
// a spreadsheet can filter and sum them.
var auditCSVHeader = []string{"changed_at", "changed_by", "action", "kpi", "region_code", "region_name", "year",
	"old_target", "new_target", "old_rate", "new_rate", "old_monthly", "new_monthly", "reason"}

func writeAuditCSV(w io.Writer, entries []store.AuditEntry, regions *kpi.Hierarchy) error {
	cw := csv.NewWriter(w)
	cw.Write(auditCSVHeader)
	values := func(t *kpi.Target) (target, rate, monthly string) {
		if t == nil {
			return "", "", ""
		}
		target = targetfile.FormatNumber(t.Annual)
		if t.Rate != 0 {
			rate = targetfile.FormatNumber(t.Rate)
		}
		if t.Profile != nil {
			parts := make([]string, len(t.Profile))
			for i, v := range t.Profile {
				parts[i] = targetfile.FormatNumber(v)
			}
			monthly = strings.Join(parts, " ")
		}
		return target, rate, monthly
	}
	for _, e := range entries {
		ot, or, om := values(e.Old)
		nt, nr, nm := values(e.New)
		cw.Write([]string{e.ChangedAt.In(kpi.WIB).Format(time.RFC3339), e.ChangedBy, string(e.Action), e.KPI,
			e.Region, regionName(regions, e.Region), strconv.Itoa(e.Year), ot, nt, or, nr, om, nm, e.Reason})
	}
	cw.Flush()
	return cw.Error()
}
