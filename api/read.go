package api

import (
	"cmp"
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// Time is an instant written as RFC 3339 with the spec's offset
// (2026-10-16T12:00:00+07:00); the zero Time is null.
type Time struct{ time.Time }

// MarshalJSON writes RFC 3339 with the offset, or null when zero.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.Format(time.RFC3339) + `"`), nil
}

func (a *API) at(t time.Time) Time {
	if t.IsZero() {
		return Time{}
	}
	return Time{t.In(a.loc())}
}

// KPIRow is one entry of the catalog.
type KPIRow struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Unit             string     `json:"unit"`
	Kind             string     `json:"kind"`
	Accumulation     string     `json:"accumulation"`
	Direction        string     `json:"direction"`
	Level            string     `json:"level"`
	OnTrackThreshold float64    `json:"on_track_threshold"`
	AtRiskThreshold  float64    `json:"at_risk_threshold"`
	TargetRate       kpi.Number `json:"target_rate"`
	Period           string     `json:"period"`
	Stale            bool       `json:"stale"`
	ComputedAt       Time       `json:"computed_at"`
}

// RegionRow is one region of the hierarchy. Codes above a region's level
// are "" (the nation has no parent), never null.
type RegionRow struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Level        string `json:"level"`
	ParentCode   string `json:"parent_code"`
	ProvinceCode string `json:"province_code"`
	RegencyCode  string `json:"regency_code"`
}

// ProgressRow is how one KPI stands in one region for one window: the
// metrics contract's fields, flat.
type ProgressRow struct {
	KPI          string     `json:"kpi"`
	RegionCode   string     `json:"region_code"`
	RegionName   string     `json:"region_name"`
	Level        string     `json:"level"`
	ProvinceCode string     `json:"province_code"`
	RegencyCode  string     `json:"regency_code"`
	Period       string     `json:"period"`
	Window       string     `json:"window"`
	Actual       kpi.Number `json:"actual"`
	Target       kpi.Number `json:"target"`
	Expected     kpi.Number `json:"expected"`
	Attainment   kpi.Number `json:"attainment"`
	Pace         kpi.Number `json:"pace"`
	Forecast     kpi.Number `json:"forecast"`
	Status       string     `json:"status"`
	Numerator    kpi.Number `json:"numerator"`
	Denominator  kpi.Number `json:"denominator"`
	Stale        bool       `json:"stale"`
	// ComputedAt is when the values were computed: the refresh for the
	// current month, the closing for a month from history.
	ComputedAt Time `json:"computed_at"`
}

func (a *API) kpis(r *request) error {
	rows := make([]KPIRow, 0, len(r.snap.KPIs))
	for _, st := range r.snap.KPIs {
		d := st.Def
		row := KPIRow{ID: d.ID, Name: d.Name, Unit: d.Unit, Kind: string(d.Kind), Accumulation: string(d.Accumulation),
			Direction: string(d.Direction), Level: d.Level.String(),
			OnTrackThreshold: d.Thresholds.OnTrack, AtRiskThreshold: d.Thresholds.AtRisk,
			Period: st.Period.String(), Stale: st.Stale, ComputedAt: a.at(st.LastSuccess)}
		if d.Accumulation == "" {
			row.Accumulation = string(kpi.Flow) // rates are flows unless they say otherwise
		}
		if d.TargetRate > 0 {
			row.TargetRate = kpi.Some(d.TargetRate)
		}
		rows = append(rows, row)
	}
	return r.reply(http.StatusOK, rows)
}

func regionRow(reg kpi.Region) RegionRow {
	return RegionRow{Code: reg.Code, Name: reg.Name, Level: reg.Level.String(), ParentCode: reg.Parent,
		ProvinceCode: reg.ProvinceCode(), RegencyCode: reg.RegencyCode()}
}

func (a *API) regions(r *request) error {
	s, err := r.selection()
	if err != nil {
		return err
	}
	rows := []RegionRow{}
	for _, reg := range r.snap.Hierarchy.Regions() {
		if s.match(reg) {
			rows = append(rows, regionRow(reg))
		}
	}
	return r.reply(http.StatusOK, rows)
}

func (a *API) progressRow(h *kpi.Hierarchy, p *kpi.Progress, period string, stale bool, at time.Time) ProgressRow {
	reg, _ := h.Lookup(p.Region)
	return ProgressRow{KPI: p.KPI, RegionCode: p.Region, RegionName: reg.Name, Level: p.Level.String(),
		ProvinceCode: reg.ProvinceCode(), RegencyCode: reg.RegencyCode(), Period: period, Window: string(p.Window),
		Actual: p.Actual, Target: p.Target, Expected: p.Expected, Attainment: p.Attainment, Pace: p.Pace,
		Forecast: p.Forecast, Status: string(p.Status), Numerator: p.Numerator, Denominator: p.Denominator,
		Stale: stale, ComputedAt: a.at(at)}
}

