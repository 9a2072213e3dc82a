package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/sqlcheck"
	"github.com/pantau-id/pantau/suggest"
)

// decoder walks the YAML node tree by hand rather than unmarshalling into
// structs: that way every problem carries the line and column of the node at
// fault, and all of them are collected instead of the first.
type decoder struct {
	file  string
	lines [][]byte // the raw file, to place errors inside multi-line queries
	errs  Errors
	warns Errors
}

// warnAt records a likely mistake that does not stop the spec from loading.
func (d *decoder) warnAt(line, col int, format string, args ...any) {
	d.warns = append(d.warns, &Error{File: d.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorAt(line, col int, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.errorAt(line, col, format, args...)
}

// Keys each mapping accepts, in the order the docs list them.
var (
	specKeys      = []string{"timezone", "refresh", "sources", "kpis", "alerts", "exposure"}
	sourceKeys    = []string{"driver", "dsn_env", "timeout", "max_concurrent", "current_month", "recheck_closed"}
	kpiKeys       = []string{"id", "name", "unit", "kind", "accumulation", "direction", "source", "level", "query", "target", "rate_builds_up", "share", "thresholds", "exposure"}
	targetKeys    = []string{"rate"}
	thresholdKeys = []string{"on_track", "at_risk"}
)

// Words people reach for instead of the spec's keys.
var keyHints = map[string]string{
	"sql":         "query",
	"type":        "kind",
	"metric":      "id",
	"title":       "name",
	"label":       "name",
	"db":          "source",
	"database":    "source",
	"datasource":  "source",
	"interval":    "refresh",
	"tz":          "timezone",
	"time_zone":   "timezone",
	"concurrency": "max_concurrent",
}

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	syntaxRE  = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

	unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

const exampleRef = "see examples/dinsos.yaml"

func (d *decoder) decode(data []byte) *Spec {
	if len(bytes.TrimSpace(data)) == 0 {
		d.errorAt(1, 1, "the file is empty; a spec needs at least sources: and kpis: (%s)", exampleRef)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(1, 1, "the file holds only comments; a spec needs at least sources: and kpis: (%s)", exampleRef)
		} else {
			d.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		n := &extra
		if len(extra.Content) > 0 {
			n = extra.Content[0]
		}
		d.errorf(n, "a second YAML document starts here; a spec is one document: remove the --- separator or move the rest to its own file")
	case !errors.Is(err, io.EOF):
		d.syntaxError(err)
	}

	top := &doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			d.errorAt(1, 1, "the file is empty; a spec needs at least sources: and kpis: (%s)", exampleRef)
			return nil
		}
		top = resolve(doc.Content[0])
	}
	if isNull(top) {
		d.errorAt(1, 1, "the file is empty; a spec needs at least sources: and kpis: (%s)", exampleRef)
		return nil
	}
	if top.Kind != yaml.MappingNode {
		d.errorf(top, "the spec must be a mapping with the keys %s, not %s (%s)", andList(specKeys), kindName(top), exampleRef)
		return nil
	}

	fs := d.fields(top)
	d.checkKeys(fs, specKeys, "at the top of the spec", nil)
	spec := &Spec{File: d.file, Location: d.timezone(fs), Refresh: DefaultRefresh, Sources: map[string]Source{}}
	if v, ok := fs.value("refresh"); ok {
		if r, ok := d.duration(v, "refresh"); ok {
			if r < MinRefresh {
				d.errorf(v, "refresh: %s is too short; refresh at least every 1s (5m suits most sources)", r)
			}
			spec.Refresh = r
		}
	}
	spec.Exposure = d.exposure(fs, DefaultExposure, "")
	d.sources(fs, spec)
	d.kpis(fs, spec)
	d.alerts(fs, spec)
	return spec
}

// Problems the YAML parser (rather than its scanner) reports: it numbers
// their lines from 0, and the line is where the enclosing block or flow
// collection starts, not where the problem is.
var parserProblems = []string{"did not find expected", "found undefined tag handle", "found duplicate %", "found incompatible YAML document"}

func (d *decoder) syntaxError(err error) {
	msg := err.Error()
	if m := syntaxRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		problem := m[2]
		for _, p := range parserProblems {
			if strings.HasPrefix(problem, p) {
				line++
				d.errorAt(line, 1, "YAML syntax error: %s in the block that starts here; check the indentation (spaces, not tabs) and that every bracket and quote is closed", problem)
				return
			}
		}
		d.errorAt(line, 1, "YAML syntax error: %s; check the indentation (spaces, not tabs) and quoting on this line", problem)
		return
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		// The parser gives no line; the first use of the alias is the place.
		for i := range d.lines {
			if col := bytes.Index(d.lines[i], []byte("*"+m[1])); col >= 0 {
				d.errorAt(i+1, utf8.RuneCount(d.lines[i][:col])+1, "alias *%s refers to no anchor; define &%s before using it, or write the value out", m[1], m[1])
				return
			}
		}
	}
	d.errorAt(0, 0, "YAML syntax error: %s", msg)
}

