package source

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pantau-id/pantau/source/sourcetest"
	"github.com/pantau-id/pantau/sqlcheck"
)

func TestAnotherDriversDSNIsNamed(t *testing.T) {
	tests := []struct {
		name, driver, dsn, want string
	}{
		{"a MySQL DSN given to postgres", DriverPostgres, "pantau:rahasia@tcp(db.dinsos:3306)/dinsos?parseTime=true",
			"looks like a MySQL/MariaDB DSN, but the source's driver is postgres: set driver: mysql in the spec (for this DSN), or give a PostgreSQL DSN such as postgres://"},
		{"a MySQL DSN without an address given to postgres", DriverPostgres, "pantau:rahasia@/dinsos",
			"looks like a MySQL/MariaDB DSN, but the source's driver is postgres"},
		{"a mysql:// URL given to postgres", DriverPostgres, "mysql://pantau:rahasia@db:3306/dinsos",
			"looks like a MySQL/MariaDB DSN, but the source's driver is postgres: set driver: mysql in the spec (for this DSN), or give a PostgreSQL DSN such as postgres://user:password@host:5432/database?sslmode=require, or host=… dbname=… user=…; go-sql-driver/mysql takes no URL"},
		{"a PostgreSQL URL given to mysql", DriverMySQL, "postgres://pantau:rahasia@db:5432/dinsos?sslmode=disable",
			"looks like a PostgreSQL DSN, but the source's driver is mysql: set driver: postgres in the spec (for this DSN), or give a MySQL/MariaDB DSN such as user:password@tcp(host:3306)/database"},
		{"a PostgreSQL key=value DSN given to mysql", DriverMySQL, "host=db dbname=dinsos user=pantau password=rahasia",
			"looks like a PostgreSQL DSN, but the source's driver is mysql"},
		{"a SQLite file given to mysql", DriverMySQL, "/var/lib/dinsos/rahasia.db",
			"looks like a SQLite DSN, but the source's driver is mysql"},
		{"a SQLite URI given to postgres", DriverPostgres, "file:/var/lib/dinsos/rahasia.sqlite?mode=ro",
			"looks like a SQLite DSN, but the source's driver is postgres"},
		{"a PostgreSQL URL given to sqlite", DriverSQLite, "postgresql://pantau:rahasia@db/dinsos",
			"looks like a PostgreSQL DSN, but the source's driver is sqlite: set driver: postgres in the spec (for this DSN), or give a SQLite DSN such as /path/to/file.db"},
		{"a MySQL DSN given to sqlite", DriverSQLite, "pantau:rahasia@tcp(db:3306)/dinsos",
			"looks like a MySQL/MariaDB DSN, but the source's driver is sqlite"},
		{"a mysql:// URL given to mysql", DriverMySQL, "mysql://pantau:rahasia@db:3306/dinsos",
			"this is a URL; go-sql-driver/mysql takes no URL, write user:password@tcp(host:3306)/database"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an error naming its shape", func(t *testing.T) {
			_, err := Open(context.Background(), Config{Name: "dinsos", Driver: tt.driver, DSN: tt.dsn})
			if err == nil {
				t.Fatal("Open accepted it")
			}
			if want := "source dinsos (" + tt.driver + "): invalid DSN: "; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant %q and %q", err, want, tt.want)
			}
			if strings.Contains(err.Error(), "rahasia") {
				t.Errorf("err = %q echoes the DSN's secret", err)
			}
		})
	}
	for _, ok := range []struct{ driver, dsn string }{
		{DriverPostgres, "postgres://pantau@db:5432/dinsos?sslmode=disable"},
		{DriverPostgres, "host=db dbname=dinsos user=pantau sslmode=disable"},
		{DriverMySQL, "pantau:rahasia@tcp(db:3306)/dinsos"},
		{DriverMySQL, "pantau@unix(/run/mysqld/mysqld.sock)/dinsos"},
		{DriverSQLite, "file:/var/lib/dinsos/dinsos.db?mode=ro"},
		{DriverSQLite, "dinsos.sqlite3"},
	} {
		t.Run("a "+ok.driver+" DSN of its own shape opens: "+ok.dsn, func(t *testing.T) {
			s, err := Open(context.Background(), Config{Name: "dinsos", Driver: ok.driver, DSN: ok.dsn})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
		})
	}
}

