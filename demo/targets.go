package demo

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/pantau-id/pantau/kpi"
)

// Target-setting roles of a province for one KPI: most are on track, some at
// risk, some behind.
const (
	onTrackShare = 0.65
	atRiskShare  = 0.17 // the rest are behind
)

// Targets returns annual targets for Now's year that go with the data
// Generate makes from the same Options:
//
//   - DKI Jakarta (31): ewarong_aktif 70, phased linearly, and kube_jasa 71
//     with a monthly profile that adds up to 71, as in its 2017 KPI;
//   - every province: ewarong_aktif, kube_jasa and pkh_graduasi (DKI only
//     the last), set from what the data will hold by December so that most
//     provinces are on track and some are at risk or behind;
//   - a national ceiling for kpm_per_ewarong scaled like the households
//     (the spec's 400 KPM per e-Warong fits real household counts, not the
//     demo's 0.5 %), so the busiest kecamatan show up behind; the other
//     rate KPIs keep the fixed rates of the spec.
//
// Targets are for provinces of opts.Regions only, ordered by province code,
// then KPI. Invalid Options (no Regions, no Now) give no targets.
func Targets(opts Options) []kpi.Target {
	opts, err := opts.normalise()
	if err != nil {
		return nil
	}
	m, err := newModel(opts)
	if err != nil {
		return nil
	}
	c := m.cal
	type year struct{ start, end, kube, graduasi float64 }
	byProvince := map[string]*year{}
	for _, k := range m.kecs {
		y := byProvince[k.province]
		if y == nil {
			y = &year{}
			byProvince[k.province] = y
		}
		for _, e := range m.ewarongs(k) {
			if e.active(c.nowYear) {
				y.start++
			}
			if e.active(c.end) {
				y.end++
			}
		}
		for _, g := range m.kubes(k) {
			if g.jenis == "jasa" && g.day >= c.nowYear {
				y.kube++
			}
		}
		for _, d := range m.graduations(k) {
			if d >= c.nowYear {
				y.graduasi++
			}
		}
	}
	// About the 85th percentile of the demo's KPM per active e-Warong.
	out := []kpi.Target{{KPI: "kpm_per_ewarong", Region: kpi.NationalCode, Year: c.year, Rate: 12 * opts.Scale}}
	for _, p := range opts.Regions.Regions() {
		y := byProvince[p.Code]
		if p.Level != kpi.LevelProvinsi || y == nil {
			continue
		}
		t := func(id string, annual float64) kpi.Target {
			return kpi.Target{KPI: id, Region: p.Code, Year: c.year, Annual: annual}
		}
		if p.Code == dkiCode {
			kube := t("kube_jasa", dkiKubeJasaTarget)
			kube.Profile = slices.Clone(dkiKubeProfile[:])
			out = append(out, t("ewarong_aktif", dkiEwarongTarget), kube)
		} else {
			// A stock target is the level due in December: the start plus
			// a multiple of the growth the data will show. Pace is
			// actual ÷ (start + (target − start) × share of the year), so
			// the multiple must be well above 1 to fall behind.
			r := m.targetRand(p.Code, "ewarong_aktif")
			growth := max(1, y.end-y.start) * role(r, [3]float64{uniform(r, 0.8, 1.0), 1.6, 2.5})
			out = append(out, t("ewarong_aktif", math.Round(y.start+growth)))
			out = append(out, t("kube_jasa", flowTarget(m.targetRand(p.Code, "kube_jasa"), y.kube, 0.9, 0.75)))
		}
		out = append(out, t("pkh_graduasi", flowTarget(m.targetRand(p.Code, "pkh_graduasi"), y.graduasi, 0.95, 0.85)))
	}
	return out
}

func (m *model) targetRand(province, kpiID string) *rand.Rand {
	return newRand(m.seed, province, "target", kpiID)
}

// flowTarget sets a flow target from the year's total so that pace (actual ÷
// target × share of the year) lands on track, between the thresholds, or
// well below them.
func flowTarget(r *rand.Rand, total, onTrack, atRisk float64) float64 {
	pace := role(r, [3]float64{uniform(r, 1.0, 1.08), (onTrack + atRisk) / 2, uniform(r, 0.55, 0.7)})
	return max(1, math.Round(total/pace))
}

// role picks one of three values, for on track, at risk and behind. It
// draws the same numbers whatever the outcome.
func role(r *rand.Rand, v [3]float64) float64 {
	switch u := r.Float64(); {
	case u < onTrackShare:
		return v[0]
	case u < onTrackShare+atRiskShare:
		return v[1]
	default:
		return v[2]
	}
}