// resolve follows aliases (*name) to the node they stand for.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("the value %q", truncate(n.Value, 40))
	}
	return "an alias"
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// field is one key: value pair of a mapping.
type field struct{ key, val *yaml.Node }

// fieldSet is a mapping's pairs, with merge keys (<<: *defaults) applied
// and repeated keys set aside for checkKeys to report.
type fieldSet struct {
	node    *yaml.Node
	list    []field
	byKey   map[string]field
	dups    []field
	bad     []*yaml.Node // keys that are not plain scalars
	visited map[*yaml.Node]bool
	// suggested holds the keys a misspelt key was taken for ("qurey" →
	// query): that key is then not reported missing as well.
	suggested map[string]bool
}

func (d *decoder) fields(n *yaml.Node) *fieldSet {
	fs := &fieldSet{node: n, byKey: map[string]field{}, visited: map[*yaml.Node]bool{}, suggested: map[string]bool{}}
	var merged []field
	fs.collect(n, &merged, 0, true)
	for _, f := range merged {
		if _, ok := fs.byKey[f.key.Value]; !ok {
			fs.byKey[f.key.Value] = f
			fs.list = append(fs.list, f)
		}
	}
	return fs
}

func (fs *fieldSet) collect(n *yaml.Node, merged *[]field, depth int, explicit bool) {
	// Each mapping is merged once: merging it again adds nothing (the
	// first value of a key wins), and nested merges of the same anchor
	// would otherwise grow exponentially (a "billion laughs" input).
	if depth > 100 || n == nil || n.Kind != yaml.MappingNode || fs.visited[n] {
		return
	}
	fs.visited[n] = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			if explicit {
				fs.bad = append(fs.bad, n.Content[i])
			}
			continue
		}
		if k.Tag == "!!merge" {
			src := resolve(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, m := range src.Content {
					fs.collect(resolve(m), merged, depth+1, false)
				}
			} else {
				fs.collect(src, merged, depth+1, false)
			}
			continue
		}
		f := field{key: k, val: v}
		if !explicit {
			*merged = append(*merged, f)
			continue
		}
		if _, dup := fs.byKey[k.Value]; dup {
			fs.dups = append(fs.dups, f)
			continue
		}
		fs.byKey[k.Value] = f
		fs.list = append(fs.list, f)
	}
}

// value returns the value of key when it is present and not empty.
func (fs *fieldSet) value(key string) (*yaml.Node, bool) {
	f, ok := fs.byKey[key]
	if !ok {
		return nil, false
	}
	v := resolve(f.val)
	if isNull(v) {
		return nil, false
	}
	return v, true
}

// where returns the node a "missing key" problem is reported at: the key
// when it is present with no value, else the mapping itself.
func (fs *fieldSet) where(key string) *yaml.Node {
	if f, ok := fs.byKey[key]; ok {
		return f.key
	}
	return fs.node
}

// missing reports a required key that is absent or empty, unless a
// misspelling of it was already reported.
func (d *decoder) missing(fs *fieldSet, key, format string, args ...any) {
	if fs.suggested[key] {
		return
	}
	d.errorf(fs.where(key), format, args...)
}

// checkKeys reports repeated and unknown keys. in says where, for messages
// ("in kpi ewarong_aktif"); extra adds advice for particular keys.
func (d *decoder) checkKeys(fs *fieldSet, allowed []string, in string, extra map[string]string) {
	for _, k := range fs.bad {
		d.errorf(k, "keys must be plain words; this one is %s", kindName(resolve(k)))
	}
	for _, f := range fs.dups {
		first := fs.byKey[f.key.Value].key
		d.errorf(f.key, "key %s appears twice %s (the first is at line %d); keep one", f.key.Value, in, first.Line)
	}
	if allowed == nil {
		return
	}
	for _, f := range fs.list {
		key := f.key.Value
		if contains(allowed, key) {
			continue
		}
		if advice, ok := extra[key]; ok {
			d.errorf(f.key, "%s", advice)
			continue
		}
		s := suggest.Closest(key, allowed)
		if s == "" && contains(allowed, keyHints[strings.ToLower(key)]) {
			s = keyHints[strings.ToLower(key)]
		}
		if s != "" {
			fs.suggested[s] = true
			d.errorf(f.key, "unknown key %q %s (did you mean %s?)", key, in, s)
		} else {
			d.errorf(f.key, "unknown key %q %s; the keys are %s", key, in, andList(allowed))
		}
	}
}

