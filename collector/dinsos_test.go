package collector

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// dinsosTargets are the 2026 targets of the count KPIs of examples/dinsos.yaml.
//
// ewarong_aktif (stock): kecamatan targets in Bekasi and Jakarta Pusat, an
// explicit target for Kota Bekasi (32.75) whose kecamatan have none, and an
// explicit DKI Jakarta (31) target that wins over the sum of its children.
//
// kube_jasa (flow): linear kecamatan targets, a monthly profile for
// 32.75.02, and an explicit DKI Jakarta target.
var dinsosTargets = fixedTargets{year: 2026, targets: []kpi.Target{
	{KPI: "ewarong_aktif", Region: "32.16.06", Year: 2026, Annual: 5},
	{KPI: "ewarong_aktif", Region: "32.16.07", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "32.75", Year: 2026, Annual: 4},
	{KPI: "ewarong_aktif", Region: "31.71.01", Year: 2026, Annual: 3},
	{KPI: "ewarong_aktif", Region: "31.71.06", Year: 2026, Annual: 2},
	{KPI: "ewarong_aktif", Region: "31", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 12},
	{KPI: "kube_jasa", Region: "32.16.07", Year: 2026, Annual: 6},
	{KPI: "kube_jasa", Region: "32.75.02", Year: 2026, Annual: 12, Profile: []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 8}},
	{KPI: "kube_jasa", Region: "31", Year: 2026, Annual: 3},
}}

// dinsosSpec loads the example spec with its source switched to driver.
func dinsosSpec(t testing.TB, driver string) *config.Spec {
	t.Helper()
	spec, err := config.Load("../examples/dinsos.yaml")
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	setDriver(spec, driver)
	return spec
}

// refreshDinsos loads the data set into a fresh database of driver, runs
// the example spec once at the pinned instant for scope ("" for the whole
// country), and returns the collector.
func refreshDinsos(t testing.TB, driver, scope string) (*Collector, *Snapshot) {
	t.Helper()
	dsn := loadDinsos(t, driver)
	spec := dinsosSpec(t, driver)
	src := openSource(t, spec, "dinsos", dsn)
	c := newCollector(t, spec, scope, map[string]Querier{"dinsos": src}, dinsosTargets)
	start := time.Now()
	snap := c.Refresh(context.Background())
	t.Logf("%s: refresh took %v (%d KPI series)", driver, time.Since(start).Round(time.Millisecond), snap.Series())
	for _, st := range snap.KPIs {
		if st.Err != "" || st.Stale {
			t.Fatalf("KPI %s failed: %s", st.Def.ID, st.Err)
		}
		for reason, n := range st.Rejected {
			if n > 0 {
				t.Errorf("KPI %s rejected %d rows (%s); the data set has no bad rows", st.Def.ID, n, reason)
			}
		}
	}
	return c, snap
}

// want is the expected progress of one KPI × region × window. Undefined
// numbers are none; counts have no numerator or denominator.
type wantProgress struct {
	kpi, region string
	window      kpi.Window
	actual      float64
	target      float64
	expected    float64
	pace        float64
	attainment  float64
	status      kpi.Status
	num, den    float64
}

const (
	inMonth = kpi.WindowMonth
	inYear  = kpi.WindowYear
	// E is the share of a linear annual target due at the pinned instant:
	// nine months and half of October, of twelve.
	E = 19.0 / 24
	// M10 is the share due by the end of October.
	M10 = 10.0 / 12
)

