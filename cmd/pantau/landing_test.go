package main

import (
	"reflect"
	"testing"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
)

func TestLandingViewSaysHowCurrentEachKPIIsApartFromHowTheRegionsStand(t *testing.T) {
	at := time.Date(2026, time.December, 3, 1, 30, 0, 0, time.UTC) // 08:30 WIB
	earlier := at.Add(-time.Hour)
	dec := kpi.NewPeriod(2026, time.December, kpi.WIB)
	row := func(region string, level kpi.Level, w kpi.Window, s kpi.Status) kpi.Progress {
		return kpi.Progress{Region: region, Level: level, Window: w, Status: s}
	}
	progress := []kpi.Progress{
		row("ID", kpi.LevelNasional, kpi.WindowMonth, kpi.AtRisk),
		row("ID", kpi.LevelNasional, kpi.WindowYear, kpi.OnTrack),
		row("31", kpi.LevelProvinsi, kpi.WindowMonth, kpi.Behind),
		row("32", kpi.LevelProvinsi, kpi.WindowMonth, kpi.Behind),
		row("33", kpi.LevelProvinsi, kpi.WindowMonth, kpi.OnTrack),
		row("34", kpi.LevelProvinsi, kpi.WindowMonth, kpi.NoData),
		row("32", kpi.LevelProvinsi, kpi.WindowYear, kpi.OnTrack), // the year window is not counted
		row("32.16", kpi.LevelKabupatenKota, kpi.WindowMonth, kpi.OnTrack),
		row("32.75", kpi.LevelKabupatenKota, kpi.WindowMonth, kpi.AtRisk),
	}
	snap := &collector.Snapshot{At: at, KPIs: []collector.KPIState{
		{Def: kpi.KPI{ID: "kube_jasa", Name: "KUBE Jasa"}, Period: dec, Progress: progress, LastSuccess: at},
		{Def: kpi.KPI{ID: "ewarong_aktif", Name: "e-Warong"}, Period: dec, Progress: progress, LastSuccess: earlier, Stale: true, Err: "source down"},
		{Def: kpi.KPI{ID: "pkh_salur", Name: "PKH"}, Period: dec, Err: "connection refused"},
	}}

	tests := []struct {
		name                string
		scope               string
		ready               bool
		wantRoot, wantChild string
		wantStatus          string
		wantCounts          []statusCount
	}{
		{
			name: "a national deployment shows the nation's status and counts its provinces", scope: "ID",
			wantRoot: "nasional", wantChild: "provinsi", wantStatus: "berisiko",
			wantCounts: []statusCount{{"sesuai target", 1}, {"tertinggal", 2}, {"tanpa data", 1}},
		},
		{
			name: "a province's shard shows the province's status and counts its kabupaten/kota", scope: "32", ready: true,
			wantRoot: "provinsi", wantChild: "kabupaten/kota", wantStatus: "tertinggal",
			wantCounts: []statusCount{{"sesuai target", 1}, {"berisiko", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := landingView(snap, tt.scope, tt.ready)
			if d.At != "2026-12-03 08:30:00 WIB" || d.NotReady == tt.ready || d.Root != tt.wantRoot || d.Children != tt.wantChild {
				t.Errorf("page: at %q, not ready %v, levels %q/%q", d.At, d.NotReady, d.Root, d.Children)
			}
			fresh, stale, never := d.KPIs[0], d.KPIs[1], d.KPIs[2]
			if fresh.Class != "terkini" || fresh.Updated != "2026-12-03 08:30:00 WIB" || fresh.RootStatus != tt.wantStatus || !reflect.DeepEqual(fresh.Counts, tt.wantCounts) {
				t.Errorf("fresh KPI: %+v; want terkini, updated 08:30 WIB, status %s, counts %v", fresh, tt.wantStatus, tt.wantCounts)
			}
			if stale.Class != "basi" || stale.Updated != "2026-12-03 07:30:00 WIB" || stale.Err != "source down" || !reflect.DeepEqual(stale.Counts, tt.wantCounts) {
				t.Errorf("stale KPI: %+v; want basi with its last values, as of 07:30 WIB, and the error", stale)
			}
			if never.Class != "gagal" || never.Updated != "" || never.RootStatus != "—" || never.Counts != nil || never.Err != "connection refused" {
				t.Errorf("never-succeeded KPI: %+v; want gagal, no time, no status and the error", never)
			}
		})
	}
	if d := landingView(nil, "ID", false); d.KPIs != nil {
		t.Errorf("before the first refresh: %+v, want no rows (the page says it waits)", d)
	}
}
