package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/alerting"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/dashboards"
	"github.com/pantau-id/pantau/source/sourcetest"
)

// repoFile is a file of the repository, from this package's directory.
func repoFile(name string) string { return filepath.Join("..", "..", filepath.FromSlash(name)) }

// rewrite replaces old with new in s and fails when old is not there: the
// committed file changed and the test must follow.
func rewrite(t *testing.T, file, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%s no longer contains %q; update this test", file, old)
	}
	return strings.ReplaceAll(s, old, new)
}

// promStack is pantau demo scraped by a real Prometheus that runs the
// committed prometheus.yml and rules/.
type promStack struct {
	pantau  *process
	bin     string // the pantau binary
	dataDir string // the demo's data directory, its store included
	prom    string // Prometheus' base URL
}

// startPromStack starts pantau demo and a Prometheus configured by the
// committed prometheus.yml, with its addresses and intervals rewritten for
// a test, loading the committed rules/ with alerts held for 5s instead of
// an hour. It waits until Prometheus has pantau's series and the first
// recording rules.
func startPromStack(t *testing.T) *promStack {
	t.Helper()
	promBin := sourcetest.Program(t, "prometheus", promHow)
	bin := buildPantau(t)
	dataDir := t.TempDir()
	demo := startDemo(t, bin, dataDir)
	waitReady(t, demo)

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	ruleFiles, err := filepath.Glob(repoFile("rules/*.rules.yml"))
	if err != nil || len(ruleFiles) == 0 {
		t.Fatalf("no rules/*.rules.yml: %v", err)
	}
	for _, f := range ruleFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rules := rewrite(t, f, string(b), "for: 1h\n", "for: 5s\n")
		if err := os.WriteFile(filepath.Join(dir, "rules", filepath.Base(f)), []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const committed = "prometheus.yml"
	b, err := os.ReadFile(repoFile(committed))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	cfg = rewrite(t, committed, cfg, "- 127.0.0.1:9875", "- "+strings.TrimPrefix(demo.url, "http://"))
	cfg = rewrite(t, committed, cfg, "127.0.0.1:9093", freePort(t)) // no Alertmanager: Prometheus logs and carries on
	// The national demo is some 67,000 series with the default exposure
	// (580,000 with every level): intervals that a shared machine keeps.
	cfg = rewrite(t, committed, cfg, "scrape_interval: 1m", "scrape_interval: 20s")
	cfg = rewrite(t, committed, cfg, "evaluation_interval: 1m", "evaluation_interval: 10s")
	cfg = rewrite(t, committed, cfg, "scrape_timeout: 30s", "scrape_timeout: 20s")
	promConfig := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promConfig, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := runPrometheus(t, promBin, promConfig)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pantau log:\n%s", demo.log.String())
		}
	})
	waitFor(t, 3*time.Minute, "Prometheus to have pantau's series and the recording rules", func() bool {
		select {
		case <-prom.done:
			t.Fatal("prometheus exited")
		default:
		}
		if !prom.ready() {
			return false
		}
		return len(query(t, prom.url, `pantau:kpi_status:count`)) > 0 &&
			len(query(t, prom.url, `pantau:kpi_numerator:sum_by_province`)) > 0 &&
			len(query(t, prom.url, `pantau_region_info{level="kecamatan"}`)) > 0
	})
	return &promStack{pantau: demo, bin: bin, dataDir: dataDir, prom: prom.url}
}

// grafanaVar is a dashboard variable with the options Grafana would offer.
type grafanaVar struct {
	name    string
	multi   bool
	options [][2]string // text, value
}

// queryResultLine formats a sample the way Grafana's query_result() shows
// it to a variable's regex: name{label="value", ...} value timestamp, with
// the labels sorted as Prometheus returns them.
func queryResultLine(s sample) string {
	var keys []string
	for k := range s.Metric {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, s.Metric[k])
	}
	return fmt.Sprintf("%s{%s} %v %v", s.Metric["__name__"], strings.Join(parts, ", "), s.Value[1], s.Value[0])
}

