// Command pantau tracks monthly KPI progress against targets for Dinas
// Sosial offices. It is one binary with subcommands; run "pantau help".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	// Periods are calendar months in a named zone (Asia/Jakarta); embed the
	// tz database so the binary works on machines without one.
	_ "time/tzdata"

	"github.com/pantau-id/pantau/suggest"
)

// command is one subcommand. To add one, write a file defining a command
// value and list it in commands.
type command struct {
	name    string
	args    string // the argument synopsis, like "FILE..."
	summary string // one line for the command list
	help    string // paragraphs for "pantau help NAME"
	// run receives the arguments after the command name.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// flags declares the command's flags on fs; nil when it has none.
	flags func(fs *flag.FlagSet)
}

// commands lists the subcommands in the order usage shows them.
func commands() []*command {
	return []*command{demoCommand, serveCommand, checkCommand, migrateCommand, targetsCommand, backfillCommand, rulesCommand, tokenCommand, versionCommand}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and found a problem (an invalid spec)
	exitUsage   = 2 // the command line itself is wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args (without the program name) and returns
// the exit code. Tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && name == "help" {
			return helpCommand(args[1], stdout, stderr)
		}
		usage(stdout)
		return exitOK
	case "-v", "-version", "--version":
		return runVersion(ctx, args[1:], stdout, stderr)
	default:
		c := lookup(name)
		if c == nil {
			fmt.Fprintf(stderr, "pantau: unknown command %q%s\nRun 'pantau help' for usage.\n", name, didYouMean(name))
			return exitUsage
		}
		return c.run(ctx, args[1:], stdout, stderr)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `pantau tracks monthly KPI progress against targets, per region, for
Dinas Sosial offices (e-Warong, KUBE, Sembako, PKH, ...).

Usage:

	pantau <command> [arguments]

Commands:

`)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "\t%s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, `
Run 'pantau help <command>' for more about a command.

See pantau working on synthetic data for every kecamatan (nothing to install):

	pantau demo

Check a KPI spec, for instance the example shipped with pantau:

	pantau check examples/dinsos.yaml
`)
}

func helpCommand(name string, stdout, stderr io.Writer) int {
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "pantau help: unknown command %q%s\nRun 'pantau help' for the list of commands.\n", name, didYouMean(name))
		return exitUsage
	}
	commandUsage(c, stdout)
	return exitOK
}

// commandUsage prints a command's synopsis, help text and flags.
func commandUsage(c *command, w io.Writer) {
	fmt.Fprintf(w, "Usage: pantau %s\n\n%s\n", strings.TrimSpace(c.name+" "+c.args), strings.TrimSpace(c.help))
	if c.flags != nil {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
		fs.SetOutput(w)
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

// parseFlags parses a command's flags. It returns ok false with the exit
// code when the command should stop: -h asked for help (0) or the flags are
// wrong (2).
func parseFlags(c *command, fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandUsage(c, stdout)
			return exitOK, false
		}
		fmt.Fprintf(stderr, "pantau %s: %v\nRun 'pantau help %s' for usage.\n", c.name, err, c.name)
		return exitUsage, false
	}
	return exitOK, true
}

func didYouMean(name string) string {
	best, bestDist := "", 3
	for _, c := range commands() {
		if d := suggest.Distance(name, c.name); d < bestDist {
			best, bestDist = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}
