package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/sqlcheck"
)

// doc drops the newline that follows the opening backquote, so line 1 of a
// test document is the line after it.
func doc(s string) []byte { return []byte(strings.TrimPrefix(s, "\n")) }

// checkErrors asserts err holds exactly the wanted problems, in order. Each
// want is "line:col: text": the position must match exactly and the message
// must contain text.
func checkErrors(t *testing.T, src string, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Parse returned no error; want %d problems:\n%s", len(want), strings.Join(want, "\n"))
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v\nwant:\n%s", len(errs), len(want), err, strings.Join(want, "\n"))
	}
	for i, e := range errs {
		pos, text, _ := strings.Cut(want[i], ": ")
		if e.File != "test.yaml" {
			t.Errorf("problem %d: file %q, want test.yaml", i, e.File)
		}
		if got := fmt.Sprintf("%d:%d", e.Line, e.Column); got != pos {
			t.Errorf("problem %d at %s, want %s: %s\n%s", i, got, pos, e.Message, caret(src, e.Line, e.Column))
		}
		if !strings.Contains(e.Message, text) {
			t.Errorf("problem %d message\n  %s\nshould contain\n  %s", i, e.Message, text)
		}
	}
}

// caret shows a position in src, to make a wrong position easy to see.
func caret(src string, line, col int) string {
	lines := strings.Split(strings.TrimPrefix(src, "\n"), "\n")
	if line < 1 || line > len(lines) || col < 1 {
		return "(no such position)"
	}
	return "\t" + lines[line-1] + "\n\t" + strings.Repeat(" ", col-1) + "^"
}

func TestParseReportsProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "an unknown key in a KPI is reported with its line and a suggestion, and the key it stands for is not also reported missing",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stock
    source: dinsos
    qurey: SELECT kode AS region_code, 1 AS value FROM ewarong