// resolveVar computes a variable's options, its query having the earlier
// variables substituted by values.
func resolveVar(t *testing.T, promURL string, v map[string]any, values map[string]string) grafanaVar {
	t.Helper()
	gv := grafanaVar{name: v["name"].(string)}
	gv.multi, _ = v["multi"].(bool)
	switch v["type"] {
	case "custom":
		for _, o := range strings.Split(v["query"].(string), ",") {
			text, value, ok := strings.Cut(o, " : ")
			if !ok {
				text, value = o, o
			}
			gv.options = append(gv.options, [2]string{strings.TrimSpace(text), strings.TrimSpace(value)})
		}
	case "query":
		q := substitute(v["definition"].(string), values)
		inner, ok := strings.CutPrefix(q, "query_result(")
		if !ok {
			t.Fatalf("variable %s: query %s is not query_result(...)", gv.name, q)
		}
		inner = strings.TrimSuffix(inner, ")")
		re := regexp.MustCompile(strings.Trim(v["regex"].(string), "/"))
		for _, s := range query(t, promURL, inner) {
			m := re.FindStringSubmatch(queryResultLine(s))
			if m == nil {
				continue
			}
			gv.options = append(gv.options, [2]string{m[re.SubexpIndex("text")], m[re.SubexpIndex("value")]})
		}
		sort.Slice(gv.options, func(i, j int) bool { return gv.options[i][0] < gv.options[j][0] })
	default:
		t.Fatalf("variable %s has type %v", gv.name, v["type"])
	}
	if len(gv.options) == 0 {
		t.Fatalf("variable %s has no options (query %v)", gv.name, v["definition"])
	}
	return gv
}

