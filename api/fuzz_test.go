package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// The fuzz targets send arbitrary requests to the real router over a
// refreshed collector and a SQLite store. Whatever comes in, the answer is
// never a 5xx or a panic: a 2xx or 304 with a body of its content type,
// or a 4xx with the error JSON. Their seed corpora (f.Add and
// testdata/fuzz) run with every go test; bench/fuzz.sh fuzzes each for a
// bounded time.

// fuzzTokens are the tokens a fuzzed request may carry, by a number.
var fuzzTokens = []string{"", "admin", "bekasi", "revoked"}

// FuzzQuery sends GET (and other methods') requests with arbitrary paths
// under the prefix and arbitrary raw query strings, as a client writes
// them on the request line.
func FuzzQuery(f *testing.F) {
	// Every route, with parameters that keep each answer small: the seeds
	// run in every go test -race.
	for _, s := range []struct{ path, query string }{
		{"/kpis", ""},
		{"/regions", "level=kecamatan&parent=32.16"},
		{"/progress", "kpi=ewarong_aktif&level=kabupaten_kota&parent=32"},
		{"/ranking", "kpi=sembako_salur&level=kecamatan&parent=32.16&limit=100"},
		{"/history", "kpi=sembako_salur&region=32.16&from=2026-09"},
		{"/slips", "kpi=kube_jasa&parent=32.16&limit=5"},
		{"/targets", "year=2026&kpi=kube_jasa"},
		{"/targets/audit", "limit=5"},
		{"/targets/kube_jasa/32.16.06/2026", ""},
		{"/export", "format=csv&level=kabupaten_kota&parent=32"},
		{"/export", "format=xlsx&kpi=kube_jasa&level=kabupaten_kota&parent=32"},
		{"/geo/provinces", ""},
		{"/openapi.json", ""},
	} {
		f.Add("GET", s.path, s.query, uint8(1))
	}
	for _, s := range []struct{ path, query string }{
		{"/progress", "kpi=%zz"},
		{"/progress", "kpi=ewarong_aktif;level=provinsi"},
		{"/progress", "kpi=ewarong_aktif&kpi=kube_jasa"},
		{"/progress", "kpi=,,,&region=32.16.06,,32.16.07"},
		{"/progress", "region=" + strings.Repeat("32.16.06,", 200)},
		{"/progress", "period=2026-00&window=year"},
		{"/progress", "kpi=kube_jasa&region=32.16.06&period=9999-12"},
		{"/ranking", "kpi=kube_jasa&limit=-1&order=best"},
		{"/ranking", "kpi=kube_jasa&limit=99999999999999999999"},
		{"/history", "kpi=sembako_salur&region=32.16.06&from=1700000000000&to=2026-10-16T00:00:00Z"},
		{"/history", "kpi=sembako_salur&from=-99999999999999&to=99999999999999999"},
		{"/slips", "level=desa&parent=32.16.06"},
		{"/regions", "level=%00&parent=32.16.06.2001"},
		{"/targets", "year=2026&parent=31.71"},
		{"/targets/audit", "year=1999&limit=0"},
		{"/targets/kube_jasa/32.16.06/+2026", ""},
		{"/targets/kube_jasa/32.16.06/2026/extra", ""},
		{"/targets/%2e%2e/32/2026", ""},
		{"/export", "format=XLSX&level=kecamatan&parent=32.16&period=2026-09"},
		{"/geo/provinces", "x"},
		{"//kpis/../regions", ""},
	} {
		f.Add("GET", s.path, s.query, uint8(2))
	}
	f.Add("PUT", "/targets/kube_jasa/32.16.06/2026", "", uint8(1))
	f.Add("HEAD", "/kpis", "", uint8(1))
	f.Add("OPTIONS", "/progress", "", uint8(0))
	f.Add("POST", "/targets/kube_jasa/32.16.06/2026", "", uint8(1))
	fx := newFixture(f, "sqlite", fixtureOptions{})
	f.Fuzz(func(t *testing.T, method, path, query string, token uint8) {
		target := Prefix + path
		if query != "" {
			target += "?" + query
		}
		req, ok := requestLine(method, target)
		if !ok {
			return // net/http answers it with its own 400 before pantau sees it
		}
		if tok := fuzzTokens[int(token)%len(fuzzTokens)]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+fx.tokens[tok])
		}
		before := fx.storedTargets(t)
		rec := httptest.NewRecorder()
		fx.api.Handler().ServeHTTP(rec, req)
		checkAnswer(t, req, rec)
		if req.Method != http.MethodPut {
			if after := fx.storedTargets(t); !reflect.DeepEqual(after, before) {
				t.Fatalf("%s %s changed the stored targets", req.Method, target)
			}
		}
	})
}