// progressRows collects the selected rows of the period (each KPI's
// current period when zero): the current month from the snapshot, a
// closed one from monthly history. Rows come by KPI, then level and code.
func (r *request) progressRows(s *selection, period kpi.Period) ([]ProgressRow, error) {
	rows, fromStore, err := r.a.progressRows(r.Request.Context(), r.snap, s, period)
	r.fromStore = r.fromStore || fromStore
	return rows, err
}

// progressRows is request.progressRows for any caller; fromStore says
// whether monthly history was read.
func (a *API) progressRows(ctx context.Context, snap *collector.Snapshot, s *selection, period kpi.Period) (rows []ProgressRow, fromStore bool, err error) {
	rows = []ProgressRow{}
	for _, st := range s.kpis {
		if period.IsZero() || period == st.Period {
			for i := range st.Progress {
				p := &st.Progress[i]
				if p.Window != s.window {
					continue
				}
				if reg, ok := snap.Hierarchy.Lookup(p.Region); ok && s.match(reg) {
					rows = append(rows, a.progressRow(snap.Hierarchy, p, st.Period.String(), st.Stale, st.LastSuccess))
				}
			}
			continue
		}
		if !period.Before(st.Period) {
			return nil, fromStore, badParam("period", "%s has no values yet for %s: its latest month is %s", period, st.Def.ID, st.Period)
		}
		fromStore = true
		f := store.HistoryFilter{KPI: st.Def.ID, From: period.String(), To: period.String(), Window: s.window, Level: s.level}
		if n := len(s.region); n > 0 && n <= store.HistoryMaxRegions {
			f.Regions = slices.Sorted(maps.Keys(s.region))
		}
		hist, err := a.readHistory(ctx, f)
		if err != nil {
			return nil, fromStore, err
		}
		for i := range hist {
			h := &hist[i]
			if reg, ok := snap.Hierarchy.Lookup(h.Region); ok && s.match(reg) {
				p := kpi.Progress{KPI: h.KPI, Region: h.Region, Level: h.Level, Window: h.Window, Status: h.Status,
					Actual: h.Actual, Numerator: h.Numerator, Denominator: h.Denominator, Target: h.Target,
					Expected: h.Expected, Attainment: h.Attainment, Pace: h.Pace}
				rows = append(rows, a.progressRow(snap.Hierarchy, &p, h.Period, false, h.ClosedAt))
			}
		}
	}
	// History comes by region code; the snapshot by level, then code.
	slices.SortStableFunc(rows, func(a, b ProgressRow) int {
		return cmp.Or(cmp.Compare(a.KPI, b.KPI), cmp.Compare(levelOf(a.Level), levelOf(b.Level)), cmp.Compare(a.RegionCode, b.RegionCode))
	})
	return rows, fromStore, nil
}

func levelOf(name string) kpi.Level {
	l, _ := kpi.ParseLevel(name)
	return l
}

// history reads monthly history; the store must be there.
func (r *request) history(f store.HistoryFilter) ([]store.HistoryRow, error) {
	r.fromStore = true
	return r.a.readHistory(r.Request.Context(), f)
}

func (a *API) readHistory(ctx context.Context, f store.HistoryFilter) ([]store.HistoryRow, error) {
	if a.opts.Store == nil {
		return nil, errorf(http.StatusNotImplemented, "no_store", "past months come from monthly history, and this pantau runs without a store (serve --store)")
	}
	return a.opts.Store.History(ctx, f)
}

func (a *API) progress(r *request) error {
	s, err := r.selection()
	if err != nil {
		return err
	}
	period, err := r.period()
	if err != nil {
		return err
	}
	rows, err := r.progressRows(s, period)
	if err != nil {
		return err
	}
	return r.reply(http.StatusOK, rows)
}

// RankingRow is one region's place among its peers.
type RankingRow struct {
	Rank int `json:"rank"`
	ProgressRow
	// RankedBy is pace for the current month (how a region does so far)
	// and attainment for a closed month (how it ended).
	RankedBy string  `json:"ranked_by"`
	Value    float64 `json:"value"`
}

