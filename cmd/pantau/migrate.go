package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pantau-id/pantau/store"
)

var migrateCommand = &command{
	name:    "migrate",
	args:    "[--status]",
	summary: "create or upgrade pantau's own database (the store)",
	help: `
Migrate brings pantau's own database (targets and their audit trail,
monthly history, API tokens) to the schema this pantau needs, applying the
pending migrations in order, and prints what it applied and the version the
database is at. Running it again applies nothing. On a new SQLite file it
creates the file.

With --status it changes nothing and prints the database's version, the
latest this pantau knows, and how many migrations are pending.

A database already migrated by a newer pantau is refused: this pantau would
not understand it. Upgrade pantau (or use the version that migrated it).

Exit status: 0 on success, 1 when the database cannot be used or migrated,
2 on a usage error.
` + storeHelp + `
Examples:

	pantau migrate
	pantau migrate --status
	PANTAU_STORE_DSN='postgres://pantau@db/pantau' pantau migrate --store-driver postgres
`,
	flags: func(fs *flag.FlagSet) { new(migrateConfig).register(fs) },
}

type migrateConfig struct {
	store  storeFlags
	status bool
}

func (c *migrateConfig) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.status, "status", false, "print the database's migration version and what is pending; change nothing")
	c.store.register(fs)
}

func init() { migrateCommand.run = runMigrate }

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg migrateConfig
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg.register(fs)
	if code, ok := parseFlags(migrateCommand, fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "pantau migrate: takes no arguments, got %q\nRun 'pantau help migrate' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pantau migrate: %v\n", err)
		return exitFailure
	}
	_, dsn, err := cfg.store.resolve()
	if err != nil {
		fmt.Fprintf(stderr, "pantau migrate: %v\n", err)
		return exitUsage
	}
	s, err := cfg.store.openStore(ctx, true)
	if err != nil {
		return fail(err)
	}
	defer s.Close()

	current, latest, err := s.Version(ctx)
	if err != nil {
		return fail(redactDSN(err, dsn))
	}
	if cfg.status {
		switch {
		case current > latest:
			return fail(&store.SchemaTooNewError{Current: current, Latest: latest})
		case current == latest:
			fmt.Fprintf(stdout, "%s store at migration %d, the latest this pantau knows: up to date\n", s.Driver(), current)
		default:
			fmt.Fprintf(stdout, "%s store at migration %d; this pantau knows up to %d: %s pending (%s); run: pantau migrate\n",
				s.Driver(), current, latest, plural(int(latest-current), "migration", "migrations"), versionRange(current+1, latest))
		}
		return exitOK
	}

	applied, err := s.Migrate(ctx)
	if err != nil {
		var tooNew *store.SchemaTooNewError
		if errors.As(err, &tooNew) {
			return fail(err)
		}
		if len(applied) > 0 {
			fmt.Fprintf(stdout, "applied %s before the failure\n", versionList(applied))
		}
		return fail(redactDSN(err, dsn))
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "nothing to apply: %s store at migration %d, the latest\n", s.Driver(), current)
		return exitOK
	}
	fmt.Fprintf(stdout, "applied %s: %s store now at migration %d, the latest\n",
		versionList(applied), s.Driver(), applied[len(applied)-1])
	return exitOK
}

// versionList writes "migration 3" or "migrations 1, 2, 3".
func versionList(vs []int64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(v)
	}
	if len(vs) == 1 {
		return "migration " + parts[0]
	}
	return "migrations " + strings.Join(parts, ", ")
}

func versionRange(from, to int64) string {
	if from == to {
		return fmt.Sprint(from)
	}
	return fmt.Sprintf("%d to %d", from, to)
}
