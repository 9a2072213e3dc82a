package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/sqlcheck"
)

// sideEffect is a query that would change something: data, a sequence, a
// file, a lock or a session setting.
type sideEffect struct {
	name, query string
	// checkOnly says why only sqlcheck can stop it: the effect outlives the
	// rolled-back read-only transaction (a session lock, a user variable)
	// or needs what the test servers lack. Otherwise the query is also run
	// past the check, and must fail or leave nothing behind.
	checkOnly string
	// undone says why the query may succeed past the check: the rollback
	// of the read-only transaction takes back what it did (the database
	// state is compared all the same).
	undone string
	// lingering, if set, is run through the source afterwards and must
	// return lingeringWant: a session setting the query made is gone.
	lingering, lingeringWant string
	// file is a path the query would write; it must not exist afterwards.
	file string
}

// sideEffects returns the cases for a driver; dir is a directory for files
// the queries try to write.
func sideEffects(driver, dir string) []sideEffect {
	switch driver {
	case DriverPostgres:
		return []sideEffect{
			{name: "a DELETE inside a WITH", query: "WITH d AS (DELETE FROM penyaluran RETURNING kode) SELECT kode AS region_code, count(*) AS value FROM d GROUP BY kode"},
			{name: "SELECT … INTO a new table", query: "SELECT kode INTO curang FROM penyaluran"},
			{name: "nextval()", query: "SELECT nextval('urutan') AS value"},
			{name: "setval()", query: "SELECT setval('urutan', 99) AS value"},
			{name: "lo_import() of a server file", query: "SELECT lo_import('/etc/hostname') AS value",
				undone: "READ ONLY lets it run; the large object goes with the rollback (and a read-only account may not read server files)"},
			{name: "set_config() of a session setting", query: "SELECT set_config('application_name', 'curang', false) AS value",
				undone:    "a setting made in a transaction goes with its rollback",
				lingering: "SELECT current_setting('application_name') = 'curang' AS curang", lingeringWant: "false"},
			{name: "pg_notify()", query: "SELECT pg_notify('pantau', 'curang') AS value",
				undone: "a notification is only sent at commit, and pantau never commits"},
			{name: "pg_advisory_lock()", query: "SELECT pg_advisory_lock(42) AS value",
				checkOnly: "a session's advisory lock outlives the rolled-back transaction"},
			{name: "dblink()", query: "SELECT * FROM dblink('dbname=postgres', 'DELETE FROM penyaluran') AS r(a int)",
				checkOnly: "dblink writes over a connection of its own, outside the transaction (and is not installed here)"},
		}
	case DriverMySQL:
		return []sideEffect{
			{name: "SELECT … INTO OUTFILE", query: "SELECT kode FROM penyaluran INTO OUTFILE '" + filepath.Join(dir, "curang.txt") + "'",
				file: filepath.Join(dir, "curang.txt")},
			{name: "SELECT … INTO a user variable", query: "SELECT count(*) INTO @curang FROM penyaluran",
				checkOnly: "a user variable outlives the rolled-back transaction on the pooled connection"},
			{name: "SET of a user variable", query: "SET @curang = 1",
				checkOnly: "a user variable outlives the rolled-back transaction on the pooled connection"},
			{name: "an assignment to a user variable inside a SELECT", query: "SELECT kode AS region_code, @curang := 1 AS value FROM penyaluran",
				checkOnly: "a user variable outlives the rolled-back transaction on the pooled connection"},
			{name: "GET_LOCK()", query: "SELECT GET_LOCK('pantau', 0) AS value",
				checkOnly: "a named lock outlives the rolled-back transaction"},
		}
	default:
		return []sideEffect{
			{name: "ATTACH of another database file", query: "ATTACH DATABASE '" + filepath.Join(dir, "curang.db") + "' AS curang",
				file: filepath.Join(dir, "curang.db")},
			{name: "a PRAGMA that writes the header", query: "PRAGMA user_version = 7"},
			{name: "load_extension()", query: "SELECT load_extension('" + filepath.Join(dir, "curang.so") + "') AS value"},
			{name: "VACUUM INTO a new file", query: "VACUUM INTO '" + filepath.Join(dir, "salinan.db") + "'",
				file: filepath.Join(dir, "salinan.db")},
		}
	}
}

// stateSetup is penyaluran and, on PostgreSQL, the sequence dbState reads.
func stateSetup(driver string) []string {
	if driver == DriverPostgres {
		return append(penyaluran[:len(penyaluran):len(penyaluran)], "CREATE SEQUENCE urutan")
	}
	return penyaluran
}