func hasAny(fs *fieldSet, keys ...string) bool {
	for _, k := range keys {
		if _, ok := fs.byKey[k]; ok {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns a value that must be a single value, reporting lists and
// mappings.
func (d *decoder) scalar(v *yaml.Node, label string) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		d.errorf(v, "%s must be a single value, not %s", label, kindName(v))
		return "", false
	}
	return v.Value, true
}

// number reads an int or float value.
func (d *decoder) number(v *yaml.Node, label, example string) (float64, bool) {
	s, ok := d.scalar(v, label)
	if !ok {
		return 0, false
	}
	if v.Tag != "!!int" && v.Tag != "!!float" {
		d.errorf(v, "%s: %q is not a number; write it like %s", label, truncate(s, 40), example)
		return 0, false
	}
	var f float64
	if err := v.Decode(&f); err != nil {
		d.errorf(v, "%s: %q is not a number; write it like %s", label, truncate(s, 40), example)
		return 0, false
	}
	return f, true
}

func (d *decoder) boolean(v *yaml.Node, label string) (bool, bool) {
	s, ok := d.scalar(v, label)
	if !ok {
		return false, false
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		d.errorf(v, "%s: %q is not true or false", label, truncate(s, 40))
		return false, false
	}
	return b, true
}

func (d *decoder) duration(v *yaml.Node, label string) (time.Duration, bool) {
	s, ok := d.scalar(v, label)
	if !ok {
		return 0, false
	}
	if v.Tag == "!!int" || v.Tag == "!!float" {
		d.errorf(v, "%s: %s has no unit; write it like 5m or 30s", label, s)
		return 0, false
	}
	dur, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		d.errorf(v, "%s: %q is not a duration; write it like 5m or 30s", label, truncate(s, 40))
		return 0, false
	}
	return dur, true
}

// enum reads one of a fixed set of words.
func (d *decoder) enum(v *yaml.Node, label string, allowed []string, explain string) (string, bool) {
	s, ok := d.scalar(v, label)
	if !ok {
		return "", false
	}
	if contains(allowed, s) {
		return s, true
	}
	if sug := suggest.Closest(s, allowed); sug != "" {
		d.errorf(v, "%s %q is not valid (did you mean %s?); use %s", label, truncate(s, 40), sug, explain)
	} else {
		d.errorf(v, "%s %q is not valid; use %s", label, truncate(s, 40), explain)
	}
	return "", false
}

func (d *decoder) timezone(fs *fieldSet) *time.Location {
	def, _ := time.LoadLocation(DefaultTimezone)
	v, ok := fs.value("timezone")
	if !ok {
		return def
	}
	s, ok := d.scalar(v, "timezone")
	if !ok {
		return def
	}
	const zones = "use an IANA zone name like Asia/Jakarta (WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)"
	if s == "" || s == "Local" {
		d.errorf(v, "timezone %q depends on the machine pantau runs on; %s", s, zones)
		return def
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		d.errorf(v, "timezone %q is not a known time zone; %s", truncate(s, 40), zones)
		return def
	}
	return loc
}

func (d *decoder) sources(fs *fieldSet, spec *Spec) {
	v, ok := fs.value("sources")
	if !ok {
		d.missing(fs, "sources", "the spec has no sources; add one, like sources: {dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}} (%s)", exampleRef)
		return
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "sources must map each source name to its settings, not %s; like sources: {dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}}", kindName(v))
		return
	}
	sfs := d.fields(v)
	d.checkKeys(sfs, nil, "in sources", nil)
	if len(sfs.list) == 0 {
		d.errorf(v, "sources is empty; add one, like dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}")
		return
	}
	for _, f := range sfs.list {
		name := f.key.Value
		if !nameRE.MatchString(name) {
			d.errorf(f.key, "source name %q must be lower-case letters, digits and underscores, starting with a letter (like %s)", truncate(name, 40), suggestName(name, "dinsos"))
		}
		src := d.source(name, f, resolve(f.val))
		spec.Sources[name] = src
		spec.SourceNames = append(spec.SourceNames, name)
	}
}

// suggestName turns s into a valid id, for messages.
func suggestName(s, fallback string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	out := strings.TrimSuffix(b.String(), "_")
	if out == "" || len(out) > 40 {
		return fallback
	}
	return out
}

func defaultEnvName(source string) string {
	return "PANTAU_SOURCE_" + strings.ToUpper(suggestName(source, "dinsos")) + "_DSN"
}

