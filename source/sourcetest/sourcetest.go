// Package sourcetest gives integration tests a fresh, empty database on the
// servers the development machines run, and removes it when the test ends.
//
// By default it uses PostgreSQL at 127.0.0.1:5432 (user postgres, trust
// authentication) and MariaDB/MySQL at 127.0.0.1:3306 (root, no password);
// PANTAU_TEST_POSTGRES (a postgres:// URL) and PANTAU_TEST_MYSQL (a
// go-sql-driver/mysql DSN) point it at other servers, with an account that
// may create databases. When a server cannot be reached the test is
// skipped, with a message saying how to start it, unless the environment
// variable CI is set: in CI a missing database is a failure. Unavailable
// and Program do the same for anything else a test needs (promtool,
// prometheus), and Main, called from TestMain, ends a local run that
// skipped tests with a summary of what did not run.
//
//	dsn := sourcetest.Postgres(t)
//	sourcetest.Exec(t, "postgres", dsn, `CREATE TABLE ewarong (…)`, `INSERT INTO …`)
package sourcetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// The admin DSNs used when the environment does not name others.
const (
	DefaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	DefaultMySQL    = "root@tcp(127.0.0.1:3306)/"
)

// server is a database server reached once per test binary.
type server struct {
	once  sync.Once
	admin *sql.DB
	dsn   string // the admin DSN
	err   error
}

var postgres, mariadb server

func (s *server) connect(driverName, envVar, def string) (*sql.DB, string, error) {
	s.once.Do(func() {
		s.dsn = os.Getenv(envVar)
		if s.dsn == "" {
			s.dsn = def
		}
		dsn := s.dsn
		switch driverName {
		case "postgres":
			u, err := url.Parse(dsn)
			if err != nil {
				s.err = fmt.Errorf("%s: %v", envVar, err)
				return
			}
			q := u.Query()
			if !q.Has("connect_timeout") {
				q.Set("connect_timeout", "3")
			}
			u.RawQuery = q.Encode()
			dsn = u.String()
		case "mysql":
			cfg, err := mysql.ParseDSN(dsn)
			if err != nil {
				s.err = fmt.Errorf("%s: %v", envVar, err)
				return
			}
			if cfg.Timeout == 0 {
				cfg.Timeout = 3 * time.Second
			}
			dsn = cfg.FormatDSN()
		}
		db, err := sql.Open(driverName, dsn)
		if err != nil {
			s.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			s.err = err
			return
		}
		db.SetMaxOpenConns(4)
		s.admin = db
	})
	return s.admin, s.dsn, s.err
}

// skipped counts, per missing thing, the tests Unavailable skipped.
var skipped struct {
	sync.Mutex
	tests map[string][]string // what → test names
	how   map[string]string   // what → how to provide it
}

// Unavailable skips the test because something it needs (what: a database
// server, a program) is missing, saying how to provide it; when the
// environment variable CI is set it fails the test instead. Every skip is
// remembered for Main's summary.
func Unavailable(t testing.TB, what, how string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not available: %v (CI is set, so this is a failure)", what, err)
	}
	skipped.Lock()
	if skipped.tests == nil {
		skipped.tests, skipped.how = map[string][]string{}, map[string]string{}
	}
	skipped.tests[what] = append(skipped.tests[what], t.Name())
	skipped.how[what] = how
	skipped.Unlock()
	t.Skipf("SKIPPED: %s is not available: %v; %s (set CI=1 to make this a failure)", what, err, how)
}

// Program returns the path of an installed program a test runs, or skips
// the test through Unavailable when it is missing.
func Program(t testing.TB, name, how string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name, how, err)
	}
	return path
}

