package store

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// The tests run on both databases: SQLite in a temporary file, and
// PostgreSQL in a fresh database per test that is dropped afterwards (see
// sourcetest: without a reachable server the test is skipped, or fails
// when CI is set).

var drivers = []string{"sqlite", "postgres"}

// testDSN returns the DSN of a new, empty database.
func testDSN(tb testing.TB, driver string) string {
	tb.Helper()
	return sourcetest.DSN(tb, driver)
}

// openEmpty opens a store on a new, empty database, not migrated.
func openEmpty(tb testing.TB, driver string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), driver, testDSN(tb, driver))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// newStore opens a store on a new database migrated to the latest version.
func newStore(tb testing.TB, driver string) *Store {
	tb.Helper()
	s := openEmpty(tb, driver)
	if _, err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("Migrate: %v", err)
	}
	return s
}

// storeTest is a test that runs against a fresh store on each database.
type storeTest struct {
	name string
	run  func(t *testing.T, s *Store)
}

func runStoreTests(t *testing.T, tests []storeTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, driver := range drivers {
				t.Run(driver, func(t *testing.T) {
					tc.run(t, newStore(t, driver))
				})
			}
		})
	}
}

func TestSQLiteDSNs(t *testing.T) {
	tests := []struct {
		name           string
		dsn            string
		writer, reader []string // _pragma values expected
		notWriter      []string
		notReader      []string
		memory         bool
	}{
		{
			name:      "a plain file gets the default pragmas, an immediate writer and query-only readers",
			dsn:       "/var/lib/pantau/pantau.db",
			writer:    []string{"busy_timeout(5000)", "foreign_keys(1)", "journal_mode(WAL)"},
			reader:    []string{"busy_timeout(5000)", "foreign_keys(1)", "query_only(1)"},
			notReader: []string{"journal_mode(WAL)"},
		},
		{
			name:      "pragmas the user set are kept as given",
			dsn:       "pantau.db?_pragma=busy_timeout(100)&_pragma=synchronous(NORMAL)",
			writer:    []string{"busy_timeout(100)", "synchronous(NORMAL)", "foreign_keys(1)", "journal_mode(WAL)"},
			notWriter: []string{"busy_timeout(5000)"},
			reader:    []string{"busy_timeout(100)", "synchronous(NORMAL)", "query_only(1)"},
		},
		{
			name:   "an in-memory database is recognised",
			dsn:    ":memory:",
			writer: []string{"busy_timeout(5000)"},
			memory: true,
		},
		{
			name:   "a shared-cache memory URI is recognised",
			dsn:    "file:pantau?mode=memory&cache=shared",
			writer: []string{"journal_mode(WAL)"},
			memory: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, r, memory, err := sqliteDSNs(tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			if memory != tc.memory {
				t.Errorf("memory = %v, want %v", memory, tc.memory)
			}
			wq, rq := query(t, w), query(t, r)
			if got := wq.Get("_txlock"); got != "immediate" {
				t.Errorf("writer _txlock = %q, want immediate", got)
			}
			if got := rq.Get("_txlock"); got != "" {
				t.Errorf("reader _txlock = %q, want none", got)
			}
			check := func(who string, q url.Values, want []string, has bool) {
				for _, p := range want {
					found := false
					for _, v := range q["_pragma"] {
						found = found || v == p
					}
					if found != has {
						t.Errorf("%s pragmas %q: has %s = %v, want %v", who, q["_pragma"], p, found, has)
					}
				}
			}
			check("writer", wq, tc.writer, true)
			check("writer", wq, tc.notWriter, false)
			check("reader", rq, tc.reader, true)
			check("reader", rq, tc.notReader, false)
		})
	}
}

func query(t *testing.T, dsn string) url.Values {
	t.Helper()
	_, q, _ := strings.Cut(dsn, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	t.Run("an unknown driver is refused by name", func(t *testing.T) {
		_, err := Open(ctx, "mysql", "x")
		if err == nil || !strings.Contains(err.Error(), `unknown database driver "mysql"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an in-memory SQLite store works on one connection", func(t *testing.T) {
		s, err := OpenAndMigrate(ctx, "sqlite", ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.ApplyTargets(ctx, []Change{{Target: linear}}, "test", ""); err != nil {
			t.Fatal(err)
		}
		got, err := s.Targets(ctx, linear.Year)
		if err != nil || len(got) != 1 {
			t.Fatalf("Targets = %v, %v", got, err)
		}
	})
	t.Run("a SQLite file is switched to WAL", func(t *testing.T) {
		s := newStore(t, "sqlite")
		var mode string
		if err := s.rdb.GetContext(ctx, &mode, "PRAGMA journal_mode"); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" {
			t.Fatalf("journal_mode = %q, want wal", mode)
		}
	})
	t.Run("SQLite readers cannot write", func(t *testing.T) {
		s := newStore(t, "sqlite")
		_, err := s.rdb.ExecContext(ctx, "DELETE FROM targets")
		if err == nil {
			t.Fatal("a reader connection deleted rows")
		}
	})
}

func TestReadersDoNotWaitForWriters(t *testing.T) {
	runStoreTests(t, []storeTest{{
		name: "reads return while a write transaction is open",
		run: func(t *testing.T, s *Store) {
			ctx := context.Background()
			if _, err := s.ApplyTargets(ctx, []Change{{Target: linear}}, "test", ""); err != nil {
				t.Fatal(err)
			}
			tx, err := s.db.BeginTxx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, s.rebind("UPDATE targets SET annual = ?"), 1); err != nil {
				t.Fatal(err)
			}
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			got, err := s.Targets(rctx, linear.Year)
			if err != nil {
				t.Fatalf("read during a write transaction: %v", err)
			}
			if len(got) != 1 || got[0].Annual != linear.Annual {
				t.Fatalf("read %v, want the committed %v", got, linear)
			}
		},
	}})
}