func TestOpen(t *testing.T) {
	t.Run("an unknown driver is an error naming the supported ones", func(t *testing.T) {
		_, err := Open(context.Background(), Config{Name: "dinsos", Driver: "oracle", DSN: "x"})
		if err == nil || !strings.Contains(err.Error(), `source dinsos (oracle): unknown driver "oracle"; use one of postgres, mysql, sqlite`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("an empty DSN is an error", func(t *testing.T) {
		_, err := Open(context.Background(), Config{Name: "dinsos", Driver: DriverPostgres})
		if err == nil || !strings.Contains(err.Error(), "no DSN") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a malformed DSN is an error that does not echo it", func(t *testing.T) {
		dsn := "user:secret@tcp(127.0.0.1:3306/db" // missing ')'
		_, err := Open(context.Background(), Config{Name: "dinsos", Driver: DriverMySQL, DSN: dsn})
		if err == nil || !strings.Contains(err.Error(), "source dinsos (mysql): invalid DSN") || strings.Contains(err.Error(), "secret") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("defaults fill the zero fields", func(t *testing.T) {
		s, err := Open(context.Background(), Config{Name: "dinsos", Driver: DriverSQLite, DSN: t.TempDir() + "/x.db"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.cfg.Timeout != DefaultTimeout || s.cfg.MaxConcurrent != DefaultMaxConcurrent || s.cfg.MaxRows != DefaultMaxRows {
			t.Errorf("cfg = %+v", s.cfg)
		}
		if got := s.Stats().MaxOpenConnections; got != DefaultMaxConcurrent {
			t.Errorf("MaxOpenConnections = %d, want %d", got, DefaultMaxConcurrent)
		}
		if s.Name() != "dinsos" || s.Driver() != DriverSQLite {
			t.Errorf("Name, Driver = %q, %q", s.Name(), s.Driver())
		}
	})
	t.Run("Drivers lists the three drivers", func(t *testing.T) {
		if got := Drivers(); !reflect.DeepEqual(got, []string{"postgres", "mysql", "sqlite"}) {
			t.Errorf("Drivers() = %q", got)
		}
	})
}

func TestParametersAreBound(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{}, penyaluran...)
			tests := []struct {
				name  string
				query string
				want  [][]any
			}{
				{
					name:  "the parameters are bound as YYYY-MM-DD strings of the Jakarta dates",
					query: "SELECT CAST(:period_start AS CHAR(10)) AS ps, CAST(:period_end AS CHAR(10)) AS pe, CAST(:year_start AS CHAR(10)) AS ys",
					want:  [][]any{{"2026-03-01", "2026-04-01", "2026-01-01"}},
				},
				{
					name: "rows dated within the month are selected, and period_end is exclusive",
					query: `SELECT kode, count(*) AS n FROM penyaluran
						WHERE tanggal >= :period_start AND tanggal < :period_end
						GROUP BY kode ORDER BY kode`,
					want: [][]any{{"32.16.06", int64(2)}, {"32.16.07", int64(2)}, {"32.16.08", int64(1)}},
				},
				{
					name: "rows since year_start are selected",
					query: `SELECT kode, sum(jumlah) AS total FROM penyaluran
						WHERE tanggal >= :year_start AND tanggal < :period_end
						GROUP BY kode ORDER BY kode`,
					want: [][]any{{"32.16.06", int64(17)}, {"32.16.07", int64(12)}, {"32.16.08", int64(2)}},
				},
				{
					name: "a parameter used twice binds the same value both times",
					query: `SELECT count(*) AS n FROM penyaluran
						WHERE tanggal < :period_end AND NOT (tanggal >= :period_end)`,
					want: [][]any{{int64(8)}},
				},
				{
					name:  "a parameter alone is a string",
					query: "SELECT :period_end AS pe",
					want:  [][]any{{"2026-04-01"}},
				},
				{
					name:  "a colon inside a string literal stays text",
					query: "SELECT '10:30' AS jam, 'a::b' AS s FROM penyaluran WHERE tanggal = :period_start",
					want:  [][]any{{"10:30", "a::b"}},
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res := mustQuery(t, s, tt.query)
					if !reflect.DeepEqual(asFloat(res).Rows, asFloat(Result{Rows: tt.want}).Rows) {
						t.Errorf("rows = %#v, want %#v", res.Rows, tt.want)
					}
				})
			}
		})
	}
}

func TestPostgresCastsAreNotParameters(t *testing.T) {
	t.Parallel()
	s, _ := testSource(t, DriverPostgres, Config{}, penyaluran...)
	res := mustQuery(t, s, `SELECT '10:30'::text AS jam, :period_end::date AS akhir, (:period_end::date - 1)::text AS kemarin,
		count(*)::int AS n FROM penyaluran WHERE tanggal::date < :period_end::date`)
	want := [][]any{{"10:30", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), "2026-03-31", int64(8)}}
	if !reflect.DeepEqual(res.Rows, want) {
		t.Errorf("rows = %#v, want %#v", res.Rows, want)
	}
}

func TestUnknownParameterIsAnError(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{}, penyaluran...)
			_, err := s.Query(context.Background(), "SELECT count(*) FROM penyaluran WHERE tanggal < :akhir_periode", march2026)
			if !errors.Is(err, sqlcheck.ErrUnknownParameter) {
				t.Fatalf("err = %v, want ErrUnknownParameter", err)
			}
			want := "source dinsos (" + driver + "): unknown parameter (query line 1): :akhir_periode;"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q, want it to start with %q", err, want)
			}
			var se *Error
			if !errors.As(err, &se) || se.Source != "dinsos" || se.Driver != driver {
				t.Errorf("err = %#v, want a *Error for source dinsos", err)
			}
		})
	}
}

