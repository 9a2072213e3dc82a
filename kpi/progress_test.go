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
	downFlow := KPI{ID: "pengaduan", Kind: KindCount, Accumulation: Flow, Direction: Down, Level: LevelKecamatan, Thresholds: DefaultThresholds}
	perKecamatan := rate
	perKecamatan.TargetRate = 0
	share := batches
	share.Share = true

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
			// 30 on 1 January, 70 due by December: 40 to grow in 12 months,
			// 3⅓ a month. By noon on 16 October (9.5 months) 30 + 31⅔ =
			// 61⅔ = 185/3 are due; pace 60 ÷ 185/3 = 180/185 = 36/37.
			want:  Progress{Actual: num(60), Target: num(70), Expected: num(185.0 / 3), Pace: num(36.0 / 37), Status: OnTrack},
			check: []string{"Actual", "Target", "Expected", "Pace", "Status"},
		},
		{
			name: "a stock KPI's month target is the level due at the month's end",
			in: Input{KPI: stock, Month: obs("31.71.01", 40, "31.71.02", 20), Baseline: obs("31.71.01", 30),
				Targets: []Target{{Region: "31", Annual: 70}}},
			region: "31", window: WindowMonth,
			// Due by the end of October (10 months of 3⅓): 30 + 33⅓ = 190/3.
			// Forecast: 60 − 30 = 30 grown in 9.5 months, 60/19 a month; by
			// the end of October 30 + 10 × 60/19 = 30 + 600/19 = 1170/19 ≈ 61.58.
			want:  Progress{Target: num(190.0 / 3), Expected: num(185.0 / 3), Forecast: num(1170.0 / 19)},
			check: []string{"Target", "Expected", "Forecast"},
		},
		{
			name: "a stock parent summed from some children's targets phases from those children's start only",
			in: Input{KPI: stock, Month: obs("32.16.06", 80, "32.16.07", 1000), Baseline: obs("32.16.06", 50, "32.16.07", 1000),
				Targets: []Target{{Region: "32.16.06", Annual: 100}}},
			region: "32.16", window: WindowYear,
			// From 50 (Tambun Selatan alone) to 100: 50 × 9.5/12 = 39 7/12
			// grown by mid-October, so 89 7/12 = 1075/12 due.
			want:  Progress{Target: num(100), Expected: num(1075.0 / 12)},
			check: []string{"Target", "Expected"},
		},
		{
			name: "a rate that holds from day one is compared with the target rate",
			in: Input{KPI: rate, Month: rates("32.16.06", 800, 1000, "32.16.07", 10, 10),
				Year: rates("32.16.06", 8000, 10000, "32.16.07", 100, 100)},
			region: "32.16", window: WindowMonth,
			// 810 of 1,010 = 81/101 ≈ 0.802; pace 81/101 ÷ 19/20 = 1620/1919 ≈ 0.844.
			want:  Progress{Actual: num(81.0 / 101), Numerator: num(810), Denominator: num(1010), Target: num(0.95), Expected: num(0.95), Pace: num(1620.0 / 1919), Status: Behind},
			check: []string{"Actual", "Numerator", "Denominator", "Target", "Expected", "Pace", "Status"},
		},
		{
			name:   "a rate that builds up in batches expects only the elapsed share of the month",
			in:     Input{KPI: batches, Month: rates("32.16.06", 500, 1000), Year: rates("32.16.06", 9500, 10000)},
			region: "32.16.06", window: WindowMonth,
			// Half the month gone: 0.95 × ½ = 0.475 due; attainment
			// 0.5 ÷ 0.95 = 10/19; 500 paid in half a month makes 1,000 of 1,000.
			want:  Progress{Actual: num(0.5), Expected: num(0.475), Attainment: num(10.0 / 19), Forecast: num(1), Status: OnTrack},
			check: []string{"Actual", "Expected", "Attainment", "Forecast", "Status"},
		},
		{
			name:   "a rate that builds up expects closed months in full and this month in part over the year",
			in:     Input{KPI: batches, Month: rates("32.16.06", 500, 1000), Year: rates("32.16.06", 9500, 10000)},
			region: "32.16.06", window: WindowYear,
			// due = 9000 closed + 1000 × 0.5 = 9500; expected = 0.95 × 9500 / 10000
			// = 0.9025; forecast (9,000 paid before + 500 × 2) ÷ 10,000 = 1.
			want:  Progress{Actual: num(0.95), Expected: num(0.9025), Forecast: num(1.0), Status: OnTrack},
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
			name:   "an explicit target of 0 is a target: nothing is expected, so any actual is on track",
			in:     Input{KPI: flow, Month: obs("31.71.01", 6), Year: obs("31.71.01", 6), Targets: []Target{{Region: "31.71.01", Annual: 0}}},
			region: "31.71.01", window: WindowYear,
			want:  Progress{Target: num(0), Expected: num(0), Attainment: None, Pace: None, Status: OnTrack},
			check: []string{"Target", "Expected", "Attainment", "Pace", "Status"},
		},
		{
			name: "an explicit 0 on a kabupaten does not turn its province into no_target",
			in: Input{KPI: flow, Month: obs("32.16.06", 6), Year: obs("32.16.06", 90),
				Targets: []Target{{Region: "32.16", Annual: 0}, {Region: "32.16.06", Annual: 120}}},
			region: "32", window: WindowYear,
			// Kabupaten Bekasi's own 0 wins over Tambun Selatan's 120, and
			// Jawa Barat's plan is the sum of its kabupaten's: 0, covering
			// Bekasi's two kecamatan of Jawa Barat's three.
			want:  Progress{Target: num(0), TargetCoverage: num(2.0 / 3), Status: OnTrack},
			check: []string{"Target", "TargetCoverage", "Status"},
		},
		{
			name: "a stock target of 0 falls linearly from the level on 1 January",
			in: Input{KPI: stock, Month: obs("31.71.01", 40), Baseline: obs("31.71.01", 30),
				Targets: []Target{{Region: "31", Annual: 0}}},
			region: "31", window: WindowMonth,
			// 30 − 30 × 9.5/12 = 6.25 due now, 30 − 30 × 10/12 = 5 by
			// October's end; 40 is far above for an up KPI: on track.
			want:  Progress{Target: num(5), Expected: num(6.25), Pace: num(6.4), Status: OnTrack},
			check: []string{"Target", "Expected", "Pace", "Status"},
		},
		{
			name:   "a down flow above an explicit target of 0 is behind",
			in:     Input{KPI: downFlow, Month: obs("31.71.01", 1), Year: obs("31.71.01", 1), Targets: []Target{{Region: "31.71.01", Annual: 0}}},
			region: "31.71.01", window: WindowMonth,
			want:  Progress{Target: num(0), Pace: num(0), Status: Behind},
			check: []string{"Target", "Pace", "Status"},
		},
		{
			name:   "a down flow at an explicit target of 0 is on track",
			in:     Input{KPI: downFlow, Month: obs("31.71.02", 1), Year: obs("31.71.02", 1), Targets: []Target{{Region: "31.71.01", Annual: 0}}},
			region: "31.71.01", window: WindowYear,
			want:  Progress{Actual: num(0), Target: num(0), Pace: None, Status: OnTrack},
			check: []string{"Actual", "Target", "Pace", "Status"},
		},
		{
			name: "a parent with one targeted child compares its target with that child's actual only",
			in: Input{KPI: flow, Month: obs("32.16.06", 5, "32.16.07", 200), Year: obs("32.16.06", 80, "32.16.07", 1000),
				Targets: []Target{{Region: "32.16.06", Annual: 120}}},
			region: "32.16", window: WindowYear,
			// 120 × 9.5/12 = 95 due from Tambun Selatan, which has 80:
			// pace 80/95 = 16/19 ≈ 0.842, behind; the 1,000 of untargeted
			// Tambun Utara show in the actual but judge nothing.
			want:  Progress{Actual: num(1080), Target: num(120), Expected: num(95), Attainment: num(80.0 / 120), Pace: num(16.0 / 19), TargetCoverage: num(0.5), Status: Behind},
			check: []string{"Actual", "Target", "Expected", "Attainment", "Pace", "TargetCoverage", "Status"},
		},
		{
			name:   "a region with its own target covers all of it",
			in:     Input{KPI: flow, Month: obs("32.16.06", 5), Year: obs("32.16.06", 80), Targets: []Target{{Region: "32", Annual: 120}}},
			region: "32", window: WindowMonth,
			want:  Progress{TargetCoverage: num(1)},
			check: []string{"TargetCoverage"},
		},
		{
			name: "per-kecamatan rate targets roll up weighted by denominator",
			in: Input{KPI: perKecamatan, Month: rates("32.16.06", 270, 300, "32.16.07", 60, 100),
				Targets: []Target{{Region: "32.16.06", Rate: 0.9}, {Region: "32.16.07", Rate: 0.8}}},
			region: "32.16", window: WindowMonth,
			// Target (0.9 × 300 + 0.8 × 100) ÷ 400 = 350/400 = 0.875;
			// actual 330/400 = 0.825; pace 0.825 ÷ 0.875 = 33/35 ≈ 0.943.
			want:  Progress{Actual: num(0.825), Target: num(0.875), Pace: num(33.0 / 35), TargetCoverage: num(1), Status: AtRisk},
			check: []string{"Actual", "Target", "Pace", "TargetCoverage", "Status"},
		},
		{
			name: "a parent with one rate-targeted child is judged on that child's numerator and denominator",
			in: Input{KPI: perKecamatan, Month: rates("32.16.06", 450, 500, "32.16.07", 10, 100),
				Targets: []Target{{Region: "32.16.06", Rate: 0.9}}},
			region: "32.16", window: WindowMonth,
			// Actual 460/600; judged on 450/500 = 0.9 against 0.9: pace 1.
			want:  Progress{Actual: num(460.0 / 600), Target: num(0.9), Pace: num(1), TargetCoverage: num(0.5), Status: OnTrack},
			check: []string{"Actual", "Target", "Pace", "TargetCoverage", "Status"},
		},
		{
			name: "a parent whose rate-targeted child has no data has no data to judge",
			in: Input{KPI: perKecamatan, Month: rates("32.16.07", 10, 100),
				Targets: []Target{{Region: "32.16.06", Rate: 0.9}}},
			region: "32.16", window: WindowMonth,
			want:  Progress{Actual: num(0.1), Target: num(0.9), Pace: None, Status: NoData},
			check: []string{"Actual", "Target", "Pace", "Status"},
		},
		{
			name:   "a share's forecast stops at 1",
			in:     Input{KPI: share, Month: rates("32.16.06", 600, 1000), Year: rates("32.16.06", 600, 1000)},
			region: "32.16.06", window: WindowMonth,
			// 600 paid in half a month would be 1,200 of 1,000 by its end.
			want:  Progress{Forecast: num(1)},
			check: []string{"Forecast"},
		},
		{
			name:   "a rate that is not a share is forecast past 1",
			in:     Input{KPI: batches, Month: rates("32.16.06", 600, 1000), Year: rates("32.16.06", 600, 1000)},
			region: "32.16.06", window: WindowMonth,
			want:  Progress{Forecast: num(1.2)},
			check: []string{"Forecast"},
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
	case "TargetCoverage":
		return p.TargetCoverage
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

func TestDownFlowEarlyInAPeriod(t *testing.T) {
	h := testHierarchy(t)
	// At most 120 complaints a year, 10 a month, phased linearly.
	k := KPI{ID: "pengaduan", Kind: KindCount, Accumulation: Flow, Direction: Down, Level: LevelKecamatan, Thresholds: DefaultThresholds}
	targets := []Target{{Region: "31.71.01", Year: 2026, Annual: 120}}
	oct1 := time.Date(2026, time.October, 1, 0, 0, 0, 0, WIB)
	jan1 := time.Date(2026, time.January, 1, 0, 0, 0, 0, WIB)
	tests := []struct {
		name        string
		at          time.Time
		month, year float64
		window      Window
		pace        Number
		status      Status
	}{
		{
			name: "nothing at the first instant of a month is on track", at: oct1, month: 0, year: 90, window: WindowMonth,
			pace: num(1), status: OnTrack, // 10 ÷ (0 + 10 − 0)
		},
		{
			// 6 hours of 744 are gone: 10 × 6/744 = 5/62 allowed so far.
			// The period ends at 1 + 10 − 5/62 = 677/62 if the rest goes to
			// plan: pace 10 ÷ 677/62 = 620/677 ≈ 0.916, a tenth of the
			// month's ceiling used in its first hours.
			name: "one event at 06:00 on the first of a month is at risk, not behind", at: oct1.Add(6 * time.Hour), month: 1, year: 91, window: WindowMonth,
			pace: num(620.0 / 677), status: AtRisk,
		},
		{
			// Allowed by then: 120 × (9 + 6/744)/12 = 90 + 5/62. The year
			// ends at 91 + 120 − 90 − 5/62 = 121 − 5/62 = 7497/62: pace
			// 120 × 62/7497 = 7440/7497 ≈ 0.992.
			name: "one event at 06:00 on 1 October after nine months on plan is on track for the year", at: oct1.Add(6 * time.Hour), month: 1, year: 91, window: WindowYear,
			pace: num(7440.0 / 7497), status: OnTrack,
		},
		{
			// Allowed: 120 × (6/744)/12 = 5/62; pace 120 ÷ (1 + 120 − 5/62) = 7440/7497.
			name: "one event at 06:00 on 1 January is on track for the year", at: jan1.Add(6 * time.Hour), month: 1, year: 1, window: WindowYear,
			pace: num(7440.0 / 7497), status: OnTrack,
		},
		{
			// Allowed 5 by mid-month; 9 so far ends at 9 + 10 − 5 = 14:
			// pace 10/14 ≈ 0.714.
			name: "nine events by the middle of a month is behind", at: time.Date(2026, time.October, 16, 12, 0, 0, 0, WIB), month: 9, year: 99, window: WindowMonth,
			pace: num(10.0 / 14), status: Behind,
		},
		{
			name: "a month that ended under its ceiling is on track", at: oct1.AddDate(0, 1, 0), month: 8, year: 98, window: WindowMonth,
			pace: num(1.25), status: OnTrack, // 10 ÷ (8 + 10 − 10)
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every case is in October but one; the last judges October at its end.
			period := PeriodAt(oct1, WIB)
			if tt.at.Month() == time.January {
				period = PeriodAt(jan1, WIB)
			}
			ps, _ := Evaluate(Input{KPI: k, Hierarchy: h, Period: period, At: tt.at,
				Month: obs("31.71.01", tt.month), Year: obs("31.71.01", tt.year), Targets: targets})
			got := find(t, ps, "31.71.01", tt.window)
			if !numNear(got.Pace, tt.pace) || got.Status != tt.status {
				t.Errorf("pace %v, status %s; want %v, %s", got.Pace, got.Status, tt.pace, tt.status)
			}
		})
	}
}

