package kpi

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRollUpOfRatesIsRatioOfSums(t *testing.T) {
	h := testHierarchy(t)
	// Tambun Selatan is large and lagging, Tambun Utara small and complete.
	obs := map[string]Observation{
		"32.16.06": {Numerator: 800, Denominator: 1000},
		"32.16.07": {Numerator: 10, Denominator: 10},
	}
	all, unknown := RollUp(h, obs)
	if len(unknown) != 0 {
		t.Fatalf("unknown codes %v", unknown)
	}
	got := all["32.16"].Actual(KindRate)
	want := 810.0 / 1010.0
	meanOfRatios := (0.8 + 1.0) / 2
	if !got.OK || !near(got.V, want) {
		t.Errorf("rate of Kabupaten Bekasi = %v, want Σnum/Σden = %v", got, want)
	}
	if near(got.V, meanOfRatios) {
		t.Errorf("rate of Kabupaten Bekasi equals the mean of ratios %v; the roll-up must weight by denominator", meanOfRatios)
	}
	for _, code := range []string{"32", "ID"} {
		if all[code] != all["32.16"] {
			t.Errorf("%s = %+v, want the same sums as its only reporting child", code, all[code])
		}
	}
	if _, ok := all["31"]; ok {
		t.Error("DKI Jakarta has no rows and must not appear in the roll-up")
	}
}

func TestRollUpReportsUnknownCodes(t *testing.T) {
	h := testHierarchy(t)
	all, unknown := RollUp(h, map[string]Observation{"32.16.06": {Value: 3}, "32.16.99": {Value: 5}})
	if len(unknown) != 1 || unknown[0] != "32.16.99" {
		t.Errorf("unknown = %v, want [32.16.99]", unknown)
	}
	if all["ID"].Value != 3 {
		t.Errorf("nation = %v, want 3 (unknown rows are not counted)", all["ID"].Value)
	}
}

// oct16 is noon on 16 October 2026 in Jakarta: October is exactly half over
// and the year is 9.5/12 over.
var oct16 = time.Date(2026, time.October, 16, 12, 0, 0, 0, WIB)

func find(t *testing.T, ps []Progress, region string, w Window) Progress {
	t.Helper()
	for _, p := range ps {
		if p.Region == region && p.Window == w {
			return p
		}
	}
	t.Fatalf("no progress for %s %s", region, w)
	return Progress{}
}

func num(v float64) Number { return Some(v) }