// TestSameResultOnEveryDriver runs one query on the same data in all three
// databases: the normalised results must agree once numbers are float64.
func TestSameResultOnEveryDriver(t *testing.T) {
	t.Parallel()
	query := `SELECT kode AS Region_Code, count(*) AS n, sum(jumlah) AS total, sum(nilai) AS nilai,
			max(catatan) AS catatan, NULL AS kosong
		FROM penyaluran
		WHERE tanggal >= :year_start AND tanggal < :period_end
		GROUP BY kode ORDER BY kode`
	want := Result{
		Columns: []string{"region_code", "n", "total", "nilai", "catatan", "kosong"},
		Rows: [][]any{
			{"32.16.06", 3.0, 17.0, 1850.75, "awal bulan", nil},
			{"32.16.07", 3.0, 12.0, 310.0, nil, nil},
			{"32.16.08", 1.0, 2.0, nil, "nilai kosong", nil},
		},
	}
	results := make(map[string]Result)
	var mu sync.Mutex
	t.Run("each driver", func(t *testing.T) {
		for _, driver := range allDrivers {
			t.Run(driver, func(t *testing.T) {
				t.Parallel()
				s, _ := testSource(t, driver, Config{}, penyaluran...)
				res := mustQuery(t, s, query)
				t.Logf("%s: %#v", driver, res.Rows)
				if got := asFloat(res); !reflect.DeepEqual(got, want) {
					t.Errorf("result\n got %#v\nwant %#v", got, want)
				}
				for i, row := range res.Rows {
					if _, ok := row[1].(int64); !ok {
						t.Errorf("row %d: count(*) is %T, want int64", i, row[1])
					}
					if _, ok := row[2].(int64); !ok {
						t.Errorf("row %d: sum of an integer column is %T, want int64", i, row[2])
					}
				}
				mu.Lock()
				results[driver] = res
				mu.Unlock()
			})
		}
	})
	if len(results) == len(allDrivers) {
		for _, d := range allDrivers[1:] {
			if !reflect.DeepEqual(asFloat(results[d]), asFloat(results[allDrivers[0]])) {
				t.Errorf("%s and %s disagree:\n%#v\n%#v", d, allDrivers[0], results[d], results[allDrivers[0]])
			}
		}
	}
}