var driverHints = map[string]string{
	"postgresql": sqlcheck.DriverPostgres, "pg": sqlcheck.DriverPostgres, "pgx": sqlcheck.DriverPostgres, "pq": sqlcheck.DriverPostgres, "psql": sqlcheck.DriverPostgres,
	"mariadb": sqlcheck.DriverMySQL, "mysql8": sqlcheck.DriverMySQL,
	"sqlite3": sqlcheck.DriverSQLite, "sqlite3x": sqlcheck.DriverSQLite,
}

func (d *decoder) source(name string, f field, v *yaml.Node) Source {
	src := Source{Name: name, Timeout: DefaultTimeout, MaxConcurrent: DefaultMaxConcurrent, CurrentMonth: CurrentMonthCalendar, RecheckClosed: DefaultRecheckClosed, Line: f.key.Line}
	label := "source " + name
	env := defaultEnvName(name)
	if isNull(v) {
		d.errorf(f.key, "%s has no settings; give it a driver and dsn_env, like %s: {driver: postgres, dsn_env: %s}", label, name, env)
		return src
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "%s must be a mapping with driver and dsn_env, not %s; like %s: {driver: postgres, dsn_env: %s}", label, kindName(v), name, env)
		return src
	}
	fs := d.fields(v)
	secret := fmt.Sprintf("%%s: secrets do not belong in the spec file; remove this key, put the connection string in an environment variable and name it with dsn_env: %s", env)
	d.checkKeys(fs, sourceKeys, "in "+label, map[string]string{
		"dsn":      fmt.Sprintf(secret, label+": dsn"),
		"url":      fmt.Sprintf(secret, label+": url"),
		"password": fmt.Sprintf(secret, label+": password"),
	})

	if v, ok := fs.value("driver"); ok {
		if s, ok := d.scalar(v, label+": driver"); ok {
			if contains(sqlcheck.Drivers(), s) {
				src.Driver = s
			} else if hint, ok := driverHints[strings.ToLower(s)]; ok {
				if hint == sqlcheck.DriverMySQL {
					hint += " (it serves MariaDB too)"
				}
				d.errorf(v, "%s: driver %q is spelled %s in a spec", label, s, hint)
			} else {
				d.errorf(v, "%s: driver %q is not supported; use postgres, mysql (also for MariaDB) or sqlite", label, truncate(s, 40))
			}
		}
	} else {
		d.missing(fs, "driver", "%s has no driver; set driver: postgres, mysql or sqlite", label)
	}

	if v, ok := fs.value("dsn_env"); ok {
		if s, ok := d.scalar(v, label+": dsn_env"); ok {
			switch {
			case envNameRE.MatchString(s):
				src.DSNEnv = s
			case strings.ContainsAny(s, ":/@= "):
				d.errorf(v, "%s: dsn_env must name an environment variable, but this looks like a connection string; secrets do not belong in the spec: write dsn_env: %s and export %s", label, env, env)
			default:
				d.errorf(v, "%s: dsn_env %q is not an environment variable name; use upper-case letters, digits and underscores, like %s", label, truncate(s, 40), env)
			}
		}
	} else if !hasAny(fs, "dsn", "url", "password") {
		// (A dsn key was already reported with the advice to use dsn_env.)
		d.missing(fs, "dsn_env", "%s has no dsn_env; name the environment variable that holds its connection string, like dsn_env: %s", label, env)
	}

	if v, ok := fs.value("timeout"); ok {
		if t, ok := d.duration(v, label+": timeout"); ok {
			if t <= 0 {
				d.errorf(v, "%s: timeout must be positive, like 30s", label)
			}
			src.Timeout = t
		}
	}
	if v, ok := fs.value("max_concurrent"); ok {
		if s, ok := d.scalar(v, label+": max_concurrent"); ok {
			n, err := strconv.Atoi(s)
			switch {
			case v.Tag != "!!int" || err != nil:
				d.errorf(v, "%s: max_concurrent %q is not a whole number; write it like %d", label, truncate(s, 40), DefaultMaxConcurrent)
			case n < 1:
				d.errorf(v, "%s: max_concurrent must be at least 1, not %d", label, n)
			default:
				src.MaxConcurrent = n
			}
		}
	}
	if v, ok := fs.value("current_month"); ok {
		if s, ok := d.enum(v, label+": current_month", []string{CurrentMonthCalendar, CurrentMonthLatestData},
			"calendar (the month of the refresh instant) or latest_data (the latest month with data, for sources that lag)"); ok {
			src.CurrentMonth = s
		}
	}
	if v, ok := fs.value("recheck_closed"); ok {
		if t, ok := d.duration(v, label+": recheck_closed"); ok {
			if t <= 0 {
				d.errorf(v, "%s: recheck_closed must be positive, like 1h", label)
			}
			src.RecheckClosed = t
		}
	}
	return src
}

