package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/pantau-id/pantau/store"
)

// storeDSNEnv names the environment variable holding the store's
// connection string when --store-dsn is not given. The environment is the
// place for it: a command line is visible to every user of the machine.
const storeDSNEnv = "PANTAU_STORE_DSN"

// defaultSQLiteStore is the SQLite store used when no DSN is given.
const defaultSQLiteStore = "pantau.db"

// storeFlags are the flags shared by the commands that use pantau's own
// database (migrate, targets).
type storeFlags struct {
	driver, dsn string
}

// register declares --store-driver and --store-dsn. The DSN's default is
// resolved when the command runs, never printed: it may hold a password.
func (sf *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.driver, "store-driver", "sqlite", "pantau's own database: `driver` sqlite (a file, nothing to install) or postgres")
	fs.StringVar(&sf.dsn, "store-dsn", "", "connection `string` of pantau's own database (default: $"+storeDSNEnv+
		", else "+defaultSQLiteStore+" in the working directory for sqlite); prefer the environment variable, a command line is visible to other users")
}

// storeHelp is the paragraph the store commands' help texts share.
const storeHelp = `
pantau's own database (the store) is chosen with --store-driver and
--store-dsn. Without them pantau uses the SQLite file pantau.db in the
working directory. For PostgreSQL, put the connection string in the
environment rather than on the command line:

	export PANTAU_STORE_DSN='postgres://pantau:secret@db.example:5432/pantau?sslmode=require'
	pantau <command> --store-driver postgres ...

Connection strings are never printed, not even in error messages.
`

// resolve returns the driver and DSN to use.
func (sf *storeFlags) resolve() (driver, dsn string, err error) {
	driver = strings.ToLower(strings.TrimSpace(sf.driver))
	switch driver {
	case "sqlite", "postgres":
	case "postgresql", "pg":
		return "", "", fmt.Errorf("--store-driver %q is spelled postgres", sf.driver)
	case "sqlite3":
		return "", "", fmt.Errorf("--store-driver %q is spelled sqlite", sf.driver)
	default:
		return "", "", fmt.Errorf("unknown --store-driver %q; use sqlite or postgres", sf.driver)
	}
	dsn = sf.dsn
	if dsn == "" {
		dsn = os.Getenv(storeDSNEnv)
	}
	if dsn == "" {
		if driver == "postgres" {
			return "", "", fmt.Errorf("--store-driver postgres needs a connection string: set %s (or --store-dsn), like %s='postgres://pantau:secret@db.example:5432/pantau?sslmode=require'", storeDSNEnv, storeDSNEnv)
		}
		dsn = defaultSQLiteStore
	}
	return driver, dsn, nil
}

// openStore opens the store without migrating it. With create false it
// refuses a SQLite file that does not exist yet rather than creating an
// empty one, and a database that is not at this pantau's migration
// version, pointing at "pantau migrate".
func (sf *storeFlags) openStore(ctx context.Context, create bool) (*store.Store, error) {
	driver, dsn, err := sf.resolve()
	if err != nil {
		return nil, err
	}
	if !create && driver == "sqlite" {
		if path, ok := sqliteFile(dsn); ok {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				where := "the file named by --store-dsn or " + storeDSNEnv
				if dsn == defaultSQLiteStore {
					where = defaultSQLiteStore + " in the working directory"
				}
				return nil, fmt.Errorf("there is no pantau store yet (%s does not exist); create it with: pantau migrate", where)
			}
		}
	}
	s, err := store.Open(ctx, driver, dsn)
	if err != nil {
		return nil, redactDSN(err, dsn)
	}
	if create {
		return s, nil
	}
	current, latest, err := s.Version(ctx)
	switch {
	case err != nil:
		s.Close()
		return nil, redactDSN(err, dsn)
	case current > latest:
		s.Close()
		return nil, &store.SchemaTooNewError{Current: current, Latest: latest}
	case current < latest:
		s.Close()
		return nil, fmt.Errorf("the store is at migration %d but this pantau needs %d; run: pantau migrate", current, latest)
	}
	return s, nil
}

// sqliteFile returns the file a SQLite DSN names, false for an in-memory
// database.
func sqliteFile(dsn string) (string, bool) {
	path, query, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, ":memory:") || strings.Contains(query, "mode=memory") {
		return "", false
	}
	return path, true
}

// redactDSN removes the connection string, and the password in it, from a
// driver's error message.
func redactDSN(err error, dsn string) error {
	if err == nil || dsn == "" {
		return err
	}
	msg := err.Error()
	secrets := []string{dsn}
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
	}
	for _, field := range strings.Fields(dsn) { // key=value form: password=secret
		if v, ok := strings.CutPrefix(field, "password="); ok && v != "" {
			secrets = append(secrets, strings.Trim(v, "'"))
		}
	}
	redacted := false
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			msg, redacted = strings.ReplaceAll(msg, s, "<store-dsn>"), true
		}
	}
	if !redacted {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError keeps the wrapped error for errors.Is while hiding its text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
