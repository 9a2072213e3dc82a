package source

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Params are the period a query runs for. They are bound as 'YYYY-MM-DD'
// strings in each time's own location (pantau passes midnights in
// Asia/Jakarta).
type Params struct {
	PeriodStart time.Time // :period_start, the first day of the month
	PeriodEnd   time.Time // :period_end, exclusive: the first day of the next month
	YearStart   time.Time // :year_start, January 1st of the period's year
}

// The named parameters a query may use.
const (
	ParamPeriodStart = "period_start"
	ParamPeriodEnd   = "period_end"
	ParamYearStart   = "year_start"
)

// ParamNames lists the named parameters a query may use, without the colon.
func ParamNames() []string {
	return []string{ParamPeriodStart, ParamPeriodEnd, ParamYearStart}
}

// value returns the bound value of a named parameter.
func (p Params) value(name string) (string, error) {
	var t time.Time
	switch name {
	case ParamPeriodStart:
		t = p.PeriodStart
	case ParamPeriodEnd:
		t = p.PeriodEnd
	case ParamYearStart:
		t = p.YearStart
	default:
		return "", fmt.Errorf("%w :%s", ErrUnknownParameter, name)
	}
	if t.IsZero() {
		return "", fmt.Errorf("the query uses :%s but Params has no value for it", name)
	}
	return t.Format(time.DateOnly), nil
}

// Errors a query can be refused with before it reaches the database.
var (
	// ErrUnknownParameter: the query uses a :name that is not one of ParamNames.
	ErrUnknownParameter = errors.New("unknown parameter")
	// ErrMultipleStatements: the query holds more than one statement.
	ErrMultipleStatements = errors.New("more than one statement")
	// ErrNotReadOnly: the query does not start with SELECT, WITH, VALUES or TABLE.
	ErrNotReadOnly = errors.New("not a read-only query")
	// ErrEmptyQuery: the query holds no statement at all.
	ErrEmptyQuery = errors.New("empty query")
)

// CheckQuery reports whether Query would accept query for a source of the
// given driver, without running it: one read-only statement using only
// known parameters. Configuration checks can call it.
func CheckQuery(driver, query string) error {
	d, ok := dialects[driver]
	if !ok {
		return fmt.Errorf("unknown driver %q; use one of %s", driver, strings.Join(Drivers(), ", "))
	}
	_, err := d.prepare(query)
	return err
}

// ParamUse is one use of a named parameter in a query.
type ParamUse struct {
	Name   string // without the colon: "period_end"
	Offset int    // byte offset of the colon in the query
	Line   int    // 1-based line of the colon in the query
}

// Scan reads a query the way Query does for a source of the given driver,
// without judging it (CheckQuery does that). It returns the named
// parameters the query uses, in order, known or not, and the words of its
// code: the keywords and identifiers outside string literals, comments and
// parameters, quoted identifiers ("value", `value`, [value]) and MySQL's
// "…" strings, which serve as aliases, included. A configuration check can
// place an unknown parameter and tell whether the query mentions a column.
func Scan(driver, query string) (params []ParamUse, words []string, err error) {
	d, ok := dialects[driver]
	if !ok {
		return nil, nil, fmt.Errorf("unknown driver %q; use one of %s", driver, strings.Join(Drivers(), ", "))
	}
	ps, code, idents := d.scan(query)
	b := []byte(code)
	for _, id := range idents {
		copy(b[id.from:id.to], query[id.from:id.to])
	}
	for _, p := range ps {
		params = append(params, ParamUse{Name: p.name, Offset: p.from, Line: lineOf(query, p.from)})
		for k := p.from; k < p.to; k++ {
			b[k] = ' '
		}
	}
	return params, wordRE.FindAllString(string(b), -1), nil
}

// prepared is a query rewritten for a driver.
type prepared struct {
	sql   string   // with the driver's placeholders
	names []string // the parameter behind each placeholder, in order
}

// args returns the arguments for the placeholders.
func (q prepared) args(p Params) ([]any, error) {
	args := make([]any, len(q.names))
	for i, name := range q.names {
		v, err := p.value(name)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
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

// prepare checks a query and rewrites its named parameters to placeholders.
// Each use gets its own placeholder (Postgres infers a placeholder's type
// from its context, and two uses may be in different contexts).
func (d dialect) prepare(query string) (prepared, error) {
	params, code, _ := d.scan(query)

	// One statement: nothing but blanks after the first top-level ';'.
	end := len(code)
	if i := strings.IndexByte(code, ';'); i >= 0 {
		if strings.TrimSpace(code[i+1:]) != "" {
			return prepared{}, fmt.Errorf("%w (line %d): a source query must be a single SELECT", ErrMultipleStatements, lineOf(query, i))
		}
		end = i
	}
	first := firstWord(code[:end])
	switch {
	case first == "":
		return prepared{}, ErrEmptyQuery
	case !readKeywords[strings.ToUpper(first)]:
		return prepared{}, fmt.Errorf("%w: it starts with %s; a source query must be a SELECT (or WITH … SELECT)", ErrNotReadOnly, strings.ToUpper(first))
	}
	// MySQL's SELECT … INTO OUTFILE / DUMPFILE writes a file on the server,
	// which a READ ONLY transaction does not prevent.
	words := wordRE.FindAllString(code[:end], -1)
	for i := 0; i+1 < len(words); i++ {
		if strings.EqualFold(words[i], "INTO") {
			if w := strings.ToUpper(words[i+1]); w == "OUTFILE" || w == "DUMPFILE" {
				return prepared{}, fmt.Errorf("%w: SELECT … INTO %s writes a file", ErrNotReadOnly, w)
			}
		}
	}

	var b strings.Builder
	names := make([]string, 0, len(params))
	last := 0
	for i, p := range params {
		if !isParamName(p.name) {
			return prepared{}, fmt.Errorf("%w :%s (line %d); the parameters are :%s",
				ErrUnknownParameter, p.name, lineOf(query, p.from), strings.Join(ParamNames(), ", :"))
		}
		b.WriteString(query[last:p.from])
		b.WriteString(d.placeholder(i + 1))
		names = append(names, p.name)
		last = p.to
	}
	// Drop the trailing ';' and what follows it (blanks and comments).
	b.WriteString(query[last:end])
	return prepared{sql: strings.TrimRight(b.String(), " \t\r\n"), names: names}, nil
}

func isParamName(name string) bool {
	switch name {
	case ParamPeriodStart, ParamPeriodEnd, ParamYearStart:
		return true
	}
	return false
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

// firstWord returns the first identifier or keyword of code, skipping
// blanks and opening parentheses.
func firstWord(code string) string {
	s := strings.TrimLeft(code, " \t\r\n(")
	i := 0
	for i < len(s) && isIdentChar(s[i]) {
		i++
	}
	if i == 0 && s != "" {
		return s[:1]
	}
	return s[:i]
}

var wordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_$]*`)

func lineOf(q string, offset int) int { return strings.Count(q[:offset], "\n") + 1 }

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
