package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a spec, at a position in its file. Line and Column
// are 1-based; they are 0 when the problem has no position (the file cannot
// be read, the YAML parser gave no line).
type Error struct {
	File    string
	Line    int
	Column  int
	Message string
}

// Error formats the problem as "file:line:col: message", the shape editors
// and CI logs turn into links.
func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	default:
		return fmt.Sprintf("%s: %s", e.File, e.Message)
	}
}

// Errors is every problem found in a spec. Load and Parse return it sorted
// by position.
type Errors []*Error

// Error prints one problem per line, sorted by file and position.
func (es Errors) Error() string {
	sorted := append(Errors(nil), es...)
	sorted.sort()
	lines := make([]string, len(sorted))
	for i, e := range sorted {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual *Error values.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// dedupe drops exact repeats, which aliases can produce (one anchored node
// used by two KPIs is checked twice).
func (es Errors) dedupe() Errors {
	seen := make(map[Error]bool, len(es))
	out := es[:0]
	for _, e := range es {
		if seen[*e] {
			continue
		}
		seen[*e] = true
		out = append(out, e)
	}
	return out
}