// FuzzPutTarget sends PUT requests with arbitrary target keys, bodies and
// If-Match headers as the admin. A rejected write changes nothing in the
// store (targets and audit trail); an accepted one stores exactly the
// body's numbers and adds one audit entry.
func FuzzPutTarget(f *testing.F) {
	for _, s := range []struct{ kpi, region, year, body, ifMatch string }{
		{"kube_jasa", "32.16.06", "2026", `{"target": 24, "reason": "SK 1/2026"}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 12, "profile": [1,1,1,1,1,1,1,1,1,1,1,1]}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 12, "profile": [1,1,1,1,1,1,1,1,1,1,1,2]}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 12, "profile": [1,1,1]}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 1e400}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": -0}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 5}{"target": 6}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": "5"}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 5, "targte": 6}`, ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 5`, ""},
		{"kube_jasa", "32.16.06", "2026", `[]`, ""},
		{"kube_jasa", "32.16.06", "2026", `null`, ""},
		{"kube_jasa", "32.16.06", "2026", ``, ""},
		{"kube_jasa", "32.16.06", "2026", "\xff\xfe{}", ""},
		{"kube_jasa", "32.16.06", "2026", `{"target": 5}`, `"0000"`},
		{"kube_jasa", "32.16.06", "2026", `{"target": 5}`, `*`},
		{"sembako_salur", "32.16", "2026", `{"rate": 0.9}`, ""},
		{"sembako_salur", "32.16", "2026", `{"rate": 95}`, ""},
		{"sembako_salur", "32.16", "2026", `{"rate": 0}`, ""},
		{"kpm_per_ewarong", "32.16.06", "2030", `{"rate": 412.5, "reason": "` + strings.Repeat("é", 100) + `"}`, ""},
		{"pkh_graduasi", "32.16.06", "2026", `{"target": 5}`, ""},
		{"ewarong_aktif", "32.16.06.2001", "2026", `{"target": 1}`, ""},
		{"ewarong_aktif", "32.1", "2026", `{"target": 1}`, ""},
		{"ewarong_aktif", "ID", "1999", `{"target": 1}`, ""},
		{"ewarong_aktif", "ID", "02026", `{"target": 1}`, ""},
		{"ewarong", "ID", "2026", `{"target": 1}`, ""},
	} {
		f.Add(s.kpi, s.region, s.year, []byte(s.body), s.ifMatch)
	}
	fx := newFixture(f, "sqlite", fixtureOptions{})
	f.Fuzz(func(t *testing.T, kpiID, region, year string, body []byte, ifMatch string) {
		target := Prefix + "/targets/" + kpiID + "/" + region + "/" + year
		req, ok := requestLine("PUT", target)
		if !ok {
			return
		}
		req.Body = http.NoBody
		if len(body) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
		}
		req.Header.Set("Authorization", "Bearer "+fx.tokens["admin"])
		if ifMatch != "" && validHeaderValue(ifMatch) {
			req.Header.Set("If-Match", ifMatch)
		}
		before, audit := fx.storedTargets(t), fx.auditLength(t)
		rec := httptest.NewRecorder()
		fx.api.Handler().ServeHTTP(rec, req)
		checkAnswer(t, req, rec)
		after, auditAfter := fx.storedTargets(t), fx.auditLength(t)
		if rec.Code >= 300 {
			if !reflect.DeepEqual(after, before) || auditAfter != audit {
				t.Fatalf("rejected PUT %s %q (%d) changed the store: audit %d → %d", target, body, rec.Code, audit, auditAfter)
			}
			return
		}
		var put TargetPut
		if err := json.Unmarshal(body, &put); err != nil {
			t.Fatalf("accepted PUT %s with a body that is not JSON: %q", target, body)
		}
		var row struct {
			KPI        string `json:"kpi"`
			RegionCode string `json:"region_code"`
			Year       int    `json:"year"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &row); err != nil {
			t.Fatalf("accepted PUT answered %q", rec.Body.String())
		}
		stored, ok := findTarget(after, row.KPI, row.RegionCode, row.Year)
		if !ok {
			t.Fatalf("accepted PUT %s: no target stored for %s %s %d", target, row.KPI, row.RegionCode, row.Year)
		}
		want := kpi.Target{KPI: row.KPI, Region: row.RegionCode, Year: row.Year, Profile: put.Profile}
		if put.Target != nil {
			want.Annual = *put.Target
		}
		if put.Rate != nil {
			want.Rate = *put.Rate
		}
		if !reflect.DeepEqual(stored, want) || !finiteTarget(stored) {
			t.Fatalf("PUT %s %q stored %+v, want %+v", target, body, stored, want)
		}
		if changed := !reflect.DeepEqual(after, before); changed && auditAfter != audit+1 || !changed && auditAfter != audit {
			t.Fatalf("PUT %s %q: targets changed %v, audit %d → %d", target, body, changed, audit, auditAfter)
		}
	})
}

