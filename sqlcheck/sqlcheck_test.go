package sqlcheck

import (
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

func TestPrepare(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		query  string
		want   string
		names  []string
	}{
		{
			name:   "each use of a parameter becomes a numbered Postgres placeholder",
			driver: DriverPostgres,
			query:  "SELECT count(*) FROM t WHERE d >= :period_start AND d < :period_end AND y >= :year_start AND z < :period_end",
			want:   "SELECT count(*) FROM t WHERE d >= $1 AND d < $2 AND y >= $3 AND z < $4",
			names:  []string{"period_start", "period_end", "year_start", "period_end"},
		},
		{
			name:   "MySQL placeholders are question marks",
			driver: DriverMySQL,
			query:  "SELECT 1 FROM t WHERE d >= :period_start AND d < :period_end",
			want:   "SELECT 1 FROM t WHERE d >= ? AND d < ?",
			names:  []string{"period_start", "period_end"},
		},
		{
			name:   "SQLite placeholders are question marks",
			driver: DriverSQLite,
			query:  "SELECT 1 FROM t WHERE d < :period_end",
			want:   "SELECT 1 FROM t WHERE d < ?",
			names:  []string{"period_end"},
		},
		{
			name:   "a colon inside a string literal is not a parameter",
			driver: DriverPostgres,
			query:  "SELECT '10:30' AS jam, 'x :period_end' AS s, :period_end AS p",
			want:   "SELECT '10:30' AS jam, 'x :period_end' AS s, $1 AS p",
			names:  []string{"period_end"},
		},
		{
			name:   "a Postgres cast is not a parameter, even right after one",
			driver: DriverPostgres,
			query:  "SELECT x::date, :period_end::date FROM t",
			want:   "SELECT x::date, $1::date FROM t",
			names:  []string{"period_end"},
		},
		{
			name:   "a doubled quote does not end a string literal",
			driver: DriverPostgres,
			query:  "SELECT 'it''s :nope' AS s, :year_start",
			want:   "SELECT 'it''s :nope' AS s, $1",
			names:  []string{"year_start"},
		},
		{
			name:   "a Postgres E-string takes backslash escapes",
			driver: DriverPostgres,
			query:  `SELECT E'it\'s :nope' AS s, :year_start`,
			want:   `SELECT E'it\'s :nope' AS s, $1`,
			names:  []string{"year_start"},
		},
		{
			name:   "a Postgres dollar-quoted string hides colons",
			driver: DriverPostgres,
			query:  "SELECT $tag$ :nope $tag$, $$ :nope $$, :period_start",
			want:   "SELECT $tag$ :nope $tag$, $$ :nope $$, $1",
			names:  []string{"period_start"},
		},
		{
			name:   "quoted identifiers hide colons",
			driver: DriverPostgres,
			query:  `SELECT "a:nope" FROM t WHERE d < :period_end`,
			want:   `SELECT "a:nope" FROM t WHERE d < $1`,
			names:  []string{"period_end"},
		},
		{
			name:   "comments hide colons and semicolons",
			driver: DriverPostgres,
			query:  "SELECT 1 -- :nope; DROP\n/* :nope; /* nested */ still */ FROM t WHERE d < :period_end",
			want:   "SELECT 1 -- :nope; DROP\n/* :nope; /* nested */ still */ FROM t WHERE d < $1",
			names:  []string{"period_end"},
		},
		{
			name:   "a MySQL string takes backslash escapes",
			driver: DriverMySQL,
			query:  `SELECT 'it\'s :nope', "a \" :nope" FROM t WHERE d < :period_end`,
			want:   `SELECT 'it\'s :nope', "a \" :nope" FROM t WHERE d < ?`,
			names:  []string{"period_end"},
		},
		{
			name:   "a MySQL hash comment and backquoted identifier hide colons",
			driver: DriverMySQL,
			query:  "SELECT `a:nope` # :nope\nFROM t WHERE d < :period_end",
			want:   "SELECT `a:nope` # :nope\nFROM t WHERE d < ?",
			names:  []string{"period_end"},
		},
		{
			name:   "a SQLite bracketed identifier hides colons",
			driver: DriverSQLite,
			query:  "SELECT [a:nope] FROM t WHERE d < :period_end",
			want:   "SELECT [a:nope] FROM t WHERE d < ?",
			names:  []string{"period_end"},
		},
		{
			name:   "a trailing semicolon and comment are dropped",
			driver: DriverPostgres,
			query:  "SELECT 1 FROM t WHERE d < :period_end ;  -- done\n",
			want:   "SELECT 1 FROM t WHERE d < $1",
			names:  []string{"period_end"},
		},
		{
			name:   "a query without parameters is left as it is",
			driver: DriverSQLite,
			query:  "select count(*) from t",
			want:   "select count(*) from t",
			names:  []string{},
		},
		{
			name:   "a parenthesised query and a WITH query are read-only",
			driver: DriverPostgres,
			query:  "(WITH x AS (SELECT 1) SELECT * FROM x)",
			want:   "(WITH x AS (SELECT 1) SELECT * FROM x)",
			names:  []string{},
		},
		{
			name:   "a semicolon inside a string literal does not split the query",
			driver: DriverMySQL,
			query:  "SELECT 'a; DELETE FROM t' AS s",
			want:   "SELECT 'a; DELETE FROM t' AS s",
			names:  []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Prepare(tt.driver, tt.query)
			if err != nil {
				t.Fatalf("Prepare: %v", err)
			}
			if got.SQL != tt.want {
				t.Errorf("SQL\n got %q\nwant %q", got.SQL, tt.want)
			}
			if !reflect.DeepEqual(got.Names, tt.names) {
				t.Errorf("Names = %q, want %q", got.Names, tt.names)
			}
		})
	}
}

