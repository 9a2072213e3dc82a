package alerting

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/dashboards"
	"github.com/pantau-id/pantau/source/sourcetest"
)

var update = flag.Bool("update", false, "rewrite the committed rules/ files from examples/")

const (
	exampleSpec   = "examples/dinsos.yaml"
	committedFile = "rules/dinsos.rules.yml"
	unitTests     = "rules/tests/dinsos.test.yml"
)

func repoPath(p string) string { return filepath.Join("..", filepath.FromSlash(p)) }

func loadSpec(t *testing.T, path string) *config.Spec {
	t.Helper()
	spec, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func generate(t *testing.T, spec *config.Spec) *File {
	t.Helper()
	f, err := Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func parseSpec(t *testing.T, yaml string) *config.Spec {
	t.Helper()
	spec, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestCommittedRulesAreUpToDate regenerates the rules of the example spec
// and compares them with rules/; go test ./alerting -update rewrites them.
func TestCommittedRulesAreUpToDate(t *testing.T) {
	got, err := generate(t, loadSpec(t, repoPath(exampleSpec))).Marshal(exampleSpec)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(repoPath(committedFile), got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(repoPath(committedFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with %s; run: go test ./alerting -update", committedFile, exampleSpec)
	}
}

func promtool(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, sourcetest.Program(t, "promtool", "install the Debian package prometheus (apt-get install prometheus)"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestPromtoolAcceptsAndTestsTheRules runs promtool's linter on the
// committed rules and its unit tests, which make every alert fire and not
// fire on series shaped like pantau's.
func TestPromtoolAcceptsAndTestsTheRules(t *testing.T) {
	promtool(t, "check", "rules", repoPath(committedFile))
	promtool(t, "test", "rules", repoPath(unitTests))
}

// TestEveryRuleParses parses every expression with Prometheus' own parser
// and checks the labels the alerts are routed on.
func TestEveryRuleParses(t *testing.T) {
	f := generate(t, loadSpec(t, repoPath(exampleSpec)))
	names := map[string]bool{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if _, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr); err != nil {
				t.Errorf("%s%s: %v\n%s", r.Alert, r.Record, err, r.Expr)
			}
			if r.Alert == "" {
				continue
			}
			names[r.Alert] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q", r.Alert, s)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s has no summary or description", r.Alert)
			}
		}
	}
	for _, n := range []string{AlertAtRisk, AlertBehind, AlertMonthMissed, AlertSourceDown, AlertKPIStale, AlertStoppedReport, AlertPantauDown, AlertPantauAbsent} {
		if !names[n] {
			t.Errorf("no %s rule", n)
		}
	}
}

const specHead = `
sources:
  db: {driver: sqlite, dsn_env: DB}
`

func kpiYAML(id, kind, level string) string {
	extra := ""
	if kind == "rate" {
		extra = "\n    target: {rate: 0.9}"
	}
	cols := "region_code, 1 AS value"
	if kind == "rate" {
		cols = "region_code, 1 AS numerator, 2 AS denominator"
	}
	return fmt.Sprintf(`
  - id: %s
    name: %s
    kind: %s
    accumulation: flow
    source: db
    level: %s%s
    query: SELECT %s FROM t WHERE d >= :period_start`, id, id, kind, level, extra, cols)
}

func TestAlertLevelsComeFromTheSpec(t *testing.T) {
	for _, tc := range []struct {
		name, alerts string
		level        string
		want         string // the level regex of the pace alerts; "" for none
	}{
		{"without an alerts section kabupaten/kota and up alert", "", "kecamatan", `level=~"nasional|provinsi|kabupaten_kota"`},
		{"kecamatan alerts are there when the spec asks for them and exposes kecamatan", "alerts: {levels: [kecamatan, provinsi]}\nexposure: {levels: all}", "kecamatan", `level=~"provinsi|kecamatan"`},
		{"levels below the KPI's own level have no series and no alert", "alerts: {levels: [provinsi, kecamatan]}", "kabupaten_kota", `level=~"provinsi"`},
		{"a KPI reporting above every alert level gets no pace alerts", "alerts: {levels: [kecamatan]}", "provinsi", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := parseSpec(t, specHead+tc.alerts+"\nkpis:"+kpiYAML("k", "count", tc.level))
			var pace []Rule
			for _, r := range generate(t, spec).Alerts() {
				if r.Alert == AlertBehind || r.Alert == AlertAtRisk {
					pace = append(pace, r)
				}
			}
			if tc.want == "" {
				if len(pace) != 0 {
					t.Fatalf("pace alerts %v, want none", pace)
				}
				return
			}
			if len(pace) != 2 {
				t.Fatalf("%d pace alerts, want 2", len(pace))
			}
			for _, r := range pace {
				if !strings.Contains(r.Expr, tc.want) {
					t.Errorf("%s: %s lacks %s", r.Alert, r.Expr, tc.want)
				}
			}
		})
	}
}

func TestAlertSettingsShapeTheRules(t *testing.T) {
	spec := parseSpec(t, specHead+"refresh: 2m\nalerts: {for: 30m, grafana_url: 'https://grafana.dinsos.example/'}\nkpis:"+
		kpiYAML("flow_count", "count", "kecamatan")+kpiYAML("share", "rate", "kecamatan"))
	stopped := map[string]bool{}
	for _, r := range generate(t, spec).Alerts() {
		switch r.Alert {
		case AlertBehind:
			if r.For != "30m" {
				t.Errorf("%s for %s, want the spec's 30m", r.Alert, r.For)
			}
			if want := "https://grafana.dinsos.example/d/" + dashboards.DetailUID + "?"; !strings.HasPrefix(r.Annotations["dashboard"], want) {
				t.Errorf("dashboard link %s, want it to start %s", r.Annotations["dashboard"], want)
			}
		case AlertKPIStale:
			if want := promDuration(StaleRefreshes * 2 * time.Minute); r.For != want {
				t.Errorf("%s for %s, want %d refreshes of 2m", r.Alert, r.For, StaleRefreshes)
			}
		case AlertStoppedReport:
			stopped[r.Labels["kpi"]] = true
		}
	}
	if stopped["flow_count"] || !stopped["share"] {
		t.Errorf("stopped-reporting alerts for %v, want share only: a flow count without rows is a quiet month", stopped)
	}
}

func TestPromDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour: "1h", 90 * time.Minute: "1h30m", 10 * time.Minute: "10m", 2 * time.Second: "2s",
		36 * time.Hour: "1d12h", 1500 * time.Millisecond: "1s500ms",
	} {
		if got := promDuration(d); got != want {
			t.Errorf("promDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestRulesFollowTheExposure(t *testing.T) {
	for _, tc := range []struct {
		name, settings string
		pace           string // the level regex of the pace alerts; "" for none
		problem        string // part of the error; "" for none
	}{
		{"default alert levels shrink to the levels exposed", "exposure: {levels: [nasional, provinsi]}", `level=~"nasional|provinsi"`, ""},
		{"a level alerts: levels names but the exposure leaves out is an error",
			"exposure: {levels: [nasional, provinsi]}\nalerts: {levels: [provinsi, kabupaten_kota]}", "",
			"alerts: levels has kabupaten_kota, but KPI k does not send pantau_kpi_pace_ratio at kabupaten_kota to Prometheus"},
		{"a family an alert needs that is not exposed is an error when its level is asked for",
			"exposure: {families: [actual, status]}\nalerts: {levels: [provinsi]}", "", "does not send pantau_kpi_pace_ratio at provinsi"},
		{"without the month window there are no pace alerts", "exposure: {windows: [year]}", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := parseSpec(t, specHead+tc.settings+"\nkpis:"+kpiYAML("k", "count", "kecamatan"))
			f, err := Generate(spec)
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("error %v, want one containing %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var pace []Rule
			for _, r := range f.Alerts() {
				if r.Alert == AlertBehind {
					pace = append(pace, r)
				}
			}
			switch {
			case tc.pace == "" && len(pace) != 0:
				t.Errorf("pace alerts %v, want none", pace[0].Expr)
			case tc.pace != "" && (len(pace) != 1 || !strings.Contains(pace[0].Expr, tc.pace)):
				t.Errorf("pace alerts %v, want one on %s", pace, tc.pace)
			}
		})
	}
}

func TestRateRecordingRulesNeedNumeratorAndDenominatorExposed(t *testing.T) {
	for settings, want := range map[string]bool{
		"": true,
		"exposure: {families: [actual, pace_ratio, status]}": false,
	} {
		f := generate(t, parseSpec(t, specHead+settings+"\nkpis:"+kpiYAML("share", "rate", "kecamatan")))
		got := false
		for _, r := range f.Groups[0].Rules {
			got = got || r.Record == RecordNumeratorByProvince
		}
		if got != want {
			t.Errorf("with %q: numerator recording rule %v, want %v", settings, got, want)
		}
	}
}
