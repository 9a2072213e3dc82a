package kpi

import "fmt"

// Kind says what a KPI's query returns.
type Kind string

const (
	// KindCount is a plain value per region (e-Warong aktif, KUBE Jasa formed).
	KindCount Kind = "count"
	// KindRate is numerator ÷ denominator (KPM paid ÷ KPM allocated). Sources
	// return both parts, never the ratio, so roll-ups stay correct.
	KindRate Kind = "rate"
)

// Accumulation says how a KPI behaves over time.
type Accumulation string

const (
	// Stock is a level at an instant (active e-Warong; KPM per active
	// e-Warong): the year's value is the level now, and count targets phase
	// from the level at the start of the year.
	Stock Accumulation = "stock"
	// Flow is what happened within the period (new KUBE formed; Sembako
	// distributed ÷ allocated): the year's value is the sum of its months.
	// Rates are flows unless they say otherwise.
	Flow Accumulation = "flow"
)

// Direction says which way is better.
type Direction string

const (
	Up   Direction = "up"   // higher is better
	Down Direction = "down" // lower is better (KPM per e-Warong)
)

// Thresholds turn pace into a status: pace ≥ OnTrack is on_track, pace ≥
// AtRisk is at_risk, anything lower is behind. Pace is already inverted for
// Down KPIs, so the same thresholds serve both directions.
type Thresholds struct {
	OnTrack float64 `yaml:"on_track" json:"on_track"`
	AtRisk  float64 `yaml:"at_risk" json:"at_risk"`
}

// DefaultThresholds are used when a KPI sets none: within 5 % of the expected
// value is on track, within 15 % at risk.
var DefaultThresholds = Thresholds{OnTrack: 0.95, AtRisk: 0.85}

// Validate reports thresholds that cannot order statuses.
func (t Thresholds) Validate() error {
	if !(t.AtRisk > 0) || !(t.OnTrack > 0) {
		return fmt.Errorf("thresholds must be positive (on_track %v, at_risk %v)", t.OnTrack, t.AtRisk)
	}
	if t.AtRisk > t.OnTrack {
		return fmt.Errorf("at_risk (%v) must not exceed on_track (%v)", t.AtRisk, t.OnTrack)
	}
	return nil
}

// KPI is the definition of one indicator, independent of where its data
// comes from.
type KPI struct {
	ID           string
	Name         string
	Unit         string
	Kind         Kind
	Accumulation Accumulation
	Direction    Direction
	// Level is the level the source reports at; higher levels are rolled up.
	Level      Level
	Thresholds Thresholds
	// TargetRate is the fixed target of a rate KPI (0.95 for "≥ 95 %
	// distributed"). Count KPIs take annual targets from the store, and so
	// do rate KPIs whose TargetRate is 0.
	TargetRate float64
	// RateBuildsUp says a rate is expected to grow within the month (aid
	// distributed in batches: expected = TargetRate × month elapsed) rather
	// than hold from the first day.
	RateBuildsUp bool
	// Share says a rate's numerator counts part of its denominator (KPM
	// paid of KPM allocated), so it cannot exceed 1 and neither can its
	// forecast or target. A ratio of two different things (KPM per
	// e-Warong) is not a share and has no ceiling.
	Share bool
}

// Validate checks the definition is internally consistent.
func (k KPI) Validate() error {
	if k.ID == "" {
		return fmt.Errorf("kpi has no id")
	}
	switch k.Kind {
	case KindCount:
		if k.Accumulation != Stock && k.Accumulation != Flow {
			return fmt.Errorf("kpi %s: accumulation must be stock or flow, not %q", k.ID, k.Accumulation)
		}
		if k.TargetRate != 0 {
			return fmt.Errorf("kpi %s: a fixed target rate is only for rate KPIs", k.ID)
		}
	case KindRate:
		if k.Accumulation != "" && k.Accumulation != Stock && k.Accumulation != Flow {
			return fmt.Errorf("kpi %s: accumulation must be stock or flow, not %q", k.ID, k.Accumulation)
		}
		// 0 means no fixed rate: targets then come per region from the store.
		if !(k.TargetRate >= 0) {
			return fmt.Errorf("kpi %s: target rate must not be negative", k.ID)
		}
	default:
		return fmt.Errorf("kpi %s: kind must be count or rate, not %q", k.ID, k.Kind)
	}
	if k.Direction != Up && k.Direction != Down {
		return fmt.Errorf("kpi %s: direction must be up or down, not %q", k.ID, k.Direction)
	}
	if k.Share && k.Kind != KindRate {
		return fmt.Errorf("kpi %s: only rate KPIs can be shares", k.ID)
	}
	if k.Share && k.TargetRate > 1 {
		return fmt.Errorf("kpi %s: a share cannot aim above 1 (target rate %v)", k.ID, k.TargetRate)
	}
	if k.RateBuildsUp && (k.Kind != KindRate || k.Direction != Up) {
		return fmt.Errorf("kpi %s: only rate KPIs with direction up can build up within the month", k.ID)
	}
	if k.Level < LevelProvinsi || k.Level > LevelDesa {
		return fmt.Errorf("kpi %s: level must be provinsi, kabupaten_kota, kecamatan or desa", k.ID)
	}
	if err := k.Thresholds.Validate(); err != nil {
		return fmt.Errorf("kpi %s: %w", k.ID, err)
	}
	return nil
}

// YearQuery reports whether the year-to-date window needs its own query
// (flows sum over the year) or is the month's level again (stocks).
func (k KPI) YearQuery() bool { return k.Accumulation != Stock }

// BaselineQuery reports whether progress phases from the level on
// 1 January, which only stock counts do.
func (k KPI) BaselineQuery() bool { return k.Kind == KindCount && k.Accumulation == Stock }
