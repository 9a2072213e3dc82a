// Package dashboards generates pantau's Grafana dashboards. The JSON files
// next to this package are its output (go test ./dashboards -update
// rewrites them); provisioning/ holds the YAML that loads them and both
// datasources into Grafana. docs/grafana.md describes every panel.
//
// The dashboards are built from plain Go values rather than
// grafana-foundation-sdk: its classic dashboard model is deprecated in
// favour of a v2 schema that file provisioning does not read, and it has no
// query type for the Infinity datasource the API panels need.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Datasources, as provisioned by provisioning/datasources/pantau.yml.
const (
	PrometheusUID  = "pantau-prometheus"
	PrometheusType = "prometheus"
	InfinityUID    = "pantau-api"
	InfinityType   = "yesoreyeram-infinity-datasource"
)

// Dashboard uids; alert rules link to DetailUID.
const (
	RingkasanUID   = "pantau-ringkasan"
	PerbandinganID = "pantau-perbandingan"
	DetailUID      = "pantau-detail-kpi"
	KesehatanUID   = "pantau-kesehatan"
)

// SchemaVersion is Grafana 11's dashboard schema; newer versions migrate
// it on load.
const SchemaVersion = 39

type obj = map[string]any

var (
	promDS     = obj{"type": PrometheusType, "uid": PrometheusUID}
	infinityDS = obj{"type": InfinityType, "uid": InfinityUID}
)

// Dashboard is one generated dashboard.
type Dashboard struct {
	File string // name of the JSON file in dashboards/
	JSON obj
}

// All returns every dashboard, in menu order.
func All() []Dashboard {
	return []Dashboard{ringkasan(), perbandingan(), detail(), kesehatan()}
}

// Marshal renders a dashboard as indented JSON with a final newline.
func (d Dashboard) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	// PromQL holds < and &; Grafana reads them either way, people read
	// them better unescaped.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d.JSON); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dashboard(uid, title, description string, vars []obj, panels []obj) obj {
	return obj{
		"uid":           uid,
		"title":         title,
		"description":   description,
		"tags":          []string{"pantau"},
		"timezone":      "Asia/Jakarta",
		"schemaVersion": SchemaVersion,
		"editable":      true,
		"graphTooltip":  1,
		"refresh":       "5m",
		"time":          obj{"from": "now-90d", "to": "now"},
		"templating":    obj{"list": vars},
		"annotations":   obj{"list": []obj{}},
		"links": []obj{{
			"type": "dashboards", "title": "Dasbor pantau", "tags": []string{"pantau"},
			"asDropdown": true, "includeVars": true, "keepTime": true,
		}},
		"panels": panels,
	}
}

// layout places panels left to right in rows of Grafana's 24 columns.
type layout struct{ x, y, rowH, id int }

func (l *layout) next(w, h int) obj {
	if l.x+w > 24 {
		l.x, l.y, l.rowH = 0, l.y+l.rowH, 0
	}
	gp := obj{"x": l.x, "y": l.y, "w": w, "h": h}
	l.x += w
	if h > l.rowH {
		l.rowH = h
	}
	return gp
}

// panel builds a panel; fieldConfig and options may be nil.
func (l *layout) panel(kind, title, description string, w, h int, ds obj, targets []obj, defaults, options obj, extra obj) obj {
	l.id++
	if defaults == nil {
		defaults = obj{}
	}
	if options == nil {
		options = obj{}
	}
	p := obj{
		"id": l.id, "type": kind, "title": title, "description": description,
		"gridPos": l.next(w, h), "datasource": ds, "targets": targets,
		"fieldConfig": obj{"defaults": defaults, "overrides": []obj{}},
		"options":     options,
	}
	for k, v := range extra {
		p[k] = v
	}
	return p
}

// prom is a Prometheus range query, for time series.
func prom(ref, expr, legend string) obj {
	return obj{"refId": ref, "datasource": promDS, "expr": expr, "legendFormat": legend, "editorMode": "code",
		"range": true, "instant": false, "format": "time_series"}
}

// promNow is an instant query, one value per series, for stats and bar
// gauges.
func promNow(ref, expr, legend string) obj {
	t := prom(ref, expr, legend)
	t["range"], t["instant"] = false, true
	return t
}

// promTable is an instant query whose labels become table columns.
func promTable(ref, expr string) obj {
	t := promNow(ref, expr, "")
	t["format"] = "table"
	return t
}

// column is one field an Infinity query keeps, by its JSON key.
type column struct{ selector, text, kind string }

