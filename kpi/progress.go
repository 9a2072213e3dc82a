package kpi

import (
	"fmt"
	"time"
)

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
	// TargetCoverage is the fraction of the region's regions at the KPI's
	// level that its target covers: 1 for a target of its own (or, for
	// rates, one set above it or in the spec), less for a parent whose
	// target sums only some children's. Attainment, pace and status then
	// compare the target with the actual of the covered regions only, while
	// Actual stays the whole region's.
	TargetCoverage Number
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

// Reasons a target (or a row) is left out of Evaluate.
const (
	// RejectUnknownRegion: a target for a region code not in the hierarchy.
	RejectUnknownRegion = "unknown_region"
	// RejectInvalidTarget: a target whose values cannot be phased (a
	// monthly profile that is not twelve numbers ≥ 0 adding up to the
	// annual target, a negative target, a share's rate above 1).
	RejectInvalidTarget = "invalid"
	// RejectUnknownRow: an observation for a region code not in the
	// hierarchy; callers that validate rows first never see it.
	RejectUnknownRow = "unknown_row_region"
)

// TargetRejectReasons lists the reasons a target can be rejected for.
var TargetRejectReasons = []string{RejectUnknownRegion, RejectInvalidTarget}

// Rejection is a target (or row) Evaluate left out, and why.
type Rejection struct {
	Region string
	Reason string
	Detail string
}

// Evaluate computes progress for every region of the hierarchy from the
// nation down to the KPI's level, in both windows. Regions without data are
// included with status no_data, so dashboards and alerts see silence. The
// second result lists the targets (and observations) it could not use:
// codes not in the hierarchy and targets with invalid values, count and
// rate targets alike.
//
// A count query's GROUP BY has no row where nothing exists, so once a
// count query has returned any row, regions at the KPI's level without one
// count as zero (a kecamatan that formed no KUBE this month formed 0, and is
// behind if it had a target). An empty result stays no data: the source may
// simply not have the month yet. Rates never fill: with nothing allocated
// there is nothing to rate.
func Evaluate(in Input) ([]Progress, []Rejection) {
	k, h := in.KPI, in.Hierarchy
	if k.Kind == KindCount {
		in.Month = zeroFill(h, k.Level, in.Month)
		in.Year = zeroFill(h, k.Level, in.Year)
		in.Baseline = zeroFill(h, k.Level, in.Baseline)
	}
	var unknownRows []string
	rollUp := func(obs map[string]Observation) map[string]Observation {
		all, u := RollUp(h, obs)
		unknownRows = append(unknownRows, u...)
		return all
	}
	month := rollUp(in.Month)
	year := month
	if k.YearQuery() {
		year = rollUp(in.Year)
	}
	var baseline map[string]Observation
	if k.BaselineQuery() {
		baseline = rollUp(in.Baseline)
	}
	targets, rejected := screenTargets(h, k, in.Targets)
	for _, code := range unknownRows {
		rejected = append(rejected, Rejection{Region: code, Reason: RejectUnknownRow, Detail: "row for a region not in the hierarchy"})
	}

	// covers says whether a region's target covers all of it; a parent
	// without one covers what its children's targets cover.
	var covers func(r Region) bool
	var plans map[string]Plan
	var monthRates, yearRates map[string]float64
	if k.Kind == KindRate {
		monthRates = ResolveRates(h, k, targets, month)
		yearRates = monthRates
		if k.YearQuery() {
			yearRates = ResolveRates(h, k, targets, year)
		}
		covers = func(r Region) bool { return r.Level == k.Level && monthRates[r.Code] > 0 }
	} else {
		plans, _ = ResolvePlans(h, targets)
		covers = func(r Region) bool { return plans[r.Code].Explicit }
	}
	covMonth, covered, total := cover(h, k.Level, month, covers)
	covYear := covMonth
	if k.YearQuery() {
		covYear, _, _ = cover(h, k.Level, year, covers)
	}
	covBase, _, _ := cover(h, k.Level, baseline, covers)

	elapsed := in.Period.Elapsed(in.At)
	yearElapsed := in.Period.YearElapsed(in.At)
	out := make([]Progress, 0, 2*len(h.Regions()))
	for i, r := range h.Regions() {
		if r.Level > k.Level {
			continue
		}
		c := r.Code
		for _, w := range Windows {
			p := Progress{KPI: k.ID, Region: c, Level: r.Level, Window: w, TargetCoverage: Div(float64(covered[i]), float64(total[i]))}
			obs, cov, rates := month[c], covMonth[i], monthRates
			_, has := month[c]
			if w == WindowYear {
				obs, cov, rates = year[c], covYear[i], yearRates
				_, has = year[c]
			}
			judged := true
			if k.Kind == KindRate {
				judged = rateProgress(&p, k, rates[c], obs, cov, has, month[c], covMonth[i], elapsed)
			} else {
				plan, hasPlan := plans[c]
				countProgress(&p, k, in.Period, in.At, plan, hasPlan, obs, cov, covBase[i].Value, has, baseline[c], elapsed, yearElapsed)
			}
			p.Status = status(k, p, has && judged)
			out = append(out, p)
		}
	}
	return out, rejected
}