func TestDatesComeBackAsTimes(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{}, penyaluran...)
			res := mustQuery(t, s, "SELECT tanggal FROM penyaluran WHERE kode = '32.16.07' ORDER BY tanggal")
			want := [][]any{
				{time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
				{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)},
				{time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)},
			}
			if !reflect.DeepEqual(res.Rows, want) {
				t.Errorf("rows = %#v, want %#v", res.Rows, want)
			}
		})
	}
}

// writes are statements that must never change a source.
var writes = []struct {
	name, query string
}{
	{"an INSERT", "INSERT INTO penyaluran (kode, tanggal, jumlah) VALUES ('32.16.09', '2026-03-02', 1)"},
	{"an UPDATE", "UPDATE penyaluran SET jumlah = 0"},
	{"a DELETE", "DELETE FROM penyaluran"},
	{"a CREATE TABLE", "CREATE TABLE curang (a INTEGER)"},
}

// unchanged checks that the penyaluran table still holds its 9 rows with
// their total, and that no table curang was made.
func unchanged(t *testing.T, s *Source) {
	t.Helper()
	res := mustQuery(t, s, "SELECT count(*) AS n, sum(jumlah) AS total FROM penyaluran")
	if got := asFloat(res).Rows; !reflect.DeepEqual(got, [][]any{{9.0, 138.0}}) {
		t.Errorf("penyaluran changed: count, sum = %v, want 9, 138", got)
	}
	if _, err := s.Query(context.Background(), "SELECT count(*) FROM curang", Params{}); err == nil {
		t.Errorf("table curang was created")
	}
}

func TestWritesAreRejected(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, driver, Config{}, penyaluran...)
			for _, w := range writes {
				t.Run(w.name+" is refused before it reaches the database", func(t *testing.T) {
					_, err := s.Query(context.Background(), w.query, march2026)
					if !errors.Is(err, sqlcheck.ErrNotReadOnly) {
						t.Errorf("err = %v, want ErrNotReadOnly", err)
					}
				})
				// Past that check, the read-only transaction itself must
				// refuse the write, with the driver's read-only error.
				t.Run(w.name+" is refused by the read-only transaction", func(t *testing.T) {
					if driver == DriverMySQL && strings.HasPrefix(w.query, "CREATE") {
						// MySQL and MariaDB commit implicitly before DDL, so
						// READ ONLY does not stop CREATE TABLE: only the check
						// above does (and a read-only account).
						t.Skip("MySQL/MariaDB DDL escapes READ ONLY through an implicit commit")
					}
					_, err := s.run(context.Background(), w.query, nil)
					assertReadOnlyError(t, driver, err)
					unchanged(t, s)
				})
			}
			t.Run("a SELECT calling a function that writes is refused", func(t *testing.T) {
				var fn string
				switch driver {
				case DriverPostgres:
					fn = `CREATE FUNCTION hapus() RETURNS int LANGUAGE sql AS 'DELETE FROM penyaluran; SELECT 1'`
				case DriverMySQL:
					fn = `CREATE FUNCTION hapus() RETURNS INT MODIFIES SQL DATA BEGIN DELETE FROM penyaluran; RETURN 1; END`
				default:
					t.Skip("SQLite has no SQL functions that write")
				}
				sourcetest.Exec(t, driver, dsn, fn)
				_, err := s.Query(context.Background(), "SELECT hapus() AS x", march2026)
				assertReadOnlyError(t, driver, err)
				if !strings.Contains(err.Error(), "this query tries to write") {
					t.Errorf("err = %q, want it to say the query tries to write", err)
				}
				unchanged(t, s)
			})
		})
	}
}

// assertReadOnlyError checks that err is ErrWrites, made of the driver's
// own read-only error: PostgreSQL 25006 (read_only_sql_transaction),
// MySQL/MariaDB 1792 (ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION), SQLite
// SQLITE_AUTH from the authorizer that denies writes.
func assertReadOnlyError(t *testing.T, driver string, err error) {
	t.Helper()
	if !errors.Is(err, ErrWrites) {
		t.Errorf("err = %v, want ErrWrites", err)
	}
	var (
		pe *pq.Error
		me *mysql.MySQLError
		se *sqlite.Error
	)
	switch {
	case driver == DriverPostgres && errors.As(err, &pe) && pe.Code == "25006":
	case driver == DriverMySQL && errors.As(err, &me) && me.Number == 1792:
	case driver == DriverSQLite && errors.As(err, &se) && se.Code() == sqlite3.SQLITE_AUTH:
	default:
		t.Errorf("err = %v (%T), want the %s driver's read-only error", err, errors.Unwrap(errors.Unwrap(err)), driver)
	}
}