// format writes chosen values the way Grafana interpolates them into
// PromQL: a multi-value variable becomes a regex alternation of escaped
// values.
func (v grafanaVar) format(chosen []string) string {
	if !v.multi {
		return chosen[0]
	}
	esc := make([]string, len(chosen))
	for i, c := range chosen {
		esc[i] = strings.ReplaceAll(regexp.QuoteMeta(c), `\`, `\\`)
	}
	return "(" + strings.Join(esc, "|") + ")"
}

var grafanaVarRE = regexp.MustCompile(`\$\{([a-z_]+)\}|\$([a-z_]+)`)

func substitute(s string, values map[string]string) string {
	return grafanaVarRE.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := values[name]; ok {
			return v
		}
		return m
	})
}

// preferred are the values the test picks where it has a choice: Jawa
// Barat, whose demo data has kecamatan behind pace.
var preferred = map[string]string{"provinsi": "32", "wilayah": "32", "region": "32"}

// combinations returns every assignment of the dashboard's variables to
// test: all KPIs and all levels, the preferred region, two regions for a
// multi-value variable.
func combinations(t *testing.T, promURL string, vars []map[string]any) []map[string]string {
	t.Helper()
	out := []map[string]string{{}}
	for _, v := range vars {
		var next []map[string]string
		for _, values := range out {
			gv := resolveVar(t, promURL, v, values)
			var choices []string
			switch {
			case gv.multi:
				n := min(2, len(gv.options))
				var chosen []string
				for _, o := range gv.options[:n] {
					chosen = append(chosen, o[1])
				}
				choices = []string{gv.format(chosen)}
			case preferred[gv.name] != "":
				found := false
				for _, o := range gv.options {
					found = found || o[1] == preferred[gv.name]
				}
				if !found {
					t.Fatalf("variable %s offers no %s: %v", gv.name, preferred[gv.name], gv.options)
				}
				choices = []string{preferred[gv.name]}
			case gv.name == "kpi":
				// A count, a rate and a down KPI: every kind of panel
				// arithmetic, at a third of the queries of all six.
				for _, o := range gv.options {
					if o[1] == "ewarong_aktif" || o[1] == "sembako_salur" || o[1] == "kpm_per_ewarong" {
						choices = append(choices, o[1])
					}
				}
				if len(choices) != 3 {
					t.Fatalf("variable kpi offers %v, want ewarong_aktif, sembako_salur and kpm_per_ewarong among them", gv.options)
				}
			case gv.name == "tingkat":
				for _, o := range gv.options {
					choices = append(choices, o[1])
				}
			default:
				choices = []string{gv.options[0][1]}
			}
			for _, c := range choices {
				m := map[string]string{gv.name: c}
				for k, v := range values {
					m[k] = v
				}
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

// mayBeEmpty lists panels whose queries have no rows in a healthy demo,
// with the reason.
var mayBeEmpty = map[string]string{
	"Peringatan aktif":                            "alerts fire only where a region is behind",
	"Baris ditolak per alasan (per jam)":          "the demo's rows are all valid",
	"Kegagalan (per jam)":                         "nothing fails in the demo",
	"Target ditolak dan data terlambat (per jam)": "the demo's targets are valid and no row arrives late",
}

// TestDashboardsAndAlertsOnARealPrometheus runs every PromQL query of every
// dashboard panel, with the variables substituted the way Grafana would,
// against a real Prometheus scraping pantau demo with the committed
// prometheus.yml and rules/; and checks that the behind-pace alert fires
// for the demo's lagging regions and not for those on pace.
func TestDashboardsAndAlertsOnARealPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts pantau demo and Prometheus")
	}
	stack := startPromStack(t)
	spec, err := config.Load(repoFile("examples/dinsos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	boards, err := dashboards.LoadFiles(repoFile("dashboards"))
	if err != nil {
		t.Fatal(err)
	}

	// A query may be empty for one KPI (PKH has no stage this month, a KPI
	// without targets has no attainment) but not for every KPI tested.
	t.Run("every panel query returns data", func(t *testing.T) {
		for _, d := range boards {
			type key struct{ panel, ref string }
			hasData := map[key]bool{}
			var order []key
			queries := 0
			for _, values := range combinations(t, stack.prom, dashboards.Variables(d.Raw)) {
				for _, p := range dashboards.Panels(d.Raw) {
					for _, tg := range dashboards.Targets(p) {
						expr, ok := tg["expr"].(string)
						if !ok {
							continue
						}
						q := substitute(expr, values)
						if strings.Contains(q, "$") && !strings.Contains(q, `"$1"`) {
							t.Errorf("%s, %q: a variable is left in %s", d.File, p["title"], q)
						}
						k := key{p["title"].(string), tg["refId"].(string)}
						if _, seen := hasData[k]; !seen {
							order = append(order, k)
						}
						queries++
						hasData[k] = hasData[k] || len(query(t, stack.prom, q)) > 0
					}
				}
			}
			for _, k := range order {
				if _, ok := mayBeEmpty[k.panel]; !hasData[k] && !ok {
					t.Errorf("%s, panel %q, query %s: no data for any KPI tested", d.File, k.panel, k.ref)
				}
			}
			t.Logf("%s: %d queries", d.File, queries)
		}
	})

	t.Run("Infinity panels get the columns they use from the API", func(t *testing.T) {
		// A viewer token, as docs/grafana.md tells Grafana's operator to
		// create, in the demo's store.
		out, err := exec.Command(stack.bin, "token", "create", "--store-dsn", filepath.Join(stack.dataDir, "pantau.db"),
			"--role", "viewer", "--name", "grafana").Output()
		if err != nil {
			t.Fatalf("pantau token create: %v\n%s", err, out)
		}
		token := strings.TrimSpace(string(out))
		for _, d := range boards {
			rows := map[string]int{}
			for _, values := range combinations(t, stack.prom, dashboards.Variables(d.Raw)) {
				for _, p := range dashboards.Panels(d.Raw) {
					for _, tg := range dashboards.Targets(p) {
						if tg["parser"] == nil {
							continue
						}
						title := p["title"].(string)
						rows[title] += checkInfinity(t, stack.pantau.url, token, d.File, title, tg, values)
					}
				}
			}
			for title, n := range rows {
				if n == 0 {
					t.Errorf("%s, panel %q: no rows for any KPI tested", d.File, title)
				}
			}
		}
	})

	t.Run("regions behind pace fire the alert and regions on pace do not", func(t *testing.T) {
		behind := alerting.AlertBehind
		firing := func() []sample {
			return query(t, stack.prom, fmt.Sprintf(`ALERTS{alertname=%q,alertstate="firing"}`, behind))
		}
		waitFor(t, time.Minute, behind+" to fire", func() bool { return len(firing()) > 0 })
		got := firing()
		levels := map[string]bool{}
		for _, l := range spec.Alerts.Levels {
			levels[l.String()] = true
		}
		for _, a := range got {
			m := a.Metric
			k, ok := spec.KPI(m["kpi"])
			if !ok {
				t.Fatalf("alert for unknown KPI: %v", m)
			}
			if !levels[m["level"]] || m["severity"] != "critical" || m["province_code"] == "" && m["level"] != "nasional" {
				t.Errorf("alert %v: want a critical alert at an alert level with its province", m)
			}
			pace := query(t, stack.prom, fmt.Sprintf(`pantau_kpi_pace_ratio{kpi=%q,region_code=%q,window="month"}`, m["kpi"], m["region_code"]))
			if len(pace) != 1 || pace[0].value(t) >= k.Thresholds.AtRisk {
				t.Errorf("alert for %s in %s, whose pace is %v: want below %v", m["kpi"], m["region_code"], pace, k.Thresholds.AtRisk)
			}
		}
		// Every region behind is alerted, and no region on track is.
		for _, k := range spec.KPIs {
			sel := fmt.Sprintf(`kpi=%q,window="month",level=~"nasional|provinsi|kabupaten_kota"`, k.ID)
			alerts := fmt.Sprintf(`ALERTS{kpi=%q,alertname=~"%s|%s"}`, k.ID, behind, alerting.AlertAtRisk)
			// Groups evaluate one after another: give the last one a round.
			unalerted := fmt.Sprintf(`pantau_kpi_pace_ratio{%s} < %v unless on (region_code) ALERTS{kpi=%q,alertname=%q,alertstate="firing"}`,
				sel, k.Thresholds.AtRisk, k.ID, behind)
			waitFor(t, 30*time.Second, "every region of "+k.ID+" behind pace to have a firing "+behind, func() bool {
				return len(query(t, stack.prom, unalerted)) == 0
			})
			if s := query(t, stack.prom, fmt.Sprintf(`pantau_kpi_status{status="on_track",%s} and on (region_code) %s`, sel, alerts)); len(s) > 0 {
				t.Errorf("%s: %d regions on track have a pace alert, like %v", k.ID, len(s), s[0].Metric)
			}
		}
		onTrack := query(t, stack.prom, `pantau_kpi_status{status="on_track",window="month",level="kabupaten_kota"}`)
		if len(onTrack) == 0 {
			t.Error("no kabupaten/kota on track in the demo: the not-firing half of this test checks nothing")
		}
		t.Logf("%d %s alerts firing; %d kabupaten/kota × KPI on track without one", len(firing()), behind, len(onTrack))

		// The summary names the KPI and the region.
		var api struct {
			Alerts []struct {
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				State       string            `json:"state"`
			} `json:"alerts"`
		}
		promAPI(t, stack.prom, "/api/v1/alerts", nil, &api)
		checked := 0
		for _, a := range api.Alerts {
			if a.Labels["alertname"] != behind || a.State != "firing" {
				continue
			}
			region := query(t, stack.prom, fmt.Sprintf(`pantau_region_info{region_code=%q}`, a.Labels["region_code"]))
			k, _ := spec.KPI(a.Labels["kpi"])
			if len(region) != 1 || !strings.Contains(a.Annotations["summary"], region[0].Metric["name"]) || !strings.Contains(a.Annotations["summary"], k.Name) {
				t.Errorf("summary %q does not name %s and %v", a.Annotations["summary"], k.Name, region)
			}
			if strings.Contains(a.Annotations["description"], "Realisasi -") || !strings.Contains(a.Annotations["dashboard"], "/d/"+dashboards.DetailUID+"?") {
				t.Errorf("description %q or link %q lacks the values or the dashboard", a.Annotations["description"], a.Annotations["dashboard"])
			}
			checked++
		}
		if checked == 0 {
			t.Error("no firing alert in /api/v1/alerts")
		}
		// What the rules cost Prometheus on this exposition, for the record.
		var rules struct {
			Groups []struct {
				Name           string  `json:"name"`
				EvaluationTime float64 `json:"evaluationTime"`
			} `json:"groups"`
		}
		promAPI(t, stack.prom, "/api/v1/rules", nil, &rules)
		for _, g := range rules.Groups {
			t.Logf("rule group %s: last evaluation %.3fs", g.Name, g.EvaluationTime)
		}
	})
}

// checkInfinity calls an Infinity query's URL on pantau's API and checks
// the answer is a JSON array of flat objects with every column the panel
// uses, of the declared type. It returns the number of rows.
func checkInfinity(t *testing.T, base, token, file, title string, tg map[string]any, values map[string]string) int {
	t.Helper()
	params := url.Values{}
	opts, _ := tg["url_options"].(map[string]any)
	ps, _ := opts["params"].([]any)
	for _, p := range ps {
		m := p.(map[string]any)
		params.Add(m["key"].(string), substitute(m["value"].(string), values))
	}
	u := base + tg["url"].(string) + "?" + params.Encode()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s, %q: GET %s: %v", file, title, u, err)
	}
	defer resp.Body.Close()
	var rows []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rows); resp.StatusCode != http.StatusOK || err != nil {
		t.Errorf("%s, %q: GET %s: %d, want 200 with a JSON array (%v)", file, title, u, resp.StatusCode, err)
		return 0
	}
	cols, _ := tg["columns"].([]any)
	for _, row := range rows {
		for _, c := range cols {
			col := c.(map[string]any)
			key, typ := col["selector"].(string), col["type"].(string)
			v, ok := row[key]
			if !ok {
				t.Errorf("%s, %q: GET %s: a row has no %s: %v", file, title, u, key, row)
				return len(rows)
			}
			switch typ {
			case "number":
				// null is an undefined value (no pace before anything is
				// expected); Infinity keeps it as a null number.
				_, ok = v.(float64)
				ok = ok || v == nil
			case "string":
				_, ok = v.(string)
			case "timestamp":
				s, _ := v.(string)
				_, err := time.Parse(time.RFC3339, s)
				ok = err == nil
			}
			if !ok {
				t.Errorf("%s, %q: GET %s: %s is %v, not a %s", file, title, u, key, v, typ)
				return len(rows)
			}
		}
	}
	return len(rows)
}