// dinsosWants are worked out by hand from testdata/dinsos-data.sql and
// dinsosTargets; see the comments there for the raw counts.
var dinsosWants = []wantProgress{
	// ewarong_aktif: stock; expected = start + (annual − start) × 19/24,
	// month target = start + (annual − start) × 10/12; the year window
	// has the same level and pace, and the annual target. Attainment is
	// the level over the window's target: 32.16.06 has 3 of the 2 + 3 ×
	// 10/12 = 4.5 due by October's end (2/3) and of 5 by December (0.6).
	{"ewarong_aktif", "32.16.06", inMonth, 3, 2 + 3*M10, 2 + 3*E, 3 / (2 + 3*E), 2.0 / 3, kpi.Behind, none, none},
	{"ewarong_aktif", "32.16.06", inYear, 3, 5, 2 + 3*E, 3 / (2 + 3*E), 0.6, kpi.Behind, none, none},
	{"ewarong_aktif", "32.16.07", inMonth, 2, 1 + M10, 1 + E, 2 / (1 + E), 12.0 / 11, kpi.OnTrack, none, none},
	{"ewarong_aktif", "32.16.08", inMonth, 0, none, none, none, none, kpi.NoTarget, none, none},
	{"ewarong_aktif", "32.16.08", inYear, 0, none, none, none, none, kpi.NoTarget, none, none},
	{"ewarong_aktif", "31.71.01", inMonth, 3, 2 + M10, 2 + E, 3 / (2 + E), 18.0 / 17, kpi.OnTrack, none, none},
	{"ewarong_aktif", "32.16", inMonth, 5, 3 + 4*M10, 3 + 4*E, 5 / (3 + 4*E), 15.0 / 19, kpi.Behind, none, none},
	{"ewarong_aktif", "32.16", inYear, 5, 7, 3 + 4*E, 5 / (3 + 4*E), 5.0 / 7, kpi.Behind, none, none},
	{"ewarong_aktif", "32.75", inMonth, 3, 1 + 3*M10, 1 + 3*E, 3 / (1 + 3*E), 6.0 / 7, kpi.AtRisk, none, none},
	{"ewarong_aktif", "32.75", inYear, 3, 4, 1 + 3*E, 3 / (1 + 3*E), 0.75, kpi.AtRisk, none, none},
	{"ewarong_aktif", "31.71", inYear, 4, 5, 2 + 3*E, 4 / (2 + 3*E), 0.8, kpi.AtRisk, none, none},
	{"ewarong_aktif", "32", inMonth, 8, 4 + 7*M10, 4 + 7*E, 8 / (4 + 7*E), 48.0 / 59, kpi.Behind, none, none},
	{"ewarong_aktif", "32", inYear, 8, 11, 4 + 7*E, 8 / (4 + 7*E), 8.0 / 11, kpi.Behind, none, none},
	{"ewarong_aktif", "31", inMonth, 4, 2 + 4*M10, 2 + 4*E, 4 / (2 + 4*E), 0.75, kpi.Behind, none, none},
	{"ewarong_aktif", "31", inYear, 4, 6, 2 + 4*E, 4 / (2 + 4*E), 2.0 / 3, kpi.Behind, none, none},
	{"ewarong_aktif", "ID", inMonth, 12, 6 + 11*M10, 6 + 11*E, 12 / (6 + 11*E), 72.0 / 91, kpi.Behind, none, none},
	{"ewarong_aktif", "ID", inYear, 12, 17, 6 + 11*E, 12 / (6 + 11*E), 12.0 / 17, kpi.Behind, none, none},

	// kube_jasa: flow, thresholds 0.9 / 0.75; month target = annual / 12
	// (or the profile's October), expected = half of it; the year expects
	// 19/24 of a linear target. Attainment is the actual over the
	// window's target: 32.16.06 formed 2 against October's 1 (2) and 3
	// against the year's 12 (1/4).
	{"kube_jasa", "32.16.06", inMonth, 2, 1, 0.5, 4, 2, kpi.OnTrack, none, none},
	{"kube_jasa", "32.16.06", inYear, 3, 12, 9.5, 3 / 9.5, 0.25, kpi.Behind, none, none},
	{"kube_jasa", "32.16.07", inMonth, 0, 0.5, 0.25, 0, 0, kpi.Behind, none, none},
	{"kube_jasa", "32.16.07", inYear, 2, 6, 4.75, 2 / 4.75, 1.0 / 3, kpi.Behind, none, none},
	{"kube_jasa", "32.75.02", inMonth, 1, 2, 1, 1, 0.5, kpi.OnTrack, none, none},
	{"kube_jasa", "32.75.02", inYear, 1, 12, 1, 1, 1.0 / 12, kpi.OnTrack, none, none},
	{"kube_jasa", "32.16", inMonth, 2, 1.5, 0.75, 2 / 0.75, 4.0 / 3, kpi.OnTrack, none, none},
	{"kube_jasa", "32.16", inYear, 5, 18, 14.25, 5 / 14.25, 5.0 / 18, kpi.Behind, none, none},
	{"kube_jasa", "31.71", inMonth, 1, none, none, none, none, kpi.NoTarget, none, none},
	{"kube_jasa", "31.71", inYear, 2, none, none, none, none, kpi.NoTarget, none, none},
	{"kube_jasa", "32", inMonth, 3, 3.5, 1.75, 3 / 1.75, 6.0 / 7, kpi.OnTrack, none, none},
	{"kube_jasa", "32", inYear, 6, 30, 15.25, 6 / 15.25, 0.2, kpi.Behind, none, none},
	{"kube_jasa", "31", inMonth, 1, 0.25, 0.125, 8, 4, kpi.OnTrack, none, none},
	{"kube_jasa", "31", inYear, 2, 3, 2.375, 2 / 2.375, 2.0 / 3, kpi.AtRisk, none, none},
	{"kube_jasa", "ID", inMonth, 4, 3.75, 1.875, 4 / 1.875, 16.0 / 15, kpi.OnTrack, none, none},
	{"kube_jasa", "ID", inYear, 8, 33, 17.625, 8 / 17.625, 8.0 / 33, kpi.Behind, none, none},

	// sembako_salur: rate 0.95 that builds up within the month: half of it
	// is expected by now (0.475); in the year, the closed months are due in
	// full and half of October's allocations: 0.95 × (Σden − ½ den_oct) / Σden.
	// Attainment is the rate over 0.95 = 19/20: 3/4 × 20/19 = 15/19.
	{"sembako_salur", "32.16.06", inMonth, 3.0 / 4, 0.95, 0.475, 0.75 / 0.475, 15.0 / 19, kpi.OnTrack, 3, 4},
	{"sembako_salur", "32.16.06", inYear, 9.0 / 10, 0.95, 0.95 * 8 / 10, 0.9 / (0.95 * 8 / 10), 18.0 / 19, kpi.OnTrack, 9, 10},
	{"sembako_salur", "32.16.07", inYear, 3.0 / 4, 0.95, 0.95 * 3 / 4, 1 / 0.95, 15.0 / 19, kpi.OnTrack, 3, 4},
	{"sembako_salur", "32.75.01", inMonth, 2.0 / 5, 0.95, 0.475, 0.4 / 0.475, 8.0 / 19, kpi.Behind, 2, 5},
	{"sembako_salur", "32.75.01", inYear, 5.0 / 8, 0.95, 0.95 * 5.5 / 8, 0.625 / (0.95 * 5.5 / 8), 25.0 / 38, kpi.OnTrack, 5, 8},
	{"sembako_salur", "32.16.08", inMonth, none, 0.95, none, none, none, kpi.NoData, none, none},
	{"sembako_salur", "32.16", inMonth, 5.0 / 6, 0.95, 0.475, 5.0 / 6 / 0.475, 50.0 / 57, kpi.OnTrack, 5, 6},
	{"sembako_salur", "32.16", inYear, 12.0 / 14, 0.95, 0.95 * 11 / 14, 12.0 / 14 / (0.95 * 11 / 14), 120.0 / 133, kpi.OnTrack, 12, 14},
	{"sembako_salur", "32", inMonth, 7.0 / 11, 0.95, 0.475, 7.0 / 11 / 0.475, 140.0 / 209, kpi.OnTrack, 7, 11},
	{"sembako_salur", "32", inYear, 17.0 / 22, 0.95, 0.95 * 16.5 / 22, 17.0 / 22 / (0.95 * 16.5 / 22), 170.0 / 209, kpi.OnTrack, 17, 22},
	{"sembako_salur", "31", inYear, 0.5, 0.95, 0.475, 0.5 / 0.475, 10.0 / 19, kpi.OnTrack, 1, 2},
	{"sembako_salur", "ID", inMonth, 8.0 / 13, 0.95, 0.475, 8.0 / 13 / 0.475, 160.0 / 247, kpi.OnTrack, 8, 13},
	{"sembako_salur", "ID", inYear, 18.0 / 24, 0.95, 0.95 * 17.5 / 24, 0.75 / (0.95 * 17.5 / 24), 15.0 / 19, kpi.OnTrack, 18, 24},

	// pkh_salur: rate 0.95 expected from day one; attainment as for
	// Sembako: 1/3 × 20/19 = 20/57.
	{"pkh_salur", "32.16.06", inMonth, 1.0 / 3, 0.95, 0.95, 1.0 / 3 / 0.95, 20.0 / 57, kpi.Behind, 1, 3},
	{"pkh_salur", "32.16.06", inYear, 6.0 / 8, 0.95, 0.95, 0.75 / 0.95, 15.0 / 19, kpi.Behind, 6, 8},
	{"pkh_salur", "32.75.02", inMonth, 1, 0.95, 0.95, 1 / 0.95, 20.0 / 19, kpi.OnTrack, 2, 2},
	{"pkh_salur", "31.71.06", inMonth, 5.0 / 6, 0.95, 0.95, 5.0 / 6 / 0.95, 50.0 / 57, kpi.AtRisk, 5, 6},
	{"pkh_salur", "32.16", inMonth, 1.0 / 3, 0.95, 0.95, 1.0 / 3 / 0.95, 20.0 / 57, kpi.Behind, 1, 3},
	{"pkh_salur", "31.71", inMonth, 5.0 / 6, 0.95, 0.95, 5.0 / 6 / 0.95, 50.0 / 57, kpi.AtRisk, 5, 6},
	{"pkh_salur", "32.16", inYear, 6.0 / 8, 0.95, 0.95, 0.75 / 0.95, 15.0 / 19, kpi.Behind, 6, 8},
	{"pkh_salur", "32", inMonth, 3.0 / 5, 0.95, 0.95, 0.6 / 0.95, 12.0 / 19, kpi.Behind, 3, 5},
	{"pkh_salur", "32", inYear, 9.0 / 12, 0.95, 0.95, 0.75 / 0.95, 15.0 / 19, kpi.Behind, 9, 12},
	{"pkh_salur", "31", inMonth, 5.0 / 6, 0.95, 0.95, 5.0 / 6 / 0.95, 50.0 / 57, kpi.AtRisk, 5, 6},
	{"pkh_salur", "ID", inMonth, 8.0 / 11, 0.95, 0.95, 8.0 / 11 / 0.95, 160.0 / 209, kpi.Behind, 8, 11},
	{"pkh_salur", "ID", inYear, 14.0 / 18, 0.95, 0.95, 14.0 / 18 / 0.95, 140.0 / 171, kpi.Behind, 14, 18},

	// kpm_per_ewarong: stock rate, lower is better; pace = 400 ÷ actual.
	// A kecamatan with e-Warong but no KPM is at zero: nothing could be
	// better, so it is on track without a pace. Attainment is inverted
	// like the pace: 400 ÷ 4/3 = 300.
	{"kpm_per_ewarong", "32.16.06", inMonth, 4.0 / 3, 400, 400, 300, 300, kpi.OnTrack, 4, 3},
	{"kpm_per_ewarong", "32.16.06", inYear, 4.0 / 3, 400, 400, 300, 300, kpi.OnTrack, 4, 3},
	{"kpm_per_ewarong", "32.75.02", inMonth, 0, 400, 400, none, none, kpi.OnTrack, 0, 1},
	{"kpm_per_ewarong", "32.16.08", inMonth, none, 400, 400, none, none, kpi.NoData, none, none},
	{"kpm_per_ewarong", "32.16", inMonth, 6.0 / 5, 400, 400, 400 / 1.2, 1000.0 / 3, kpi.OnTrack, 6, 5},
	{"kpm_per_ewarong", "32.75", inYear, 5.0 / 3, 400, 400, 400 / (5.0 / 3), 240, kpi.OnTrack, 5, 3},
	{"kpm_per_ewarong", "31", inMonth, 0.5, 400, 400, 800, 800, kpi.OnTrack, 2, 4},
	{"kpm_per_ewarong", "32", inMonth, 11.0 / 8, 400, 400, 400 / (11.0 / 8), 3200.0 / 11, kpi.OnTrack, 11, 8},
	{"kpm_per_ewarong", "32", inYear, 11.0 / 8, 400, 400, 400 / (11.0 / 8), 3200.0 / 11, kpi.OnTrack, 11, 8},
	{"kpm_per_ewarong", "ID", inMonth, 13.0 / 12, 400, 400, 400 / (13.0 / 12), 4800.0 / 13, kpi.OnTrack, 13, 12},
	{"kpm_per_ewarong", "ID", inYear, 13.0 / 12, 400, 400, 400 / (13.0 / 12), 4800.0 / 13, kpi.OnTrack, 13, 12},

	// pkh_graduasi: a flow count without targets.
	{"pkh_graduasi", "32.75.01", inMonth, 3, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "32.75.01", inYear, 5, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "32.16.07", inMonth, 0, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "32.75", inMonth, 3, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "ID", inMonth, 4, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "32.75", inYear, 5, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "32", inMonth, 4, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "31", inYear, 0, none, none, none, none, kpi.NoTarget, none, none},
	{"pkh_graduasi", "ID", inYear, 6, none, none, none, none, kpi.NoTarget, none, none},
}