func (d *decoder) kpis(fs *fieldSet, spec *Spec) {
	v, ok := fs.value("kpis")
	if !ok {
		d.missing(fs, "kpis", "the spec has no kpis; add a list of them, each starting with - id: (%s)", exampleRef)
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "kpis must be a list, each item starting with - id:, not %s (%s)", kindName(v), exampleRef)
		return
	}
	if len(v.Content) == 0 {
		d.errorf(v, "kpis is empty; define at least one KPI (%s)", exampleRef)
		return
	}
	seen := map[string]*yaml.Node{}
	for i, item := range v.Content {
		if k, ok := d.kpi(i, resolve(item), spec, seen); ok {
			spec.KPIs = append(spec.KPIs, k)
		}
	}
}

func (d *decoder) kpi(i int, n *yaml.Node, spec *Spec, seen map[string]*yaml.Node) (KPI, bool) {
	before := len(d.errs)
	label := fmt.Sprintf("kpi #%d", i+1)
	if isNull(n) || n.Kind != yaml.MappingNode {
		at := n
		if n == nil || n.Line == 0 {
			at = nil
		}
		d.errorf(at, "%s must be a mapping with id, name, kind, source and query, not %s", label, kindName(n))
		return KPI{}, false
	}
	k := KPI{Line: n.Line}
	k.Direction = kpi.Up
	k.Level = DefaultLevel
	k.Thresholds = kpi.DefaultThresholds
	fs := d.fields(n)

	if v, ok := fs.value("id"); ok {
		if s, ok := d.scalar(v, label+": id"); ok {
			switch {
			case !nameRE.MatchString(s):
				d.errorf(v, "%s: id %q must be lower-case letters, digits and underscores, starting with a letter, because it becomes a Prometheus label value and an API id; like %s",
					label, truncate(s, 40), suggestName(s, "ewarong_aktif"))
			case seen[s] != nil:
				first := seen[s]
				d.errorf(v, "duplicate kpi id %s (the first is at line %d, column %d); give each KPI its own id", s, first.Line, first.Column)
				label = "kpi " + s
			default:
				seen[s] = v
				label = "kpi " + s
			}
			k.ID = s
		}
	}
	d.checkKeys(fs, kpiKeys, "in "+label, nil)
	if _, ok := fs.value("id"); !ok {
		d.missing(fs, "id", "%s has no id; add one, like id: ewarong_aktif (lower-case letters, digits and underscores)", label)
	}

	if v, ok := fs.value("name"); ok {
		if s, ok := d.scalar(v, label+": name"); ok {
			if strings.TrimSpace(s) == "" {
				d.errorf(v, "%s: name is blank; give the name people read on dashboards, like e-Warong aktif", label)
			}
			k.Name = s
		}
	} else {
		d.missing(fs, "name", "%s has no name; add the name people read on dashboards, like name: e-Warong aktif", label)
	}
	if v, ok := fs.value("unit"); ok {
		if s, ok := d.scalar(v, label+": unit"); ok {
			k.Unit = s
		}
	}

	kindOK := false
	if v, ok := fs.value("kind"); ok {
		if s, ok := d.enum(v, label+": kind", []string{string(kpi.KindCount), string(kpi.KindRate)},
			"count (a value per region) or rate (numerator ÷ denominator)"); ok {
			k.Kind = kpi.Kind(s)
			kindOK = true
		}
	} else {
		d.missing(fs, "kind", "%s has no kind; set kind: count (a value per region) or rate (numerator ÷ denominator)", label)
	}
	if kindOK {
		// "rate KPI sembako_salur", "count KPI #3"
		label = string(k.Kind) + " KPI" + strings.TrimPrefix(label, "kpi")
	}

	const accumulations = "stock (a level at the time, like active e-Warong) or flow (what happened within the month, like KUBE formed)"
	// Rates default to flow (summed over the year to date); a stock rate such
	// as KPM per active e-Warong is a level whose year value is the level now.
	if v, ok := fs.value("accumulation"); ok {
		if s, ok := d.enum(v, label+": accumulation", []string{string(kpi.Stock), string(kpi.Flow)}, accumulations); ok {
			k.Accumulation = kpi.Accumulation(s)
		}
	} else if k.Kind == kpi.KindRate {
		k.Accumulation = kpi.Flow
	} else if k.Kind == kpi.KindCount {
		d.missing(fs, "accumulation", "%s has no accumulation; set accumulation: %s", label, accumulations)
	}

	if v, ok := fs.value("direction"); ok {
		if s, ok := d.enum(v, label+": direction", []string{string(kpi.Up), string(kpi.Down)},
			"up (higher is better) or down (lower is better)"); ok {
			k.Direction = kpi.Direction(s)
		}
	}

	if v, ok := fs.value("source"); ok {
		if s, ok := d.scalar(v, label+": source"); ok {
			k.Source = s
			if _, defined := spec.Sources[s]; !defined {
				switch {
				case len(spec.SourceNames) == 0:
					d.errorf(v, "%s: unknown source %q; define it under sources:", label, truncate(s, 40))
				case suggest.Closest(s, spec.SourceNames) != "":
					d.errorf(v, "%s: unknown source %q (did you mean %s?); the sources are %s", label, truncate(s, 40), suggest.Closest(s, spec.SourceNames), andList(spec.SourceNames))
				default:
					d.errorf(v, "%s: unknown source %q; the sources are %s", label, truncate(s, 40), andList(spec.SourceNames))
				}
			}
		}
	} else {
		hint := "name one of the sources"
		if len(spec.SourceNames) > 0 {
			hint = "set source: " + orList(spec.SourceNames)
		}
		d.missing(fs, "source", "%s has no source; %s", label, hint)
	}

	const levels = "provinsi, kabupaten_kota, kecamatan or desa"
	if v, ok := fs.value("level"); ok {
		if s, ok := d.scalar(v, label+": level"); ok {
			l, err := kpi.ParseLevel(s)
			switch {
			case err != nil:
				d.errorf(v, "%s: level %q is not a region level; use %s", label, truncate(s, 40), levels)
			case l == kpi.LevelNasional:
				d.errorf(v, "%s: level nasional cannot be queried; return rows per %s and pantau rolls them up to the nation", label, levels)
			default:
				k.Level = l
			}
		}
	}

	d.target(fs, &k, label, kindOK)
	if k.RateBuildsUp && k.Direction == kpi.Down {
		d.errorf(fs.where("rate_builds_up"), "%s: rate_builds_up is only for direction up (a lower-is-better rate, like KPM per e-Warong, has nothing to build up to); remove it", label)
	}
	d.thresholds(fs, &k, label)
	k.Exposure = d.exposure(fs, spec.Exposure, label+": ")

	if v, ok := fs.value("query"); ok {
		if s, ok := d.scalar(v, label+": query"); ok {
			k.Query = s
			if strings.TrimSpace(s) == "" {
				d.errorf(v, "%s: query is blank; write the SELECT that returns one row per region", label)
			} else {
				d.checkQuery(v, &k, label, kindOK, spec.Sources[k.Source].Driver)
			}
		}
	} else {
		d.missing(fs, "query", "%s has no query; add query: | followed by the SELECT that returns one row per region", label)
	}

	if len(d.errs) > before {
		return k, false
	}
	// The checks above should imply the domain's own; keep it as a safety net.
	if err := k.KPI.Validate(); err != nil {
		d.errorf(n, "%v", err)
		return k, false
	}
	return k, true
}

