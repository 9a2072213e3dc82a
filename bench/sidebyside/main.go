// Command sidebyside is the measuring half of bench/sidebyside.sh, which
// runs pantau, prometheus-sql-exporter and prometheus-postgres-exporter in
// turn on one PostgreSQL copy of the demo data with the same kecamatan SQL
// (docs/benchmarks.md, "Side by side with the exporters"). Subcommands:
//
//	gen FILE SCALE          generate the demo source (SQLite) up to today
//	configs SPEC DIR CADENCE DSN
//	                        write the exporters' configurations: each KPI's
//	                        month query with this month's dates bound
//	measure ...             scrape one running tool and sample its CPU and
//	                        the CPU of its PostgreSQL backends; one JSON line
//	agree PANTAU SQL PG     check the three expositions' kecamatan numbers agree
//	report FILE             medians per tool and ratios to sql_exporter
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/wilayah"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: sidebyside gen|configs|measure|agree|report ..."))
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "gen":
		err = gen(args)
	case "configs":
		err = configs(args)
	case "measure":
		err = measure(args)
	case "agree":
		err = agree(args)
	case "report":
		err = report(args)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(1)
}

func gen(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: gen FILE SCALE")
	}
	scale, err := strconv.ParseFloat(args[1], 64)
	if err != nil {
		return err
	}
	regions, err := wilayah.Load()
	if err != nil {
		return err
	}
	info, err := demo.Generate(context.Background(), args[0], demo.Options{Seed: 1, Scale: scale, Now: time.Now(), Regions: regions})
	if err != nil {
		return err
	}
	fmt.Println(info)
	return nil
}

// monthSQL binds a KPI query's named parameters to this month's dates, as
// pantau binds them for its month query.
func monthSQL(q string, now time.Time) string {
	p := kpi.PeriodAt(now, kpi.WIB)
	day := func(t time.Time) string { return "'" + t.Format(time.DateOnly) + "'" }
	return strings.NewReplacer(":period_start", day(p.Start()), ":period_end", day(p.End()), ":year_start", day(p.YearStart())).Replace(q)
}

func valueColumns(k config.KPI) []string {
	if k.Kind == kpi.KindRate {
		return []string{"numerator", "denominator"}
	}
	return []string{"value"}
}

func configs(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: configs SPEC DIR CADENCE SQL_EXPORTER_DSN")
	}
	spec, err := config.Load(args[0])
	if err != nil {
		return err
	}
	dir := args[1]
	cadence, err := time.ParseDuration(args[2])
	if err != nil {
		return err
	}
	now := time.Now()
	type sqlQuery struct {
		Name   string   `yaml:"name"`
		Help   string   `yaml:"help"`
		Labels []string `yaml:"labels"`
		Values []string `yaml:"values"`
		Query  string   `yaml:"query"`
	}
	type sqlJob struct {
		Name        string     `yaml:"name"`
		Interval    string     `yaml:"interval"`
		Connections []string   `yaml:"connections"`
		Queries     []sqlQuery `yaml:"queries"`
	}
	job := sqlJob{Name: "pantau_bench", Interval: cadence.String(), Connections: []string{args[3]}}
	pg := yaml.Node{Kind: yaml.MappingNode}
	for _, k := range spec.KPIs {
		q := monthSQL(k.Query, now)
		job.Queries = append(job.Queries, sqlQuery{Name: k.ID, Help: k.Name, Labels: []string{"region_code"}, Values: valueColumns(k), Query: q})
		metrics := []map[string]map[string]string{{"region_code": {"usage": "LABEL", "description": "kecamatan"}}}
		for _, v := range valueColumns(k) {
			metrics = append(metrics, map[string]map[string]string{v: {"usage": "GAUGE", "description": k.Name + " " + v}})
		}
		var entry yaml.Node
		if err := entry.Encode(map[string]any{"query": q, "cache_seconds": int(cadence.Seconds()), "metrics": metrics}); err != nil {
			return err
		}
		pg.Content = append(pg.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k.ID}, &entry)
	}
	write := func(name string, v any) error {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	if err := write("sql_exporter.yml", map[string]any{"jobs": []sqlJob{job}}); err != nil {
		return err
	}
	return write("postgres_exporter.yml", &pg)
}

// cpuTicks is a process's user + system time in clock ticks (USER_HZ,
// 100 a second on Linux), or false when it is gone.
func cpuTicks(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, false
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k, true
}

