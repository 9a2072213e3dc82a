package api

import (
	"context"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// Reader gives pages served by the same binary (the overview) what the
// API answers, as Go values: the same rows and the same scope rules,
// without a round trip through HTTP and JSON. Its errors are *Error, with
// the status and code the API would answer, except the store's own (down,
// full), which the API's handlers turn into 503 store_unavailable and the
// reader returns as they are (store.IsUnavailable tells them).
type Reader struct{ a *API }

// Reader returns the API's reader.
func (a *API) Reader() *Reader { return &Reader{a} }

// OpenRead reports whether reading needs no token (serve --api-open-read).
func (rd *Reader) OpenRead() bool { return rd.a.opts.OpenRead }

// HasTokens reports whether there is a store, where tokens live.
func (rd *Reader) HasTokens() bool { return rd.a.opts.Store != nil }

// Token checks a token's secret as the API checks a bearer token: unknown
// or revoked is a 401.
func (rd *Reader) Token(ctx context.Context, secret string) (store.Token, error) {
	return rd.a.lookupToken(ctx, secret)
}

// Snapshot is the latest snapshot; before the first refresh a 503.
func (rd *Reader) Snapshot() (*collector.Snapshot, error) {
	s := rd.a.opts.Snapshots.Snapshot()
	if s == nil {
		return nil, errNotReady()
	}
	return s, nil
}

// Source names the source a KPI reads, "" for a KPI no longer in the spec.
func (rd *Reader) Source(kpiID string) string {
	k, _ := rd.a.spec().KPI(kpiID)
	return k.Source
}

// Region looks a code up in the snapshot and checks it against scope (a
// token's scope, "" the nation): 400 for a malformed code, 404 for one not
// collected, 403 for one outside the scope.
func (rd *Reader) Region(snap *collector.Snapshot, scope, code string) (kpi.Region, error) {
	if scope == "" {
		scope = kpi.NationalCode
	}
	return lookupRegion(snap, scope, "region", code)
}

// ProgressQuery selects progress rows as GET /progress's parameters do.
type ProgressQuery struct {
	// Scope is the token's region scope; "" is the nation.
	Scope string
	// KPIs are KPI ids; nil is every KPI.
	KPIs []string
	// Level, Parent and Regions filter like level, parent and region.
	Level   *kpi.Level
	Parent  string
	Regions []string
	// Window is month when "".
	Window kpi.Window
	// Period is each KPI's current month when zero; an earlier month comes
	// from monthly history.
	Period kpi.Period
}

// Progress is GET /progress's answer.
func (rd *Reader) Progress(ctx context.Context, snap *collector.Snapshot, q ProgressQuery) ([]ProgressRow, error) {
	s, err := rd.a.selection(snap, q)
	if err != nil {
		return nil, err
	}
	rows, _, err := rd.a.progressRows(ctx, snap, s, q.Period)
	return rows, err
}

// History is GET /history's answer for the KPIs in a region within scope,
// from one month to each KPI's current month.
func (rd *Reader) History(ctx context.Context, snap *collector.Snapshot, scope string, kpis []string, region string, from kpi.Period) ([]HistoryRow, error) {
	reg, err := rd.Region(snap, scope, region)
	if err != nil {
		return nil, err
	}
	ks, err := rd.a.kpiStates(snap, kpis)
	if err != nil {
		return nil, err
	}
	return rd.a.historyOf(ctx, ks, reg, from, kpi.Period{})
}

// ProvinceBoundaries is the embedded province GeoJSON served at
// /geo/provinces (CC BY 4.0, attribution in api/geo/README.md).
func ProvinceBoundaries() []byte { return provincesGeoJSON }