// Main runs a package's tests (call it from TestMain: os.Exit(sourcetest.Main(m)))
// and then, when Unavailable skipped any, prints a summary to stderr: what
// was missing, how many tests it cost and how to provide it. go test shows
// a passing package's output with -v, or when run in the package's
// directory without arguments; the summary is the last thing printed.
func Main(m *testing.M) int {
	code := m.Run()
	skipped.Lock()
	defer skipped.Unlock()
	if len(skipped.tests) == 0 {
		return code
	}
	var b strings.Builder
	b.WriteString("\n" + strings.Repeat("!", 72) + "\n")
	whats := make([]string, 0, len(skipped.tests))
	for what := range skipped.tests {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	for _, what := range whats {
		tests := skipped.tests[what]
		fmt.Fprintf(&b, "!! SKIPPED %d test(s): %s is not available; %s\n", len(tests), what, skipped.how[what])
		for i, name := range tests {
			if i == 5 {
				fmt.Fprintf(&b, "!!     … and %d more\n", len(tests)-i)
				break
			}
			fmt.Fprintf(&b, "!!     %s\n", name)
		}
	}
	b.WriteString("!! These tests did not run: this is not a full pass. CI=1 makes them failures.\n")
	b.WriteString(strings.Repeat("!", 72) + "\n")
	fmt.Fprint(os.Stderr, b.String())
	return code
}

// Postgres creates an empty PostgreSQL database for the test, drops it when
// the test ends (closing any connection left to it), and returns its DSN.
func Postgres(t testing.TB) string {
	t.Helper()
	admin, adminDSN, err := postgres.connect("postgres", "PANTAU_TEST_POSTGRES", DefaultPostgres)
	if err != nil {
		Unavailable(t, "PostgreSQL", "start it (sudo service postgresql start; user postgres, trust auth on 127.0.0.1:5432) or set PANTAU_TEST_POSTGRES=postgres://user@host:port/postgres?sslmode=disable", err)
	}
	name := dbName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		t.Fatalf("sourcetest: create PostgreSQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			t.Errorf("sourcetest: drop PostgreSQL database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatalf("sourcetest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// MySQL creates an empty MySQL/MariaDB database for the test, drops it
// when the test ends, and returns its DSN.
func MySQL(t testing.TB) string {
	t.Helper()
	admin, adminDSN, err := mariadb.connect("mysql", "PANTAU_TEST_MYSQL", DefaultMySQL)
	if err != nil {
		Unavailable(t, "MySQL/MariaDB", "start it (sudo service mariadb start; root without password on 127.0.0.1:3306) or set PANTAU_TEST_MYSQL=user:pass@tcp(host:port)/", err)
	}
	name := dbName()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("sourcetest: create MySQL database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("sourcetest: drop MySQL database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(adminDSN)
	if err != nil {
		t.Fatalf("sourcetest: %v", err)
	}
	cfg.DBName = name
	return cfg.FormatDSN()
}

// SQLite returns the DSN (a file name) of an empty SQLite database in the
// test's temporary directory, removed when the test ends.
func SQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), dbName()+".db")
}

// DSN returns a fresh database for the named driver: "postgres", "mysql"
// or "sqlite".
func DSN(t testing.TB, driverName string) string {
	t.Helper()
	switch driverName {
	case "postgres":
		return Postgres(t)
	case "mysql":
		return MySQL(t)
	case "sqlite":
		return SQLite(t)
	}
	t.Fatalf("sourcetest: unknown driver %q", driverName)
	return ""
}

// Exec runs statements, one at a time and read-write, against a database
// made by this package (to create and fill the tables a test queries).
func Exec(t testing.TB, driverName, dsn string, statements ...string) {
	t.Helper()
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatalf("sourcetest: open %s: %v", driverName, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, stmt := range statements {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("sourcetest: %s: %v\n%s", driverName, err, stmt)
		}
	}
}

// dbName returns a fresh database name: pantau_src_ and 12 hex digits.
func dbName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "pantau_src_" + hex.EncodeToString(b)
}

// Statements splits an SQL script such as examples/dinsos-schema.sql into
// its statements: "--" comment lines are dropped, then the rest is cut at
// each ";" (the scripts this is for have no ";" inside literals).
func Statements(script string) []string {
	var b strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	var out []string
	for _, s := range strings.Split(b.String(), ";") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