// checkWants compares a snapshot with dinsosWants.
func checkWants(t *testing.T, snap *Snapshot) {
	t.Helper()
	type cell struct {
		level  kpi.Level
		window kpi.Window
	}
	covered := map[string]map[cell]bool{}
	for _, w := range dinsosWants {
		lvl, err := kpi.CodeLevel(w.region)
		if err != nil {
			t.Fatalf("bad expectation: %v", err)
		}
		if covered[w.kpi] == nil {
			covered[w.kpi] = map[cell]bool{}
		}
		covered[w.kpi][cell{lvl, w.window}] = true
		p := progressOf(t, snap, w.kpi, w.region, w.window)
		name := fmt.Sprintf("%s %s %s", w.kpi, w.region, w.window)
		if p.Level != lvl {
			t.Errorf("%s: level %s, want %s", name, p.Level, lvl)
		}
		for _, f := range []struct {
			field string
			got   kpi.Number
			want  float64
		}{
			{"actual", p.Actual, w.actual},
			{"target", p.Target, w.target},
			{"expected", p.Expected, w.expected},
			{"pace", p.Pace, w.pace},
			{"numerator", p.Numerator, w.num},
			{"denominator", p.Denominator, w.den},
		} {
			if !numberIs(f.got, f.want) {
				t.Errorf("%s: %s = %s, want %s", name, f.field, showNumber(f.got), showNumber(kpi.Some(f.want)))
			}
		}
		if p.Status != w.status {
			t.Errorf("%s: status %s, want %s", name, p.Status, w.status)
		}
		if !numberIs(p.Attainment, w.attainment) {
			t.Errorf("%s: attainment = %s, want %s", name, showNumber(p.Attainment), showNumber(kpi.Some(w.attainment)))
		}
	}
	// The expectations themselves cover every level in both windows.
	for id, cells := range covered {
		for _, l := range []kpi.Level{kpi.LevelKecamatan, kpi.LevelKabupatenKota, kpi.LevelProvinsi, kpi.LevelNasional} {
			for _, w := range kpi.Windows {
				if !cells[cell{l, w}] {
					t.Errorf("the expectations of %s have no %s row in window %s", id, l, w)
				}
			}
		}
	}
	if len(covered) != len(snap.KPIs) {
		t.Errorf("expectations cover %d KPIs, the spec has %d", len(covered), len(snap.KPIs))
	}
}

