package collector

import (
	"slices"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// Snapshot is the result of one refresh. It is never modified after it is
// published, so readers share it without locks.
type Snapshot struct {
	// At is the refresh instant progress was computed for.
	At time.Time
	// Hierarchy is the region tree the snapshot covers (the whole country or
	// one shard of it).
	Hierarchy *kpi.Hierarchy
	// KPIs holds one entry per KPI of the spec, in spec order.
	KPIs []KPIState
	// Duration is how long the refresh took.
	Duration time.Duration

	exposition *exposition
	// exposure is what of the snapshot goes to Prometheus; nil is all.
	exposure *exposure
}

// KPIState is one KPI's part of a snapshot.
type KPIState struct {
	Def kpi.KPI
	// Period is the month the values are for: the current month in the
	// spec's time zone, or an earlier one for a source that lags.
	Period kpi.Period
	// Progress has one row per region and window; nil until the KPI's first
	// successful refresh.
	Progress []kpi.Progress
	// Stale is true when the last refresh failed and Progress is carried
	// over from an earlier one.
	Stale bool
	// Err is the last refresh's error, empty when it succeeded.
	Err string
	// LastSuccess is when Progress was computed.
	LastSuccess time.Time
	// Rejected counts this refresh's dropped rows by reason.
	Rejected map[string]int
	// RejectedTargets lists this refresh's targets that could not be used:
	// for regions not in the hierarchy, or with invalid values.
	RejectedTargets []kpi.Rejection
	// Durations holds the last run time of each query (month, year, baseline).
	Durations map[string]time.Duration
	// Rows is how many rows each query of this refresh returned, good and
	// rejected (a year or baseline query only when it ran).
	Rows map[string]int
	// Targets is how many targets of the period's year the store holds for
	// the KPI in scope, before any is rejected.
	Targets int

	// part is the KPI's share of the exposition, rendered when Progress was
	// computed and carried over with it when the KPI goes stale.
	part *kpiPart
}

// KPI returns the state of the KPI with the given id.
func (s *Snapshot) KPI(id string) (KPIState, bool) {
	for _, k := range s.KPIs {
		if k.Def.ID == id {
			return k, true
		}
	}
	return KPIState{}, false
}

// Series is the number of KPI series in the snapshot's exposition.
func (s *Snapshot) Series() int {
	if s.exposition == nil {
		return 0
	}
	return s.exposition.series
}

// exposure decides which of a snapshot's rows go to Prometheus: the spec's
// exposure, and a shard's scope. A shard (--region 32) computes its
// ancestors, up to the nation, from its own regions alone; published, such
// a partial sum would clash with the real one in any federation, so only
// the scope's region and those below it are exposed.
type exposure struct {
	scope string
	// kpis holds each KPI's exposure by id; a KPI not in it exposes every
	// row in scope.
	kpis map[string]config.Exposure
}

func newExposure(spec *config.Spec, scope string) *exposure {
	x := &exposure{scope: scope, kpis: map[string]config.Exposure{}}
	for _, k := range spec.KPIs {
		x.kpis[k.ID] = k.Exposure
	}
	return x
}

// keep returns whether a row of the KPI goes to Prometheus in family.
func (x *exposure) keep(id, family string) func(*kpi.Progress) bool {
	if x == nil {
		return func(*kpi.Progress) bool { return true }
	}
	inScope := func(p *kpi.Progress) bool { return kpi.Contains(x.scope, p.Region) }
	e, ok := x.kpis[id]
	switch {
	case !ok || !slices.Contains(config.Families, family):
		return inScope
	case !slices.Contains(e.Families, family):
		return func(*kpi.Progress) bool { return false }
	}
	// config.Exposure.Exposes with the family settled once, not per row.
	return func(p *kpi.Progress) bool {
		return inScope(p) && slices.Contains(e.Levels, p.Level) && slices.Contains(e.Windows, p.Window)
	}
}

// region reports whether pantau_region_info lists r: every region in
// scope, at every level. It is the name directory dashboards pick regions
// from, kecamatan included, whose figures then come from the API; one
// constant series per region, with no KPI or window multiplier.
func (x *exposure) region(r kpi.Region) bool {
	return x == nil || kpi.Contains(x.scope, r.Code)
}
