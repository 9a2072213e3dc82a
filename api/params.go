package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// maxLimit caps every limit parameter: at most one history read's worth of
// regions (slips reads the history of up to limit regions at once).
const maxLimit = store.HistoryMaxRegions

// selection is which rows of which KPIs a request asks for, already held
// to the token's scope.
type selection struct {
	kpis   []collector.KPIState
	scope  string
	level  *kpi.Level
	parent string          // rows strictly below this region; "" for any
	region map[string]bool // only these regions; nil for any
	window kpi.Window
}

func (s *selection) match(r kpi.Region) bool {
	return kpi.Contains(s.scope, r.Code) &&
		(s.level == nil || r.Level == *s.level) &&
		(s.parent == "" || (r.Code != s.parent && kpi.Contains(s.parent, r.Code))) &&
		(s.region == nil || s.region[r.Code])
}

// list splits a comma-separated parameter (Grafana's ${var:csv}).
func (r *request) list(name string) []string {
	v := r.Query(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// kpis reads the kpi parameter: every KPI of the snapshot when absent.
func (r *request) kpis() ([]collector.KPIState, error) { return r.a.kpiStates(r.snap, r.list("kpi")) }

func (a *API) kpiStates(snap *collector.Snapshot, ids []string) ([]collector.KPIState, error) {
	if len(ids) == 0 {
		return snap.KPIs, nil
	}
	out := make([]collector.KPIState, 0, len(ids))
	for _, id := range ids {
		st, ok := snap.KPI(id)
		if !ok {
			return nil, errorf(http.StatusNotFound, "unknown_kpi", "kpi %q is not in the spec; GET %s/kpis lists them (%s)", id, Prefix, strings.Join(a.spec().KPIIDs(), ", "))
		}
		out = append(out, st)
	}
	return out, nil
}

// oneKPI reads a kpi parameter that must name exactly one KPI.
func (r *request) oneKPI() (collector.KPIState, error) {
	ids := r.list("kpi")
	if len(ids) != 1 {
		return collector.KPIState{}, badParam("kpi", "name one KPI, like kpi=%s", r.a.spec().KPIIDs()[0])
	}
	ks, err := r.kpis()
	if err != nil {
		return collector.KPIState{}, err
	}
	return ks[0], nil
}

// region looks a code up in the snapshot's tree and checks it against the
// token's scope.
func (r *request) region(name, code string) (kpi.Region, error) {
	return lookupRegion(r.snap, r.scope(), name, code)
}

func lookupRegion(snap *collector.Snapshot, scope, name, code string) (kpi.Region, error) {
	if _, err := kpi.CodeLevel(code); err != nil {
		return kpi.Region{}, badParam(name, "%v", err)
	}
	reg, ok := snap.Hierarchy.Lookup(code)
	if !ok {
		return kpi.Region{}, errorf(http.StatusNotFound, "unknown_region", "%s: region %s is not in the region master (or not collected by this pantau)", name, code)
	}
	if !kpi.Contains(scope, code) {
		return kpi.Region{}, forbidden("%s: region %s is outside the token's scope %s", name, code, scope)
	}
	return reg, nil
}

func (r *request) level() (*kpi.Level, error) {
	v := r.Query("level")
	if v == "" {
		return nil, nil
	}
	l, err := kpi.ParseLevel(v)
	if err != nil {
		return nil, badParam("level", "%v", err)
	}
	return &l, nil
}

func (r *request) window() (kpi.Window, error) {
	switch v := r.Query("window"); v {
	case "", "month":
		return kpi.WindowMonth, nil
	case "year":
		return kpi.WindowYear, nil
	default:
		return "", badParam("window", "%q: use month or year", v)
	}
}

// selection reads kpi, level, parent, region and window, whichever the
// route takes.
func (r *request) selection() (*selection, error) {
	q := ProgressQuery{Scope: r.scope(), KPIs: r.list("kpi"), Parent: r.Query("parent"), Regions: r.list("region")}
	var err error
	if q.Level, err = r.level(); err != nil {
		return nil, err
	}
	if q.Window, err = r.window(); err != nil {
		return nil, err
	}
	return r.a.selection(r.snap, q)
}

// selection checks a query against the snapshot and its scope.
func (a *API) selection(snap *collector.Snapshot, q ProgressQuery) (*selection, error) {
	s := &selection{scope: q.Scope, level: q.Level, window: q.Window}
	if s.scope == "" {
		s.scope = kpi.NationalCode
	}
	if s.window == "" {
		s.window = kpi.WindowMonth
	}
	var err error
	if s.kpis, err = a.kpiStates(snap, q.KPIs); err != nil {
		return nil, err
	}
	if l := s.level; l != nil {
		if sl, _ := kpi.CodeLevel(s.scope); *l < sl {
			return nil, forbidden("level %s is above the token's scope %s (a %s): it sees %s and below", *l, s.scope, sl, s.scope)
		}
	}
	if p := q.Parent; p != "" {
		if _, err := lookupRegion(snap, s.scope, "parent", p); err != nil {
			return nil, err
		}
		s.parent = p
	}
	if q.Regions != nil {
		s.region = map[string]bool{}
		for _, c := range q.Regions {
			if _, err := lookupRegion(snap, s.scope, "region", c); err != nil {
				return nil, err
			}
			s.region[c] = true
		}
	}
	return s, nil
}

// period reads the period parameter; the zero Period means each KPI's
// current one.
func (r *request) period() (kpi.Period, error) {
	v := r.Query("period")
	if v == "" {
		return kpi.Period{}, nil
	}
	p, err := kpi.ParsePeriod(v, r.a.loc())
	if err != nil {
		return kpi.Period{}, badParam("period", "%v", err)
	}
	return p, nil
}

// month reads a from/to parameter: a month (2026-03), an RFC 3339 time or
// epoch milliseconds (Grafana's ${__timeFrom}), turned into its month.
func (r *request) month(name string) (kpi.Period, error) {
	v := r.Query(name)
	if v == "" {
		return kpi.Period{}, nil
	}
	if p, err := kpi.ParsePeriod(v, r.a.loc()); err == nil {
		return p, nil
	}
	var p kpi.Period
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		p = kpi.PeriodAt(t, r.a.loc())
	} else if ms, err := strconv.ParseInt(v, 10, 64); err == nil && len(v) >= 10 {
		p = kpi.PeriodAt(time.UnixMilli(ms), r.a.loc())
	} else {
		return kpi.Period{}, badParam(name, "%q: write a month like 2026-03, an RFC 3339 time, or epoch milliseconds", v)
	}
	// The months from from on are walked one by one and answered as RFC
	// 3339 times: epoch milliseconds can name a month a million years
	// away, millions of steps that end in a time JSON cannot hold.
	if p.Year() < minYear || p.Year() > maxYear {
		return kpi.Period{}, badParam(name, "%q is in the year %d; pantau's months are %d to %d", v, p.Year(), minYear, maxYear)
	}
	return p, nil
}

// minYear and maxYear bound the months a request may name: ParsePeriod's
// lower bound, and the last year an RFC 3339 time can hold.
const (
	minYear = 1900
	maxYear = 9999
)

// limit reads the limit parameter, def when absent.
func (r *request) limit(def int) (int, error) {
	v := r.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badParam("limit", "%q: a whole number from 1 to %d", v, maxLimit)
	}
	return n, nil
}