func TestDinsosExample(t *testing.T) {
	var mu sync.Mutex
	snaps := map[string]*Snapshot{}
	t.Run("on each driver", func(t *testing.T) {
		for _, driver := range testDrivers {
			t.Run("the example spec gives the worked-out values on "+driver, func(t *testing.T) {
				t.Parallel()
				_, snap := refreshDinsos(t, driver, "")
				mu.Lock()
				snaps[driver] = snap
				mu.Unlock()
				checkWants(t, snap)

				t.Run("a kabupaten's rate is Σnumerator ÷ Σdenominator, not the mean of its kecamatan ratios", func(t *testing.T) {
					kab := progressOf(t, snap, "sembako_salur", "32.16", inMonth)
					if !numberIs(kab.Actual, 5.0/6) {
						t.Errorf("Kabupaten Bekasi's October rate is %s, want 5/6", showNumber(kab.Actual))
					}
					st, _ := snap.KPI("sembako_salur")
					sum, n := 0.0, 0
					for _, p := range st.Progress {
						if p.Window == inMonth && p.Level == kpi.LevelKecamatan && kpi.Contains("32.16", p.Region) && p.Actual.OK {
							sum += p.Actual.V
							n++
						}
					}
					mean := sum / float64(n)
					if n != 2 || !near(mean, 0.875) {
						t.Errorf("the mean of Kabupaten Bekasi's kecamatan ratios is %v over %d kecamatan, want 0.875 over 2", mean, n)
					}
					if near(kab.Actual.V, mean) {
						t.Errorf("the kabupaten rate equals the mean of ratios (%v); the data set should tell them apart", mean)
					}
				})

				t.Run("every level of the hierarchy is present in both windows", func(t *testing.T) {
					h := regionMaster(t)
					for _, st := range snap.KPIs {
						perLevel := map[kpi.Level]int{}
						for _, p := range st.Progress {
							perLevel[p.Level]++
						}
						for _, l := range []kpi.Level{kpi.LevelNasional, kpi.LevelProvinsi, kpi.LevelKabupatenKota, kpi.LevelKecamatan} {
							if perLevel[l] != 2*h.Count(l) {
								t.Errorf("KPI %s has %d %s rows, want %d (two windows)", st.Def.ID, perLevel[l], l, 2*h.Count(l))
							}
						}
						if perLevel[kpi.LevelDesa] != 0 {
							t.Errorf("KPI %s has desa rows", st.Def.ID)
						}
						if want := kpi.NewPeriod(2026, time.October, nil); st.Period.String() != want.String() {
							t.Errorf("KPI %s is for %s, want %s", st.Def.ID, st.Period, want)
						}
					}
				})
			})
		}
	})

	t.Run("the same data gives the same snapshot on every driver", func(t *testing.T) {
		if len(snaps) < 2 {
			t.Skipf("only %d driver(s) ran", len(snaps))
		}
		ref, refDriver := (*Snapshot)(nil), ""
		for _, d := range testDrivers {
			s, ok := snaps[d]
			if !ok {
				continue
			}
			if ref == nil {
				ref, refDriver = s, d
				continue
			}
			for i := range ref.KPIs {
				a, b := ref.KPIs[i], s.KPIs[i]
				if len(a.Progress) != len(b.Progress) {
					t.Errorf("%s: %d rows on %s, %d on %s", a.Def.ID, len(a.Progress), refDriver, len(b.Progress), d)
					continue
				}
				diffs := 0
				for j := range a.Progress {
					if a.Progress[j] != b.Progress[j] {
						if diffs++; diffs <= 3 {
							t.Errorf("%s row %d differs:\n%s: %+v\n%s: %+v", a.Def.ID, j, refDriver, a.Progress[j], d, b.Progress[j])
						}
					}
				}
				if diffs > 3 {
					t.Errorf("%s: %d rows differ between %s and %s", a.Def.ID, diffs, refDriver, d)
				}
			}
		}
	})
}