func (d *decoder) target(fs *fieldSet, k *KPI, label string, kindOK bool) {
	if v, ok := fs.value("rate_builds_up"); ok {
		if k.Kind == kpi.KindCount {
			d.errorf(fs.where("rate_builds_up"), "%s: rate_builds_up is only for rate KPIs; remove it", label)
		} else if b, ok := d.boolean(v, label+": rate_builds_up"); ok {
			k.RateBuildsUp = b
		}
	}
	// share: true says the numerator is part of the denominator (KPM paid
	// of KPM allocated), so rates, targets and forecasts stop at 1; a ratio
	// of two different things (KPM per e-Warong) leaves it out.
	if v, ok := fs.value("share"); ok {
		if k.Kind == kpi.KindCount {
			d.errorf(fs.where("share"), "%s: share is only for rate KPIs whose numerator is part of the denominator; remove it", label)
		} else if b, ok := d.boolean(v, label+": share"); ok {
			k.Share = b
		}
	}
	v, ok := fs.value("target")
	if !ok {
		return
	}
	if k.Kind == kpi.KindCount {
		d.errorf(fs.where("target"), "%s: count KPIs take annual targets from the store: pantau targets import; remove target here", label)
		return
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "%s: target must be a mapping like {rate: 0.95}, not %s", label, kindName(v))
		return
	}
	tfs := d.fields(v)
	d.checkKeys(tfs, targetKeys, "in the target of "+label, map[string]string{
		"annual":  label + ": annual targets come from the store (pantau targets import), not the spec; a rate KPI's target here is {rate: 0.95}",
		"monthly": label + ": monthly targets come from the store (pantau targets import), not the spec; a rate KPI's target here is {rate: 0.95}",
	})
	rv, ok := tfs.value("rate")
	if !ok {
		d.missing(tfs, "rate", "%s: target has no rate; write target: {rate: 0.95}, or remove target to take targets from the store", label)
		return
	}
	r, ok := d.number(rv, label+": target rate", "0.95 (for 95 %)")
	if !ok {
		return
	}
	if !(r > 0) || r > 1e15 {
		d.errorf(rv, "%s: target rate must be greater than 0, like 0.95 for 95 %%; to take targets from the store instead, remove target", label)
		return
	}
	if k.Share && r > 1 {
		d.errorf(rv, "%s: a share cannot aim above 1; write the target rate like 0.95 for 95 %%, or remove share: true if the rate is a ratio without a ceiling (like KPM per e-Warong)", label)
		return
	}
	if kindOK {
		k.TargetRate = r
	}
}

