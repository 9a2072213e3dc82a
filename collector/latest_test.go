package collector

import (
	"context"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source/sourcetest"
)

func TestLatestDataRemembers(t *testing.T) {
	ctx := context.Background()
	spec, err := config.Parse("lag.yaml", []byte(`
sources:
  arsip: {driver: sqlite, dsn_env: PANTAU_SOURCE_ARSIP_DSN, current_month: latest_data, recheck_closed: 1h}
kpis:
  - id: graduasi
    name: Graduasi
    kind: count
    accumulation: flow
    source: arsip
    query: |
      SELECT kode_kecamatan AS region_code, COUNT(*) AS value FROM graduasi
      WHERE tanggal >= :period_start AND tanggal < :period_end GROUP BY kode_kecamatan
`))
	if err != nil {
		t.Fatal(err)
	}
	dsn := sourceDSN(t, "sqlite",
		`CREATE TABLE graduasi (kode_kecamatan TEXT NOT NULL, tanggal TEXT NOT NULL)`,
		`INSERT INTO graduasi VALUES ('32.16.06', '2026-07-10'), ('32.16.06', '2026-08-03'), ('32.16.07', '2026-08-20')`)
	q := &countingQuerier{Querier: openSource(t, spec, "arsip", dsn)}
	clk := &clock{t: pinnedNow} // 16 October 2026
	c, err := New(Options{Spec: spec, Regions: regionMaster(t), Scope: "32", Sources: map[string]Querier{"arsip": q}, Now: clk.Now, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	months := func(ps ...string) []string { return ps }
	year := func(to string) string { return "2026-01.." + to }
	steps := []struct {
		name  string
		at    time.Time
		setup string
		// want are the months queried, sorted; period the month shown.
		want   []string
		period string
		year   float64
	}{
		{"the first refresh searches back from October to August and reads the year's closed months once",
			pinnedNow, "", months("2026-10", "2026-09", "2026-08", year("2026-08")), "2026-08", 3},
		{"once warm, a refresh runs one month query",
			pinnedNow.Add(5 * time.Minute), "", months("2026-08"), "2026-08", 3},
		{"September's first rows wait for the next probe",
			pinnedNow.Add(10 * time.Minute), `INSERT INTO graduasi VALUES ('32.16.06', '2026-09-09')`, months("2026-08"), "2026-08", 3},
		{"an hour on, the probe finds September, newest first, and the closed months are read up to it",
			pinnedNow.Add(time.Hour), "", months("2026-10", "2026-09", year("2026-09")), "2026-09", 4},
		{"steady again: one query",
			pinnedNow.Add(time.Hour + 5*time.Minute), "", months("2026-09"), "2026-09", 4},
		{"a new calendar month is probed at once (and, an hour after the last recheck, the closed months too)",
			time.Date(2026, time.November, 1, 0, 10, 0, 0, kpi.WIB), "", months("2026-11", "2026-10", "2026-09", year("2026-09")), "2026-09", 4},
		{"when the remembered month loses its rows the search starts afresh",
			time.Date(2026, time.November, 1, 0, 15, 0, 0, kpi.WIB), `DELETE FROM graduasi WHERE tanggal >= '2026-09-01'`,
			months("2026-11", "2026-10", "2026-09", "2026-09", "2026-08", year("2026-08")), "2026-08", 3},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.setup != "" {
				sourcetest.Exec(t, "sqlite", dsn, s.setup)
			}
			clk.Set(s.at)
			snap := c.Refresh(ctx)
			q.expect(t, "the refresh", s.want)
			st, _ := snap.KPI("graduasi")
			if st.Err != "" || st.Period.String() != s.period {
				t.Errorf("period %s (err %q), want %s", st.Period, st.Err, s.period)
			}
			if p := progressOf(t, snap, "graduasi", "32.16", inYear); !numberIs(p.Actual, s.year) {
				t.Errorf("Kabupaten Bekasi's year = %s, want %v", showNumber(p.Actual), s.year)
			}
		})
	}
}