func (a *API) ranking(r *request) error {
	st, err := r.oneKPI()
	if err != nil {
		return err
	}
	s, err := r.selection()
	if err != nil {
		return err
	}
	if s.level == nil {
		// Peers by default: the regions one level below the parent, or
		// below the token's scope.
		under := s.parent
		if under == "" {
			under = s.scope
		}
		l, _ := kpi.CodeLevel(under)
		l = min(l+1, st.Def.Level)
		s.level = &l
	}
	period, err := r.period()
	if err != nil {
		return err
	}
	current := period.IsZero() || period == st.Period
	rows, err := r.progressRows(s, period)
	if err != nil {
		return err
	}
	by := "attainment"
	if current {
		by = "pace"
	}
	ranked := []RankingRow{}
	for _, p := range rows {
		v := p.Attainment
		if current {
			v = p.Pace
		}
		if v.OK {
			ranked = append(ranked, RankingRow{ProgressRow: p, RankedBy: by, Value: v.V})
		}
	}
	best := false
	switch o := r.Query("order"); o {
	case "", "worst":
	case "best":
		best = true
	default:
		return badParam("order", "%q: use worst or best", o)
	}
	limit, err := r.limit(10)
	if err != nil {
		return err
	}
	slices.SortStableFunc(ranked, func(a, b RankingRow) int {
		c := cmp.Compare(a.Value, b.Value)
		if best {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.RegionCode, b.RegionCode))
	})
	ranked = ranked[:min(limit, len(ranked))]
	for i := range ranked {
		ranked[i].Rank = i + 1
	}
	return r.reply(http.StatusOK, ranked)
}

// SlipRow is a region at risk or behind now.
type SlipRow struct {
	ProgressRow
	// BehindBy is how far the region is from where it should be now, in
	// the KPI's unit: expected − actual, or actual − expected for a KPI
	// where lower is better.
	BehindBy float64 `json:"behind_by"`
	// Since is the first month of the current run of at_risk or behind
	// months (the current month when the month before was on track or is
	// not in history).
	Since string `json:"since"`
}

func (a *API) slips(r *request) error {
	s, err := r.selection()
	if err != nil {
		return err
	}
	limit, err := r.limit(100)
	if err != nil {
		return err
	}
	rows, err := r.progressRows(s, kpi.Period{})
	if err != nil {
		return err
	}
	var out []SlipRow
	for _, p := range rows {
		if p.Status != string(kpi.AtRisk) && p.Status != string(kpi.Behind) || !p.Expected.OK || !p.Actual.OK {
			continue
		}
		gap := p.Expected.V - p.Actual.V
		if st, _ := r.snap.KPI(p.KPI); st.Def.Direction == kpi.Down {
			gap = -gap
		}
		out = append(out, SlipRow{ProgressRow: p, BehindBy: gap, Since: p.Period})
	}
	slices.SortStableFunc(out, func(a, b SlipRow) int {
		return cmp.Or(cmp.Compare(a.Pace.V, b.Pace.V), cmp.Compare(a.KPI, b.KPI), cmp.Compare(a.RegionCode, b.RegionCode))
	})
	out = out[:min(limit, len(out))]
	if err := r.slipsSince(r.Request.Context(), out, s); err != nil {
		return err
	}
	// Closed months change only when a month closes, right after a
	// refresh: the answer may be cached with the snapshot like the rest.
	r.fromStore = false
	if out == nil {
		out = []SlipRow{}
	}
	return r.reply(http.StatusOK, out)
}

// sinceMonths is how far back a run of slipping months is followed.
const sinceMonths = 24

// slipsSince follows each slip's closed months back while they were at
// risk or behind too, up to sinceMonths: one read of history per KPI, of
// the slipping regions' months only (a lookup each by primary key), walked
// in memory. (A read per month walked back read every region's month: on
// the national demo, about 8 s for the first /slips.)
func (r *request) slipsSince(ctx context.Context, slips []SlipRow, s *selection) error {
	if len(slips) == 0 || r.a.opts.Store == nil {
		return nil
	}
	for _, st := range s.kpis {
		var codes []string
		for _, sl := range slips {
			if sl.KPI == st.Def.ID {
				codes = append(codes, sl.RegionCode)
			}
		}
		if len(codes) == 0 {
			continue
		}
		last, first := st.Period.Prev(), st.Period
		for range sinceMonths {
			first = first.Prev()
		}
		hist, err := r.history(store.HistoryFilter{KPI: st.Def.ID, Regions: codes, From: first.String(), To: last.String(), Window: s.window, Level: s.level})
		if err != nil {
			return err
		}
		type month struct{ region, period string }
		slipped := map[month]bool{}
		for _, h := range hist {
			slipped[month{h.Region, h.Period}] = h.Status == kpi.AtRisk || h.Status == kpi.Behind
		}
		for i := range slips {
			sl := &slips[i]
			if sl.KPI != st.Def.ID {
				continue
			}
			for p := last; slipped[month{sl.RegionCode, p.String()}]; p = p.Prev() {
				sl.Since = p.String()
			}
		}
	}
	return ctx.Err()
}

