package config

import (
	"slices"
	"testing"

	"github.com/pantau-id/pantau/kpi"
)

const exposureSources = `
sources:
  dinsos: {driver: postgres, dsn_env: PANTAU_SOURCE_DINSOS_DSN}
`

func TestExposureProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "an unknown level is reported at the item with a suggestion",
			src: exposureSources + `exposure:
  levels: [nasional, kabupaten]
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`4:22: exposure: levels: "kabupaten" is not valid (did you mean kabupaten_kota?)`},
		},
		{
			name: "an unknown key in a KPI's exposure is reported with a suggestion",
			src: exposureSources + `kpis:
  - id: a
    name: A
    kind: count
    accumulation: flow
    source: dinsos
    query: SELECT x AS region_code, y AS value FROM t
    exposure:
      window: [month]
`,
			want: []string{`11:7: unknown key "window" in count KPI a: exposure (did you mean windows?)`},
		},
		{
			name: "a family given with its metric prefix, a word other than all and a repeated window are each reported",
			src: exposureSources + `exposure:
  families: [pantau_kpi_status]
  windows: [year, year]
  levels: everything
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{
				`4:14: exposure: families: "pantau_kpi_status" is not valid (did you mean status?)`,
				`5:19: exposure: windows: year is listed twice (the first is at line 5)`,
				`6:11: exposure: levels: "everything" is not valid; use all or a list of nasional`,
			},
		},
		{
			name: "exposure must be a mapping",
			src: exposureSources + `exposure: all
kpis:
  - {id: a, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
`,
			want: []string{`3:11: exposure must be a mapping like {levels: [nasional, provinsi, kabupaten_kota]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("test.yaml", doc(tt.src))
			checkErrors(t, tt.src, err, tt.want)
		})
	}
}

func TestExposureDefaultsAndOverrides(t *testing.T) {
	src := exposureSources + `exposure:
  windows: [month]
kpis:
  - {id: plain, name: A, kind: count, accumulation: flow, source: dinsos, query: "SELECT x AS region_code, y AS value FROM t"}
  - id: kecamatan_too
    name: B
    kind: rate
    source: dinsos
    query: SELECT x AS region_code, n AS numerator, d AS denominator FROM t
    exposure: {levels: all, families: [status, numerator, denominator]}
  - id: api_only
    name: C
    kind: count
    accumulation: stock
    source: dinsos
    query: SELECT x AS region_code, y AS value FROM t
    exposure: {levels: []}
`
	spec, err := Parse("test.yaml", doc(src))
	if err != nil {
		t.Fatal(err)
	}
	get := func(id string) KPI { k, _ := spec.KPI(id); return k }
	tests := []struct {
		name   string
		kpi    string
		level  kpi.Level
		window kpi.Window
		family string
		want   bool
	}{
		{"a KPI without exposure takes the default levels: kabupaten/kota is exposed", "plain", kpi.LevelKabupatenKota, kpi.WindowMonth, "pantau_kpi_actual", true},
		{"a KPI without exposure takes the default levels: kecamatan is not", "plain", kpi.LevelKecamatan, kpi.WindowMonth, "pantau_kpi_actual", false},
		{"the spec-wide windows apply to a KPI without exposure", "plain", kpi.LevelNasional, kpi.WindowYear, "pantau_kpi_actual", false},
		{"a KPI's levels: all reaches desa", "kecamatan_too", kpi.LevelDesa, kpi.WindowMonth, "pantau_kpi_status", true},
		{"a KPI's families leave out the others", "kecamatan_too", kpi.LevelKecamatan, kpi.WindowMonth, "pantau_kpi_pace_ratio", false},
		{"a KPI's exposure inherits the spec-wide windows it does not set", "kecamatan_too", kpi.LevelKecamatan, kpi.WindowYear, "pantau_kpi_status", false},
		{"an empty level list keeps a KPI out of Prometheus", "api_only", kpi.LevelNasional, kpi.WindowMonth, "pantau_kpi_status", false},
		{"families exposure does not govern are always exposed", "api_only", kpi.LevelKecamatan, kpi.WindowYear, "pantau_kpi_info", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.kpi).Exposes(tt.level, tt.window, tt.family); got != tt.want {
				t.Errorf("%s.Exposes(%s, %s, %s) = %v, want %v", tt.kpi, tt.level, tt.window, tt.family, got, tt.want)
			}
		})
	}
}

func TestExampleSpecDefaultExposure(t *testing.T) {
	spec, err := Load("../examples/dinsos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range spec.KPIs {
		if !slices.Equal(k.Exposure.Levels, DefaultExposure.Levels) || !slices.Equal(k.Exposure.Families, Families) {
			t.Errorf("%s: exposure %+v, want the default", k.ID, k.Exposure)
		}
	}
}
