package config

import (
	"regexp"
	"strings"
)

// Param is one use of a named parameter in a query.
type Param struct {
	Name   string // without the colon: "period_end"
	Offset int    // byte offset of the colon in the query
	End    int    // byte offset just past the name
}

// ScanParams finds the named parameters (:name) a query uses, in order.
// It skips string literals ('…', E'…', $tag$…$tag$), quoted identifiers
// ("…", `…`), comments (-- …, /* … */) and Postgres casts (::date), so
// none of those are mistaken for parameters.
func ScanParams(query string) []Param {
	params, _ := lexQuery(query)
	return params
}

// RewriteParams replaces each named parameter with the placeholder the
// driver wants (placeholder receives the 1-based position and the name:
// "$1" for Postgres, "?" for MySQL and SQLite) and returns the rewritten
// query with the parameter names in placeholder order, ready to be mapped to
// arguments. Unlike sqlx.Named it leaves Postgres casts (::date) intact.
func RewriteParams(query string, placeholder func(i int, name string) string) (string, []string) {
	params := ScanParams(query)
	if len(params) == 0 {
		return query, nil
	}
	var b strings.Builder
	names := make([]string, len(params))
	last := 0
	for i, p := range params {
		b.WriteString(query[last:p.Offset])
		b.WriteString(placeholder(i+1, p.Name))
		names[i] = p.Name
		last = p.End
	}
	b.WriteString(query[last:])
	return b.String(), names
}

// lexQuery returns the parameters of a query and its code: the query with
// string literals and comments blanked out (newlines kept), so that words
// found in the code are really identifiers or keywords.
func lexQuery(q string) ([]Param, string) {
	var params []Param
	code := []byte(q)
	blank := func(from, to int) {
		for k := from; k < to && k < len(code); k++ {
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
			// E'…' strings (Postgres) and MySQL's default mode take
			// backslash escapes; standard strings only double the quote.
			backslash := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e') && (i == 1 || !isIdentChar(q[i-2]))
			j := closeQuoted(q, i+1, '\'', backslash)
			blank(i, j)
			i = j
		case c == '"' || c == '`':
			i = closeQuoted(q, i+1, c, false)
		case c == '-' && next == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = n - i
			}
			blank(i, i+j)
			i += j
		case c == '/' && next == '*':
			j := strings.Index(q[i+2:], "*/")
			end := n
			if j >= 0 {
				end = i + 2 + j + 2
			}
			blank(i, end)
			i = end
		case c == '$' && (i == 0 || !isIdentChar(q[i-1])):
			// Dollar quoting: $$…$$ or $tag$…$tag$. $1 is a positional
			// parameter, not a tag (tags cannot start with a digit).
			j := i + 1
			if j < n && isIdentStart(q[j]) {
				for j < n && isIdentChar(q[j]) {
					j++
				}
			}
			if j < n && q[j] == '$' {
				tag := q[i : j+1]
				k := strings.Index(q[j+1:], tag)
				end := n
				if k >= 0 {
					end = j + 1 + k + len(tag)
				}
				blank(i, end)
				i = end
			} else {
				i++
			}
		case c == ':' && next == ':':
			i += 2 // a cast: value::date
		case c == ':' && isIdentStart(next):
			j := i + 1
			for j < n && isIdentChar(q[j]) {
				j++
			}
			params = append(params, Param{Name: q[i+1 : j], Offset: i, End: j})
			blank(i, j)
			i = j
		default:
			i++
		}
	}
	return params, string(code)
}

// closeQuoted returns the offset just past the quote closing a quoted
// string or identifier that starts at from; a doubled quote is an escaped
// one. An unterminated string runs to the end.
func closeQuoted(q string, from int, quote byte, backslash bool) int {
	for i := from; i < len(q); i++ {
		switch q[i] {
		case '\\':
			if backslash {
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

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

var wordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// missingColumns returns the columns that no word of the query's code
// mentions (case-insensitively).
func missingColumns(code string, columns []string) []string {
	words := make(map[string]bool)
	for _, w := range wordRE.FindAllString(code, -1) {
		words[strings.ToLower(w)] = true
	}
	var missing []string
	for _, c := range columns {
		if !words[c] {
			missing = append(missing, c)
		}
	}
	return missing
}
