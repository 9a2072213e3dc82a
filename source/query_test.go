package source

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
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
			got, err := dialects[tt.driver].prepare(tt.query)
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			if got.sql != tt.want {
				t.Errorf("sql\n got %q\nwant %q", got.sql, tt.want)
			}
			if !reflect.DeepEqual(got.names, tt.names) {
				t.Errorf("names = %q, want %q", got.names, tt.names)
			}
		})
	}
}

func TestPrepareRejects(t *testing.T) {
	tests := []struct {
		name    string
		driver  string
		query   string
		err     error
		message string
	}{
		{"an unknown parameter is an error naming it and its line", DriverPostgres,
			"SELECT 1\nFROM t WHERE d < :periode_akhir", ErrUnknownParameter,
			"unknown parameter :periode_akhir (line 2); the parameters are :period_start, :period_end, :year_start"},
		{"a second statement is an error", DriverPostgres,
			"SELECT 1; DELETE FROM t", ErrMultipleStatements, "more than one statement (line 1)"},
		{"a parameter after a semicolon is a second statement", DriverMySQL,
			"SELECT 1; :period_end", ErrMultipleStatements, "more than one statement"},
		{"an INSERT is not read-only", DriverPostgres,
			"INSERT INTO t VALUES (1)", ErrNotReadOnly, "it starts with INSERT"},
		{"a lower-case delete is not read-only", DriverSQLite,
			"  delete from t", ErrNotReadOnly, "it starts with DELETE"},
		{"a CREATE TABLE is not read-only", DriverMySQL,
			"-- make a table\nCREATE TABLE x (a int)", ErrNotReadOnly, "it starts with CREATE"},
		{"a SET is not read-only", DriverPostgres,
			"SET statement_timeout = 0", ErrNotReadOnly, "it starts with SET"},
		{"SELECT INTO OUTFILE writes a file", DriverMySQL,
			"SELECT * FROM t INTO OUTFILE '/tmp/x'", ErrNotReadOnly, "INTO OUTFILE"},
		{"SELECT INTO DUMPFILE writes a file", DriverMySQL,
			"SELECT * FROM t into\n dumpfile '/tmp/x'", ErrNotReadOnly, "INTO DUMPFILE"},
		{"a query of only a comment is empty", DriverPostgres,
			"-- nothing\n", ErrEmptyQuery, "empty query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dialects[tt.driver].prepare(tt.query)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to contain %q", err, tt.message)
			}
			if err := CheckQuery(tt.driver, tt.query); !errors.Is(err, tt.err) {
				t.Errorf("CheckQuery: err = %v, want %v", err, tt.err)
			}
		})
	}
}

func TestParamsAreDatesInTheirOwnLocation(t *testing.T) {
	// Midnight of March 1st in Jakarta is still February 28th in UTC: the
	// bound value must be the Jakarta date.
	p := Params{PeriodStart: day(2026, 3, 1), PeriodEnd: day(2026, 4, 1), YearStart: day(2026, 1, 1)}
	q := prepared{names: []string{"period_start", "period_end", "year_start", "period_end"}}
	got, err := q.args(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"2026-03-01", "2026-04-01", "2026-01-01", "2026-04-01"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	if p.PeriodStart.UTC().Day() != 28 {
		t.Fatalf("test premise: %s should be February 28th in UTC", p.PeriodStart)
	}
}

func TestParamsWithoutAValueAreAnError(t *testing.T) {
	q := prepared{names: []string{"period_end", "year_start"}}
	_, err := q.args(Params{PeriodEnd: time.Date(2026, 4, 1, 0, 0, 0, 0, wib)})
	if err == nil || !strings.Contains(err.Error(), ":year_start") {
		t.Errorf("err = %v, want one naming :year_start", err)
	}
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
			[]ParamUse{{"periode_end", 26, 2}, {"year_start", 48, 2}},
			"SELECT a FROM t WHERE d AND y date"},
		{"literals and comments hide their words, quoted identifiers do not", DriverPostgres,
			`SELECT 'value' AS s, "region_code" -- value` + "\n/* value */ FROM $$ value $$",
			nil, "SELECT AS s region_code FROM"},
		{"a MySQL double-quoted alias and backquoted identifier give their words", DriverMySQL,
			"SELECT x AS \"value\", `region_code` # value\nFROM t",
			nil, "SELECT x AS value region_code FROM t"},
		{"a SQLite bracketed identifier gives its words", DriverSQLite,
			"SELECT [region_code], :x FROM t",
			[]ParamUse{{"x", 22, 1}}, "SELECT region_code FROM t"},
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