`,
			want: []string{
				`9:5: unknown key "qurey" in kpi ewarong_aktif (did you mean query?)`,
			},
		},
		{
			name: "an unknown key with no close match lists the keys there are",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stock
    source: dinsos
    description: e-Warong yang melayani KPM
    query: SELECT kode AS region_code, 1 AS value FROM ewarong
`,
			want: []string{
				`9:5: unknown key "description" in kpi ewarong_aktif; the keys are id, name, unit, kind, accumulation, direction, source, level, query, target, rate_builds_up, share, thresholds and exposure`,
			},
		},
		{
			name: "an unknown top-level key is reported with a suggestion",
			src: `
refesh: 5m
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`1:1: unknown key "refesh" at the top of the spec (did you mean refresh?)`},
		},
		{
			name: "a key written twice is reported at the second one, naming the first line",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    name: B
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{`9:5: key name appears twice in kpi a (the first is at line 5); keep one`},
		},
		{
			name: "a dsn in the file is an error telling the user secrets go in the environment",
			src: `
sources:
  dinsos:
    driver: postgres
    dsn: postgres://pantau:rahasia@db/dinsos
    dsn_env: PANTAU_SOURCE_DINSOS_DSN
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:5: source dinsos: dsn: secrets do not belong in the spec file; remove this key, put the connection string in an environment variable and name it with dsn_env: PANTAU_SOURCE_DINSOS_DSN`},
		},
		{
			name: "a dsn without dsn_env is reported once, with the advice to use dsn_env",
			src: `
sources:
  dinsos:
    driver: postgres
    dsn: postgres://pantau:rahasia@db/dinsos
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:5: source dinsos: dsn: secrets do not belong in the spec file`},
		},
		{
			name: "dsn_env must look like an environment variable name",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: pantau-dsn}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`2:39: source dinsos: dsn_env "pantau-dsn" is not an environment variable name; use upper-case letters, digits and underscores, like PANTAU_SOURCE_DINSOS_DSN`},
		},
		{
			name: "a connection string written as dsn_env is recognised as a secret",
			src: `
sources:
  dinsos:
    driver: mysql
    dsn_env: "pantau:rahasia@tcp(db:3306)/dinsos"
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:14: source dinsos: dsn_env must name an environment variable, but this looks like a connection string`},
		},
		{
			name: "a source without dsn_env or driver gets both problems at the source",
			src: `
sources:
  dinsos:
    timeout: 10s
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{
				`3:5: source dinsos has no driver; set driver: postgres, mysql or sqlite`,
				`3:5: source dinsos has no dsn_env; name the environment variable that holds its connection string, like dsn_env: PANTAU_SOURCE_DINSOS_DSN`,
			},
		},
		{
			name: "an unknown driver lists the supported ones",
			src: `
sources:
  dinsos: {driver: oracle, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`2:20: source dinsos: driver "oracle" is not supported; use postgres, mysql (also for MariaDB) or sqlite`},
		},
		{
			name: "a driver spelled the way another tool spells it gets the pantau spelling",
			src: `
sources:
  dinsos: {driver: mariadb, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`2:20: source dinsos: driver "mariadb" is spelled mysql (it serves MariaDB too) in a spec`},
		},
		{
			name: "a refresh that is not a duration says how to write one",
			src: `
refresh: 5 minutes
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`1:10: refresh: "5 minutes" is not a duration; write it like 5m or 30s`},
		},
		{
			name: "a refresh under a second is too short",
			src: `
refresh: 500ms
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`1:10: refresh: 500ms is too short; refresh at least every 1s`},
		},
		{
			name: "a timeout without a unit is rejected",
			src: `
sources:
  dinsos:
    driver: postgres
    dsn_env: PANTAU_SOURCE_DINSOS_DSN
    timeout: 30
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`5:14: source dinsos: timeout: 30 has no unit; write it like 5m or 30s`},
		},
		{
			name: "max_concurrent must be at least one and current_month a known mode",
			src: `
sources:
  dinsos:
    driver: postgres
    dsn_env: PANTAU_SOURCE_DINSOS_DSN
    max_concurrent: 0
    current_month: latest
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{
				`5:21: source dinsos: max_concurrent must be at least 1, not 0`,
				`6:20: source dinsos: current_month "latest" is not valid; use calendar (the month of the refresh instant) or latest_data`,
			},
		},
		{
			name: "recheck_closed must be a positive duration",
			src: `
sources:
  dinsos:
    driver: postgres
    dsn_env: PANTAU_SOURCE_DINSOS_DSN
    recheck_closed: 0s
  arsip: {driver: sqlite, dsn_env: PANTAU_SOURCE_ARSIP_DSN, recheck_closed: hourly}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{
				`5:21: source dinsos: recheck_closed must be positive, like 1h`,
				`6:77: source arsip: recheck_closed: "hourly" is not a duration; write it like 5m or 30s`,
			},
		},
		{
			name: "an unknown timezone suggests Indonesian zone names",
			src: `
timezone: Asia/Jakrta
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`1:11: timezone "Asia/Jakrta" is not a known time zone; use an IANA zone name like Asia/Jakarta (WIB)`},
		},
		{
			name: "a source name must be a lower-case identifier",
			src: `
sources:
  Dinsos-DKI: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: Dinsos-DKI, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`2:3: source name "Dinsos-DKI" must be lower-case letters, digits and underscores, starting with a letter (like dinsos_dki)`},
		},
		{
			name: "an unknown source names the defined ones and the likely one",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
  kemensos: {driver: mysql, dsn_env: PANTAU_SOURCE_KEMENSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsso
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{`9:13: count KPI a: unknown source "dinsso" (did you mean dinsos?); the sources are dinsos and kemensos`},
		},
		{
			name: "a KPI without a query is reported at the KPI",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    query:
`,
			want: []string{`9:5: count KPI a has no query; add query: | followed by the SELECT that returns one row per region`},
		},
		{
			name: "an unknown query parameter is reported at its exact place in a literal block",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: kube_jasa
    name: KUBE Jasa terbentuk
    kind: count
    accumulation: flow
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value
      FROM kube
      WHERE tanggal_bentuk >= :periode_start AND tanggal_bentuk < :period_end
        AND jenis = :jenis
      GROUP BY kode_kecamatan
`,
			want: []string{
				`12:31: count KPI kube_jasa: query uses unknown parameter :periode_start (did you mean :period_start?); the parameters are :period_start, :period_end and :year_start`,
				`13:21: count KPI kube_jasa: query uses unknown parameter :jenis; the parameters are :period_start, :period_end and :year_start`,
			},
		},
		{
			name: "an unknown query parameter in a one-line query is reported at its column",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    query: "SELECT x AS region_code, y AS value FROM t WHERE d < :bulan"
`,
			want: []string{`9:66: count KPI a: query uses unknown parameter :bulan`},
		},
		{
			name: "a count query must return region_code and value",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stock
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS jumlah -- not: value
      FROM ewarong GROUP BY kode_kecamatan
`,
			want: []string{`9:12: count KPI ewarong_aktif: query must return columns region_code and value; missing: value`},
		},
		{
			name: "a rate query must return numerator and denominator, never a ratio",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: sembako_salur
    name: Penyaluran Sembako
    kind: rate
    source: dinsos
    query: |
      SELECT kode_kecamatan AS region_code,
             SUM(CASE WHEN tanggal_salur IS NOT NULL THEN 1 ELSE 0 END) AS numerator,
             1.0 * SUM(CASE WHEN tanggal_salur IS NOT NULL THEN 1 ELSE 0 END) / COUNT(*) AS rasio
      FROM sembako_alokasi GROUP BY kode_kecamatan
`,
			want: []string{`8:12: rate KPI sembako_salur: query must return columns region_code, numerator and denominator (never a ratio); missing: denominator`},
		},
		{
			name: "a query pantau would refuse to run, not one SELECT, is reported at the offending word",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos,
     query: "DELETE FROM t RETURNING x AS region_code, y AS value"}
  - id: b
    name: B
    kind: count
    accumulation: flow
    source: dinsos
    query: |
      SELECT x AS region_code, y AS value FROM t;
      DROP TABLE t