func (d *decoder) thresholds(fs *fieldSet, k *KPI, label string) {
	v, ok := fs.value("thresholds")
	if !ok {
		return
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "%s: thresholds must be a mapping like {on_track: 0.95, at_risk: 0.85}, not %s", label, kindName(v))
		return
	}
	tfs := d.fields(v)
	d.checkKeys(tfs, thresholdKeys, "in the thresholds of "+label, nil)
	t := kpi.DefaultThresholds
	good := true
	for _, key := range thresholdKeys {
		nv, ok := tfs.value(key)
		if !ok {
			continue
		}
		x, ok := d.number(nv, label+": thresholds."+key, "0.95")
		switch {
		case !ok:
			good = false
		case !(x > 0):
			d.errorf(nv, "%s: thresholds.%s must be greater than 0; it is the share of the expected value (0.95 = within 5 %%)", label, key)
			good = false
		case x > 2:
			d.errorf(nv, "%s: thresholds.%s %v looks like a percentage; thresholds are shares of the expected value: write %v", label, key, x, x/100)
			good = false
		case key == "on_track":
			t.OnTrack = x
		default:
			t.AtRisk = x
		}
	}
	if good && t.AtRisk > t.OnTrack {
		d.errorf(v, "%s: thresholds: at_risk %v is above on_track %v; at_risk is the lower bound, like {on_track: 0.95, at_risk: 0.85}", label, t.AtRisk, t.OnTrack)
		good = false
	}
	if good {
		k.Thresholds = t
	}
}

// checkQuery reports unknown parameters at their place in the file, a
// query that pantau would refuse to run, and result columns the query does
// not mention. driver is the KPI's source's, "" when that is unknown.
func (d *decoder) checkQuery(v *yaml.Node, k *KPI, label string, kindOK bool, driver string) {
	scanAs := driver
	if scanAs == "" {
		scanAs = sqlcheck.DriverPostgres // the most common, to still check parameters
	}
	params, words, err := sqlcheck.Scan(scanAs, k.Query)
	if err != nil {
		d.errorf(v, "%s: %v", label, err)
		return
	}
	names := sqlcheck.ParamNames()
	allowed := make([]string, len(names))
	for i, p := range names {
		allowed[i] = ":" + p
	}
	for _, p := range params {
		if contains(names, p.Name) {
			continue
		}
		line, col := d.queryPos(v, p.Offset, ":"+p.Name)
		if s := suggest.Closest(p.Name, names); s != "" {
			d.errorAt(line, col, "%s: query uses unknown parameter :%s (did you mean :%s?); the parameters are %s", label, p.Name, s, andList(allowed))
		} else {
			d.errorAt(line, col, "%s: query uses unknown parameter :%s; the parameters are %s", label, p.Name, andList(allowed))
		}
	}
	if driver != "" {
		// Unknown parameters are reported above, each at its place.
		var qe *sqlcheck.Error
		switch err := sqlcheck.Check(driver, k.Query); {
		case err == nil, errors.Is(err, sqlcheck.ErrUnknownParameter):
		case errors.Is(err, sqlcheck.ErrEmptyQuery):
			d.errorf(v, "%s: query holds only comments; write the SELECT that returns one row per region", label)
			return
		case errors.As(err, &qe):
			// At the construct's line in the file, not the query's.
			line, col := d.queryPos(v, qe.Offset, qe.Construct)
			d.errorAt(line, col, "%s: %v: %s", label, qe.Err, qe.Detail)
			return
		default:
			d.errorf(v, "%s: %v", label, err)
			return
		}
	}
	if !kindOK {
		return
	}
	d.checkPeriodUse(v, k, label, params)
	for i := 1; i < len(words); i++ {
		k.GroupBy = k.GroupBy || (strings.EqualFold(words[i-1], "GROUP") && strings.EqualFold(words[i], "BY"))
	}
	var missing []string
	switch k.Kind {
	case kpi.KindCount:
		if missing = missingColumns(words, []string{"region_code", "value"}); len(missing) > 0 {
			d.errorf(v, "%s: query must return columns region_code and value; missing: %s", label, strings.Join(missing, ", "))
		}
	case kpi.KindRate:
		if missing = missingColumns(words, []string{"region_code", "numerator", "denominator"}); len(missing) > 0 {
			d.errorf(v, "%s: query must return columns region_code, numerator and denominator (never a ratio); missing: %s", label, strings.Join(missing, ", "))
		}
	}
}

