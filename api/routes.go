package api

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/pantau-id/pantau/kpi"
)

// route is one endpoint: how it is served and how openapi.json describes it.
type route struct {
	method, path, summary string
	// params are the query parameters it takes (described in paramDocs);
	// any other is a 400.
	params []string
	// admin routes write and need an admin token; public ones need none.
	admin, public bool
	// snapshot routes answer 503 before the first refresh.
	snapshot bool
	// store routes answer 501 without a store.
	store bool
	// rows is the element of the JSON array answered; object answers one
	// of it; content names a non-JSON answer.
	rows    any
	object  bool
	content []string
	// body is the JSON request body, if any.
	body   any
	handle func(*request) error
}

func (a *API) table() []route {
	return []route{
		{method: "GET", path: "/kpis", summary: "The KPI catalog with the period of the current values", snapshot: true, rows: KPIRow{}, handle: a.kpis},
		{method: "GET", path: "/regions", summary: "Regions with names, levels and parent codes", params: []string{"level", "parent"}, snapshot: true, rows: RegionRow{}, handle: a.regions},
		{method: "GET", path: "/progress", summary: "Progress per KPI and region: the current month from the last refresh, a closed month from monthly history",
			params: []string{"kpi", "level", "parent", "region", "period", "window"}, snapshot: true, rows: ProgressRow{}, handle: a.progress},
		{method: "GET", path: "/ranking", summary: "Regions ranked among their peers by pace (current month) or attainment (closed month)",
			params: []string{"kpi", "level", "parent", "period", "window", "order", "limit"}, snapshot: true, rows: RankingRow{}, handle: a.ranking},
		{method: "GET", path: "/history", summary: "Monthly values of a region with the year-to-date value and target line, in time order",
			params: []string{"kpi", "region", "from", "to"}, snapshot: true, store: true, rows: HistoryRow{}, handle: a.historyRows},
		{method: "GET", path: "/slips", summary: "Regions at risk or behind now, worst first, with how far behind and since when",
			params: []string{"kpi", "level", "parent", "window", "limit"}, snapshot: true, rows: SlipRow{}, handle: a.slips},
		{method: "GET", path: "/targets", summary: "Annual targets", params: []string{"kpi", "year", "parent"}, snapshot: true, store: true, rows: TargetRow{}, handle: a.targets},
		{method: "GET", path: "/targets/audit", summary: "Changes to targets, newest first", params: []string{"kpi", "region", "year", "limit"}, snapshot: true, store: true, rows: AuditRow{}, handle: a.audit},
		{method: "GET", path: "/targets/:kpi/:region/:year", summary: "One target, with its ETag", snapshot: true, store: true, rows: TargetRow{}, object: true, handle: a.target},
		{method: "PUT", path: "/targets/:kpi/:region/:year", summary: "Set one target (admin), validated and audited like pantau targets import; If-Match makes a stale write a 409",
			admin: true, snapshot: true, store: true, rows: TargetRow{}, object: true, body: TargetPut{}, handle: a.putTarget},
		{method: "GET", path: "/export", summary: "The progress table as an office report (CSV or XLSX, Indonesian headers)",
			params: []string{"format", "kpi", "level", "parent", "period", "window"}, snapshot: true,
			content: []string{"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, handle: a.export},
		{method: "GET", path: "/geo/provinces", summary: "Province boundaries as GeoJSON, feature id = province code (CC BY 4.0, see api/geo/README.md)",
			content: []string{"application/geo+json"}, handle: a.geo},
		{method: "GET", path: "/openapi.json", summary: "This document", public: true, content: []string{"application/json"}, handle: a.openapi},
	}
}

//go:embed geo/provinces.geojson
var provincesGeoJSON []byte

type geoCollection struct {
	Type     string            `json:"type"`
	Name     string            `json:"name,omitempty"`
	Features []json.RawMessage `json:"features"`
}

type geoFeature struct {
	Properties struct {
		Code string `json:"KODE_PROV"`
	} `json:"properties"`
}

// geo serves the province boundaries; a scoped token gets its own province
// only.
func (a *API) geo(r *request) error {
	r.Header("Content-Type", "application/geo+json")
	// private: a scoped token gets its own province, so a shared cache must
	// not hand one token's answer to another.
	r.Header("Cache-Control", "private, max-age=86400")
	r.Header("Vary", "Authorization")
	if r.scope() == kpi.NationalCode {
		r.Data(http.StatusOK, "application/geo+json", provincesGeoJSON)
		return nil
	}
	var all geoCollection
	if err := json.Unmarshal(provincesGeoJSON, &all); err != nil {
		return err
	}
	province := strings.SplitN(r.scope(), ".", 2)[0]
	out := geoCollection{Type: all.Type, Name: all.Name, Features: []json.RawMessage{}}
	for _, f := range all.Features {
		var g geoFeature
		if err := json.Unmarshal(f, &g); err != nil {
			return err
		}
		if g.Properties.Code == province {
			out.Features = append(out.Features, f)
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	r.Data(http.StatusOK, "application/geo+json", b)
	return nil
}
