package kpi

// Observation is what a source reported for one region in one window: a
// value for count KPIs, numerator and denominator for rates.
type Observation struct {
	Value       float64
	Numerator   float64
	Denominator float64
	// Invalid marks a region the source reported with an unusable row (a
	// NULL or negative value): it has no data, rather than the zero a
	// missing count row would mean.
	Invalid bool
}

func (o *Observation) add(p Observation) {
	o.Value += p.Value
	o.Numerator += p.Numerator
	o.Denominator += p.Denominator
}

// Actual is the observation's figure for a KPI of the given kind: the value
// for counts, Σnumerator ÷ Σdenominator for rates (undefined when nothing was
// due).
func (o Observation) Actual(kind Kind) Number {
	if kind == KindRate {
		return Div(o.Numerator, o.Denominator)
	}
	return Some(o.Value)
}

// RollUp sums observations reported at the lowest level into every
// ancestor up to the nation. Counts add up; rates keep numerator and
// denominator apart so a province's rate is Σnumerator ÷ Σdenominator over
// its kecamatan, never a mean of their ratios. Codes missing from the
// hierarchy are returned, not silently dropped.
func RollUp(h *Hierarchy, obs map[string]Observation) (all map[string]Observation, unknown []string) {
	all = make(map[string]Observation, len(obs)*2)
	for code, o := range obs {
		if _, ok := h.Lookup(code); !ok {
			unknown = append(unknown, code)
			continue
		}
		if o.Invalid {
			continue
		}
		for c, ok := code, true; ok; c, ok = ParentCode(c) {
			if _, known := h.byCode[c]; !known {
				break
			}
			sum := all[c]
			sum.add(o)
			all[c] = sum
		}
	}
	return all, unknown
}