func TestDinsosShard(t *testing.T) {
	t.Run("a Jawa Barat shard serves Jawa Barat and ignores other provinces' targets quietly", func(t *testing.T) {
		_, snap := refreshDinsos(t, "sqlite", "32")
		for _, st := range snap.KPIs {
			if len(st.RejectedTargets) > 0 {
				t.Errorf("%s reports targets of other provinces as rejected: %v", st.Def.ID, st.RejectedTargets)
			}
			for _, p := range st.Progress {
				if p.Region != kpi.NationalCode && !kpi.Contains("32", p.Region) {
					t.Fatalf("%s has a row for %s, outside the shard", st.Def.ID, p.Region)
				}
			}
		}
		// Jawa Barat's own values are those of the national collector.
		for _, w := range dinsosWants {
			if kpi.Contains("32", w.region) {
				p := progressOf(t, snap, w.kpi, w.region, w.window)
				if !numberIs(p.Actual, w.actual) || !numberIs(p.Expected, w.expected) || p.Status != w.status {
					t.Errorf("%s %s %s: actual %s, expected %s, %s; want %s, %s, %s", w.kpi, w.region, w.window,
						showNumber(p.Actual), showNumber(p.Expected), p.Status, showNumber(kpi.Some(w.actual)), showNumber(kpi.Some(w.expected)), w.status)
				}
			}
		}
		// The shard's nation is Jawa Barat alone.
		p := progressOf(t, snap, "ewarong_aktif", kpi.NationalCode, inYear)
		if !numberIs(p.Actual, 8) || !numberIs(p.Target, 11) || !numberIs(p.Expected, 4+7*E) {
			t.Errorf("ewarong_aktif ID in the shard: actual %s, target %s, expected %s; want 8, 11, %v",
				showNumber(p.Actual), showNumber(p.Target), showNumber(p.Expected), 4+7*E)
		}
	})
}
