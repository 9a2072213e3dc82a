package kpi

import (
	"fmt"
	"math"
	"time"
)

// Target is what an office sets for one KPI in one region for one year.
type Target struct {
	KPI    string
	Region string
	Year   int
	// Annual is the year's target: for flow KPIs the total over the year,
	// for stock KPIs the level due by year end.
	Annual float64
	// Profile optionally spreads Annual over the months (January first). The
	// twelve values are monthly targets and add up to Annual. Nil phases
	// linearly, 1/12 a month.
	Profile []float64
	// Rate is a per-region target rate for a rate KPI; it overrides the
	// KPI's fixed TargetRate.
	Rate float64
}

// profileTolerance absorbs the rounding of spreadsheet-entered decimals.
const profileTolerance = 1e-6

// Validate checks one target on its own.
func (t Target) Validate() error {
	if t.Year < 1900 || t.Year > 9999 {
		return fmt.Errorf("year %d out of range", t.Year)
	}
	if math.IsNaN(t.Annual) || math.IsInf(t.Annual, 0) || t.Annual < 0 {
		return fmt.Errorf("target %v must be a number ≥ 0", t.Annual)
	}
	if math.IsNaN(t.Rate) || math.IsInf(t.Rate, 0) || t.Rate < 0 {
		return fmt.Errorf("target rate %v must be a number ≥ 0", t.Rate)
	}
	if t.Profile == nil {
		return nil
	}
	if len(t.Profile) != 12 {
		return fmt.Errorf("monthly profile has %d values, want 12 (jan..des)", len(t.Profile))
	}
	sum := 0.0
	for i, v := range t.Profile {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("monthly profile: %s is %v, must be a number ≥ 0", time.Month(i+1), v)
		}
		sum += v
	}
	if math.Abs(sum-t.Annual) > profileTolerance*math.Max(1, math.Abs(t.Annual)) {
		return fmt.Errorf("monthly profile adds up to %v, not the annual target %v", sum, t.Annual)
	}
	return nil
}

// Plan is a target phased into cumulative month-end targets.
type Plan struct {
	// Annual is the year's target.
	Annual float64
	// Explicit is true when the region has its own target, false when the
	// plan is the sum of its children's.
	Explicit bool
	// cum[m] is the cumulative target due by the end of month m (cum[0] = 0,
	// cum[12] = Annual exactly).
	cum [13]float64
}

// PlanFor phases a target into cumulative month-end targets. Cumulative
// values are computed directly rather than by adding monthly pieces, so the
// twelfth month lands exactly on the annual target.
func PlanFor(t Target) Plan {
	p := Plan{Annual: t.Annual, Explicit: true}
	if t.Profile == nil {
		for m := 1; m < 12; m++ {
			p.cum[m] = t.Annual * float64(m) / 12
		}
	} else {
		total, run := 0.0, 0.0
		for _, v := range t.Profile {
			total += v
		}
		for m := 1; m < 12; m++ {
			run += t.Profile[m-1]
			if total > 0 {
				p.cum[m] = t.Annual * run / total
			}
		}
	}
	p.cum[12] = t.Annual
	return p
}

// Cumulative is the target due by the end of month m.
func (p Plan) Cumulative(m time.Month) float64 { return p.cum[m] }

// Monthly is the target for month m alone.
func (p Plan) Monthly(m time.Month) float64 { return p.cum[m] - p.cum[m-1] }

// Share is the fraction of the annual target due by instant at, with the
// current month interpolated by time elapsed in it.
func (p Plan) Share(period Period, at time.Time) Number {
	m := period.Month()
	due := p.cum[m-1] + p.Monthly(m)*period.Elapsed(at)
	return Div(due, p.Annual)
}

func (p *Plan) add(q Plan) {
	p.Annual += q.Annual
	for i := range p.cum {
		p.cum[i] += q.cum[i]
	}
}

// ResolvePlans phases a year's targets of one KPI and fills in every region
// above them: a region with its own target uses it; one without gets the sum
// of its children's plans. Targets for regions not in the hierarchy are
// returned as unknown rather than dropped silently.
func ResolvePlans(h *Hierarchy, targets []Target) (plans map[string]Plan, unknown []Target) {
	plans = make(map[string]Plan, len(targets))
	for _, t := range targets {
		if _, ok := h.Lookup(t.Region); !ok {
			unknown = append(unknown, t)
			continue
		}
		if t.Annual == 0 && t.Rate != 0 {
			continue // a rate target; see ResolveRates
		}
		plans[t.Region] = PlanFor(t)
	}
	regions := h.Regions()
	// Regions are ordered parents first, so walking backwards sums every
	// child before its parent is read.
	for i := len(regions) - 1; i >= 0; i-- {
		r := regions[i]
		p, ok := plans[r.Code]
		if !ok || r.Parent == "" {
			continue
		}
		parent := plans[r.Parent]
		if parent.Explicit {
			continue
		}
		parent.add(p)
		plans[r.Parent] = parent
	}
	return plans, unknown
}

// ResolveRates gives every region its target rate: its own, else its
// nearest ancestor's, else the KPI's fixed rate. A zero result means no target.
func ResolveRates(h *Hierarchy, k KPI, targets []Target) map[string]float64 {
	own := make(map[string]float64, len(targets))
	for _, t := range targets {
		if t.Rate > 0 {
			own[t.Region] = t.Rate
		}
	}
	rates := make(map[string]float64, len(h.Regions()))
	for _, r := range h.Regions() { // parents first
		switch {
		case own[r.Code] > 0:
			rates[r.Code] = own[r.Code]
		case r.Parent != "" && rates[r.Parent] > 0:
			rates[r.Code] = rates[r.Parent]
		case k.TargetRate > 0:
			rates[r.Code] = k.TargetRate
		}
	}
	return rates
}
