// Package sqlcheck reads the SQL of a KPI query without a database: it
// finds the named parameters (:period_start, :period_end, :year_start),
// checks that the query is one statement that only reads, and rewrites the
// parameters to a driver's placeholders. It imports no database driver, so
// that the spec checks (config, targetfile) can use it without linking
// lib/pq, go-sql-driver/mysql and modernc.org/sqlite.
//
// The scanner knows each driver's lexical rules (string literals, quoted
// identifiers, comments, Postgres dollar quoting and casts) and looks only
// at what remains: keywords, identifiers, operators and parameters. It is a
// first line of defence that gives a clear message; the read-only
// transaction a source runs each query in, and a read-only database
// account, are what really keep a query from writing.
package sqlcheck

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The drivers a query can be written for.
const (
	DriverPostgres = "postgres" // PostgreSQL
	DriverMySQL    = "mysql"    // MySQL and MariaDB
	DriverSQLite   = "sqlite"   // SQLite
)

// Drivers lists the supported driver names.
func Drivers() []string { return []string{DriverPostgres, DriverMySQL, DriverSQLite} }

// The named parameters a query may use.
const (
	ParamPeriodStart = "period_start" // the first day of the month
	ParamPeriodEnd   = "period_end"   // exclusive: the first day of the next month
	ParamYearStart   = "year_start"   // January 1st of the period's year
)

// ParamNames lists the named parameters a query may use, without the colon.
func ParamNames() []string {
	return []string{ParamPeriodStart, ParamPeriodEnd, ParamYearStart}
}

// Errors a query can be refused with before it reaches the database. Check
// and Prepare return them wrapped in an *Error that says where.
var (
	// ErrUnknownParameter: the query uses a :name that is not one of ParamNames.
	ErrUnknownParameter = errors.New("unknown parameter")
	// ErrMultipleStatements: the query holds more than one statement.
	ErrMultipleStatements = errors.New("more than one statement")
	// ErrNotReadOnly: the query does not start with SELECT, WITH, VALUES or
	// TABLE, or holds a construct that writes, locks or has side effects.
	ErrNotReadOnly = errors.New("not a read-only query")
	// ErrEmptyQuery: the query holds no statement at all.
	ErrEmptyQuery = errors.New("empty query")
)

// Error is a query refused by Check or Prepare, with the place of the
// construct it was refused for.
type Error struct {
	Err       error  // ErrUnknownParameter, ErrMultipleStatements, ErrNotReadOnly
	Offset    int    // byte offset of the construct in the query
	Line      int    // 1-based line of Offset in the query
	Construct string // the construct's text at Offset, as written
	Detail    string // what is wrong with it and what to do, without the place
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v (query line %d): %s", e.Err, e.Line, e.Detail)
}

func (e *Error) Unwrap() error { return e.Err }

// Check reports whether Prepare would accept query for the given driver:
// one read-only statement using only known parameters. Configuration checks
// call it; errors.As finds an *Error with the construct's place, except for
// ErrEmptyQuery and an unknown driver.
func Check(driver, query string) error {
	_, err := Prepare(driver, query)
	return err
}

// ParamUse is one use of a named parameter in a query.
type ParamUse struct {
	Name   string // without the colon: "period_end"
	Offset int    // byte offset of the colon in the query
	Line   int    // 1-based line of the colon in the query
	// Op is the comparison operator written right before the parameter
	// (tanggal = :period_start) or, failing that, right after it
	// (:period_start <= tanggal, a cast like ::date skipped): "=", "<",
	// ">=", "<>", … as written, or "" when the parameter is not compared
	// directly (BETWEEN, a function argument).
	Op string
}

// Scan reads a query the way Prepare does for the given driver, without
// judging it (Check does that). It returns the named parameters the query
// uses, in order, known or not, and the words of its code: the keywords and
// identifiers outside string literals, comments and parameters, quoted
// identifiers ("value", `value`, [value]) and MySQL's "…" strings, which
// serve as aliases, included. A configuration check can place an unknown
// parameter and tell whether the query mentions a column.
func Scan(driver, query string) (params []ParamUse, words []string, err error) {
	d, err := dialectOf(driver)
	if err != nil {
		return nil, nil, err
	}
	ps, code, idents := d.scan(query)
	b := []byte(code)
	for _, id := range idents {
		copy(b[id.from:id.to], query[id.from:id.to])
	}
	for _, p := range ps {
		params = append(params, ParamUse{Name: p.name, Offset: p.from, Line: lineOf(query, p.from), Op: comparison(code, p)})
		for k := p.from; k < p.to; k++ {
			b[k] = ' '
		}
	}
	return params, wordRE.FindAllString(string(b), -1), nil
}