func TestEvaluate(t *testing.T) {
	h := testHierarchy(t)
	oct := PeriodAt(oct16, WIB)
	flow := KPI{ID: "kube_jasa", Kind: KindCount, Accumulation: Flow, Direction: Up, Level: LevelKecamatan, Thresholds: DefaultThresholds}
	stock := KPI{ID: "ewarong_aktif", Kind: KindCount, Accumulation: Stock, Direction: Up, Level: LevelKecamatan, Thresholds: DefaultThresholds}
	rate := KPI{ID: "sembako_salur", Kind: KindRate, Direction: Up, Level: LevelKecamatan, Thresholds: DefaultThresholds, TargetRate: 0.95}
	batches := rate
	batches.RateBuildsUp = true
	down := KPI{ID: "kpm_per_ewarong", Kind: KindRate, Direction: Down, Level: LevelKecamatan, Thresholds: DefaultThresholds, TargetRate: 400}
	stockRate := down
	stockRate.Accumulation = Stock

	tests := []struct {
		name   string
		in     Input
		region string
		window Window
		want   Progress // only the fields named in check are compared
		check  []string
	}{
		{
			name:   "a flow KPI half way through the month expects half the month's target",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 60), Targets: []Target{{Region: "31", Annual: 120}}},
			region: "31", window: WindowMonth,
			want:  Progress{Actual: num(6), Target: num(10), Expected: num(5), Attainment: num(0.6), Pace: num(1.2), Forecast: num(12), Status: OnTrack},
			check: []string{"Actual", "Target", "Expected", "Attainment", "Pace", "Forecast", "Status"},
		},
		{
			name:   "a flow KPI's year to date is compared with the target phased to the instant",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 76), Targets: []Target{{Region: "31", Annual: 120}}},
			region: "31", window: WindowYear,
			want:  Progress{Actual: num(76), Target: num(120), Expected: num(95), Pace: num(0.8), Status: Behind},
			check: []string{"Actual", "Target", "Expected", "Pace", "Status"},
		},
		{
			name:   "a flow KPI slightly behind pace is at risk",
			in:     Input{KPI: flow, Month: obs("31.71.01", 4.5), Year: obs("31.71.01", 90), Targets: []Target{{Region: "31", Annual: 120}}},
			region: "31", window: WindowMonth,
			want:  Progress{Pace: num(0.9), Status: AtRisk},
			check: []string{"Pace", "Status"},
		},
		{
			name: "a stock KPI phases from its level at the start of the year",
			in: Input{KPI: stock, Month: obs("31.71.01", 40, "31.71.02", 20), Baseline: obs("31.71.01", 30),
				Targets: []Target{{Region: "31", Annual: 70}}},
			region: "31", window: WindowYear,
			// expected = 30 + (70-30) × 9.5/12 = 61.666…; pace 60/61.666 = 0.973
			want:  Progress{Actual: num(60), Target: num(70), Expected: num(30 + 40*9.5/12), Pace: num(60 / (30 + 40*9.5/12)), Status: OnTrack},
			check: []string{"Actual", "Target", "Expected", "Pace", "Status"},
		},
		{
			name: "a stock KPI's month target is the level due at the month's end",
			in: Input{KPI: stock, Month: obs("31.71.01", 40, "31.71.02", 20), Baseline: obs("31.71.01", 30),
				Targets: []Target{{Region: "31", Annual: 70}}},
			region: "31", window: WindowMonth,
			want:  Progress{Target: num(30 + 40*10.0/12), Expected: num(30 + 40*9.5/12), Forecast: num(30 + 30/(9.5/12)*(10.0/12))},
			check: []string{"Target", "Expected", "Forecast"},
		},
		{
			name: "a stock parent summed from some children's targets phases from those children's start only",
			in: Input{KPI: stock, Month: obs("32.16.06", 80, "32.16.07", 1000), Baseline: obs("32.16.06", 50, "32.16.07", 1000),
				Targets: []Target{{Region: "32.16.06", Annual: 100}}},
			region: "32.16", window: WindowYear,
			want:  Progress{Target: num(100), Expected: num(50 + 50*9.5/12)},
			check: []string{"Target", "Expected"},
		},
		{
			name: "a rate that holds from day one is compared with the target rate",
			in: Input{KPI: rate, Month: rates("32.16.06", 800, 1000, "32.16.07", 10, 10),
				Year: rates("32.16.06", 8000, 10000, "32.16.07", 100, 100)},
			region: "32.16", window: WindowMonth,
			want:  Progress{Actual: num(810.0 / 1010), Numerator: num(810), Denominator: num(1010), Target: num(0.95), Expected: num(0.95), Pace: num(810.0 / 1010 / 0.95), Status: Behind},
			check: []string{"Actual", "Numerator", "Denominator", "Target", "Expected", "Pace", "Status"},
		},
		{
			name:   "a rate that builds up in batches expects only the elapsed share of the month",
			in:     Input{KPI: batches, Month: rates("32.16.06", 500, 1000), Year: rates("32.16.06", 9500, 10000)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Actual: num(0.5), Expected: num(0.475), Attainment: num(0.5 / 0.95), Forecast: num(1), Status: OnTrack},
			check: []string{"Actual", "Expected", "Attainment", "Forecast", "Status"},
		},
		{
			name:   "a rate that builds up expects closed months in full and this month in part over the year",
			in:     Input{KPI: batches, Month: rates("32.16.06", 500, 1000), Year: rates("32.16.06", 9500, 10000)},
			region: "32.16.06", window: WindowYear,
			// due = 9000 closed + 1000 × 0.5 = 9500; expected = 0.95 × 9500 / 10000
			want:  Progress{Actual: num(0.95), Expected: num(0.95 * 0.95), Forecast: num(1.0), Status: OnTrack},
			check: []string{"Actual", "Expected", "Forecast", "Status"},
		},
		{
			name:   "a down KPI above its ceiling is behind, with pace inverted",
			in:     Input{KPI: down, Month: rates("32.16.06", 500, 1)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Actual: num(500), Target: num(400), Attainment: num(0.8), Pace: num(0.8), Status: Behind},
			check: []string{"Actual", "Target", "Attainment", "Pace", "Status"},
		},
		{
			name:   "a down KPI below its ceiling is on track",
			in:     Input{KPI: down, Month: rates("32.16.06", 300, 1)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Pace: num(400.0 / 300), Status: OnTrack},
			check: []string{"Pace", "Status"},
		},
		{
			name:   "a down KPI at zero is on track with no ratio",
			in:     Input{KPI: down, Month: rates("32.16.06", 0, 3)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Actual: num(0), Pace: None, Attainment: None, Status: OnTrack},
			check: []string{"Actual", "Pace", "Attainment", "Status"},
		},
		{
			name:   "a count query that returned no rows at all is no data",
			in:     Input{KPI: flow, Targets: []Target{{Region: "32", Annual: 12}}},
			region: "32", window: WindowMonth,
			want:  Progress{Actual: None, Target: num(1), Pace: None, Status: NoData},
			check: []string{"Actual", "Target", "Pace", "Status"},
		},
		{
			name:   "a kecamatan missing from a count query that returned rows counts as zero",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 6), Targets: []Target{{Region: "32", Annual: 12}}},
			region: "32", window: WindowMonth,
			want:  Progress{Actual: num(0), Target: num(1), Pace: num(0), Status: Behind},
			check: []string{"Actual", "Target", "Pace", "Status"},
		},
		{
			name: "a kecamatan whose row was unusable has no data, not zero",
			in: Input{KPI: flow, Month: map[string]Observation{"31.71.01": {Value: 6}, "31.71.02": {Invalid: true}},
				Year: obs("31.71.01", 6), Targets: []Target{{Region: "31.71.02", Annual: 12}}},
			region: "31.71.02", window: WindowMonth,
			want:  Progress{Actual: None, Pace: None, Status: NoData},
			check: []string{"Actual", "Pace", "Status"},
		},
		{
			name:   "a region without rate rows has no data",
			in:     Input{KPI: rate, Month: rates("32.16.06", 9, 10), Year: rates("32.16.06", 9, 10)},
			region: "31", window: WindowMonth,
			want:  Progress{Actual: None, Numerator: None, Pace: None, Status: NoData},
			check: []string{"Actual", "Numerator", "Pace", "Status"},
		},
		{
			name:   "a stock rate's year to date is its level now",
			in:     Input{KPI: stockRate, Month: rates("32.16.06", 800, 2)},
			region: "32.16.06", window: WindowYear,
			want:  Progress{Actual: num(400), Target: num(400), Pace: num(1), Status: OnTrack},
			check: []string{"Actual", "Target", "Pace", "Status"},
		},
		{
			name:   "a region without a target has no target",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 6)},
			region: "31.71.01", window: WindowMonth,
			want:  Progress{Actual: num(6), Target: None, Attainment: None, Status: NoTarget},
			check: []string{"Actual", "Target", "Attainment", "Status"},
		},
		{
			name:   "a zero annual target is no target, not a division by zero",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 6), Targets: []Target{{Region: "31.71.01", Annual: 0}}},
			region: "31.71.01", window: WindowYear,
			want:  Progress{Target: None, Attainment: None, Pace: None, Status: NoTarget},
			check: []string{"Target", "Attainment", "Pace", "Status"},
		},
		{
			name:   "a month whose profile share is zero expects nothing and is on track",
			in:     Input{KPI: flow, Month: obs("31.71.01", 0), Year: obs("31.71.01", 12), Targets: []Target{{Region: "31.71.01", Annual: 12, Profile: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2}}}},
			region: "31.71.01", window: WindowMonth,
			want:  Progress{Target: num(0), Expected: num(0), Attainment: None, Pace: None, Status: OnTrack},
			check: []string{"Target", "Expected", "Attainment", "Pace", "Status"},
		},
		{
			name:   "a rate with nothing allocated has no data",
			in:     Input{KPI: rate, Month: rates("32.16.06", 0, 0)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Actual: None, Pace: None, Status: NoData},
			check: []string{"Actual", "Pace", "Status"},
		},
	}
	seen := map[Status]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Hierarchy, tt.in.Period, tt.in.At = h, oct, oct16
			for i := range tt.in.Targets {
				tt.in.Targets[i].Year = 2026
			}
			ps, unknown := Evaluate(tt.in)
			if len(unknown) > 0 {
				t.Fatalf("unknown codes %v", unknown)
			}
			got := find(t, ps, tt.region, tt.window)
			seen[got.Status] = true
			for _, f := range tt.check {
				g, w := field(got, f), field(tt.want, f)
				if g != w && !(isNum(g) && isNum(w) && numNear(g.(Number), w.(Number))) {
					t.Errorf("%s = %v, want %v", f, g, w)
				}
			}
		})
	}
	for _, st := range Statuses {
		if !seen[st] {
			t.Errorf("no case above ends in status %s", st)
		}
	}
}