func TestSQLiteStaysReadOnlyWhateverTheDSNSays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, params string
	}{
		{"query_only turned off with the shorthand key", "?_query_only=0"},
		{"query_only turned off with a _pragma", "?_pragma=query_only(0)"},
		{"a file: URI opened read-write", "?mode=rw"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := t.TempDir() + "/x.db"
			rw := rawDB(t, DriverSQLite, dsn)
			for _, stmt := range penyaluran {
				if _, err := rw.Exec(stmt); err != nil {
					t.Fatal(err)
				}
			}
			sourceDSN := dsn + tt.params
			if strings.Contains(tt.params, "mode=") {
				sourceDSN = "file:" + sourceDSN
			}
			s, err := Open(context.Background(), Config{Name: "lokal", Driver: DriverSQLite, DSN: sourceDSN, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for _, q := range []string{
				"DELETE FROM penyaluran",
				"PRAGMA query_only = 0",
				"ATTACH DATABASE '" + t.TempDir() + "/y.db' AS y",
				"CREATE TEMP TABLE t (a INTEGER)",
				"COMMIT",
			} {
				if _, err := s.run(context.Background(), q, nil); err == nil {
					t.Errorf("%s succeeded", q)
				}
			}
			unchanged(t, s)
		})
	}
}

// slowQueries never finish within a second.
var slowQueries = map[string]string{
	DriverPostgres: "SELECT pg_sleep(5)",
	DriverMySQL:    "SELECT SLEEP(5)",
	DriverSQLite:   "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
}

func TestSlowQueryTimesOut(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, driver, Config{Name: "lambat", Timeout: 500 * time.Millisecond, MaxConcurrent: 1})
			start := time.Now()
			_, err := s.Query(context.Background(), slowQueries[driver], march2026)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want one wrapping context.DeadlineExceeded", err)
			}
			want := "source lambat (" + driver + "): query timed out after 500ms"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q, want it to start with %q", err, want)
			}
			if elapsed > 2*time.Second {
				t.Errorf("the query took %s to time out, want about 500ms", elapsed)
			}
			if inUse := s.Stats().InUse; inUse != 0 {
				t.Errorf("%d connections still in use after the timeout", inUse)
			}
			// With MaxConcurrent 1, the next query only runs if the slot
			// and the connection were given back.
			res := mustQuery(t, s, "SELECT 1 AS one")
			if !reflect.DeepEqual(res.Rows, [][]any{{int64(1)}}) {
				t.Errorf("next query: %#v", res.Rows)
			}
			// The server stopped the statement too.
			switch driver {
			case DriverPostgres:
				waitNoneRunning(t, rawDB(t, driver, dsn),
					"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(5)' AND state = 'active'")
			case DriverMySQL:
				waitNoneRunning(t, rawDB(t, driver, dsn),
					"SELECT count(*) FROM information_schema.processlist WHERE db = database() AND info = 'SELECT SLEEP(5)'")
			}
		})
	}
}

// waitNoneRunning waits up to 2s for a count query to return 0.
func waitNoneRunning(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		var n int
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server still runs the timed-out query: %s = %d", query, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerEnforcesTheTimeoutToo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		driver, query string
		want          any
	}{
		{DriverPostgres, "SELECT current_setting('statement_timeout') AS v", "1500ms"},
		{DriverMySQL, "SELECT @@max_statement_time AS v", 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, tt.driver, Config{Timeout: 1500 * time.Millisecond})
			res := mustQuery(t, s, tt.query)
			if got := res.Rows[0][0]; got != tt.want {
				t.Errorf("server timeout = %#v (%T), want %#v", got, got, tt.want)
			}
		})
	}
}

