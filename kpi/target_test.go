package kpi

import (
	"math"
	"testing"
	"time"
)

func testHierarchy(t testing.TB) *Hierarchy {
	t.Helper()
	h, err := NewHierarchy([]Region{
		{Code: "31", Name: "DKI Jakarta"},
		{Code: "31.71", Name: "Kota Jakarta Pusat"},
		{Code: "31.71.01", Name: "Gambir"},
		{Code: "31.71.02", Name: "Sawah Besar"},
		{Code: "32", Name: "Jawa Barat"},
		{Code: "32.16", Name: "Kabupaten Bekasi"},
		{Code: "32.16.06", Name: "Tambun Selatan"},
		{Code: "32.16.07", Name: "Tambun Utara"},
		{Code: "32.75", Name: "Kota Bekasi"},
		{Code: "32.75.01", Name: "Bekasi Timur"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPhasingSumsToTheAnnualTarget(t *testing.T) {
	tests := []struct {
		name    string
		target  Target
		monthly [12]float64 // expected monthly targets; zero array means "only check the sum"
	}{
		{"DKI's 70 e-Warong phase linearly to exactly 70", Target{Annual: 70}, [12]float64{}},
		{"71 KUBE Jasa phase linearly to exactly 71", Target{Annual: 71}, [12]float64{}},
		{"a target of 0.1 phases to exactly 0.1 despite binary fractions", Target{Annual: 0.1}, [12]float64{}},
		{"a national target of 18.8 million KPM phases to exactly that", Target{Annual: 18_800_001}, [12]float64{}},
		{"a linear target of 120 is 10 a month", Target{Annual: 120}, [12]float64{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10}},
		{"an explicit profile gives each month its own target", Target{Annual: 70, Profile: []float64{0, 0, 10, 10, 10, 10, 5, 5, 5, 5, 5, 5}},
			[12]float64{0, 0, 10, 10, 10, 10, 5, 5, 5, 5, 5, 5}},
		{"a profile of awkward decimals still lands exactly on the annual target", Target{Annual: 1, Profile: []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.025, 0.025}}, [12]float64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.target.Year = 2026
			if err := tt.target.Validate(); err != nil {
				t.Fatal(err)
			}
			p := PlanFor(tt.target)
			if got := p.Cumulative(time.December); got != tt.target.Annual {
				t.Errorf("cumulative December target = %v, want exactly %v", got, tt.target.Annual)
			}
			sum := 0.0
			for m := time.January; m <= time.December; m++ {
				sum += p.Monthly(m)
				if tt.monthly != [12]float64{} && !near(p.Monthly(m), tt.monthly[m-1]) {
					t.Errorf("%s target = %v, want %v", m, p.Monthly(m), tt.monthly[m-1])
				}
				if p.Cumulative(m) < p.Cumulative(m-1) {
					t.Errorf("cumulative target falls in %s", m)
				}
			}
			if !near(sum, tt.target.Annual) {
				t.Errorf("monthly targets add up to %v, want %v", sum, tt.target.Annual)
			}
		})
	}
}

func TestTargetValidate(t *testing.T) {
	tests := []struct {
		name   string
		target Target
		ok     bool
	}{
		{"a plain annual target is valid", Target{Year: 2026, Annual: 70}, true},
		{"a negative target is rejected", Target{Year: 2026, Annual: -1}, false},
		{"a profile that does not add up to the target is rejected", Target{Year: 2026, Annual: 70, Profile: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}}, false},
		{"a profile of eleven months is rejected", Target{Year: 2026, Annual: 55, Profile: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}}, false},
		{"a profile with a negative month is rejected", Target{Year: 2026, Annual: 10, Profile: []float64{-5, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, false},
		{"a year before 1900 is rejected", Target{Year: 26, Annual: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.target.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestResolvePlans(t *testing.T) {
	h := testHierarchy(t)
	tests := []struct {
		name    string
		targets []Target
		want    map[string]float64 // region → annual; absent means no plan
	}{
		{
			"a parent without its own target gets the sum of its children's",
			[]Target{{Region: "32.16.06", Annual: 30}, {Region: "32.16.07", Annual: 12}, {Region: "32.75.01", Annual: 8}},
			map[string]float64{"32.16": 42, "32.75": 8, "32": 50, "ID": 50, "31": -1},
		},
		{
			"an explicit parent target wins over the sum of its children",
			[]Target{{Region: "32.16.06", Annual: 30}, {Region: "32.16.07", Annual: 12}, {Region: "32.16", Annual: 50}},
			map[string]float64{"32.16": 50, "32": 50, "ID": 50},
		},
		{
			"DKI's provincial target of 70 reaches the nation without children",
			[]Target{{Region: "31", Annual: 70}, {Region: "32", Annual: 100}},
			map[string]float64{"31": 70, "31.71": -1, "ID": 170},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plans, unknown := ResolvePlans(h, tt.targets)
			if len(unknown) != 0 {
				t.Fatalf("unknown targets %v", unknown)
			}
			for code, want := range tt.want {
				p, ok := plans[code]
				if want < 0 {
					if ok {
						t.Errorf("%s has a plan of %v, want none", code, p.Annual)
					}
					continue
				}
				if !ok || p.Annual != want {
					t.Errorf("%s annual = %v (present %v), want %v", code, p.Annual, ok, want)
				}
			}
		})
	}
	t.Run("a summed parent's monthly targets are the sum of its children's", func(t *testing.T) {
		plans, _ := ResolvePlans(h, []Target{
			{Region: "32.16.06", Annual: 24},
			{Region: "32.16.07", Annual: 12, Profile: []float64{12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		})
		if got := plans["32.16"].Monthly(time.January); got != 14 {
			t.Errorf("January target of 32.16 = %v, want 2 + 12 = 14", got)
		}
		if got := plans["32.16"].Monthly(time.February); got != 2 {
			t.Errorf("February target of 32.16 = %v, want 2", got)
		}
	})
	t.Run("a target for a region not in the hierarchy is reported", func(t *testing.T) {
		_, unknown := ResolvePlans(h, []Target{{Region: "99.99", Annual: 1}})
		if len(unknown) != 1 || unknown[0].Region != "99.99" {
			t.Errorf("unknown = %v, want the 99.99 target", unknown)
		}
	})
}

func TestResolveRates(t *testing.T) {
	h := testHierarchy(t)
	fixed := KPI{ID: "sembako_salur", Kind: KindRate, Level: LevelKecamatan, TargetRate: 0.95}
	perKecamatan := fixed
	perKecamatan.TargetRate = 0
	tests := []struct {
		name    string
		k       KPI
		targets []Target
		obs     map[string]Observation
		want    map[string]float64 // absent from want: no target
	}{
		{
			name:    "a kecamatan takes its own rate, else its nearest ancestor's, else the fixed one; with nothing allocated a parent takes its children's plain mean",
			k:       fixed,
			targets: []Target{{Region: "32", Rate: 0.9}, {Region: "32.16.06", Rate: 0.97}},
			// 32.16: (0.97 + 0.9) ÷ 2 = 0.935; ID: (0.95 + 0.9) ÷ 2 = 0.925.
			want: map[string]float64{"ID": 0.925, "31": 0.95, "31.71": 0.95, "31.71.01": 0.95, "31.71.02": 0.95,
				"32.75": 0.9, "32.75.01": 0.9, "32": 0.9, "32.16": 0.935, "32.16.07": 0.9, "32.16.06": 0.97},
		},
		{
			name:    "a parent without its own rate takes its children's rates weighted by their denominators",
			k:       perKecamatan,
			targets: []Target{{Region: "32.16.06", Rate: 0.9}, {Region: "32.16.07", Rate: 0.8}, {Region: "32.75.01", Rate: 0.99}},
			obs:     rates("32.16.06", 0, 300, "32.16.07", 0, 100, "32.75.01", 0, 600),
			// 32.16: (0.9×300 + 0.8×100) ÷ 400 = (270 + 80) ÷ 400 = 0.875
			// 32: (0.875×400 + 0.99×600) ÷ 1000 = (350 + 594) ÷ 1000 = 0.944
			want: map[string]float64{"32.16.06": 0.9, "32.16.07": 0.8, "32.16": 0.875, "32.75.01": 0.99, "32.75": 0.99, "32": 0.944, "ID": 0.944},
		},
		{
			name:    "a parent's own rate wins over its children's",
			k:       perKecamatan,
			targets: []Target{{Region: "32.16", Rate: 0.5}, {Region: "32.16.06", Rate: 0.9}, {Region: "32.75.01", Rate: 1}},
			obs:     rates("32.16.06", 0, 100, "32.16.07", 0, 100, "32.75.01", 0, 200),
			// 32.16.07 inherits 0.5; 32: (0.5×200 + 1×200) ÷ 400 = 0.75
			want: map[string]float64{"32.16": 0.5, "32.16.07": 0.5, "32.16.06": 0.9, "32.75.01": 1, "32.75": 1, "32": 0.75, "ID": 0.75},
		},
		{
			name:    "children without a rate and children without allocations weigh nothing",
			k:       perKecamatan,
			targets: []Target{{Region: "32.16.06", Rate: 0.9}, {Region: "31.71.01", Rate: 0.6}},
			obs:     rates("32.16.06", 0, 50, "32.16.07", 0, 1000, "31.71.01", 0, 0),
			// 31.71.01's 0.6 weighs nothing next to 32's 50 allocations,
			// but stays the target of its ancestors that have nothing else.
			want: map[string]float64{"32.16.06": 0.9, "32.16": 0.9, "32": 0.9, "ID": 0.9, "31.71.01": 0.6, "31.71": 0.6, "31": 0.6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, _ := RollUp(h, tt.obs)
			got := ResolveRates(h, tt.k, tt.targets, all)
			for _, r := range h.Regions() {
				if r.Level > LevelKecamatan {
					continue
				}
				if w := tt.want[r.Code]; !near(got[r.Code], w) {
					t.Errorf("rate of %s = %v, want %v", r.Code, got[r.Code], w)
				}
			}
		})
	}
}

func TestPlanForNeverPanics(t *testing.T) {
	// Validate rejects every one of these; PlanFor still must not index
	// past a short profile, since a bad stored row must not stop serve.
	for _, profile := range [][]float64{
		{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
		{},
		{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
		{-10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
		{math.NaN(), 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10},
	} {
		p := PlanFor(Target{Annual: 120, Profile: profile})
		for m := time.January; m <= time.December; m++ {
			if got := p.Monthly(m); got != 10 {
				t.Errorf("profile %v: %s target %v, want the linear 10", profile, m, got)
			}
		}
	}
}