// dbState is what the cases must not change, read over a connection of
// the test's own: the table's rows (count, sum and a digest of them), the
// tables, and per driver a sequence, large objects or the file header.
func dbState(t *testing.T, driver, dsn string) []string {
	t.Helper()
	queries := map[string][]string{
		DriverPostgres: {
			"SELECT count(*) || ' ' || sum(jumlah) || ' ' || md5(string_agg(kode || tanggal || jumlah, ',' ORDER BY kode, tanggal)) FROM penyaluran",
			"SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = current_schema()",
			"SELECT last_value || ' ' || is_called FROM urutan",
			"SELECT count(*)::text FROM pg_largeobject_metadata",
		},
		DriverMySQL: {
			"SELECT CONCAT(count(*), ' ', sum(jumlah), ' ', md5(group_concat(kode, tanggal, jumlah ORDER BY kode, tanggal))) FROM penyaluran",
			"SELECT group_concat(table_name ORDER BY table_name) FROM information_schema.tables WHERE table_schema = database()",
		},
		DriverSQLite: {
			"SELECT count(*) || ' ' || sum(jumlah) || ' ' || group_concat(kode || tanggal || jumlah) FROM (SELECT * FROM penyaluran ORDER BY kode, tanggal)",
			"SELECT group_concat(name) FROM (SELECT name FROM sqlite_master ORDER BY name)",
			"PRAGMA user_version",
			"SELECT group_concat(name || '=' || file) FROM pragma_database_list",
		},
	}[driver]
	db := rawDB(t, driver, dsn)
	var out []string
	for _, q := range queries {
		var v string
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, v)
	}
	return out
}

func TestSideEffectsFailSafely(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, driver, Config{}, stateSetup(driver)...)
			before := dbState(t, driver, dsn)
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o777); err != nil { // the database server may write here, if anything lets it
				t.Fatal(err)
			}
			for _, c := range sideEffects(driver, dir) {
				t.Run(c.name+" is refused by pantau check", func(t *testing.T) {
					if err := sqlcheck.Check(driver, c.query); !errors.Is(err, sqlcheck.ErrNotReadOnly) {
						t.Errorf("sqlcheck: err = %v, want ErrNotReadOnly", err)
					}
					if _, err := s.Query(context.Background(), c.query, march2026); !errors.Is(err, sqlcheck.ErrNotReadOnly) {
						t.Errorf("Query: err = %v, want ErrNotReadOnly", err)
					}
				})
				if c.checkOnly != "" {
					continue
				}
				t.Run(c.name+" past the check fails and leaves nothing behind", func(t *testing.T) {
					res, err := s.run(context.Background(), c.query, nil)
					if err == nil && c.undone == "" {
						t.Errorf("the query succeeded: %v", res.Rows)
					}
					if c.lingering != "" {
						for range 3 { // whichever pooled connection answers
							got := mustQuery(t, s, c.lingering)
							if v := fmt.Sprint(got.Rows[0][0]); v != c.lingeringWant {
								t.Errorf("%s = %s after the query, want %s", c.lingering, v, c.lingeringWant)
							}
						}
					}
					if c.file != "" {
						if _, err := os.Stat(c.file); !errors.Is(err, os.ErrNotExist) {
							t.Errorf("%s was written (stat: %v)", c.file, err)
						}
					}
					if after := dbState(t, driver, dsn); !reflect.DeepEqual(after, before) {
						t.Errorf("the database changed:\nbefore %q\nafter  %q", before, after)
					}
					if err != nil {
						t.Logf("refused: %v", err)
					} else {
						t.Logf("ran, and undone: %s", c.undone)
					}
				})
			}
		})
	}
}

// TestAHostileValueIsBoundAsData shows that a parameter's value never
// becomes SQL: pantau's values are dates it formats itself, but the path
// they take (sqlcheck.Prepare's placeholders, bound by the driver) would
// keep any string a string.
func TestAHostileValueIsBoundAsData(t *testing.T) {
	t.Parallel()
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			s, dsn := testSource(t, driver, Config{}, stateSetup(driver)...)
			before := dbState(t, driver, dsn)
			const query = "SELECT count(*) AS n FROM penyaluran WHERE kode = :period_start"
			p, err := sqlcheck.Prepare(driver, query)
			if err != nil {
				t.Fatal(err)
			}
			const hostile = "x' OR '1'='1"
			res, err := s.run(context.Background(), p.SQL, []any{hostile})
			if err != nil {
				t.Fatal(err)
			}
			if n := asFloat(res).Rows[0][0]; n != 0.0 {
				t.Errorf("bound, %q matched %v rows, want 0", hostile, n)
			}
			// The same value pasted into the text matches every row: the
			// test would see an interpolation.
			pasted := strings.Replace(query, ":period_start", "'"+hostile+"'", 1)
			if res := mustQuery(t, s, pasted); asFloat(res).Rows[0][0] != 9.0 {
				t.Errorf("pasted, %q matched %v rows, want all 9", hostile, res.Rows[0][0])
			}
			for _, h := range []string{"x'; DELETE FROM penyaluran; --", `x\'; DELETE FROM penyaluran; --`, "x\"); DROP TABLE penyaluran; --"} {
				if _, err := s.run(context.Background(), p.SQL, []any{h}); err != nil {
					t.Errorf("%q: %v", h, err)
				}
			}
			if after := dbState(t, driver, dsn); !reflect.DeepEqual(after, before) {
				t.Errorf("the database changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}