const ticksPerSecond = 100

// backends finds the PostgreSQL backends of one role on one database by
// their process titles ("postgres: 15/main: ROLE DB 127.0.0.1(5432) idle";
// without the cluster name where cluster_name is unset).
func backends(title string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasPrefix(string(b), "postgres: ") && strings.Contains(string(b), title) {
			out = append(out, pid)
		}
	}
	return out
}

func rssMB(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// Result is one round of one tool.
type Result struct {
	Tool           string  `json:"tool"`
	Round          int     `json:"round"`
	Seconds        float64 `json:"seconds"`
	Refreshes      float64 `json:"refreshes"`
	Scrapes        int     `json:"scrapes"`
	ScrapeP50ms    float64 `json:"scrape_p50_ms"`
	ScrapeP95ms    float64 `json:"scrape_p95_ms"`
	BodyBytes      int     `json:"body_bytes"`
	DBCPUPerRefres float64 `json:"db_cpu_s_per_refresh"`
	ToolCPUs       float64 `json:"tool_cpu_s"`
	RSSMB          float64 `json:"rss_mb"`
}

func measure(args []string) error {
	fs := flag.NewFlagSet("measure", flag.ExitOnError)
	tool := fs.String("tool", "", "tool name")
	round := fs.Int("round", 0, "round number")
	pid := fs.Int("pid", 0, "the tool's process id")
	url := fs.String("url", "", "its /metrics URL")
	role := fs.String("role", "", "its PostgreSQL role")
	db := fs.String("db", "", "the database")
	seconds := fs.Duration("for", time.Minute, "how long to measure")
	cadence := fs.Duration("cadence", 5*time.Second, "the refresh cadence")
	every := fs.Duration("scrape-every", time.Second, "scrape interval")
	fs.Parse(args)

	prefix := ": " + *role + " " + *db + " "
	// base holds each backend's CPU when first seen: a backend born during
	// the round starts from zero.
	base, last := map[int]int64{}, map[int]int64{}
	for _, p := range backends(prefix) {
		if t, ok := cpuTicks(p); ok {
			base[p], last[p] = t, t
		}
	}
	toolStart, ok := cpuTicks(*pid)
	if !ok {
		return fmt.Errorf("%s (pid %d) is not running", *tool, *pid)
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	var lat []float64
	bodyBytes := 0
	start := time.Now()
	nextScrape := start
	for time.Since(start) < *seconds {
		for _, p := range backends(prefix) {
			if t, ok := cpuTicks(p); ok {
				last[p] = t
			}
		}
		if time.Now().After(nextScrape) {
			nextScrape = nextScrape.Add(*every)
			req, _ := http.NewRequest("GET", *url, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("scraping %s: %w", *tool, err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
			bodyBytes = int(n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	toolEnd, _ := cpuTicks(*pid)
	var dbTicks int64
	for p, t := range last {
		dbTicks += t - base[p]
	}
	refreshes := elapsed.Seconds() / cadence.Seconds()
	slices.Sort(lat)
	r := Result{Tool: *tool, Round: *round, Seconds: elapsed.Seconds(), Refreshes: refreshes, Scrapes: len(lat),
		ScrapeP50ms: quantile(lat, 0.5), ScrapeP95ms: quantile(lat, 0.95), BodyBytes: bodyBytes,
		DBCPUPerRefres: float64(dbTicks) / ticksPerSecond / refreshes,
		ToolCPUs:       float64(toolEnd-toolStart) / ticksPerSecond, RSSMB: rssMB(*pid)}
	return json.NewEncoder(os.Stdout).Encode(r)
}

func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	return sorted[int(math.Round(q*float64(len(sorted)-1)))]
}

// scrape fetches and parses one exposition.
func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// agree compares the kecamatan month figures of the three tools: pantau's
// pantau_kpi_{actual,numerator,denominator}{level="kecamatan",window="month"},
// sql_exporter's sql_<kpi>{col=…}, postgres_exporter's <kpi>_<column>.
// Every row an exporter reports must be pantau's, and every kecamatan
// where pantau has a figure must be in the exporters' (pantau also shows
// kecamatan without rows as 0 for count KPIs, which the exporters cannot).
func agree(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("usage: agree SPEC PANTAU_URL SQL_EXPORTER_URL POSTGRES_EXPORTER_URL")
	}
	spec, err := config.Load(args[0])
	if err != nil {
		return err
	}
	type key struct{ kpi, region, col string }
	tools := []string{"pantau", "sql_exporter", "postgres_exporter"}
	got := make([]map[key]float64, 3)
	for i, url := range args[1:] {
		mfs, err := scrape(url)
		if err != nil {
			return fmt.Errorf("%s: %w", tools[i], err)
		}
		got[i] = map[key]float64{}
		for _, k := range spec.KPIs {
			for _, col := range valueColumns(k) {
				var fam, colLabel string
				switch i {
				case 0:
					fam = map[string]string{"value": "pantau_kpi_actual", "numerator": "pantau_kpi_numerator", "denominator": "pantau_kpi_denominator"}[col]
				case 1:
					fam, colLabel = "sql_"+k.ID, col
				case 2:
					fam = k.ID + "_" + col
				}
				for _, m := range mfs[fam].GetMetric() {
					if i == 0 && (label(m, "kpi") != k.ID || label(m, "level") != "kecamatan" || label(m, "window") != "month") {
						continue
					}
					if colLabel != "" && label(m, "col") != colLabel && len(valueColumns(k)) > 1 {
						continue
					}
					got[i][key{k.ID, label(m, "region_code"), col}] = m.GetGauge().GetValue() + m.GetUntyped().GetValue()
				}
			}
		}
		if len(got[i]) == 0 {
			return fmt.Errorf("%s exposes no kecamatan figures", tools[i])
		}
	}
	bad := 0
	for i := 1; i < 3; i++ {
		for k, v := range got[i] {
			if p, ok := got[0][k]; !ok || p != v {
				if bad++; bad <= 5 {
					fmt.Printf("  %s %s %s: %s %v, pantau %v (present %v)\n", k.kpi, k.region, k.col, tools[i], v, p, ok)
				}
			}
		}
		for k, p := range got[0] {
			if _, ok := got[i][k]; !ok && p != 0 {
				if bad++; bad <= 5 {
					fmt.Printf("  %s %s %s: pantau %v, missing from %s\n", k.kpi, k.region, k.col, p, tools[i])
				}
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d kecamatan figures disagree", bad)
	}
	fmt.Printf("agree: %d kecamatan figures of pantau; sql_exporter %d and postgres_exporter %d, all equal to pantau's\n", len(got[0]), len(got[1]), len(got[2]))
	return nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return math.NaN()
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func report(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: report RESULTS.jsonl")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	per := map[string][]Result{}
	var order []string
	dec := json.NewDecoder(f)
	for {
		var r Result
		if err := dec.Decode(&r); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if per[r.Tool] == nil {
			order = append(order, r.Tool)
		}
		per[r.Tool] = append(per[r.Tool], r)
	}
	type row struct {
		name string
		get  func(Result) float64
	}
	rows := []row{
		{"scrape p50 (ms)", func(r Result) float64 { return r.ScrapeP50ms }},
		{"scrape p95 (ms)", func(r Result) float64 { return r.ScrapeP95ms }},
		{"scrape body (bytes, gzip)", func(r Result) float64 { return float64(r.BodyBytes) }},
		{"PostgreSQL CPU per refresh (s)", func(r Result) float64 { return r.DBCPUPerRefres }},
		{"tool CPU per refresh (s)", func(r Result) float64 { return r.ToolCPUs / r.Refreshes }},
		{"tool RSS (MB)", func(r Result) float64 { return r.RSSMB }},
	}
	fmt.Printf("%-32s", "median of rounds")
	for _, t := range order {
		fmt.Printf(" %18s", fmt.Sprintf("%s (%d)", t, len(per[t])))
	}
	for _, t := range order {
		if t != "sql_exporter" {
			fmt.Printf(" %22s", t+"/sql_exporter")
		}
	}
	fmt.Println()
	for _, rw := range rows {
		fmt.Printf("%-32s", rw.name)
		med := map[string]float64{}
		for _, t := range order {
			var xs []float64
			for _, r := range per[t] {
				xs = append(xs, rw.get(r))
			}
			med[t] = median(xs)
			fmt.Printf(" %18.4g", med[t])
		}
		for _, t := range order {
			if t != "sql_exporter" {
				fmt.Printf(" %22.3f", med[t]/med["sql_exporter"])
			}
		}
		fmt.Println()
	}
	return nil
}
