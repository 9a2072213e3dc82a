package api

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"

	"github.com/pantau-id/pantau/kpi"
)

// paramDocs describe every query parameter by name; the same name means
// the same thing on every route.
var paramDocs = map[string]map[string]any{
	"kpi":    {"description": "KPI id from GET /kpis; a comma-separated list where a route takes several (Grafana: ${kpi:csv}). ranking takes exactly one.", "schema": map[string]any{"type": "string"}},
	"level":  {"description": "Only regions at this level.", "schema": map[string]any{"type": "string", "enum": []string{"nasional", "provinsi", "kabupaten_kota", "kecamatan", "desa"}}},
	"parent": {"description": "Only regions below this region code (32 for the regions of Jawa Barat).", "schema": map[string]any{"type": "string", "examples": []string{"32", "32.16"}}},
	"region": {"description": "Region code; on progress a comma-separated list. history defaults to the token's scope (the nation).", "schema": map[string]any{"type": "string", "examples": []string{"32.16.06"}}},
	"period": {"description": "A month, YYYY-MM. Absent or the KPI's current month: the last refresh; an earlier month: monthly history.", "schema": map[string]any{"type": "string", "pattern": `^\d{4}-\d{2}$`}},
	"window": {"description": "month (default): the month alone; year: the year to date.", "schema": map[string]any{"type": "string", "enum": []string{"month", "year"}, "default": "month"}},
	"order":  {"description": "worst (default) or best first.", "schema": map[string]any{"type": "string", "enum": []string{"worst", "best"}, "default": "worst"}},
	"limit":  {"description": "At most this many rows.", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": maxLimit}},
	"from":   {"description": "First month: YYYY-MM, an RFC 3339 time or epoch milliseconds (Grafana's ${__timeFrom}). Default January of last year.", "schema": map[string]any{"type": "string"}},
	"to":     {"description": "Last month, written like from. Default the current month.", "schema": map[string]any{"type": "string"}},
	"year":   {"description": "Only this year's targets.", "schema": map[string]any{"type": "integer"}},
	"format": {"description": "csv (default) or xlsx.", "schema": map[string]any{"type": "string", "enum": []string{"csv", "xlsx"}, "default": "csv"}},
}

var numberType = reflect.TypeFor[kpi.Number]()
var timeType = reflect.TypeFor[Time]()

// schemaOf describes a row type from its Go fields: kpi.Number is a number
// or null, Time an RFC 3339 string or null, and nothing else is ever null.
func schemaOf(t reflect.Type) map[string]any {
	switch t {
	case numberType:
		return map[string]any{"type": []string{"number", "null"}}
	case timeType:
		return map[string]any{"type": []string{"string", "null"}, "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Pointer:
		s := schemaOf(t.Elem())
		s["type"] = []any{s["type"], "null"}
		return s
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		var walk func(reflect.Type)
		walk = func(t reflect.Type) {
			for f := range t.Fields() {
				if f.Anonymous {
					walk(f.Type)
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" {
					continue
				}
				props[name] = schemaOf(f.Type)
				required = append(required, name)
			}
		}
		walk(t)
		return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
	}
	panic("api: no schema for " + t.String())
}

var pathParam = regexp.MustCompile(`:([a-z]+)`)

// openAPIPath turns gin's /targets/:kpi into OpenAPI's /targets/{kpi}.
func openAPIPath(p string) string { return Prefix + pathParam.ReplaceAllString(p, "{$1}") }

// Document is the OpenAPI 3.1 description of the routes.
func (a *API) Document() map[string]any {
	errorSchema := map[string]any{"$ref": "#/components/schemas/Error"}
	paths := map[string]any{}
	for _, rt := range a.routes {
		op := map[string]any{"summary": rt.summary, "operationId": strings.ToLower(rt.method) + strings.NewReplacer("/", "_", ":", "", ".", "_").Replace(rt.path)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, name := range rt.params {
			d := paramDocs[name]
			params = append(params, map[string]any{"name": name, "in": "query", "description": d["description"], "schema": d["schema"]})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.body))}}}
		}
		ok := map[string]any{"description": "OK"}
		switch {
		case rt.rows != nil && rt.object:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(rt.rows))}}
		case rt.rows != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "array", "items": schemaOf(reflect.TypeOf(rt.rows))}}}
		default:
			content := map[string]any{}
			for _, c := range rt.content {
				content[c] = map[string]any{}
			}
			ok["content"] = content
		}
		responses := map[string]any{"200": ok}
		if rt.method == "PUT" {
			responses["201"] = map[string]any{"description": "Created", "content": ok["content"]}
		}
		for code, desc := range map[string]string{"400": "A malformed or unknown parameter", "401": "No valid token", "403": "Wrong role, or a region outside the token's scope",
			"404": "Unknown KPI or region", "409": "If-Match names a version that is no longer current", "413": "Body too large",
			"501": "This pantau runs without a store", "503": "The first refresh has not finished, or pantau's store is unavailable (Retry-After)"} {
			responses[code] = map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": errorSchema}}}
		}
		op["responses"] = responses
		op["security"] = []any{map[string]any{"bearer": []string{}}}
		if rt.public {
			op["security"] = []any{} // no token needed
		}
		path := openAPIPath(rt.path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(rt.method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "pantau API", "version": "1",
			"description": "KPI progress per region for Grafana (Infinity datasource) and people. Rows are flat; numbers are JSON numbers or null where the schema says so; times are RFC 3339 with the spec's offset. Errors are {\"error\": {\"code\", \"message\"}}."},
		"paths": paths,
		"components": map[string]any{
			"schemas": map[string]any{"Error": map[string]any{"type": "object", "required": []string{"error"}, "properties": map[string]any{
				"error": map[string]any{"type": "object", "required": []string{"code", "message"}, "properties": map[string]any{
					"code": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}}}}}},
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token from pantau token create (pnt_...)."}},
		},
	}
}

func (a *API) openapi(r *request) error {
	r.Header("Cache-Control", "public, max-age=3600")
	r.JSON(http.StatusOK, a.Document())
	return nil
}