// infinity is an Infinity query against pantau's API with the backend
// parser (the one that works in alert rules), on a top-level JSON array.
func infinity(ref, path string, params [][2]string, format string, cols ...column) obj {
	ps := make([]obj, len(params))
	for i, p := range params {
		ps[i] = obj{"key": p[0], "value": p[1]}
	}
	cs := make([]obj, len(cols))
	for i, c := range cols {
		cs[i] = obj{"selector": c.selector, "text": c.text, "type": c.kind}
	}
	return obj{
		"refId": ref, "datasource": infinityDS, "type": "json", "source": "url", "parser": "backend",
		"format": format, "url": path, "url_options": obj{"method": "GET", "params": ps},
		"root_selector": "", "columns": cs,
	}
}

// regionName joins the region's name onto every series of expr.
func regionName(expr string) string {
	return "(" + expr + ")\n* on (region_code) group_left (name) pantau_region_info"
}

// kpiName joins the KPI's name, as kpi_name, onto every series of expr.
func kpiName(expr string) string {
	return "(" + expr + ")\n* on (kpi) group_left (kpi_name) label_replace(pantau_kpi_info, \"kpi_name\", \"$1\", \"name\", \"(.*)\")"
}

// Status codes: one number per status so that a stat or a table cell can
// be coloured and labelled by value mappings.
var statuses = []struct {
	status string
	code   int
	text   string
	color  string
}{
	{"on_track", 3, "Sesuai rencana", "green"},
	{"at_risk", 2, "Berisiko", "orange"},
	{"behind", 1, "Tertinggal", "red"},
	{"no_target", 0, "Tanpa target", "text"},
	{"no_data", -1, "Tanpa data", "text"},
}

// statusCode turns pantau_kpi_status series matching matchers into their
// status codes.
func statusCode(matchers string) string {
	parts := make([]string, len(statuses))
	for i, s := range statuses {
		parts[i] = fmt.Sprintf(`(%d * pantau_kpi_status{status=%q,%s})`, s.code, s.status, matchers)
	}
	return strings.Join(parts, "\nor ")
}

func statusMappings() []obj {
	opts := obj{}
	for i, s := range statuses {
		opts[fmt.Sprint(s.code)] = obj{"text": s.text, "color": s.color, "index": i}
	}
	return []obj{{"type": "value", "options": opts}}
}

// apiStatusMappings labels the API's status strings like statusMappings
// labels the codes.
func apiStatusMappings() []obj {
	opts := obj{}
	for i, s := range statuses {
		opts[s.status] = obj{"text": s.text, "color": s.color, "index": i}
	}
	return []obj{{"type": "value", "options": opts}}
}

// thresholds colour attainment and pace: below the default at_risk
// threshold red, below on_track orange.
func paceThresholds() obj {
	return obj{"mode": "absolute", "steps": []obj{
		{"color": "red", "value": nil}, {"color": "orange", "value": 0.85}, {"color": "green", "value": 0.95},
	}}
}

// organize keeps only the listed fields of a table, in that order, under
// their new names.
func organize(fields ...[2]string) []obj {
	names := make([]string, len(fields))
	rename, index := obj{}, obj{}
	for i, f := range fields {
		names[i] = f[0]
		rename[f[0]] = f[1]
		index[f[0]] = i
	}
	return []obj{
		{"id": "filterFieldsByName", "options": obj{"include": obj{"names": names}}},
		{"id": "organize", "options": obj{"renameByName": rename, "indexByName": index, "excludeByName": obj{}}},
	}
}

func merge() obj { return obj{"id": "merge", "options": obj{}} }

// dataLink opens another pantau dashboard from a table cell.
func dataLink(title, uid, query string) obj {
	return obj{"title": title, "url": "/d/" + uid + "?" + query + "&${__url_time_range}"}
}

// Variables.

func promVar(name, label, query, regex string, multi, all bool) obj {
	v := obj{
		"type": "query", "name": name, "label": label, "datasource": promDS,
		"query":      obj{"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 3},
		"definition": query, "regex": regex, "refresh": 1, "sort": 1,
		"multi": multi, "includeAll": all, "current": obj{},
	}
	if all {
		v["allValue"] = ".*"
	}
	return v
}

// Variable regexes pick value and text out of query_result's lines, whose
// labels Prometheus sorts by name.
const (
	kpiRegex    = `/kpi="(?<value>[^"]+)".*name="(?<text>[^"]+)"/`
	regionRegex = `/name="(?<text>[^"]+)".*region_code="(?<value>[^"]+)"/`
)

func kpiVar() obj {
	return promVar("kpi", "KPI", "query_result(pantau_kpi_info)", kpiRegex, false, false)
}

func provinsiVar(all bool) obj {
	return promVar("provinsi", "Provinsi", `query_result(pantau_region_info{level="provinsi"})`, regionRegex, false, all)
}

func customVar(name, label string, options ...[2]string) obj {
	parts := make([]string, len(options))
	for i, o := range options {
		parts[i] = o[0] + " : " + o[1]
	}
	return obj{"type": "custom", "name": name, "label": label, "query": strings.Join(parts, ", "),
		"multi": false, "includeAll": false, "current": obj{}}
}