func obs(kv ...any) map[string]Observation {
	m := map[string]Observation{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = Observation{Value: toF(kv[i+1])}
	}
	return m
}

func rates(kv ...any) map[string]Observation {
	m := map[string]Observation{}
	for i := 0; i < len(kv); i += 3 {
		m[kv[i].(string)] = Observation{Numerator: toF(kv[i+1]), Denominator: toF(kv[i+2])}
	}
	return m
}

func toF(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic("not a number")
}

func field(p Progress, name string) any {
	switch name {
	case "Actual":
		return p.Actual
	case "Numerator":
		return p.Numerator
	case "Denominator":
		return p.Denominator
	case "Target":
		return p.Target
	case "Expected":
		return p.Expected
	case "Attainment":
		return p.Attainment
	case "Pace":
		return p.Pace
	case "Forecast":
		return p.Forecast
	case "Status":
		return p.Status
	}
	panic("unknown field " + name)
}

func isNum(v any) bool { _, ok := v.(Number); return ok }

func numNear(a, b Number) bool { return a.OK == b.OK && (!a.OK || near(a.V, b.V)) }

func TestEvaluateCoversEveryRegionAndNeverLeaksNaN(t *testing.T) {
	h := testHierarchy(t)
	k := KPI{ID: "x", Kind: KindRate, Direction: Down, Level: LevelKecamatan, Thresholds: DefaultThresholds, TargetRate: 1}
	ps, _ := Evaluate(Input{KPI: k, Hierarchy: h, Period: PeriodAt(oct16, WIB), At: oct16,
		Month: rates("32.16.06", 0, 0, "32.16.07", 5, 0), Year: rates("31.71.01", 0, 0)})
	if len(ps) != 2*len(h.Regions()) {
		t.Errorf("%d progress rows, want one per region and window = %d", len(ps), 2*len(h.Regions()))
	}
	if _, err := json.Marshal(ps); err != nil {
		t.Errorf("progress does not encode as JSON (a NaN or Inf leaked?): %v", err)
	}
}

func TestNumberJSON(t *testing.T) {
	b, _ := json.Marshal([]Number{Some(0.5), None, Div(1, 0), Some(70)})
	if string(b) != "[0.5,null,null,70]" {
		t.Errorf("got %s", b)
	}
}