func TestEvaluateReportsTargetsItCannotUse(t *testing.T) {
	h := testHierarchy(t)
	count := KPI{ID: "kube_jasa", Kind: KindCount, Accumulation: Flow, Direction: Up, Level: LevelKecamatan, Thresholds: DefaultThresholds}
	rate := KPI{ID: "sembako_salur", Kind: KindRate, Accumulation: Flow, Direction: Up, Level: LevelKecamatan, Thresholds: DefaultThresholds, Share: true}
	tests := []struct {
		name    string
		k       KPI
		targets []Target
		want    []Rejection // Detail is not compared
	}{
		{"a count target for an unknown region", count, []Target{{Region: "99.99", Annual: 1}, {Region: "32", Annual: 12}},
			[]Rejection{{Region: "99.99", Reason: RejectUnknownRegion}}},
		{"a rate target for an unknown region", rate, []Target{{Region: "99.99.99", Rate: 0.9}, {Region: "32", Rate: 0.9}},
			[]Rejection{{Region: "99.99.99", Reason: RejectUnknownRegion}}},
		{"a monthly profile of eleven values", count, []Target{{Region: "32", Annual: 55, Profile: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}}},
			[]Rejection{{Region: "32", Reason: RejectInvalidTarget}}},
		{"a monthly profile of thirteen values", count, []Target{{Region: "32", Annual: 13, Profile: []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}}},
			[]Rejection{{Region: "32", Reason: RejectInvalidTarget}}},
		{"a share's target rate above 1", rate, []Target{{Region: "32", Rate: 95}},
			[]Rejection{{Region: "32", Reason: RejectInvalidTarget}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.targets {
				tt.targets[i].Year = 2026
			}
			ps, rejected := Evaluate(Input{KPI: tt.k, Hierarchy: h, Period: PeriodAt(oct16, WIB), At: oct16,
				Month: rates("32.16.06", 1, 2), Year: rates("32.16.06", 1, 2), Targets: tt.targets})
			if len(rejected) != len(tt.want) {
				t.Fatalf("rejected %+v, want %+v", rejected, tt.want)
			}
			for i, r := range rejected {
				if r.Region != tt.want[i].Region || r.Reason != tt.want[i].Reason || r.Detail == "" {
					t.Errorf("rejected %+v, want %+v with a detail", r, tt.want[i])
				}
			}
			// A rejected target is not used: the province it was for has none.
			if p := find(t, ps, "32", WindowMonth); len(tt.targets) == 1 && p.Target.OK {
				t.Errorf("Jawa Barat has target %v from a rejected target", p.Target)
			}
		})
	}
}
