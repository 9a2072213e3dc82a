package collector

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/config"
)

// DataState says how current a KPI's values are.
type DataState string

const (
	// DataFresh: the KPI's last refresh succeeded.
	DataFresh DataState = "fresh"
	// DataStale: the last refresh failed; the values are from an earlier
	// one (LastSuccess).
	DataStale DataState = "stale"
	// DataNeverSucceeded: every refresh since pantau started failed, so
	// there are no values at all, only the error.
	DataNeverSucceeded DataState = "never_succeeded"
)

// Data is the KPI's data state.
func (st *KPIState) Data() DataState {
	switch {
	case st.Err == "":
		return DataFresh
	case !st.LastSuccess.IsZero():
		return DataStale
	}
	return DataNeverSucceeded
}

// Failed lists the KPIs whose refresh failed in this snapshot.
func (s *Snapshot) Failed() []string {
	var ids []string
	for _, st := range s.KPIs {
		if st.Err != "" {
			ids = append(ids, st.Def.ID)
		}
	}
	return ids
}

// Readiness is nil when the collector has values to serve for every KPI:
// a refresh has finished and each KPI has succeeded at least once. A KPI
// that went stale later keeps the collector ready (its last good values are
// served and pantau_kpi_stale says so), but one that has never succeeded,
// like a fresh deployment that cannot reach its source, does not.
func (c *Collector) Readiness() error {
	s := c.Snapshot()
	if s == nil {
		return errors.New("the first refresh has not finished")
	}
	var never []string
	for _, st := range s.KPIs {
		if st.Data() == DataNeverSucceeded {
			never = append(never, fmt.Sprintf("%s: %s", st.Def.ID, st.Err))
		}
	}
	if len(never) > 0 {
		return fmt.Errorf("%d of %d KPIs have never refreshed successfully:\n%s", len(never), len(s.KPIs), strings.Join(never, "\n"))
	}
	return nil
}

// Problems describes what is wrong while the collector is ready: each KPI
// served with its last good values because its refresh failed (with the
// error and when the values are from), then each failure recorded with
// SetProblem, like pantau's store being unreachable. None of them makes the
// collector unready, but /readyz names them so whoever looks sees what is
// wrong; nil when all is well.
func (c *Collector) Problems() []string {
	var out []string
	if s := c.Snapshot(); s != nil {
		for _, st := range s.KPIs {
			if st.Data() == DataStale {
				out = append(out, fmt.Sprintf("%s: %s (last good values from %s)", st.Def.ID, st.Err, st.LastSuccess.Format(time.RFC3339)))
			}
		}
	}
	c.problemsMu.Lock()
	defer c.problemsMu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(c.problems)) {
		out = append(out, name+": "+c.problems[name])
	}
	return out
}

// SetProblem records that what name stands for (like "monthly history")
// failed with err, until it is called again with a nil err.
func (c *Collector) SetProblem(name string, err error) {
	c.problemsMu.Lock()
	defer c.problemsMu.Unlock()
	if err == nil {
		delete(c.problems, name)
		return
	}
	c.problems[name] = err.Error()
}

// Spec is the spec in use: the one given to New, or the last reload
// applied by a refresh.
func (c *Collector) Spec() *config.Spec { return c.spec.Load() }

// reload is a spec waiting for the next refresh.
type reload struct {
	spec    *config.Spec
	sources map[string]Querier
	applied func()
}

// Reload replaces the spec and the source connections from the next
// refresh on; the refresh in flight, if any, finishes with the old ones.
// It checks that every KPI's source is connected and keeps the current
// spec when not. applied, when not nil, runs once the new spec is in use,
// before that refresh queries anything (serve closes the connections the
// new spec no longer uses). A later Reload before the next refresh
// replaces this one.
func (c *Collector) Reload(spec *config.Spec, sources map[string]Querier, applied func()) error {
	if spec == nil {
		return errors.New("collector: reload without a spec")
	}
	for _, k := range spec.KPIs {
		if sources[k.Source] == nil {
			return fmt.Errorf("collector: kpi %s: source %s is not connected", k.ID, k.Source)
		}
	}
	c.pendingMu.Lock()
	c.pending = &reload{spec: spec, sources: sources, applied: applied}
	c.pendingMu.Unlock()
	return nil
}

// applyReload puts a pending reload into use. It runs under refreshMu.
func (c *Collector) applyReload() {
	c.pendingMu.Lock()
	r := c.pending
	c.pending = nil
	c.pendingMu.Unlock()
	if r == nil {
		return
	}
	old := c.opts.Spec
	// A KPI whose definition or source settings changed starts its caches
	// afresh: its closed months' sums, level on 1 January and latest month
	// came from the old query.
	closed, baselines, latest := map[string]*closedMonths{}, map[string]*baseline{}, map[string]*latestMonth{}
	for _, k := range r.spec.KPIs {
		was, found := old.KPI(k.ID)
		if found && reflect.DeepEqual(was, k) && reflect.DeepEqual(old.Sources[k.Source], r.spec.Sources[k.Source]) {
			closed[k.ID], baselines[k.ID], latest[k.ID] = c.closed[k.ID], c.baselines[k.ID], c.latest[k.ID]
		} else {
			closed[k.ID], baselines[k.ID], latest[k.ID] = &closedMonths{}, &baseline{}, &latestMonth{}
		}
	}
	c.closed, c.baselines, c.latest = closed, baselines, latest
	c.opts.Spec, c.opts.Sources = r.spec, r.sources
	c.expose = newExposure(r.spec, c.opts.Scope)
	c.spec.Store(r.spec)
	c.metrics.kpisChanged(old, r.spec)
	c.log.Info("reloaded spec applied", "file", r.spec.File, "kpis", len(r.spec.KPIs), "refresh", r.spec.Refresh)
	if r.applied != nil {
		r.applied()
	}
}

// kpisChanged drops the per-KPI self-metrics of KPIs a reload removed and
// starts those of KPIs it added at zero, as New does.
func (m *selfMetrics) kpisChanged(old, cur *config.Spec) {
	ids := cur.KPIIDs()
	for _, id := range old.KPIIDs() {
		if !slices.Contains(ids, id) {
			for _, v := range []interface {
				DeletePartialMatch(prometheus.Labels) int
			}{m.refreshFailures, m.rowsRejected, m.targetsRejected, m.closedChanges, m.queryDuration} {
				v.DeletePartialMatch(prometheus.Labels{"kpi": id})
			}
		}
	}
	m.initKPIs(cur)
}