func TestKilledBackend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		driver, query, find, kill string
	}{
		{
			driver: DriverPostgres,
			query:  "SELECT pg_sleep(10)",
			find: `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
				AND query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()`,
			kill: "SELECT pg_terminate_backend($1)",
		},
		{
			driver: DriverMySQL,
			query:  "SELECT SLEEP(10)",
			find: `SELECT id FROM information_schema.processlist WHERE db = database()
				AND info = 'SELECT SLEEP(10)'`,
			kill: "KILL CONNECTION ?",
		},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, tt.driver, Config{Timeout: 8 * time.Second, MaxConcurrent: 1})
			admin := rawDB(t, tt.driver, dsn)
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				_, err := s.Query(context.Background(), tt.query, march2026)
				done <- err
			}()
			var id int64
			for {
				err := admin.QueryRow(tt.find).Scan(&id)
				if err == nil {
					break
				}
				if !errors.Is(err, sql.ErrNoRows) {
					t.Fatalf("find the backend: %v", err)
				}
				if time.Since(start) > 5*time.Second {
					t.Fatalf("the query never showed up")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := admin.Exec(tt.kill, id); err != nil {
				t.Fatalf("kill backend %d: %v", id, err)
			}
			select {
			case err := <-done:
				if err == nil {
					t.Fatalf("the killed query succeeded")
				}
				if errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("err = %v, want an error that is not a timeout", err)
				}
				if !strings.HasPrefix(err.Error(), "source dinsos ("+tt.driver+"): query: the connection was lost") {
					t.Errorf("err = %q, want it to name the source and say the connection was lost", err)
				}
				t.Logf("killed: %v (after %s)", err, time.Since(start))
			case <-time.After(5 * time.Second):
				t.Fatalf("the killed query did not return")
			}
			// The dead connection is dropped and the next query gets a new one.
			res := mustQuery(t, s, "SELECT 1 AS one")
			if !reflect.DeepEqual(res.Rows, [][]any{{int64(1)}}) {
				t.Errorf("next query: %#v", res.Rows)
			}
		})
	}
}

func TestRefusedConnectionFailsFast(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	tests := []struct {
		name, driver, dsn, want string
	}{
		{"a Postgres source on a closed port", DriverPostgres,
			"postgres://pantau:rahasia@127.0.0.1:" + port + "/dinsos?sslmode=disable", "connection refused"},
		{"a MySQL source on a closed port", DriverMySQL,
			"pantau:rahasia@tcp(127.0.0.1:" + port + ")/dinsos", "connection refused"},
		{"a SQLite source in a missing directory", DriverSQLite,
			"/nonexistent-pantau-dir/dinsos.db", "unable to open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(context.Background(), Config{Name: "mati", Driver: tt.driver, DSN: tt.dsn, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("Open must not fail when the database is down: %v", err)
			}
			defer s.Close()
			for _, op := range []struct {
				name string
				do   func() error
			}{
				{"Query", func() error { _, err := s.Query(context.Background(), "SELECT 1", march2026); return err }},
				{"Ping", func() error { return s.Ping(context.Background()) }},
			} {
				start := time.Now()
				err := op.do()
				elapsed := time.Since(start)
				if err == nil {
					t.Fatalf("%s succeeded", op.name)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "source mati ("+tt.driver+"): ") || !strings.Contains(msg, tt.want) {
					t.Errorf("%s: err = %q, want it to name the source and say %q", op.name, msg, tt.want)
				}
				if strings.Contains(msg, "rahasia") {
					t.Errorf("%s: the error shows the password: %q", op.name, msg)
				}
				if elapsed > time.Second {
					t.Errorf("%s took %s to fail, want well under a second", op.name, elapsed)
				}
				t.Logf("%s: %v (%s)", op.name, err, elapsed)
			}
		})
	}
}

