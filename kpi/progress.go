package kpi

import "time"

// Window is the stretch of time a progress figure covers.
type Window string

const (
	// WindowMonth is the current month alone.
	WindowMonth Window = "month"
	// WindowYear is the year to date, up to the end of the current month.
	WindowYear Window = "year"
)

// Windows lists both windows in publishing order.
var Windows = []Window{WindowMonth, WindowYear}

// Status is the verdict on one KPI × region × window.
type Status string

const (
	OnTrack  Status = "on_track"
	AtRisk   Status = "at_risk"
	Behind   Status = "behind"
	NoTarget Status = "no_target"
	NoData   Status = "no_data"
)

// Statuses lists every status, for state-set metrics that must show each one.
var Statuses = []Status{OnTrack, AtRisk, Behind, NoTarget, NoData}

// Progress is how one KPI stands in one region for one window at an instant.
type Progress struct {
	KPI    string
	Region string
	Level  Level
	Window Window
	Status Status
	// Actual is the value (counts) or Numerator ÷ Denominator (rates).
	Actual      Number
	Numerator   Number
	Denominator Number
	// Target is the window's target: for the month, the month's amount
	// (flow) or the level due at month end (stock); for the year, the annual
	// target; for rates, the target rate.
	Target Number
	// AnnualTarget is the year's target whatever the window (rates: the rate).
	AnnualTarget Number
	// Expected is the target phased to the instant.
	Expected Number
	// Attainment is Actual ÷ Target, Pace is Actual ÷ Expected; both are
	// inverted for Down KPIs so that above 1 is always good.
	Attainment Number
	Pace       Number
	// Forecast projects Actual to the end of the window at the pace so far.
	Forecast Number
}

// Input is everything Evaluate needs for one KPI. Observation maps are keyed
// by region code and hold the source's rows at the KPI's level only.
type Input struct {
	KPI       KPI
	Hierarchy *Hierarchy
	Period    Period    // the current month
	At        time.Time // the instant progress is computed for
	Month     map[string]Observation
	// Year holds year-to-date observations of flow KPIs. Stock KPIs read
	// their level from Month and leave it nil.
	Year map[string]Observation
	// Baseline holds a stock count's level at the start of the year, the
	// point its targets phase from.
	Baseline map[string]Observation
	// Targets are this year's targets for the KPI.
	Targets []Target
}

// Evaluate computes progress for every region of the hierarchy from the
// nation down to the KPI's level, in both windows. Regions without data are
// included with status no_data, so dashboards and alerts see silence. The
// second result lists the observation and target codes not in the hierarchy.
//
// A count query's GROUP BY has no row where nothing exists, so once a
// count query has returned any row, regions at the KPI's level without one
// count as zero (a kecamatan that formed no KUBE this month formed 0, and is
// behind if it had a target). An empty result stays no data: the source may
// simply not have the month yet. Rates never fill: with nothing allocated
// there is nothing to rate.
func Evaluate(in Input) ([]Progress, []string) {
	k := in.KPI
	if k.Kind == KindCount {
		in.Month = zeroFill(in.Hierarchy, k.Level, in.Month)
		in.Year = zeroFill(in.Hierarchy, k.Level, in.Year)
		in.Baseline = zeroFill(in.Hierarchy, k.Level, in.Baseline)
	}
	month, unknown := RollUp(in.Hierarchy, in.Month)
	year := month
	if k.YearQuery() {
		var u []string
		year, u = RollUp(in.Hierarchy, in.Year)
		unknown = append(unknown, u...)
	}
	var baseline map[string]Observation
	if k.BaselineQuery() {
		var u []string
		baseline, u = RollUp(in.Hierarchy, in.Baseline)
		unknown = append(unknown, u...)
	}
	var plans map[string]Plan
	var starts map[string]float64
	var rates map[string]float64
	if k.Kind == KindRate {
		rates = ResolveRates(in.Hierarchy, k, in.Targets)
	} else {
		var u []Target
		plans, u = ResolvePlans(in.Hierarchy, in.Targets)
		for _, t := range u {
			unknown = append(unknown, t.Region)
		}
		if k.BaselineQuery() {
			starts = planStarts(in.Hierarchy, plans, baseline)
		}
	}

	elapsed := in.Period.Elapsed(in.At)
	yearElapsed := in.Period.YearElapsed(in.At)
	out := make([]Progress, 0, 2*len(in.Hierarchy.Regions()))
	for _, r := range in.Hierarchy.Regions() {
		if r.Level > k.Level {
			continue
		}
		m, hasM := month[r.Code]
		y, hasY := year[r.Code]
		for _, w := range Windows {
			p := Progress{KPI: k.ID, Region: r.Code, Level: r.Level, Window: w}
			obs, has := m, hasM
			if w == WindowYear {
				obs, has = y, hasY
			}
			if k.Kind == KindRate {
				rateProgress(&p, k, rates[r.Code], obs, has, m, elapsed)
			} else {
				plan, hasPlan := plans[r.Code]
				countProgress(&p, k, in.Period, in.At, plan, hasPlan, starts[r.Code], obs, has, baseline[r.Code], elapsed, yearElapsed)
			}
			p.Status = status(k, p, has)
			out = append(out, p)
		}
	}
	return out, unknown
}