// HistoryRow is one month of one KPI in one region.
type HistoryRow struct {
	// Time is the month's first instant in the spec's zone.
	Time       Time       `json:"time"`
	Period     string     `json:"period"`
	KPI        string     `json:"kpi"`
	RegionCode string     `json:"region_code"`
	RegionName string     `json:"region_name"`
	Level      string     `json:"level"`
	Actual     kpi.Number `json:"actual"`
	Target     kpi.Number `json:"target"`
	// CumulativeActual is the year to date: the sum of the months for a
	// flow, the level for a stock, the year's rate for a rate.
	CumulativeActual kpi.Number `json:"cumulative_actual"`
	// CumulativeTarget is the target line the year-to-date value is held
	// against: the sum of the months' targets for a flow, the month's
	// level target for a stock, the target rate for a rate.
	CumulativeTarget kpi.Number `json:"cumulative_target"`
	Attainment       kpi.Number `json:"attainment"`
	Status           string     `json:"status"`
	// Final is false for the current month, whose values still change.
	Final bool `json:"final"`
}

func (a *API) historyRows(r *request) error {
	ks, err := r.kpis()
	if err != nil {
		return err
	}
	code := r.Query("region")
	if code == "" {
		code = r.scope()
	}
	reg, err := r.region("region", code)
	if err != nil {
		return err
	}
	from, err := r.month("from")
	if err != nil {
		return err
	}
	to, err := r.month("to")
	if err != nil {
		return err
	}
	if from.IsZero() {
		// January of last year on, as the demo's data goes.
		from = kpi.NewPeriod(kpi.PeriodAt(a.opts.Now(), a.loc()).Year()-1, time.January, a.loc())
	}
	if !to.IsZero() && to.Before(from) {
		return badParam("to", "%s is before from %s", to, from)
	}
	r.fromStore = true
	rows, err := a.historyOf(r.Request.Context(), ks, reg, from, to)
	if err != nil {
		return err
	}
	return r.reply(http.StatusOK, rows)
}

// historyOf is the history of the KPIs in reg from one month to another
// (to zero: each KPI's current month), closed months from the store.
func (a *API) historyOf(ctx context.Context, ks []collector.KPIState, reg kpi.Region, from, to kpi.Period) ([]HistoryRow, error) {
	rows := []HistoryRow{}
	for _, st := range ks {
		last := st.Period
		if !to.IsZero() && to.Before(last) {
			last = to
		}
		// Cumulative targets of flows add up from January.
		start := kpi.NewPeriod(from.Year(), time.January, a.loc())
		hist, err := a.readHistory(ctx, store.HistoryFilter{KPI: st.Def.ID, Regions: []string{reg.Code}, From: start.String(), To: last.String()})
		if err != nil {
			return nil, err
		}
		type months struct{ month, year *kpi.Progress }
		byPeriod := map[string]*months{}
		get := func(p string) *months {
			if byPeriod[p] == nil {
				byPeriod[p] = &months{}
			}
			return byPeriod[p]
		}
		for _, h := range hist {
			p := &kpi.Progress{Actual: h.Actual, Target: h.Target, Attainment: h.Attainment, Status: h.Status}
			if h.Window == kpi.WindowMonth {
				get(h.Period).month = p
			} else {
				get(h.Period).year = p
			}
		}
		current := map[kpi.Window]*kpi.Progress{}
		if !last.Before(st.Period) {
			for i := range st.Progress {
				if p := &st.Progress[i]; p.Region == reg.Code {
					current[p.Window] = p
				}
			}
			m := get(st.Period.String())
			m.month, m.year = current[kpi.WindowMonth], current[kpi.WindowYear]
		}
		var cumTarget kpi.Number
		for p := start; !last.Before(p); p = p.Next() {
			m := byPeriod[p.String()]
			if p.Month() == time.January {
				cumTarget = kpi.Some(0)
			}
			if m == nil || m.month == nil {
				cumTarget = kpi.None
				continue
			}
			row := HistoryRow{Time: a.at(p.Start()), Period: p.String(), KPI: st.Def.ID, RegionCode: reg.Code,
				RegionName: reg.Name, Level: reg.Level.String(), Actual: m.month.Actual, Target: m.month.Target,
				Attainment: m.month.Attainment, Status: string(m.month.Status), Final: p != st.Period}
			if m.year != nil {
				row.CumulativeActual = m.year.Actual
			}
			switch {
			case st.Def.Kind == kpi.KindRate:
				if m.year != nil {
					row.CumulativeTarget = m.year.Target
				}
			case st.Def.Accumulation == kpi.Stock:
				row.CumulativeTarget = m.month.Target
			default:
				if cumTarget.OK && m.month.Target.OK {
					cumTarget = kpi.Some(cumTarget.V + m.month.Target.V)
				} else {
					cumTarget = kpi.None
				}
				row.CumulativeTarget = cumTarget
			}
			if !p.Before(from) {
				rows = append(rows, row)
			}
		}
	}
	// Infinity's long-to-wide conversion needs rows in time order.
	slices.SortStableFunc(rows, func(a, b HistoryRow) int { return a.Time.Compare(b.Time.Time) })
	return rows, nil
}