// comparison returns the comparison operator beside a parameter in code
// (the query with literals and comments blanked), "" when there is none.
func comparison(code string, p param) string {
	isOp := func(c byte) bool { return c == '=' || c == '<' || c == '>' || c == '!' }
	i := p.from
	for i > 0 && isSpace(code[i-1]) {
		i--
	}
	j := i
	for j > 0 && isOp(code[j-1]) {
		j--
	}
	if j < i {
		return code[j:i]
	}
	i = p.to
	// :period_start::date = tanggal
	for i+1 < len(code) && code[i] == ':' && code[i+1] == ':' {
		i += 2
		for i < len(code) && isIdentChar(code[i]) {
			i++
		}
	}
	for i < len(code) && isSpace(code[i]) {
		i++
	}
	j = i
	for j < len(code) && isOp(code[j]) {
		j++
	}
	return code[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Prepared is a query rewritten for a driver.
type Prepared struct {
	SQL   string   // with the driver's placeholders ($1… or ?)
	Names []string // the parameter behind each placeholder, in order
}

// dialect is what the scanner and the placeholders need to know of a
// driver's SQL.
type dialect struct {
	// backslash: '…' and "…" strings take backslash escapes (MySQL's
	// default mode). Postgres only does so in E'…' strings.
	backslash bool
	// doubleQuoteString: "…" is a string literal, not an identifier (MySQL).
	doubleQuoteString bool
	dollarQuotes      bool // $tag$…$tag$ strings (Postgres)
	hashComments      bool // # to end of line (MySQL)
	nestedComments    bool // /* /* */ */ nest (Postgres)
	bracketIdents     bool // [identifier] (SQLite)
	placeholder       func(i int) string

	// assignments: @v := x sets a user variable, which outlives the
	// rolled-back transaction on a pooled connection (MySQL).
	assignments bool
}

var dialects = map[string]dialect{
	DriverPostgres: {
		dollarQuotes:   true,
		nestedComments: true,
		placeholder:    func(i int) string { return "$" + strconv.Itoa(i) },
	},
	DriverMySQL: {
		backslash:         true,
		doubleQuoteString: true,
		hashComments:      true,
		placeholder:       func(int) string { return "?" },

		assignments: true,
	},
	DriverSQLite: {
		bracketIdents: true,
		placeholder:   func(int) string { return "?" },
	},
}

// param is one use of a named parameter.
type param struct {
	name     string
	from, to int // byte offsets of the colon and just past the name
}

// span is a quoted identifier: the byte offsets of its opening quote and
// just past its closing one.
type span struct{ from, to int }

// readKeywords may start a read-only statement.
var readKeywords = map[string]bool{"SELECT": true, "WITH": true, "VALUES": true, "TABLE": true}

// dmlKeywords start a statement that changes data; inside a read-only
// statement they can only be a data-modifying CTE (WITH d AS (DELETE …)).
var dmlKeywords = map[string]bool{"INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true}

// lockClause returns how many of the words after a FOR make a row-locking
// clause (FOR UPDATE, FOR SHARE, FOR KEY SHARE, FOR NO KEY UPDATE), 0 when
// they make none (SUBSTRING(x FROM 1 FOR 2)).
func lockClause(a, b, c string) int {
	switch {
	case a == "UPDATE" || a == "SHARE":
		return 1
	case a == "KEY" && b == "SHARE":
		return 2
	case a == "NO" && b == "KEY" && c == "UPDATE":
		return 3
	}
	return 0
}

// sideEffects are functions a SELECT can call that write, lock or reach
// outside the transaction; the read-only transaction stops some of them,
// with a message that names none. Lower case. Sleeping (pg_sleep, SLEEP)
// is allowed: it writes nothing, and the source's timeout, on the client
// and on the server, bounds it as it bounds any slow query.
var sideEffects = map[string]string{
	// PostgreSQL
	"nextval":                 "changes a sequence",
	"setval":                  "changes a sequence",
	"txid_current":            "takes a transaction id, which is a write",
	"pg_current_xact_id":      "takes a transaction id, which is a write",
	"pg_terminate_backend":    "ends another session",
	"pg_cancel_backend":       "cancels another session's query",
	"pg_reload_conf":          "reloads the server's configuration",
	"pg_rotate_logfile":       "rotates the server's log",
	"pg_switch_wal":           "switches the server's WAL file",
	"pg_create_restore_point": "writes a restore point",
	"pg_stat_reset":           "resets the server's statistics",
	"pg_notify":               "sends a notification",
	"set_config":              "changes a setting of the session (pantau's rollback undoes it, but a query has no business doing it)",
	"lo_import":               "reads a server file into a new large object",
	"lo_export":               "writes a large object to a server file",
	"lo_create":               "creates a large object",
	"lo_from_bytea":           "creates a large object",
	"lo_put":                  "writes into a large object",
	"lo_unlink":               "deletes a large object",
	"dblink":                  "runs SQL over another connection, outside the read-only transaction",
	"dblink_exec":             "runs SQL over another connection, outside the read-only transaction",
	"dblink_connect":          "opens another connection, outside the read-only transaction",
	"dblink_send_query":       "runs SQL over another connection, outside the read-only transaction",
	"pg_advisory_lock":        "takes a lock that outlives the query",
	"pg_advisory_lock_shared": "takes a lock that outlives the query",
	"pg_try_advisory_lock":    "takes a lock that outlives the query",
	"pg_advisory_xact_lock":   "takes a lock other sessions wait for",

	"pg_try_advisory_lock_shared":         "takes a lock that outlives the query",
	"pg_advisory_xact_lock_shared":        "takes a lock other sessions wait for",
	"pg_advisory_unlock":                  "releases a lock of the session",
	"pg_advisory_unlock_all":              "releases the session's locks",
	"pg_read_file":                        "reads a file on the server",
	"pg_read_binary_file":                 "reads a file on the server",
	"pg_ls_dir":                           "lists a directory on the server",
	"pg_stat_file":                        "reads a file's status on the server",
	"pg_logical_emit_message":             "writes a message into the WAL",
	"pg_create_logical_replication_slot":  "creates a replication slot",
	"pg_create_physical_replication_slot": "creates a replication slot",
	"pg_drop_replication_slot":            "drops a replication slot",
	"pg_promote":                          "promotes a standby server",
	"pg_backup_start":                     "starts a backup",
	"pg_backup_stop":                      "stops a backup",
	// MySQL and MariaDB
	"get_lock":     "takes a lock that outlives the query",
	"release_lock": "releases a lock of the session",
	"load_file":    "reads a file on the server",
	"sys_exec":     "runs a shell command on the server (lib_mysqludf_sys)",
	"sys_eval":     "runs a shell command on the server (lib_mysqludf_sys)",
	// SQLite
	"load_extension": "loads code into the database engine",
}

// prepare checks a query and rewrites its named parameters to placeholders.
// Each use gets its own placeholder (Postgres infers a placeholder's type
// from its context, and two uses may be in different contexts).
func (d dialect) prepare(query string) (Prepared, error) {
	params, code, _ := d.scan(query)
	refuse := func(err error, offset, length int, format string, args ...any) (Prepared, error) {
		return Prepared{}, &Error{Err: err, Offset: offset, Line: lineOf(query, offset),
			Construct: query[offset : offset+length], Detail: fmt.Sprintf(format, args...)}
	}

	// One statement: nothing but blanks after the first top-level ';'.
	end := len(code)
	if i := strings.IndexByte(code, ';'); i >= 0 {
		if strings.TrimSpace(code[i+1:]) != "" {
			return refuse(ErrMultipleStatements, i, 1, "a second statement follows this semicolon; a source query must be a single SELECT")
		}
		end = i
	}
	words := wordRE.FindAllStringIndex(code[:end], -1)
	word := func(k int) string {
		if k >= len(words) {
			return ""
		}
		return strings.ToUpper(code[words[k][0]:words[k][1]])
	}
	start := end - len(strings.TrimLeft(code[:end], " \t\r\n("))
	if start == end {
		return Prepared{}, ErrEmptyQuery
	}
	if len(words) == 0 || words[0][0] != start {
		return refuse(ErrNotReadOnly, start, 1, "it starts with %q; a source query must be a SELECT (or WITH … SELECT)", code[start:start+1])
	}
	if w := word(0); !readKeywords[w] {
		return refuse(ErrNotReadOnly, words[0][0], len(w), "it starts with %s; a source query must be a SELECT (or WITH … SELECT)", w)
	}
	if i := strings.Index(code[:end], ":="); d.assignments && i >= 0 {
		return refuse(ErrNotReadOnly, i, 2, ":= sets a user variable, which outlives the query on a pooled connection; a source query may only read")
	}
	for k, at := range words {
		w := word(k)
		length := at[1] - at[0]
		qualified := at[0] > 0 && code[at[0]-1] == '.' // t.update: a column
		call := strings.HasPrefix(strings.TrimLeft(code[at[1]:end], " \t\r\n"), "(")
		switch {
		case dmlKeywords[w] && !qualified && !call: // MySQL's INSERT(str, …) is a string function
			return refuse(ErrNotReadOnly, at[0], length, "%s inside the query changes data; a source query may only read", w)
		case w == "INTO" && !qualified:
			// SELECT … INTO t creates a table (Postgres), INTO @v sets a
			// variable, INTO OUTFILE/DUMPFILE writes a server file, which
			// a READ ONLY transaction does not prevent (MySQL).
			if n := word(k + 1); n == "OUTFILE" || n == "DUMPFILE" {
				return refuse(ErrNotReadOnly, at[0], words[k+1][1]-at[0], "SELECT … INTO %s writes a file on the server; a source query returns its rows", n)
			}
			return refuse(ErrNotReadOnly, at[0], length, "SELECT … INTO stores the result (in a new table or a variable); a source query returns its rows")
		case w == "FOR" && !qualified && lockClause(word(k+1), word(k+2), word(k+3)) > 0:
			last := words[k+lockClause(word(k+1), word(k+2), word(k+3))]
			clause := strings.Join(strings.Fields(strings.ToUpper(code[at[0]:last[1]])), " ")
			return refuse(ErrNotReadOnly, at[0], last[1]-at[0], "SELECT … %s locks the rows it reads, as for a write; leave the locking clause out", clause)
		case w == "LOCK" && word(k+1) == "IN" && word(k+2) == "SHARE" && word(k+3) == "MODE":
			return refuse(ErrNotReadOnly, at[0], words[k+3][1]-at[0], "SELECT … LOCK IN SHARE MODE locks the rows it reads, as for a write; leave the locking clause out")
		case call:
			if why, ok := sideEffects[strings.ToLower(w)]; ok {
				return refuse(ErrNotReadOnly, at[0], length, "%s() %s; a source query may only read", strings.ToLower(w), why)
			}
		}
	}

	var b strings.Builder
	names := make([]string, 0, len(params))
	last := 0
	for i, p := range params {
		if !slices.Contains(ParamNames(), p.name) {
			return refuse(ErrUnknownParameter, p.from, p.to-p.from, "%s; the parameters are :%s",
				query[p.from:p.to], strings.Join(ParamNames(), ", :"))
		}
		b.WriteString(query[last:p.from])
		b.WriteString(d.placeholder(i + 1))
		names = append(names, p.name)
		last = p.to
	}
	// Drop the trailing ';' and what follows it (blanks and comments).
	b.WriteString(query[last:end])
	return Prepared{SQL: strings.TrimRight(b.String(), " \t\r\n"), Names: names}, nil
}

// Prepare checks a query for the given driver and rewrites its named
// parameters to the driver's placeholders.
func Prepare(driver, query string) (Prepared, error) {
	d, err := dialectOf(driver)
	if err != nil {
		return Prepared{}, err
	}
	return d.prepare(query)
}

func dialectOf(driver string) (dialect, error) {
	d, ok := dialects[driver]
	if !ok {
		return dialect{}, fmt.Errorf("unknown driver %q; use one of %s", driver, strings.Join(Drivers(), ", "))
	}
	return d, nil
}

// scan returns the named parameters of a query and its code: the query with
// string literals, quoted identifiers and comments blanked out (newlines
// kept), so that what remains is keywords, identifiers, operators,
// parameters and the ';' between statements. It also returns where the
// quoted identifiers were.
func (d dialect) scan(q string) ([]param, string, []span) {
	var params []param
	var idents []span
	code := []byte(q)
	blank := func(from, to int) {
		for k := from; k < to; k++ {
			if code[k] != '\n' {
				code[k] = ' '
			}
		}
	}
	n := len(q)
	for i := 0; i < n; {
		c := q[i]
		var next byte
		if i+1 < n {
			next = q[i+1]
		}
		switch {
		case c == '\'':
			// Postgres E'…' strings take backslash escapes.
			escapes := d.backslash || (i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !isIdentChar(q[i-2])))
			j := closeQuoted(q, i+1, '\'', escapes)
			blank(i, j)
			i = j
		case c == '"':
			j := closeQuoted(q, i+1, '"', d.backslash && d.doubleQuoteString)
			blank(i, j)
			idents = append(idents, span{i, j}) // (MySQL's "…" strings are mostly aliases)
			i = j
		case c == '`':
			j := closeQuoted(q, i+1, '`', false)
			blank(i, j)
			idents = append(idents, span{i, j})
			i = j
		case c == '[' && d.bracketIdents:
			j := strings.IndexByte(q[i+1:], ']')
			end := n
			if j >= 0 {
				end = i + 1 + j + 1
			}
			blank(i, end)
			idents = append(idents, span{i, end})
			i = end
		case c == '-' && next == '-', c == '#' && d.hashComments:
			j := strings.IndexByte(q[i:], '\n')
			end := n
			if j >= 0 {
				end = i + j
			}
			blank(i, end)
			i = end
		case c == '/' && next == '*':
			end := closeComment(q, i, d.nestedComments)
			blank(i, end)
			i = end
		case c == '$' && d.dollarQuotes && (i == 0 || !isIdentChar(q[i-1])):
			// $$…$$ or $tag$…$tag$; $1 is a positional parameter, not a tag.
			j := i + 1
			if j < n && isIdentStart(q[j]) {
				for j < n && isIdentChar(q[j]) {
					j++
				}
			}
			if j < n && q[j] == '$' {
				tag := q[i : j+1]
				end := n
				if k := strings.Index(q[j+1:], tag); k >= 0 {
					end = j + 1 + k + len(tag)
				}
				blank(i, end)
				i = end
			} else {
				i++
			}
		case c == ':' && next == ':':
			i += 2 // a Postgres cast: x::date
		case c == ':' && isIdentStart(next):
			j := i + 1
			for j < n && isIdentChar(q[j]) {
				j++
			}
			params = append(params, param{name: q[i+1 : j], from: i, to: j})
			i = j
		default:
			i++
		}
	}
	return params, string(code), idents
}

// closeQuoted returns the offset just past the quote that closes a quoted
// string or identifier whose text starts at from. A doubled quote is an
// escaped one; so is a backslashed one when escapes is set. An unterminated
// string runs to the end (the database reports the syntax error).
func closeQuoted(q string, from int, quote byte, escapes bool) int {
	for i := from; i < len(q); i++ {
		switch q[i] {
		case '\\':
			if escapes {
				i++
			}
		case quote:
			if i+1 < len(q) && q[i+1] == quote {
				i++
				continue
			}
			return i + 1
		}
	}
	return len(q)
}

// closeComment returns the offset just past the */ that closes the comment
// starting at from.
func closeComment(q string, from int, nested bool) int {
	depth := 0
	for i := from; i+1 < len(q); i++ {
		switch {
		case q[i] == '/' && q[i+1] == '*' && (nested || depth == 0):
			depth++
			i++
		case q[i] == '*' && q[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(q)
}

var wordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_$]*`)

func lineOf(q string, offset int) int { return strings.Count(q[:offset], "\n") + 1 }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
