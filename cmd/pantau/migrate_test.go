package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/store"
)

// The store commands are tested on both of the store's databases: SQLite
// in a temporary file, and PostgreSQL in a fresh database per test, dropped
// afterwards (see sourcetest).

// testStore is one empty database for a test.
type testStore struct {
	driver, dsn string
}

// flags are the command-line flags selecting the store.
func (ts testStore) flags() []string {
	return []string{"--store-driver", ts.driver, "--store-dsn", ts.dsn}
}

// open opens the store directly, to look at what the commands wrote.
func (ts testStore) open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), ts.driver, ts.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exec runs SQL on the store's database behind the store's back.
func (ts testStore) exec(t *testing.T, query string) {
	t.Helper()
	db, err := sql.Open(ts.driver, ts.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query); err != nil {
		t.Fatal(err)
	}
}

// newTestStore returns a new, empty database of the given driver. Without
// a reachable PostgreSQL it skips the test, or fails it when CI is set.
func newTestStore(t *testing.T, driver string) testStore {
	t.Helper()
	return testStore{driver: driver, dsn: sourcetest.DSN(t, driver)}
}

// onEachStore runs fn as a subtest on a new database of each driver.
func onEachStore(t *testing.T, fn func(t *testing.T, ts testStore)) {
	t.Helper()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			fn(t, newTestStore(t, driver))
		})
	}
}

// mustRun runs pantau and fails the test unless it exits with want.
func mustRun(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	return mustRunIn(t, context.Background(), want, args...)
}

