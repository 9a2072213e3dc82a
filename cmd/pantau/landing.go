package main

import (
	"html/template"
	"net/http"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
)

// The landing page is for people (a Kepala Dinas, an operator), so it is in
// Indonesian. It says how current each KPI's data is apart from how the
// regions stand: "the refresh worked" is not "on target".
var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>pantau</title>
<style>body{font-family:sans-serif;max-width:70em;margin:2em auto;padding:0 1em}td,th{padding:.2em .8em;text-align:left;vertical-align:top}
.terkini{color:#1a7f37}.basi{color:#9a6700}.gagal{color:#cf222e}</style>
</head><body>
<h1>pantau</h1>
<p>Pemantauan capaian KPI bulanan terhadap target, per wilayah.</p>
<ul>
<li><a href="metrics">/metrics</a> — metrik Prometheus</li>
<li><a href="healthz">/healthz</a> · <a href="readyz">/readyz</a></li>
</ul>
{{if .KPIs}}<p>Pembaruan terakhir: {{.At}}.{{if .NotReady}} <strong class="gagal">Belum siap:</strong> ada KPI yang belum pernah berhasil diperbarui.{{end}}</p>
<h2>KPI</h2>
<table><tr><th>KPI</th><th>Periode</th><th>Data</th><th>Status {{.Root}}</th><th>{{.Children}}, bulan ini</th></tr>
{{range .KPIs}}<tr><td>{{.Name}} <small>({{.ID}})</small></td><td>{{.Period}}</td>
<td><span class="{{.Class}}">{{.Data}}</span>{{if .Updated}}<br><small>data per {{.Updated}}</small>{{end}}{{if .Err}}<br><small>{{.Err}}</small>{{end}}</td>
<td>{{.RootStatus}}</td>
<td>{{range $i, $c := .Counts}}{{if $i}} · {{end}}{{$c.N}} {{$c.Label}}{{else}}—{{end}}</td></tr>
{{end}}</table>{{else}}<p>Menunggu pembaruan pertama…</p>{{end}}
</body></html>
`))

// statusLabels name the statuses for people.
var statusLabels = map[kpi.Status]string{
	kpi.OnTrack:  "sesuai target",
	kpi.AtRisk:   "berisiko",
	kpi.Behind:   "tertinggal",
	kpi.NoTarget: "tanpa target",
	kpi.NoData:   "tanpa data",
}

var levelLabels = map[kpi.Level]string{
	kpi.LevelNasional:      "nasional",
	kpi.LevelProvinsi:      "provinsi",
	kpi.LevelKabupatenKota: "kabupaten/kota",
	kpi.LevelKecamatan:     "kecamatan",
	kpi.LevelDesa:          "desa/kelurahan",
}

type landingData struct {
	At             string
	NotReady       bool
	Root, Children string // the scope's level and the level below it
	KPIs           []landingKPI
}

type landingKPI struct {
	ID, Name, Period string
	Data, Class      string // how current the data is, in words and as a CSS class
	Updated, Err     string
	RootStatus       string
	Counts           []statusCount
}

type statusCount struct {
	Label string
	N     int
}

// wib formats an instant for the page, in Jakarta time whatever the
// server's zone.
func wib(t time.Time) string { return t.In(kpi.WIB).Format("2006-01-02 15:04:05") + " WIB" }

// landingView turns a snapshot into the page's rows: per KPI whether its
// data is fresh, stale or failing, the scope's own status this month, and
// how many regions one level down (provinces, for a national deployment)
// have each status.
func landingView(s *collector.Snapshot, scope string, ready bool) landingData {
	if s == nil {
		return landingData{}
	}
	rootLevel, err := kpi.CodeLevel(scope)
	if err != nil {
		rootLevel = kpi.LevelNasional
	}
	d := landingData{At: wib(s.At), NotReady: !ready, Root: levelLabels[rootLevel], Children: levelLabels[rootLevel+1]}
	for i := range s.KPIs {
		st := &s.KPIs[i]
		row := landingKPI{ID: st.Def.ID, Name: st.Def.Name, Period: st.Period.String(), Err: st.Err, RootStatus: "—"}
		switch st.Data() {
		case collector.DataFresh:
			row.Data, row.Class = "terkini", "terkini"
		case collector.DataStale:
			row.Data, row.Class = "basi: pembaruan terakhir gagal", "basi"
		default:
			row.Data, row.Class = "gagal: belum pernah berhasil diperbarui", "gagal"
		}
		if !st.LastSuccess.IsZero() {
			row.Updated = wib(st.LastSuccess)
		}
		counts := map[kpi.Status]int{}
		for _, p := range st.Progress {
			if p.Window != kpi.WindowMonth {
				continue
			}
			switch {
			case p.Region == scope:
				row.RootStatus = statusLabels[p.Status]
			case p.Level == rootLevel+1:
				counts[p.Status]++
			}
		}
		for _, status := range kpi.Statuses {
			if counts[status] > 0 {
				row.Counts = append(row.Counts, statusCount{statusLabels[status], counts[status]})
			}
		}
		d.KPIs = append(d.KPIs, row)
	}
	return d
}

func (rt *app) landing(w http.ResponseWriter, _ *http.Request) {
	d := landingView(rt.collector.Snapshot(), rt.collector.Scope(), rt.collector.Ready())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := landingPage.Execute(w, d); err != nil {
		rt.log.Warn("landing page", "err", err)
	}
}