`,
			want: []string{
				`5:14: count KPI a: not a read-only query: it starts with DELETE; a source query must be a SELECT (or WITH … SELECT)`,
				`12:49: count KPI b: more than one statement: a second statement follows this semicolon; a source query must be a single SELECT`,
			},
		},
		{
			name: "a query that writes, locks or has side effects is reported at the construct's line in the file",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
  arsip: {driver: mysql, dsn_env: PANTAU_SOURCE_ARSIP_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    query: |
      WITH d AS (
        -- tidy up while counting
        DELETE FROM t RETURNING x
      )
      SELECT x AS region_code, count(*) AS value FROM d GROUP BY x
  - id: b
    name: B
    kind: count
    accumulation: flow
    source: dinsos
    query: |
      SELECT x AS region_code, count(*) AS value
      FROM t GROUP BY x
      FOR UPDATE
  - id: c
    name: C
    kind: count
    accumulation: flow
    source: dinsos
    query: "SELECT x AS region_code, nextval('s') AS value FROM t"
  - id: d
    name: D
    kind: count
    accumulation: flow
    source: arsip
    query: >-
      SELECT x AS region_code, y AS value
      INTO OUTFILE '/tmp/curang' FROM t
`,
			want: []string{
				`13:9: count KPI a: not a read-only query: DELETE inside the query changes data; a source query may only read`,
				`24:7: count KPI b: not a read-only query: SELECT … FOR UPDATE locks the rows it reads, as for a write; leave the locking clause out`,
				`30:38: count KPI c: not a read-only query: nextval() changes a sequence; a source query may only read`,
				`38:7: count KPI d: not a read-only query: SELECT … INTO OUTFILE writes a file on the server; a source query returns its rows`,
			},
		},
		{
			name: "a duplicate KPI id says where the first one is",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stock
    source: dinsos
    query: SELECT x AS region_code, y AS value FROM t
  - id: ewarong_aktif
    name: e-Warong baru
    kind: count
    accumulation: flow
    source: dinsos
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{`10:9: duplicate kpi id ewarong_aktif (the first is at line 4, column 9); give each KPI its own id`},
		},
		{
			name: "a KPI id must be usable as a Prometheus label value and an API id",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: e-Warong Aktif, name: A, kind: count, accumulation: stock, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:10: kpi #1: id "e-Warong Aktif" must be lower-case letters, digits and underscores, starting with a letter, because it becomes a Prometheus label value and an API id; like e_warong_aktif`},
		},
		{
			name: "a KPI without id or name is reported by its position in the list",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - kind: count
    accumulation: stock
    source: dinsos
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{
				`4:5: kpi #1 has no id; add one, like id: ewarong_aktif`,
				`4:5: kpi #1 has no name; add the name people read on dashboards`,
			},
		},
		{
			name: "an unknown level lists the levels",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, level: rt_rw, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:78: count KPI a: level "rt_rw" is not a region level; use provinsi, kabupaten_kota, kecamatan or desa`},
		},
		{
			name: "the nasional level cannot be queried",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, level: nasional, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:78: count KPI a: level nasional cannot be queried; return rows per provinsi, kabupaten_kota, kecamatan or desa and pantau rolls them up to the nation`},
		},
		{
			name: "an unknown kind suggests the nearest one",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: rates, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:28: kpi a: kind "rates" is not valid (did you mean rate?); use count (a value per region) or rate (numerator ÷ denominator)`},
		},
		{
			name: "a count KPI needs an accumulation",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:5: count KPI a has no accumulation; set accumulation: stock (a level at the time, like active e-Warong) or flow (what happened within the month, like KUBE formed)`},
		},
		{
			name: "a rate KPI's accumulation must be stock or flow",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: rate, accumulation: level, source: dinsos, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
`,
			want: []string{`4:48: rate KPI a: accumulation "level" is not valid; use stock (a level at the time, like active e-Warong) or flow (what happened within the month, like KUBE formed)`},
		},
		{
			name: "a direction other than up or down is rejected",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, direction: higher, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:66: count KPI a: direction "higher" is not valid; use up (higher is better) or down (lower is better)`},
		},
		{
			name: "a count KPI with a target is told targets come from the store",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stock
    source: dinsos
    target: {rate: 70}
    rate_builds_up: true
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{
				`9:5: count KPI ewarong_aktif: count KPIs take annual targets from the store: pantau targets import; remove target here`,
				`10:5: count KPI ewarong_aktif: rate_builds_up is only for rate KPIs; remove it`,
			},
		},
		{
			name: "only a rate KPI whose direction is up can build up within the month",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: kpm_per_ewarong
    name: KPM per e-Warong
    kind: rate
    direction: down
    source: dinsos
    target: {rate: 400}
    rate_builds_up: true
    query: SELECT x AS region_code, n AS numerator, d AS denominator FROM t
`,
			want: []string{`10:5: rate KPI kpm_per_ewarong: rate_builds_up is only for direction up`},
		},
		{
			name: "only a rate KPI can be a share, and a share cannot aim above 1",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, share: true, query: "SELECT x AS region_code, y AS value FROM t"}
  - {id: b, name: B, kind: rate, source: dinsos, share: true, target: {rate: 95}, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
  - {id: c, name: C, kind: rate, source: dinsos, share: ya, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
`,
			want: []string{
				`4:71: count KPI a: share is only for rate KPIs whose numerator is part of the denominator; remove it`,
				`5:78: rate KPI b: a share cannot aim above 1; write the target rate like 0.95 for 95 %, or remove share: true if the rate is a ratio without a ceiling (like KPM per e-Warong)`,
				`6:57: rate KPI c: share: "ya" is not true or false`,
			},
		},
		{
			name: "a rate target must be a positive rate in a mapping",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: rate, source: dinsos, target: 0.95, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
  - {id: b, name: B, kind: rate, source: dinsos, target: {rate: 0}, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
  - {id: c, name: C, kind: rate, source: dinsos, target: {rate: 95%}, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
`,
			want: []string{
				`4:58: rate KPI a: target must be a mapping like {rate: 0.95}, not the value "0.95"`,
				`5:65: rate KPI b: target rate must be greater than 0, like 0.95 for 95 %`,
				`6:65: rate KPI c: target rate: "95%" is not a number; write it like 0.95 (for 95 %)`,
			},
		},
		{
			name: "thresholds must keep at_risk at or below on_track",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    thresholds: {on_track: 0.8, at_risk: 0.9}
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{`9:17: count KPI a: thresholds: at_risk 0.9 is above on_track 0.8; at_risk is the lower bound`},
		},
		{
			name: "thresholds must be positive shares, not percentages",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    thresholds:
      on_track: 95
      at_risk: -1
    query: SELECT x AS region_code, y AS value FROM t
`,
			want: []string{
				`10:17: count KPI a: thresholds.on_track 95 looks like a percentage; thresholds are shares of the expected value: write 0.95`,
				`11:16: count KPI a: thresholds.at_risk must be greater than 0`,
			},
		},
		{
			name: "a spec without sources or kpis says what to add",
			src: `
timezone: Asia/Jakarta
`,
			want: []string{
				`1:1: the spec has no sources; add one`,
				`1:1: the spec has no kpis; add a list of them`,
			},
		},
		{
			name: "an empty kpis list is an error",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis: []
`,
			want: []string{`3:7: kpis is empty; define at least one KPI`},
		},
		{
			name: "kpis written as a mapping is told to be a list",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  ewarong_aktif: {name: A}
`,
			want: []string{`4:3: kpis must be a list, each item starting with - id:, not a mapping`},
		},
		{
			name: "an empty file is an error",
			src:  "\n",
			want: []string{`1:1: the file is empty; a spec needs at least sources: and kpis:`},
		},
		{
			name: "a file of comments only is an error",
			src: `
# pantau spec
# TODO
`,
			want: []string{`1:1: the file holds only comments; a spec needs at least sources: and kpis:`},
		},
		{
			name: "a YAML syntax error is reported with its line",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN
kpis:
  - id: a
`,
			want: []string{`2:1: YAML syntax error: did not find expected ',' or '}'`},
		},
		{
			name: "a spec that is not a mapping is an error",
			src: `
- sources
- kpis
`,
			want: []string{`1:1: the spec must be a mapping with the keys timezone, refresh, sources, kpis, alerts and exposure, not a list`},
		},
		{
			name: "a second YAML document is an error",
			src: `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
---
sources: {}
`,
			want: []string{`6:1: a second YAML document starts here; a spec is one document`},
		},
		{
			name: "every problem in a file is reported, in file order",
			src: `
timezone: Mars/Olympus
refresh: sebentar
sources:
  dinsos:
    driver: postgres
    dsn: postgres://root@db/dinsos
kpis:
  - id: ewarong_aktif
    name: e-Warong aktif
    kind: count
    accumulation: stok
    source: dinsos
    query: SELECT kode AS region_code, COUNT(*) AS value FROM ewarong WHERE tanggal_aktif < :periode_end
  - id: sembako_salur
    name: Penyaluran Sembako
    kind: rate
    source: kemensos
    target: {rate: 0.95}
    query: SELECT kode AS region_code, SUM(x) AS numerator FROM sembako_alokasi
`,
			want: []string{
				`1:11: timezone "Mars/Olympus" is not a known time zone`,
				`2:10: refresh: "sebentar" is not a duration`,
				`6:5: source dinsos: dsn: secrets do not belong in the spec file`,
				`11:19: count KPI ewarong_aktif: accumulation "stok" is not valid (did you mean stock?)`,
				`13:93: count KPI ewarong_aktif: query uses unknown parameter :periode_end (did you mean :period_end?)`,
				`17:13: rate KPI sembako_salur: unknown source "kemensos"; the sources are dinsos`,
				`19:12: rate KPI sembako_salur: query must return columns region_code, numerator and denominator (never a ratio); missing: denominator`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := Parse("test.yaml", doc(tt.src))
			if spec != nil {
				t.Errorf("Parse returned a spec along with errors")
			}
			checkErrors(t, tt.src, err, tt.want)
		})
	}
}

func TestExampleSpecLoads(t *testing.T) {
	spec, err := Load("../examples/dinsos.yaml")
	if err != nil {
		t.Fatalf("the example spec has problems:\n%v", err)
	}
	if spec.Location.String() != "Asia/Jakarta" || spec.Refresh != 5*time.Minute {
		t.Errorf("timezone %v, refresh %v; want Asia/Jakarta, 5m", spec.Location, spec.Refresh)
	}
	src, ok := spec.Sources["dinsos"]
	if !ok || len(spec.Sources) != 1 {
		t.Fatalf("sources %v, want only dinsos", spec.SourceNames)
	}
	wantSrc := Source{Name: "dinsos", Driver: sqlcheck.DriverPostgres, DSNEnv: "PANTAU_SOURCE_DINSOS_DSN", Timeout: 30 * time.Second,
		MaxConcurrent: 4, CurrentMonth: CurrentMonthCalendar, RecheckClosed: time.Hour, Line: src.Line}
	if src != wantSrc {
		t.Errorf("source dinsos = %+v, want %+v", src, wantSrc)
	}
	type want struct {
		id      string
		kind    kpi.Kind
		acc     kpi.Accumulation
		dir     kpi.Direction
		target  float64
		buildUp bool
		share   bool
		unit    string
	}
	wants := []want{
		{"ewarong_aktif", kpi.KindCount, kpi.Stock, kpi.Up, 0, false, false, "e-Warong"},
		{"kube_jasa", kpi.KindCount, kpi.Flow, kpi.Up, 0, false, false, "KUBE"},
		{"sembako_salur", kpi.KindRate, kpi.Flow, kpi.Up, 0.95, true, true, ""},
		{"pkh_salur", kpi.KindRate, kpi.Flow, kpi.Up, 0.95, false, true, ""},
		{"kpm_per_ewarong", kpi.KindRate, kpi.Stock, kpi.Down, 400, false, false, "KPM"},
		{"pkh_graduasi", kpi.KindCount, kpi.Flow, kpi.Up, 0, false, false, "KPM"},
	}
	if len(spec.KPIs) != len(wants) {
		t.Fatalf("%d KPIs, want %d", len(spec.KPIs), len(wants))
	}
	for i, w := range wants {
		k := spec.KPIs[i]
		if k.ID != w.id || k.Kind != w.kind || k.Accumulation != w.acc || k.Direction != w.dir ||
			k.TargetRate != w.target || k.RateBuildsUp != w.buildUp || k.Share != w.share || k.Unit != w.unit {
			t.Errorf("KPI %d = %+v, want %+v", i, k.KPI, w)
		}
		if k.Level != kpi.LevelKecamatan || k.Source != "dinsos" || k.Name == "" || k.Line == 0 {
			t.Errorf("KPI %s: level %v, source %q, name %q, line %d", k.ID, k.Level, k.Source, k.Name, k.Line)
		}
		if err := k.KPI.Validate(); err != nil {
			t.Errorf("KPI %s does not validate: %v", k.ID, err)
		}
		// The example's queries must stay portable: no casts, no dialect date functions.
		for _, bad := range []string{"::", "date_trunc", "DATE_FORMAT", "strftime", "FILTER", "NOW()", "CURRENT_DATE"} {
			if strings.Contains(strings.ToUpper(k.Query), strings.ToUpper(bad)) {
				t.Errorf("KPI %s: query uses %s, which is not portable SQL", k.ID, bad)
			}
		}
	}
	if k, _ := spec.KPI("kube_jasa"); k.Thresholds != (kpi.Thresholds{OnTrack: 0.9, AtRisk: 0.75}) {
		t.Errorf("kube_jasa thresholds %+v", k.Thresholds)
	}
	if k, _ := spec.KPI("ewarong_aktif"); k.Thresholds != kpi.DefaultThresholds {
		t.Errorf("ewarong_aktif thresholds %+v, want the defaults", k.Thresholds)
	}
	defs := spec.Definitions()
	if len(defs) != 6 || defs[4].ID != "kpm_per_ewarong" {
		t.Errorf("Definitions() = %v", defs)
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	spec, err := Parse("test.yaml", doc(`
sources:
  arsip: {driver: sqlite, dsn_env: ARSIP_DSN}
kpis:
  - {id: a, name: A, kind: count, accumulation: stock, source: arsip, query: "SELECT x AS region_code, y AS value FROM t"}
  - {id: b, name: B, kind: rate, source: arsip, level: kabupaten, query: "SELECT x AS region_code, n AS numerator, d AS denominator FROM t"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Location.String() != DefaultTimezone || spec.Refresh != DefaultRefresh {
		t.Errorf("timezone %v refresh %v", spec.Location, spec.Refresh)
	}
	src := spec.Sources["arsip"]
	if src.Timeout != DefaultTimeout || src.MaxConcurrent != DefaultMaxConcurrent || src.CurrentMonth != CurrentMonthCalendar || src.RecheckClosed != DefaultRecheckClosed {
		t.Errorf("source defaults %+v", src)
	}
	a, b := spec.KPIs[0], spec.KPIs[1]
	if a.Direction != kpi.Up || a.Level != kpi.LevelKecamatan || a.Thresholds != kpi.DefaultThresholds || a.Unit != "" {
		t.Errorf("kpi a defaults %+v", a.KPI)
	}
	if b.Level != kpi.LevelKabupatenKota || b.TargetRate != 0 || b.RateBuildsUp {
		t.Errorf("kpi b: level %v target %v builds up %v; want kabupaten_kota, 0 (targets from the store), false", b.Level, b.TargetRate, b.RateBuildsUp)
	}
}

func TestAnchorsAndMergeKeysShareSettings(t *testing.T) {
	spec, err := Parse("test.yaml", doc(`
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN, current_month: latest_data}
x-rate: &rate
  kind: rate
  source: dinsos
  target: {rate: 0.95}
kpis:
  - <<: *rate
    id: sembako_salur
    name: Penyaluran Sembako
    query: SELECT x AS region_code, n AS numerator, d AS denominator FROM t
`))
	// x- keys are not part of the schema: strict decoding reports them.
	checkErrors(t, "", err, []string{`3:1: unknown key "x-rate" at the top of the spec`})
	if spec != nil {
		t.Fatal("spec returned with errors")
	}

	spec, err = Parse("test.yaml", doc(`
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN, current_month: latest_data}
kpis:
  - &sembako
    id: sembako_salur
    name: Penyaluran Sembako
    kind: rate
    source: dinsos
    target: {rate: 0.95}
    query: SELECT x AS region_code, n AS numerator, d AS denominator FROM t
  - <<: *sembako
    id: pkh_salur
    name: Penyaluran PKH
    target: {rate: 0.9}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.KPIs) != 2 || spec.KPIs[1].ID != "pkh_salur" || spec.KPIs[1].TargetRate != 0.9 || spec.KPIs[1].Source != "dinsos" {
		t.Errorf("merged KPI = %+v", spec.KPIs[1])
	}
	if spec.Sources["dinsos"].CurrentMonth != CurrentMonthLatestData {
		t.Errorf("current_month %q", spec.Sources["dinsos"].CurrentMonth)
	}
}

func TestSourceDSNComesFromTheEnvironment(t *testing.T) {
	src := Source{Name: "dinsos", Driver: sqlcheck.DriverPostgres, DSNEnv: "PANTAU_TEST_CONFIG_DSN"}
	if _, err := src.DSN(); err == nil || !strings.Contains(err.Error(), "PANTAU_TEST_CONFIG_DSN is not set") {
		t.Errorf("unset: %v", err)
	}
	t.Setenv("PANTAU_TEST_CONFIG_DSN", "")
	if _, err := src.DSN(); err == nil || !strings.Contains(err.Error(), "PANTAU_TEST_CONFIG_DSN is empty") {
		t.Errorf("empty: %v", err)
	}
	t.Setenv("PANTAU_TEST_CONFIG_DSN", "postgres://localhost/dinsos")
	if dsn, err := src.DSN(); err != nil || dsn != "postgres://localhost/dinsos" {
		t.Errorf("set: %q, %v", dsn, err)
	}
}

func TestLoadReportsAnUnreadableFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("err = %#v", err)
	}
	if got := err.Error(); got != "testdata/does-not-exist.yaml: cannot read the spec: no such file or directory" {
		t.Errorf("err = %q", got)
	}
}

func TestErrorsPrintOneProblemPerLineSortedByPosition(t *testing.T) {
	errs := Errors{
		{File: "a.yaml", Line: 9, Column: 5, Message: "second"},
		{File: "a.yaml", Line: 2, Column: 10, Message: "first"},
		{File: "a.yaml", Line: 9, Column: 12, Message: "third"},
	}
	want := "a.yaml:2:10: first\na.yaml:9:5: second\na.yaml:9:12: third"
	if got := errs.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	var one *Error
	if !errors.As(error(errs), &one) || one.Message != "second" {
		t.Errorf("errors.As found %v", one)
	}
}

func TestQueryParametersSkipLiteralsCommentsAndCasts(t *testing.T) {
	src := `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    query: |
      SELECT kode AS region_code, -- :not_a_param in a comment
        COUNT(*) AS "value" /* :nor_this */
      FROM t
      WHERE d >= :period_start::date AND d < CAST(:period_end AS DATE)
        AND label <> ':quoted' AND note <> 'it''s :still_quoted' AND e <> E'\':escaped'
        AND "odd:column" = $tag$ :dollar $tag$ AND y >= :year_start AND z = $1
`
	if _, err := Parse("test.yaml", doc(src)); err != nil {
		t.Errorf("Parse: %v", err)
	}
}

func TestMain(m *testing.M) {
	// Messages name zones by the embedded tz database; make sure no test
	// depends on the machine's.
	os.Setenv("ZONEINFO", "/nonexistent")
	os.Exit(m.Run())
}

func TestNestedMergeKeysDoNotBlowUp(t *testing.T) {
	// Eight levels of ten merges each would be 10^8 mappings to walk if
	// every merge were followed; each anchor must be merged only once.
	var b strings.Builder
	b.WriteString("l0: &l0 {driver: postgres}\n")
	for i := 1; i <= 8; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {<<: [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*l%d", i-1)
		}
		b.WriteString("]}\n")
	}
	b.WriteString("sources: {s: {<<: *l8, dsn_env: S_DSN}}\n")
	done := make(chan error, 1)
	go func() {
		_, err := Parse("test.yaml", []byte(b.String()))
		done <- err
	}()
	select {
	case err := <-done:
		// The l0..l8 keys are unknown and kpis is missing; the merged
		// driver must have reached the source.
		if err == nil || strings.Contains(err.Error(), "has no driver") {
			t.Errorf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Parse did not finish within 10s")
	}
}

func TestWarningsPointAtQueriesThatAreWrongOutsideTheOpenMonth(t *testing.T) {
	const head = `
sources:
  dinsos: {driver: mysql, dsn_env: DSN}
kpis:
  - id: k
    name: K
    kind: count
    source: dinsos
`
	tests := []struct {
		name         string
		accumulation string
		query        string
		want         []string // "line:col: text", as checkErrors
	}{
		{"a flow bounded on both sides draws no warning", "flow",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE d >= :period_start AND d < :period_end GROUP BY kode", nil},
		{"a flow without :period_end is warned at its query", "flow",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE d >= :period_start GROUP BY kode",
			[]string{"9:12: count KPI k: query never uses :period_end, so its figures for a month would include every row after it"}},
		{"a stock without :period_end is warned that its level is today's", "stock",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t GROUP BY kode",
			[]string{"9:12: count KPI k: query never uses :period_end, so it returns the level now"}},
		{"a flow comparing = :period_start is warned at the parameter", "flow",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE bulan = :period_start AND d < :period_end GROUP BY kode",
			[]string{"9:79: count KPI k: query compares with = :period_start; the year query binds :period_start to 1 January"}},
		{"the parameter on the left of = is warned too", "flow",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE :period_start=bulan AND d < :period_end GROUP BY kode",
			[]string{"9:71: count KPI k: query compares with = :period_start"}},
		{"a stock may read a monthly snapshot with = :period_start", "stock",
			"SELECT kode AS region_code, n AS value FROM rekap WHERE bulan = :period_start AND bulan < :period_end", nil},
		{"= :period_start inside a string literal is not a comparison", "flow",
			"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE s <> '= :period_start' AND d < :period_end GROUP BY kode", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + "    accumulation: " + tt.accumulation + "\n    query: " + tt.query + "\n"
			spec, err := Parse("test.yaml", doc(src))
			if err != nil {
				t.Fatalf("the spec should load: %v", err)
			}
			if len(spec.Warnings) == 0 && tt.want == nil {
				return
			}
			checkErrors(t, src, spec.Warnings, tt.want)
		})
	}
}

func TestGroupByIsRecorded(t *testing.T) {
	for query, want := range map[string]bool{
		"SELECT kode AS region_code, COUNT(*) AS value FROM t WHERE d < :period_end GROUP BY kode": true,
		"SELECT kode AS region_code, 1 AS value FROM t WHERE d < :period_end":                      false,
		"SELECT kode AS region_code, 1 AS value FROM t WHERE d < :period_end -- GROUP BY kode":     false,
	} {
		src := "sources:\n  s: {driver: sqlite, dsn_env: DSN}\nkpis:\n  - {id: k, name: K, kind: count, accumulation: stock, source: s, query: \"" + query + "\"}\n"
		spec, err := Parse("test.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := spec.KPIs[0].GroupBy; got != want {
			t.Errorf("%s: GroupBy = %v, want %v", query, got, want)
		}
	}
}