// screenTargets keeps the targets Evaluate can use and reports the others:
// codes outside the hierarchy and values that cannot be phased. The year
// is the caller's to choose, so it is not checked here.
func screenTargets(h *Hierarchy, k KPI, targets []Target) (ok []Target, rejected []Rejection) {
	ok = make([]Target, 0, len(targets))
	for _, t := range targets {
		err := t.validateValues()
		if err == nil && k.Share && t.Rate > 1 {
			err = fmt.Errorf("target rate %v is above 1, and a share cannot exceed its denominator", t.Rate)
		}
		switch _, known := h.Lookup(t.Region); {
		case !known:
			rejected = append(rejected, Rejection{Region: t.Region, Reason: RejectUnknownRegion, Detail: "region not in the region master"})
		case err != nil:
			rejected = append(rejected, Rejection{Region: t.Region, Reason: RejectInvalidTarget, Detail: err.Error()})
		default:
			ok = append(ok, t)
		}
	}
	return ok, rejected
}

// cover sums, for every region down to level, the observations of the part
// its target covers: all of it when covers says so, else what its
// children's targets cover. It also counts the regions at level under each
// region (total) and how many of them are covered. Results are indexed like
// h.Regions().
func cover(h *Hierarchy, level Level, obs map[string]Observation, covers func(Region) bool) (sums []Observation, covered, total []int) {
	regions := h.Regions()
	sums = make([]Observation, len(regions))
	covered = make([]int, len(regions))
	total = make([]int, len(regions))
	for i := len(regions) - 1; i >= 0; i-- { // children before parents
		r := regions[i]
		if r.Level > level {
			continue
		}
		if r.Level == level {
			total[i] = 1
		}
		if covers(r) {
			sums[i], covered[i] = obs[r.Code], total[i]
		}
		if r.Parent != "" {
			p := h.byCode[r.Parent]
			sums[p].add(sums[i])
			covered[p] += covered[i]
			total[p] += total[i]
		}
	}
	return sums, covered, total
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

// countProgress fills in a count KPI's figures. obs is the region's whole
// observation, cov the part its plan covers, start the covered level on
// 1 January (stocks).
func countProgress(p *Progress, k KPI, period Period, at time.Time, plan Plan, hasPlan bool, obs, cov Observation, start float64, has bool, base Observation, elapsed, yearElapsed float64) {
	if has {
		p.Actual = Some(obs.Value)
		p.Forecast = countForecast(p, k, period, obs.Value, base.Value, elapsed, yearElapsed)
	}
	if !hasPlan {
		// Without a target there is nothing to phase; the trend forecast
		// above still helps. A target of 0 is a target.
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
			p.Target = Some(start + plan.dueBy(mo, start))
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
	if !has {
		return
	}
	actual := cov.Value
	p.Attainment = ratio(k, actual, p.Target.V)
	p.Pace = ratio(k, actual, p.Expected.V)
	if k.Direction == Down && k.Accumulation == Flow {
		// A ceiling on a flow is judged by where the window ends if the
		// rest of it goes to plan: target ÷ (actual + target − expected).
		// Phased pace alone would call the first event of a month behind
		// (1 against the 0.08 allowed by 06:00 on the 1st); this starts
		// at 1, falls as the allowance is used faster than time passes,
		// and ends as the attainment. Above 0, a target of 0 is behind.
		p.Pace = Div(p.Target.V, actual+p.Target.V-p.Expected.V)
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

// rateProgress fills in a rate KPI's figures: obs and month are the
// region's whole observations (this window's and this month's), cov and
// covMonth the parts its target rate covers. It reports whether the
// covered part has anything to judge.
func rateProgress(p *Progress, k KPI, rate float64, obs, cov Observation, has bool, month, covMonth Observation, elapsed float64) bool {
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
		due := cov.Denominator * elapsed
		if p.Window == WindowYear {
			due = cov.Denominator - covMonth.Denominator*(1-elapsed)
		}
		if rate > 0 {
			p.Expected = Div(rate*due, cov.Denominator)
		}
		// Forecast: this month's payments keep their pace to month end.
		paid := 0.0
		if p.Window == WindowYear {
			paid = obs.Numerator - month.Numerator
		}
		p.Forecast = None
		if f := Div(month.Numerator, elapsed); f.OK {
			p.Forecast = Div(paid+f.V, obs.Denominator)
		}
	} else if rate > 0 {
		p.Expected = None // nothing allocated to build up against
	}
	if k.Share && p.Forecast.OK && p.Forecast.V > 1 {
		// A share cannot exceed its denominator: 600 of 1,000 paid by the
		// 4th projects to 1, not 6.2.
		p.Forecast = Some(1)
	}
	actual := cov.Actual(KindRate)
	if !p.Target.OK {
		return true
	}
	if has && actual.OK {
		p.Attainment = ratio(k, actual.V, p.Target.V)
		p.Pace = ratio(k, actual.V, p.Expected.V)
	}
	return actual.OK
}

// ratio is actual ÷ reference, inverted for Down KPIs so that above 1 is
// always better than planned.
func ratio(k KPI, actual, reference float64) Number {
	if k.Direction == Down {
		return Div(reference, actual)
	}
	return Div(actual, reference)
}

// status judges a progress row; has says there is data to judge (for a
// partly targeted parent, in the part its target covers).
func status(k KPI, p Progress, has bool) Status {
	switch {
	case !has || !p.Actual.OK:
		return NoData
	case !p.Target.OK:
		return NoTarget
	case !p.Expected.OK || (p.Expected.V == 0 && k.Direction == Up):
		// Nothing is due yet (the first instant of a flow month, a target
		// of 0): anything is on track.
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