// checkPeriodUse warns about queries whose figures would be right for the
// open month and silently wrong elsewhere: pantau binds :period_start to
// 1 January for the year query and reads closed months with the same SQL.
func (d *decoder) checkPeriodUse(v *yaml.Node, k *KPI, label string, params []sqlcheck.ParamUse) {
	usesEnd := false
	for _, p := range params {
		usesEnd = usesEnd || p.Name == sqlcheck.ParamPeriodEnd
	}
	if !usesEnd {
		what := "its figures for a month would include every row after it: the year window, closed months in history, backfill and a latest_data source would all be wrong"
		if !k.YearQuery() {
			what = "it returns the level now, not at the end of the month asked for: the level on 1 January (which the target phases from), closed months in history and backfill would all be wrong"
		}
		d.warnAt(v.Line, v.Column, "%s: query never uses :period_end, so %s; bound the rows with something like tanggal < :period_end", label, what)
	}
	if !k.YearQuery() {
		return // a stock may read a monthly snapshot with periode = :period_start
	}
	for _, p := range params {
		if p.Name != sqlcheck.ParamPeriodStart || (p.Op != "=" && p.Op != "==" && p.Op != "<=>") {
			continue
		}
		line, col := d.queryPos(v, p.Offset, ":"+p.Name)
		d.warnAt(line, col, "%s: query compares with %s :period_start; the year query binds :period_start to 1 January, so the year window would see only January; select the month's rows with >= :period_start AND … < :period_end", label, p.Op)
	}
}

// queryPos finds the file position of a byte offset inside a query value,
// for literal blocks (query: |) and single-line values. It checks its answer
// against the raw file (which must hold want there) and falls back to the
// value's own position.
func (d *decoder) queryPos(v *yaml.Node, offset int, want string) (int, int) {
	value := v.Value
	lineStart := strings.LastIndexByte(value[:offset], '\n') + 1
	lineEnd := strings.IndexByte(value[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(value)
	} else {
		lineEnd += lineStart
	}
	valLine := value[lineStart:lineEnd]
	k := strings.Count(value[:offset], "\n")
	var srcLine, byteCol int
	switch {
	case v.Style&yaml.LiteralStyle != 0:
		srcLine = v.Line + 1 + k // content starts below the | indicator
		src := d.line(srcLine)
		if !bytes.HasSuffix(src, []byte(valLine)) {
			return v.Line, v.Column
		}
		byteCol = len(src) - len(valLine) + offset - lineStart
	case v.Style&yaml.FoldedStyle != 0:
		// query: >- joins its lines with spaces: walk them to the offset.
		pos := 0
		for n := v.Line + 1; n <= len(d.lines); n++ {
			src := d.line(n)
			content := bytes.TrimLeft(src, " ")
			if pos+len(content) > len(value) || value[pos:pos+len(content)] != string(content) {
				return v.Line, v.Column
			}
			if offset < pos+len(content) {
				srcLine, byteCol = n, len(src)-len(content)+offset-pos
				break
			}
			pos += len(content) + 1
		}
		if srcLine == 0 {
			return v.Line, v.Column
		}
	case !strings.Contains(value, "\n"):
		srcLine = v.Line
		src := d.line(srcLine)
		start := runeToByte(src, v.Column-1)
		if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			start++
		}
		byteCol = start + offset
	default:
		return v.Line, v.Column
	}
	src := d.line(srcLine)
	if byteCol < 0 || byteCol > len(src) || !bytes.HasPrefix(src[byteCol:], []byte(want)) {
		return v.Line, v.Column
	}
	return srcLine, utf8.RuneCount(src[:byteCol]) + 1
}

// line returns the 1-based line n of the file without its line ending.
func (d *decoder) line(n int) []byte {
	if n < 1 || n > len(d.lines) {
		return nil
	}
	return bytes.TrimSuffix(d.lines[n-1], []byte("\r"))
}

// runeToByte returns the byte offset of the n-th rune of b.
func runeToByte(b []byte, n int) int {
	off := 0
	for i := 0; i < n && off < len(b); i++ {
		_, size := utf8.DecodeRune(b[off:])
		off += size
	}
	return off
}
