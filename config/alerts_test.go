package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

const alertsBase = `
sources:
  db: {driver: sqlite, dsn_env: DB}
kpis:
  - id: k
    name: K
    kind: count
    accumulation: flow
    source: db
    query: SELECT region_code, 1 AS value FROM t WHERE d >= :period_start
`

func TestAlertsSettings(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      Alerts
	}{
		{"without an alerts section, kabupaten/kota and up alert after an hour", "",
			Alerts{Levels: []kpi.Level{kpi.LevelNasional, kpi.LevelProvinsi, kpi.LevelKabupatenKota}, For: time.Hour, GrafanaURL: DefaultGrafanaURL}},
		{"levels are kept top down whatever order the spec lists them in", "alerts:\n  levels: [kecamatan, provinsi]\n  for: 30m\n  grafana_url: https://grafana.example\n",
			Alerts{Levels: []kpi.Level{kpi.LevelProvinsi, kpi.LevelKecamatan}, Explicit: true, For: 30 * time.Minute, GrafanaURL: "https://grafana.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse("test.yaml", doc(alertsBase+tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(spec.Alerts, tc.want) {
				t.Errorf("alerts %+v, want %+v", spec.Alerts, tc.want)
			}
		})
	}
}

func TestAlertsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"an unknown key in alerts is named with a suggestion", "alerts:\n  level: [provinsi]\n",
			[]string{`11:3: unknown key "level" in alerts (did you mean levels?)`}},
		{"a level that is not a level is reported at its position", "alerts:\n  levels: [provinsi, kelurahann]\n",
			[]string{`11:22: alerts: levels: "kelurahann" is not a level`}},
		{"a synonym of a level must be written as the label value", "alerts:\n  levels: [kabupaten]\n",
			[]string{`11:12: write kabupaten as kabupaten_kota`}},
		{"a level listed twice is reported", "alerts:\n  levels: [provinsi, provinsi]\n",
			[]string{`11:22: provinsi appears twice`}},
		{"an empty list of levels is reported", "alerts:\n  levels: []\n",
			[]string{`11:11: alerts: levels is empty`}},
		{"levels must be a list", "alerts:\n  levels: provinsi\n",
			[]string{`11:11: alerts: levels must be a list`}},
		{"for needs a unit and must be positive", "alerts:\n  for: 0s\n",
			[]string{`11:8: alerts: for must be positive`}},
		{"grafana_url must be an http URL", "alerts:\n  grafana_url: grafana:3000\n",
			[]string{`11:16: alerts: grafana_url "grafana:3000" is not an http(s) URL`}},
		{"alerts must be a mapping", "alerts: [provinsi]\n",
			[]string{`10:9: alerts must be a mapping`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := alertsBase + tc.src
			_, err := Parse("test.yaml", doc(src))
			checkErrors(t, src, err, tc.want)
		})
	}
}