// planStarts gives each planned region of a stock KPI the level its plan
// phases from: its own level on 1 January when its target is explicit, the
// sum of its planned children's starts when its plan is their sum. A
// kabupaten whose target covers two of its kecamatan then phases from
// those two kecamatan's levels, not from every kecamatan's.
func planStarts(h *Hierarchy, plans map[string]Plan, baseline map[string]Observation) map[string]float64 {
	starts := make(map[string]float64, len(plans))
	regions := h.Regions()
	for i := len(regions) - 1; i >= 0; i-- { // children before parents
		r := regions[i]
		p, ok := plans[r.Code]
		if !ok {
			continue
		}
		if p.Explicit {
			starts[r.Code] = baseline[r.Code].Value
		}
		if parent, ok := plans[r.Parent]; ok && !parent.Explicit {
			starts[r.Parent] += starts[r.Code]
		}
	}
	return starts
}

func zeroFill(h *Hierarchy, level Level, obs map[string]Observation) map[string]Observation {
	if len(obs) == 0 {
		return obs
	}
	filled := make(map[string]Observation, h.Count(level))
	for _, r := range h.Regions() {
		if r.Level == level {
			filled[r.Code] = Observation{}
		}
	}
	for code, o := range obs {
		filled[code] = o
	}
	return filled
}

func countProgress(p *Progress, k KPI, period Period, at time.Time, plan Plan, hasPlan bool, start float64, obs Observation, has bool, base Observation, elapsed, yearElapsed float64) {
	if has {
		p.Actual = Some(obs.Value)
	}
	if !hasPlan || plan.Annual == 0 {
		// Without a target there is nothing to phase; a trend forecast
		// still helps.
		if has {
			p.Forecast = countForecast(p, k, period, obs.Value, base.Value, elapsed, yearElapsed)
		}
		return
	}
	mo := period.Month()
	p.AnnualTarget = Some(plan.Annual)
	share := plan.Share(period, at).V
	if k.Accumulation == Stock {
		// Stock targets phase from the level at the start of the year of
		// the regions the target covers.
		p.Expected = Some(start + (plan.Annual-start)*share)
		if p.Window == WindowMonth {
			p.Target = Some(start + (plan.Annual-start)*plan.Cumulative(mo)/plan.Annual)
		} else {
			p.Target = Some(plan.Annual)
		}
	} else {
		if p.Window == WindowMonth {
			p.Target = Some(plan.Monthly(mo))
			p.Expected = Some(plan.Monthly(mo) * elapsed)
		} else {
			p.Target = Some(plan.Annual)
			p.Expected = Some(plan.Annual * share)
		}
	}
	if has {
		p.Attainment = ratio(k, obs.Value, p.Target.V)
		p.Pace = ratio(k, obs.Value, p.Expected.V)
		p.Forecast = countForecast(p, k, period, obs.Value, base.Value, elapsed, yearElapsed)
	}
}

// countForecast extrapolates linearly: a flow keeps its rate for the rest of
// the window; a stock keeps growing from its start-of-year level at the
// rate seen so far this year.
func countForecast(p *Progress, k KPI, period Period, actual, start, elapsed, yearElapsed float64) Number {
	if k.Accumulation == Stock {
		end := 1.0
		if p.Window == WindowMonth {
			end = float64(period.Month()) / 12
		}
		growth := Div(actual-start, yearElapsed)
		if !growth.OK {
			return None
		}
		return Some(start + growth.V*end)
	}
	if p.Window == WindowMonth {
		return Div(actual, elapsed)
	}
	return Div(actual, yearElapsed)
}

func rateProgress(p *Progress, k KPI, rate float64, obs Observation, has bool, month Observation, elapsed float64) {
	if has {
		p.Numerator = Some(obs.Numerator)
		p.Denominator = Some(obs.Denominator)
		p.Actual = obs.Actual(KindRate)
	}
	if rate > 0 {
		p.Target = Some(rate)
		p.AnnualTarget = Some(rate)
		p.Expected = Some(rate)
	}
	if !k.RateBuildsUp {
		p.Forecast = p.Actual
	} else if has {
		// Distribution in batches: only the elapsed part of this month's
		// allocation is expected to be paid yet. In the year window the
		// closed months are due in full.
		due := obs.Denominator
		paid := obs.Numerator
		if p.Window == WindowYear {
			due = obs.Denominator - month.Denominator*(1-elapsed)
			paid = obs.Numerator - month.Numerator
		} else {
			due = obs.Denominator * elapsed
			paid = 0
		}
		if rate > 0 {
			p.Expected = Div(rate*due, obs.Denominator)
		}
		// Forecast: this month's payments keep their pace to month end.
		p.Forecast = None
		if f := Div(month.Numerator, elapsed); f.OK {
			p.Forecast = Div(paid+f.V, obs.Denominator)
		}
	} else if rate > 0 {
		p.Expected = None // nothing allocated to build up against
	}
	if has && p.Actual.OK {
		p.Attainment = ratio(k, p.Actual.V, p.Target.V)
		p.Pace = ratio(k, p.Actual.V, p.Expected.V)
	}
	if !p.Target.OK {
		p.Attainment, p.Pace = None, None
	}
}

// ratio is actual ÷ reference, inverted for Down KPIs so that above 1 is
// always better than planned.
func ratio(k KPI, actual, reference float64) Number {
	if k.Direction == Down {
		return Div(reference, actual)
	}
	return Div(actual, reference)
}

func status(k KPI, p Progress, has bool) Status {
	switch {
	case !has || !p.Actual.OK:
		return NoData
	case !p.Target.OK || p.AnnualTarget.V == 0:
		return NoTarget
	case !p.Expected.OK || (p.Expected.V == 0 && k.Direction == Up):
		// Nothing is due yet (the first instant of a flow month).
		return OnTrack
	case !p.Pace.OK:
		// Down KPI at zero: nothing could be better.
		return OnTrack
	case p.Pace.V >= k.Thresholds.OnTrack:
		return OnTrack
	case p.Pace.V >= k.Thresholds.AtRisk:
		return AtRisk
	}
	return Behind
}