// requestLine parses a request the way the server reads it off the wire;
// ok is false when net/http itself would refuse it.
func requestLine(method, target string) (*http.Request, bool) {
	raw := method + " " + target + " HTTP/1.1\r\nHost: pantau.test\r\n\r\n"
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil || req.Method != method || req.RequestURI != target {
		return nil, false
	}
	req.RemoteAddr = "192.0.2.1:1234"
	return req, true
}

func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
}

// checkAnswer fails t unless the answer is one pantau may give: no 5xx; a
// 4xx carries the error JSON; a 2xx carries a body of its content type.
func checkAnswer(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	what := req.Method + " " + req.RequestURI
	switch {
	case rec.Code >= 500:
		t.Fatalf("%s: %d %s", what, rec.Code, rec.Body.String())
	case rec.Code >= 400:
		var e struct {
			Error *Error `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s: %d without the error JSON: %q", what, rec.Code, rec.Body.String())
		}
	case rec.Code == http.StatusNotModified || req.Method == http.MethodHead:
	case rec.Code >= 200 && rec.Code < 300:
		ct := rec.Header().Get("Content-Type")
		if strings.HasPrefix(ct, "application/json") && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: %d with invalid JSON: %.300q", what, rec.Code, rec.Body.String())
		}
		if ct == "" {
			t.Fatalf("%s: %d without a Content-Type", what, rec.Code)
		}
	default:
		t.Fatalf("%s: unexpected status %d", what, rec.Code)
	}
}

// storedTargets reads every target in the store.
func (f *fixture) storedTargets(t *testing.T) []kpi.Target {
	t.Helper()
	ts, err := f.store.ListTargets(context.Background(), store.TargetFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func (f *fixture) auditLength(t *testing.T) int {
	t.Helper()
	es, err := f.store.Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func findTarget(ts []kpi.Target, kpiID, region string, year int) (kpi.Target, bool) {
	for _, t := range ts {
		if t.KPI == kpiID && t.Region == region && t.Year == year {
			return t, true
		}
	}
	return kpi.Target{}, false
}

func finiteTarget(t kpi.Target) bool {
	for _, v := range append([]float64{t.Annual, t.Rate}, t.Profile...) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return false
		}
	}
	return true
}