// mustRunIn is mustRun with ctx, whose clock the command reads (see at).
func mustRunIn(t *testing.T, ctx context.Context, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := pantauIn(ctx, args...)
	if code != want {
		t.Fatalf("pantau %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	t.Run("applies every migration once, then nothing", func(t *testing.T) {
		t.Parallel()
		onEachStore(t, func(t *testing.T, ts testStore) {
			out, _ := mustRun(t, exitOK, append([]string{"migrate", "--status"}, ts.flags()...)...)
			if want := ts.driver + " store at migration 0; this pantau knows up to 5: 5 migrations pending (1 to 5); run: pantau migrate\n"; out != want {
				t.Errorf("status before:\n got %q\nwant %q", out, want)
			}
			out, _ = mustRun(t, exitOK, append([]string{"migrate"}, ts.flags()...)...)
			if want := "applied migrations 1, 2, 3, 4, 5: " + ts.driver + " store now at migration 5, the latest\n"; out != want {
				t.Errorf("first migrate:\n got %q\nwant %q", out, want)
			}
			out, _ = mustRun(t, exitOK, append([]string{"migrate"}, ts.flags()...)...)
			if want := "nothing to apply: " + ts.driver + " store at migration 5, the latest\n"; out != want {
				t.Errorf("second migrate:\n got %q\nwant %q", out, want)
			}
			out, _ = mustRun(t, exitOK, append([]string{"migrate", "--status"}, ts.flags()...)...)
			if want := ts.driver + " store at migration 5, the latest this pantau knows: up to date\n"; out != want {
				t.Errorf("status after:\n got %q\nwant %q", out, want)
			}
		})
	})
	t.Run("a database from a newer pantau is refused with the store's message", func(t *testing.T) {
		t.Parallel()
		onEachStore(t, func(t *testing.T, ts testStore) {
			mustRun(t, exitOK, append([]string{"migrate"}, ts.flags()...)...)
			ts.exec(t, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, TRUE)")
			const want = "store: database is at migration 999 but this pantau knows only up to 5; upgrade pantau or use the matching version\n"
			for _, args := range [][]string{
				{"migrate"},
				{"migrate", "--status"},
				{"targets", "import", "--config", "testdata/targets/spec.yaml", "testdata/targets/good.csv"},
				{"targets", "export", "--config", "testdata/targets/spec.yaml"},
			} {
				out, errOut := mustRun(t, exitFailure, append(args, ts.flags()...)...)
				cmd := "pantau " + args[0]
				if args[0] == "targets" {
					cmd += " " + args[1]
				}
				if out != "" || errOut != cmd+": "+want {
					t.Errorf("%s:\nstdout %q\nstderr %q", strings.Join(args, " "), out, errOut)
				}
			}
		})
	})
	t.Run("migrate takes no arguments", func(t *testing.T) {
		t.Parallel()
		_, errOut, code := pantau("migrate", "now")
		if code != exitUsage || !strings.Contains(errOut, `pantau migrate: takes no arguments, got "now"`) {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

// TestStoreDSNDefaults checks where the store is when no DSN is given: the
// environment variable, else pantau.db in the working directory.
func TestStoreDSNDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv(storeDSNEnv, "")
	mustRun(t, exitOK, "migrate")
	if _, err := os.Stat(filepath.Join(dir, "pantau.db")); err != nil {
		t.Errorf("migrate without a DSN did not create pantau.db in the working directory: %v", err)
	}

	other := filepath.Join(dir, "other.db")
	t.Setenv(storeDSNEnv, other)
	out, _ := mustRun(t, exitOK, "migrate")
	if !strings.HasPrefix(out, "applied migrations 1, 2, 3, 4") {
		t.Errorf("migrate with %s set: %q", storeDSNEnv, out)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("migrate did not use %s: %v", storeDSNEnv, err)
	}
	// The flag beats the environment.
	flagged := filepath.Join(dir, "flag.db")
	mustRun(t, exitOK, "migrate", "--store-dsn", flagged)
	if _, err := os.Stat(flagged); err != nil {
		t.Errorf("migrate did not use --store-dsn: %v", err)
	}

	t.Setenv(storeDSNEnv, "")
	_, errOut := mustRun(t, exitUsage, "migrate", "--store-driver", "postgres")
	if !strings.Contains(errOut, "--store-driver postgres needs a connection string: set PANTAU_STORE_DSN (or --store-dsn)") {
		t.Errorf("postgres without a DSN: %q", errOut)
	}
	_, errOut = mustRun(t, exitUsage, "migrate", "--store-driver", "mysql")
	if !strings.Contains(errOut, `unknown --store-driver "mysql"; use sqlite or postgres`) {
		t.Errorf("unknown driver: %q", errOut)
	}
}

func TestStoreDSNIsNeverPrinted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, driver, dsn string
		secrets           []string
	}{
		{"a postgres URL that cannot connect", "postgres", "postgres://pantau:s3cret-pw@127.0.0.1:1/pantau?sslmode=disable&connect_timeout=2", []string{"s3cret-pw", "127.0.0.1:1/pantau"}},
		{"a postgres key=value DSN that cannot connect", "postgres", "host=127.0.0.1 port=1 user=pantau password=s3cret-pw dbname=pantau sslmode=disable connect_timeout=2", []string{"s3cret-pw"}},
		{"a malformed postgres URL", "postgres", "postgres://pantau:s3cret-pw@127.0.0.1:99999999/pantau", []string{"s3cret-pw"}},
		{"a SQLite file in a missing directory", "sqlite", "/nonexistent/secret-dir/pantau.db", []string{"secret-dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{
				{"migrate"},
				{"targets", "export", "--config", "testdata/targets/spec.yaml"},
			} {
				args = append(args, "--store-driver", tt.driver, "--store-dsn", tt.dsn)
				out, errOut, code := pantau(args...)
				if code != exitFailure {
					t.Errorf("%s: exit %d, want %d; stderr %q", args[0], code, exitFailure, errOut)
				}
				for _, secret := range tt.secrets {
					if strings.Contains(out+errOut, secret) {
						t.Errorf("%s printed %q:\n%s%s", args[0], secret, out, errOut)
					}
				}
			}
		})
	}
}
