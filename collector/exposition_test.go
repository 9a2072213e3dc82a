package collector

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenSnapshot is a small snapshot built by hand: seven regions, a stock
// count with targets and a rate that builds up within the month, whose last
// refresh failed (stale). The rate's name holds a quote and a backslash so
// that label escaping shows in the golden file.
func goldenSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	h, err := kpi.NewHierarchy([]kpi.Region{
		{Code: "31", Name: "DKI Jakarta"},
		{Code: "31.71", Name: "Kota Jakarta Pusat"},
		{Code: "31.71.01", Name: "Gambir"},
		{Code: "32", Name: "Jawa Barat"},
		{Code: "32.16", Name: "Kabupaten Bekasi"},
		{Code: "32.16.06", Name: "Tambun Selatan"},
		{Code: "32.16.07", Name: "Cibitung"},
	})
	if err != nil {
		t.Fatal(err)
	}
	period := kpi.PeriodAt(pinnedNow, kpi.WIB)
	count := kpi.KPI{ID: "ewarong_aktif", Name: "e-Warong aktif", Unit: "e-Warong", Kind: kpi.KindCount,
		Accumulation: kpi.Stock, Direction: kpi.Up, Level: kpi.LevelKecamatan, Thresholds: kpi.DefaultThresholds}
	rate := kpi.KPI{ID: "sembako_salur", Name: `Penyaluran Sembako "6T" \ BPNT`, Kind: kpi.KindRate,
		Accumulation: kpi.Flow, Direction: kpi.Up, Level: kpi.LevelKecamatan, Thresholds: kpi.DefaultThresholds,
		TargetRate: 0.95, RateBuildsUp: true}

	countRows, _ := kpi.Evaluate(kpi.Input{KPI: count, Hierarchy: h, Period: period, At: pinnedNow,
		Month:    map[string]kpi.Observation{"32.16.06": {Value: 3}, "32.16.07": {Value: 2}, "31.71.01": {Value: 1}},
		Baseline: map[string]kpi.Observation{"32.16.06": {Value: 2}},
		Targets: []kpi.Target{
			{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 5},
			{KPI: "ewarong_aktif", Region: "31", Year: 2026, Annual: 4},
		}})
	lastGood := pinnedNow.Add(-5 * time.Minute)
	rateRows, _ := kpi.Evaluate(kpi.Input{KPI: rate, Hierarchy: h, Period: period, At: lastGood,
		Month: map[string]kpi.Observation{"32.16.06": {Numerator: 3, Denominator: 4}, "32.16.07": {Numerator: 2, Denominator: 2}},
		Year:  map[string]kpi.Observation{"32.16.06": {Numerator: 9, Denominator: 10}, "32.16.07": {Numerator: 3, Denominator: 4}},
	})
	return &Snapshot{At: pinnedNow, Hierarchy: h, KPIs: []KPIState{
		{Def: count, Period: period, Progress: countRows, LastSuccess: pinnedNow, Rejected: map[string]int{}},
		{Def: rate, Period: period, Progress: rateRows, LastSuccess: lastGood, Stale: true,
			Err: "kpi sembako_salur, month query: source dinsos (postgres): query timed out after 30s: context deadline exceeded"},
	}}
}

// renderText renders a snapshot and returns the exposition as text.
func renderText(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	e := render(s)
	text := cachedText(t, e)
	samples := 0
	for _, l := range textLines(text) {
		if !strings.HasPrefix(l, "#") {
			samples++
		}
	}
	if e.series != samples {
		t.Errorf("render counted %d series, the text has %d samples", e.series, samples)
	}
	return text
}

func TestExpositionGolden(t *testing.T) {
	got := renderText(t, goldenSnapshot(t))
	const golden = "testdata/exposition.golden"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./collector/ -run TestExpositionGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := textLines(got), textLines(want)
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("the exposition differs from %s at line %d:\ngot:  %s\nwant: %s\n(run with -update if the change is intended)", golden, i+1, g, w)
			}
		}
		t.Fatalf("the exposition differs from %s (run with -update if the change is intended)", golden)
	}
}

// clientGolangText gathers the snapshot through a client_golang registry
// and encodes it in the text format.
func clientGolangText(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(snapshotMetrics{s})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gathering the snapshot through a registry: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestRenderMatchesClientGolang holds render() to what client_golang makes
// of the same snapshot: the same HELP and TYPE lines and the same samples,
// with the same escaping and number formatting. Only the order of the
// labels within a sample may differ: client_golang sorts them by name,
// render writes them in the families' order (kpi first), which the text
// format allows and other packages' tests rely on.
func TestRenderMatchesClientGolang(t *testing.T) {
	for name, snap := range map[string]func(testing.TB) *Snapshot{
		"the hand-built snapshot renders as client_golang encodes it": goldenSnapshot,
		"an empty snapshot renders as client_golang encodes it": func(t testing.TB) *Snapshot {
			h, _ := kpi.NewHierarchy(nil)
			return &Snapshot{At: pinnedNow, Hierarchy: h}
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := snap(t)
			ours := canonicalLines(t, renderText(t, s))
			theirs := canonicalLines(t, clientGolangText(t, s))
			if len(ours) == 0 {
				t.Fatal("render produced nothing")
			}
			onlyOurs, onlyTheirs := difference(ours, theirs), difference(theirs, ours)
			for i, l := range onlyOurs {
				if i == 5 {
					t.Errorf("… and %d more", len(onlyOurs)-5)
					break
				}
				t.Errorf("only render() has: %s", l)
			}
			for i, l := range onlyTheirs {
				if i == 5 {
					t.Errorf("… and %d more", len(onlyTheirs)-5)
					break
				}
				t.Errorf("only client_golang has: %s", l)
			}
		})
	}
}

// canonicalLines returns the lines of an exposition, sorted, with the
// labels of each sample sorted by name and everything else untouched.
func canonicalLines(t testing.TB, text []byte) []string {
	t.Helper()
	out := textLines(text)
	for i, l := range out {
		open := strings.IndexByte(l, '{')
		if strings.HasPrefix(l, "#") || open < 0 {
			continue
		}
		// Label values may hold escaped quotes: scan pair by pair.
		var pairs []string
		rest := l[open+1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				t.Fatalf("malformed sample line: %s", l)
			}
			j := eq + 2
			for j < len(rest) && rest[j] != '"' {
				if rest[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(rest) {
				t.Fatalf("malformed sample line: %s", l)
			}
			pairs = append(pairs, rest[:j+1])
			rest = strings.TrimPrefix(rest[j+1:], ",")
		}
		slices.Sort(pairs)
		out[i] = l[:open+1] + strings.Join(pairs, ",") + rest
	}
	slices.Sort(out)
	return out
}

// difference returns the lines of a (sorted) not in b (sorted), with repeats.
func difference(a, b []string) []string {
	var out []string
	j := 0
	for _, l := range a {
		for j < len(b) && b[j] < l {
			j++
		}
		if j < len(b) && b[j] == l {
			j++
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := sourcetest.Program(t, "promtool", "install the Debian package prometheus (apt-get install prometheus)")
	t.Run("promtool finds nothing to report in the full /metrics output", func(t *testing.T) {
		// A Jawa Barat shard: the same metric families as a national
		// deployment, in a tenth of the time.
		c, _ := refreshDinsos(t, "sqlite", "32")
		text := metricsText(t, c)
		if !bytes.Contains(text, []byte("pantau_kpi_actual{")) || !bytes.Contains(text, []byte("pantau_source_up{")) {
			t.Fatal("the output lacks the KPI part or the self-metrics")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(text)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics (%v):\n%s", err, out)
		}
	})
}
