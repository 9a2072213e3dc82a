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
	return t.validateValues()
}

// validateValues checks the figures of a target, whatever its year.
func (t Target) validateValues() error {
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
// twelfth month lands exactly on the annual target. It is total: a profile
// Validate would reject (not twelve values, negative, adding up to nothing)
// phases linearly instead of panicking, since one bad stored row must not
// take the service down.
func PlanFor(t Target) Plan {
	p := Plan{Annual: t.Annual, Explicit: true}
	total := profileTotal(t.Profile)
	for m := 1; m < 12; m++ {
		if total > 0 {
			p.cum[m] = t.Annual * profileRun(t.Profile, m) / total
		} else {
			p.cum[m] = t.Annual * float64(m) / 12
		}
	}
	p.cum[12] = t.Annual
	return p
}

// profileTotal is the sum of a usable profile, 0 for none or an unusable one.
func profileTotal(profile []float64) float64 {
	if len(profile) != 12 {
		return 0
	}
	total := 0.0
	for _, v := range profile {
		if !(v >= 0) || math.IsInf(v, 0) {
			return 0
		}
		total += v
	}
	if math.IsInf(total, 0) {
		return 0
	}
	return total
}

func profileRun(profile []float64, months int) float64 {
	run := 0.0
	for _, v := range profile[:months] {
		run += v
	}
	return run
}

// Cumulative is the target due by the end of month m.
func (p Plan) Cumulative(m time.Month) float64 { return p.cum[m] }

// Monthly is the target for month m alone.
func (p Plan) Monthly(m time.Month) float64 { return p.cum[m] - p.cum[m-1] }

// Share is the fraction of the annual target due by instant at, with the
// current month interpolated by time elapsed in it. A plan of 0 has no
// fraction of its own; it phases linearly, so a stock target of 0 still
// falls from the level at the start of the year.
func (p Plan) Share(period Period, at time.Time) Number {
	m := period.Month()
	if p.Annual == 0 {
		return Some(period.YearElapsed(at))
	}
	due := p.cum[m-1] + p.Monthly(m)*period.Elapsed(at)
	return Div(due, p.Annual)
}

// dueBy is how much of the way from start to the annual target is due by
// the end of month m (a plan of 0 falls linearly).
func (p Plan) dueBy(m time.Month, start float64) float64 {
	if p.Annual == 0 {
		return -start * float64(m) / 12
	}
	return (p.Annual - start) * p.cum[m] / p.Annual
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

// ResolveRates gives every region its target rate in one window, from
// obs, that window's observations rolled up. A region at the KPI's level
// takes its own rate, else its nearest ancestor's, else the KPI's fixed
// rate. A region above it takes its own rate, else the mean of its
// children's rates weighted by their denominators (Σ rateᵢ × denᵢ ÷
// Σ denᵢ, over the children that have a rate), so that its target weighs
// each kecamatan as its actual does (with nothing allocated under it, the
// plain mean). A region with no rate below it takes its nearest ancestor's
// or the fixed one, as a kecamatan does. A zero
// result means no target. Targets for unknown regions are ignored here;
// Evaluate reports them.
func ResolveRates(h *Hierarchy, k KPI, targets []Target, obs map[string]Observation) map[string]float64 {
	own := make(map[string]float64, len(targets))
	for _, t := range targets {
		if t.Rate > 0 {
			own[t.Region] = t.Rate
		}
	}
	regions := h.Regions()
	// inherited is the rate a region gets from above: its own, else its
	// nearest ancestor's, else the fixed one. Indexed like regions.
	inherited := make([]float64, len(regions))
	for i, r := range regions { // parents first
		switch {
		case own[r.Code] > 0:
			inherited[i] = own[r.Code]
		case r.Parent != "" && inherited[h.byCode[r.Parent]] > 0:
			inherited[i] = inherited[h.byCode[r.Parent]]
		case k.TargetRate > 0:
			inherited[i] = k.TargetRate
		}
	}
	type acc struct {
		weighted, weight float64 // Σ rateᵢ × denᵢ, Σ denᵢ
		sum              float64 // Σ rateᵢ, for children with nothing allocated
		n                int
		rate             float64 // the children's rate while they all agree
		mixed            bool
	}
	rates := make(map[string]float64, len(regions))
	accs := make([]acc, len(regions))
	for i := len(regions) - 1; i >= 0; i-- { // children before parents
		r := regions[i]
		if r.Level > k.Level {
			continue
		}
		rate, a := inherited[i], accs[i]
		switch {
		case r.Level == k.Level:
			a.weight = obs[r.Code].Denominator
		case own[r.Code] > 0 || a.n == 0:
		case !a.mixed:
			rate = a.rate // exact when every child has the same rate
		case a.weight > 0:
			rate = a.weighted / a.weight
		default:
			rate = a.sum / float64(a.n)
		}
		if rate <= 0 {
			continue
		}
		rates[r.Code] = rate
		if r.Parent != "" {
			pa := &accs[h.byCode[r.Parent]]
			if pa.n > 0 && pa.rate != rate {
				pa.mixed = true
			}
			pa.rate = rate
			pa.weighted += rate * a.weight
			pa.weight += a.weight
			pa.sum += rate
			pa.n++
		}
	}
	return rates
}