func TestBoundedConcurrency(t *testing.T) {
	t.Parallel()
	tests := []struct {
		driver, query, running string
	}{
		{DriverPostgres, "SELECT pg_sleep(0.3)",
			"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'SELECT pg_sleep(0.3)' AND state = 'active'"},
		{DriverMySQL, "SELECT SLEEP(0.3)",
			"SELECT count(*) FROM information_schema.processlist WHERE db = database() AND info = 'SELECT SLEEP(0.3)'"},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, tt.driver, Config{MaxConcurrent: 2, Timeout: 5 * time.Second})
			admin := rawDB(t, tt.driver, dsn)

			t.Run("never more than MaxConcurrent queries run at once", func(t *testing.T) {
				const n = 6
				var wg sync.WaitGroup
				errs := make(chan error, n)
				start := time.Now()
				for range n {
					wg.Go(func() {
						_, err := s.Query(context.Background(), tt.query, march2026)
						errs <- err
					})
				}
				stop := make(chan struct{})
				maxSeen, maxHeld := 0, int64(0)
				polled := make(chan struct{})
				go func() {
					defer close(polled)
					for {
						select {
						case <-stop:
							return
						case <-time.After(10 * time.Millisecond):
						}
						var running int
						if err := admin.QueryRow(tt.running).Scan(&running); err == nil {
							maxSeen = max(maxSeen, running)
						}
						maxHeld = max(maxHeld, s.running.Load())
					}
				}()
				wg.Wait()
				elapsed := time.Since(start)
				close(stop)
				<-polled
				close(errs)
				for err := range errs {
					if err != nil {
						t.Errorf("query: %v", err)
					}
				}
				if maxSeen != 2 || maxHeld > 2 {
					t.Errorf("at most %d queries ran at once on the server (%d held slots), want exactly 2", maxSeen, maxHeld)
				}
				if elapsed < 850*time.Millisecond {
					t.Errorf("6 queries of 0.3s with 2 at a time took %s, want at least 0.9s", elapsed)
				}
			})

			t.Run("a query waiting for a slot gives up when its context ends", func(t *testing.T) {
				var wg sync.WaitGroup
				for range 2 {
					wg.Go(func() {
						if _, err := s.Query(context.Background(), tt.query, march2026); err != nil {
							t.Errorf("query: %v", err)
						}
					})
				}
				defer wg.Wait()
				for s.running.Load() < 2 {
					time.Sleep(time.Millisecond)
				}
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				start := time.Now()
				_, err := s.Query(ctx, tt.query, march2026)
				elapsed := time.Since(start)
				if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "waiting for one of 2 slots") {
					t.Errorf("err = %v, want a cancelled wait", err)
				}
				if elapsed > 200*time.Millisecond {
					t.Errorf("the cancelled query returned after %s, want about 50ms", elapsed)
				}
			})
		})
	}
}

func TestTooManyRowsIsAnError(t *testing.T) {
	t.Parallel()
	query := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT x FROM c"
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{MaxRows: 10})
			res, err := s.Query(context.Background(), fmt.Sprintf(query, 10), march2026)
			if err != nil || len(res.Rows) != 10 {
				t.Fatalf("10 rows: %d rows, err %v", len(res.Rows), err)
			}
			_, err = s.Query(context.Background(), fmt.Sprintf(query, 11), march2026)
			if !errors.Is(err, ErrTooManyRows) || !strings.Contains(err.Error(), "more than 10 rows") {
				t.Errorf("11 rows: err = %v, want ErrTooManyRows", err)
			}
			if inUse := s.Stats().InUse; inUse != 0 {
				t.Errorf("%d connections still in use", inUse)
			}
		})
	}
}

func TestEndlessResultIsCutWithoutReadingItAll(t *testing.T) {
	t.Parallel()
	// MariaDB materialises a recursive CTE before returning a row, so this
	// endless one only streams on Postgres and SQLite.
	for _, driver := range []string{DriverPostgres, DriverSQLite} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{MaxRows: 10, Timeout: 5 * time.Second, MaxConcurrent: 1})
			start := time.Now()
			_, err := s.Query(context.Background(), "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", march2026)
			if !errors.Is(err, ErrTooManyRows) {
				t.Fatalf("err = %v, want ErrTooManyRows", err)
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("cutting the result took %s, want well under the 5s timeout", elapsed)
			}
			mustQuery(t, s, "SELECT 1")
		})
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, _ := testSource(t, driver, Config{})
			if err := s.Ping(context.Background()); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

func TestCancelledContextIsNotATimeout(t *testing.T) {
	t.Parallel()
	s, _ := testSource(t, DriverPostgres, Config{Timeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := s.Query(ctx, "SELECT pg_sleep(5)", march2026)
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	mustQuery(t, s, "SELECT 1")
}