func TestPrepareRejects(t *testing.T) {
	tests := []struct {
		name      string
		driver    string
		query     string
		err       error
		construct string // the text at the error's Offset
		line      int
		detail    string
	}{
		{"an unknown parameter is an error naming it and its line", DriverPostgres,
			"SELECT 1\nFROM t WHERE d < :periode_akhir", ErrUnknownParameter, ":periode_akhir", 2,
			":periode_akhir; the parameters are :period_start, :period_end, :year_start"},
		{"a second statement is an error at its semicolon", DriverPostgres,
			"SELECT 1; DELETE FROM t", ErrMultipleStatements, ";", 1, "a second statement follows"},
		{"a parameter after a semicolon is a second statement", DriverMySQL,
			"SELECT 1;\n:period_end", ErrMultipleStatements, ";", 1, "a source query must be a single SELECT"},
		{"an INSERT is not read-only", DriverPostgres,
			"INSERT INTO t VALUES (1)", ErrNotReadOnly, "INSERT", 1, "it starts with INSERT"},
		{"a lower-case delete is not read-only", DriverSQLite,
			"  delete from t", ErrNotReadOnly, "delete", 1, "it starts with DELETE"},
		{"a CREATE TABLE is not read-only", DriverMySQL,
			"-- make a table\nCREATE TABLE x (a int)", ErrNotReadOnly, "CREATE", 2, "it starts with CREATE"},
		{"a SET is not read-only", DriverPostgres,
			"SET statement_timeout = 0", ErrNotReadOnly, "SET", 1, "it starts with SET"},
		{"a query starting with punctuation is not a SELECT", DriverPostgres,
			"  ?", ErrNotReadOnly, "?", 1, `it starts with "?"`},
		{"a data-modifying CTE is found inside a WITH", DriverPostgres,
			"WITH d AS (\n  DELETE FROM t RETURNING *\n) SELECT count(*) FROM d", ErrNotReadOnly, "DELETE", 2,
			"DELETE inside the query changes data"},
		{"an UPDATE in a CTE is found too", DriverPostgres,
			"WITH u AS (update t SET a = 1 RETURNING a) SELECT * FROM u", ErrNotReadOnly, "update", 1,
			"UPDATE inside the query changes data"},
		{"an INSERT in a CTE is found too", DriverPostgres,
			"WITH i AS (INSERT INTO t VALUES (1) RETURNING a) SELECT * FROM i", ErrNotReadOnly, "INSERT", 1,
			"INSERT inside the query changes data"},
		{"SELECT INTO a table is refused", DriverPostgres,
			"SELECT *\nINTO backup\nFROM t", ErrNotReadOnly, "INTO", 2, "SELECT … INTO stores the result"},
		{"SELECT INTO a MySQL variable is refused", DriverMySQL,
			"SELECT count(*) INTO @n FROM t", ErrNotReadOnly, "INTO", 1, "SELECT … INTO stores the result"},
		{"SELECT INTO OUTFILE writes a file", DriverMySQL,
			"SELECT * FROM t INTO OUTFILE '/tmp/x'", ErrNotReadOnly, "INTO OUTFILE", 1, "INTO OUTFILE writes a file"},
		{"SELECT INTO DUMPFILE writes a file", DriverMySQL,
			"SELECT * FROM t into\n dumpfile '/tmp/x'", ErrNotReadOnly, "into\n dumpfile", 1, "INTO DUMPFILE writes a file"},
		{"SELECT FOR UPDATE locks rows", DriverPostgres,
			"SELECT a FROM t\nWHERE a > 0\nFOR UPDATE", ErrNotReadOnly, "FOR UPDATE", 3, "SELECT … FOR UPDATE locks the rows"},
		{"SELECT FOR SHARE locks rows", DriverMySQL,
			"SELECT a FROM t for share", ErrNotReadOnly, "for share", 1, "SELECT … FOR SHARE locks"},
		{"SELECT FOR NO KEY UPDATE locks rows", DriverPostgres,
			"SELECT a FROM t FOR NO KEY UPDATE NOWAIT", ErrNotReadOnly, "FOR NO KEY UPDATE", 1, "SELECT … FOR NO KEY UPDATE locks"},
		{"LOCK IN SHARE MODE locks rows", DriverMySQL,
			"SELECT a FROM t LOCK IN SHARE MODE", ErrNotReadOnly, "LOCK IN SHARE MODE", 1, "LOCK IN SHARE MODE locks"},
		{"pg_terminate_backend ends a session", DriverPostgres,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity", ErrNotReadOnly, "pg_terminate_backend", 1,
			"pg_terminate_backend() ends another session"},
		{"nextval changes a sequence, schema-qualified or not", DriverPostgres,
			"SELECT kode AS region_code,\n  pg_catalog.NEXTVAL ('s') AS value FROM t", ErrNotReadOnly, "NEXTVAL", 2,
			"nextval() changes a sequence"},
		{"setval changes a sequence", DriverPostgres,
			"SELECT setval('s', 1)", ErrNotReadOnly, "setval", 1, "setval() changes a sequence"},
		{"lo_import reads a server file", DriverPostgres,
			"SELECT lo_import('/etc/passwd')", ErrNotReadOnly, "lo_import", 1, "lo_import() reads a server file"},
		{"dblink escapes the transaction", DriverPostgres,
			"SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)", ErrNotReadOnly, "dblink", 1,
			"outside the read-only transaction"},
		{"a MySQL user variable assignment inside a SELECT", DriverMySQL,
			"SELECT kode AS region_code,\n  @n := @n + 1 AS value FROM t", ErrNotReadOnly, ":=", 2, ":= sets a user variable"},
		{"pg_read_file reads a server file", DriverPostgres,
			"SELECT pg_read_file('/etc/passwd') AS value", ErrNotReadOnly, "pg_read_file", 1, "pg_read_file() reads a file on the server"},
		{"MySQL GET_LOCK takes a lock", DriverMySQL,
			"SELECT get_lock('x', 10)", ErrNotReadOnly, "get_lock", 1, "get_lock() takes a lock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Prepare(tt.driver, tt.query)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v, want an *Error", err)
			}
			if e.Construct != tt.construct || e.Line != tt.line || tt.query[e.Offset:e.Offset+len(e.Construct)] != e.Construct {
				t.Errorf("construct %q at offset %d, line %d; want %q on line %d", e.Construct, e.Offset, e.Line, tt.construct, tt.line)
			}
			if !strings.Contains(e.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", e.Detail, tt.detail)
			}
			if want := fmt.Sprintf("(query line %d): ", tt.line); !strings.Contains(err.Error(), want) {
				t.Errorf("err = %q, want it to contain %q", err, want)
			}
			if err := Check(tt.driver, tt.query); !errors.Is(err, tt.err) {
				t.Errorf("Check: err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestReadOnlyLookalikesAreAccepted(t *testing.T) {
	tests := []struct {
		name, driver, query string
	}{
		{"a column named update, qualified", DriverPostgres, "SELECT t.update, t.delete AS value FROM t"},
		{"MySQL's INSERT() string function", DriverMySQL, "SELECT INSERT(kode, 1, 0, 'x') AS region_code FROM t"},
		{"SUBSTRING … FOR a length", DriverPostgres, "SELECT substring(kode FROM 1 FOR 5) AS region_code FROM t"},
		{"the words in string literals and comments", DriverPostgres,
			"SELECT 'DELETE FROM t; INTO x FOR UPDATE' AS s -- nextval('s')\nFROM t /* pg_sleep(1) */"},
		{"a quoted identifier named like a function", DriverPostgres, `SELECT "nextval" FROM t`},
		{"a column named like a function, not called", DriverMySQL, "SELECT get_lock AS value FROM t"},
		{"pg_sleep, which writes nothing; the timeout bounds it", DriverPostgres, "SELECT pg_sleep(1)"},
		{"MySQL's SLEEP, which writes nothing", DriverMySQL, "SELECT SLEEP(1)"},
		{"a PostgreSQL named argument, which assigns nothing", DriverPostgres, "SELECT make_interval(days := 1) AS value"},
		{"a := inside a MySQL string", DriverMySQL, "SELECT 'a := b' AS region_code, 1 AS value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.driver, tt.query); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
	t.Run("a query of only a comment is empty", func(t *testing.T) {
		if err := Check(DriverPostgres, "-- nothing\n"); !errors.Is(err, ErrEmptyQuery) {
			t.Errorf("err = %v, want ErrEmptyQuery", err)
		}
	})
}

func TestScan(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		query  string
		params []ParamUse
		words  string
	}{
		{"parameters are found known or not, with their offset and line", DriverPostgres,
			"SELECT a\nFROM t WHERE d < :periode_end AND y >= :year_start::date",
			[]ParamUse{{"periode_end", 26, 2, "<"}, {"year_start", 48, 2, ">="}},
			"SELECT a FROM t WHERE d AND y date"},
		{"literals and comments hide their words, quoted identifiers do not", DriverPostgres,
			`SELECT 'value' AS s, "region_code" -- value` + "\n/* value */ FROM $$ value $$",
			nil, "SELECT AS s region_code FROM"},
		{"a MySQL double-quoted alias and backquoted identifier give their words", DriverMySQL,
			"SELECT x AS \"value\", `region_code` # value\nFROM t",
			nil, "SELECT x AS value region_code FROM t"},
		{"a SQLite bracketed identifier gives its words", DriverSQLite,
			"SELECT [region_code], :x FROM t",
			[]ParamUse{{"x", 22, 1, ""}}, "SELECT region_code FROM t"},
		{"the comparison beside a parameter is found on either side, past a cast", DriverPostgres,
			"WHERE periode=:period_start OR :period_start::date <= d OR d BETWEEN :year_start AND f(:period_end)",
			[]ParamUse{{"period_start", 14, 1, "="}, {"period_start", 31, 1, "<="}, {"year_start", 69, 1, ""}, {"period_end", 87, 1, ""}},
			"WHERE periode OR date d OR d BETWEEN AND f"},
		{"an operator inside a string literal is not a comparison", DriverMySQL,
			"WHERE s = '=' AND :period_end > d",
			[]ParamUse{{"period_end", 18, 1, ">"}}, "WHERE s AND d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params, words, err := Scan(tt.driver, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(params, tt.params) {
				t.Errorf("params = %+v, want %+v", params, tt.params)
			}
			if got := strings.Join(words, " "); got != tt.words {
				t.Errorf("words = %q, want %q", got, tt.words)
			}
		})
	}
	t.Run("an unknown driver is an error", func(t *testing.T) {
		if _, _, err := Scan("oracle", "SELECT 1"); err == nil || !strings.Contains(err.Error(), "unknown driver") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestSpecChecksLinkNoDatabaseDriver(t *testing.T) {
	// config and targetfile check queries through this package; linking
	// lib/pq, go-sql-driver/mysql or modernc.org/sqlite there would make
	// every spec check carry all three drivers.
	out, err := exec.Command("go", "list", "-deps", "../sqlcheck", "../config", "../targetfile").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, driver := range []string{"github.com/lib/pq", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"} {
			if dep == driver || strings.HasPrefix(dep, driver+"/") {
				t.Errorf("the spec checks depend on %s", dep)
			}
		}
	}
}
