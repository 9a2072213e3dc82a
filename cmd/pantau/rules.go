package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pantau-id/pantau/alerting"
	"github.com/pantau-id/pantau/config"
)

var rulesCommand = &command{
	name:    "rules",
	args:    "--config FILE [-o FILE]",
	summary: "write Prometheus alert and recording rules for a KPI spec",
	help: `
Rules writes a Prometheus rule file for the KPIs of a spec: alerts for
regions behind pace (at the levels the spec's alerts: section chooses,
kabupaten/kota and up by default), a month that closed below target, a
source down, a KPI stale, a region that stopped reporting and pantau
itself down; plus recording rules the Grafana dashboards read.

Load the file into Prometheus with rule_files (see prometheus.yml) and
check it with promtool check rules. docs/grafana.md lists every alert.

Example:

	pantau rules --config examples/dinsos.yaml -o rules/dinsos.rules.yml
`,
	flags: func(fs *flag.FlagSet) {
		fs.String("config", "", "the KPI spec `file`")
		fs.String("o", "", "write the rules to `file` instead of stdout")
	},
}

func init() { rulesCommand.run = runRules }

func runRules(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	rulesCommand.flags(fs)
	if code, ok := parseFlags(rulesCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	specFile, out := fs.Lookup("config").Value.String(), fs.Lookup("o").Value.String()
	if specFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "pantau rules: name the spec with --config, like: pantau rules --config examples/dinsos.yaml")
		return exitUsage
	}
	spec, err := config.Load(specFile)
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", specFile, err)
		}
		return exitFailure
	}
	rules, err := alerting.Generate(spec)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	data, err := rules.Marshal(specFile)
	if err != nil {
		fmt.Fprintf(stderr, "pantau rules: %v\n", err)
		return exitFailure
	}
	if out == "" {
		stdout.Write(data)
		return exitOK
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		fmt.Fprintf(stderr, "pantau rules: %v\n", err)
		return exitFailure
	}
	return exitOK
}
