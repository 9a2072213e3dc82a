package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pantau-id/pantau/config"
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
and CI logs can jump to it. A valid file gets a one-line summary on stdout.

Exit status: 0 when every file is valid, 1 when any is not, 2 on a usage
error.

Example:

	pantau check examples/dinsos.yaml
`,
}

func init() { checkCommand.run = runCheck }

func runCheck(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	if code, ok := parseFlags(checkCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	files := fs.Args()
	if len(files) == 0 {
		fmt.Fprintln(stderr, "pantau check: name at least one spec file, like: pantau check examples/dinsos.yaml")
		return exitUsage
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
		fmt.Fprintf(stdout, "%s: ok, %s, %s\n", file,
			plural(len(spec.Sources), "source", "sources"), plural(len(spec.KPIs), "KPI", "KPIs"))
	}
	return code
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
