package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
)

var closed = time.Date(2026, 11, 1, 0, 5, 0, 0, time.UTC)

// historyFixture is a small closed history: two KPIs, a province and a
// kecamatan, two months, both windows.
func historyFixture() []HistoryRow {
	var rows []HistoryRow
	for _, k := range []string{"ewarong_aktif", "sembako_salur"} {
		for _, r := range []struct {
			code  string
			level kpi.Level
		}{{"32.16.06", kpi.LevelKecamatan}, {"32", kpi.LevelProvinsi}} {
			for _, p := range []string{"2026-09", "2026-10"} {
				for _, w := range kpi.Windows {
					rows = append(rows, HistoryRow{
						KPI: k, Region: r.code, Level: r.level, Period: p, Window: w,
						Actual: kpi.Some(12), Target: kpi.Some(10), Expected: kpi.Some(10),
						Attainment: kpi.Some(1.2), Pace: kpi.Some(1.2),
						Status: kpi.OnTrack, ClosedAt: closed,
					})
				}
			}
		}
	}
	return rows
}

func mustWriteHistory(t *testing.T, s *Store, rows []HistoryRow) int {
	t.Helper()
	n, err := s.WriteHistory(context.Background(), rows)
	if err != nil {
		t.Fatalf("WriteHistory: %v", err)
	}
	return n
}

func mustHistory(t *testing.T, s *Store, f HistoryFilter) []HistoryRow {
	t.Helper()
	rows, err := s.History(context.Background(), f)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return rows
}

func TestHistoryRows(t *testing.T) {
	period := kpi.NewPeriod(2026, time.October, nil)
	ps := []kpi.Progress{{
		KPI: "sembako_salur", Region: "32.16", Level: kpi.LevelKabupatenKota, Window: kpi.WindowYear,
		Status: kpi.Behind, Actual: kpi.Some(0.9), Numerator: kpi.Some(90), Denominator: kpi.Some(100),
		Target: kpi.Some(0.95), AnnualTarget: kpi.Some(0.95), Expected: kpi.Some(0.95),
		Attainment: kpi.Some(0.9 / 0.95), Pace: kpi.Some(0.9 / 0.95), Forecast: kpi.Some(0.9),
	}}
	got := HistoryRows(period, closed, ps)
	want := []HistoryRow{{
		KPI: "sembako_salur", Region: "32.16", Level: kpi.LevelKabupatenKota, Period: "2026-10", Window: kpi.WindowYear,
		Actual: kpi.Some(0.9), Target: kpi.Some(0.95), Expected: kpi.Some(0.95),
		Numerator: kpi.Some(90), Denominator: kpi.Some(100),
		Attainment: kpi.Some(0.9 / 0.95), Pace: kpi.Some(0.9 / 0.95),
		Status: kpi.Behind, ClosedAt: closed,
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HistoryRows:\n got %+v\nwant %+v", got, want)
	}
}

func TestHistory(t *testing.T) {
	ctx := context.Background()
	runStoreTests(t, []storeTest{
		{"writing the same rows twice inserts them once", func(t *testing.T, s *Store) {
			rows := historyFixture()
			if n := mustWriteHistory(t, s, rows); n != len(rows) {
				t.Errorf("first write inserted %d, want %d", n, len(rows))
			}
			if n := mustWriteHistory(t, s, rows); n != 0 {
				t.Errorf("second write inserted %d, want 0", n)
			}
			if got := mustHistory(t, s, HistoryFilter{}); len(got) != len(rows) {
				t.Errorf("%d rows stored, want %d", len(got), len(rows))
			}
		}},
		{"a closed month is never overwritten, and only new rows count", func(t *testing.T, s *Store) {
			rows := historyFixture()[:4]
			mustWriteHistory(t, s, rows)
			again := historyFixture()[:6]
			for i := range again {
				again[i].ClosedAt = closed.Add(time.Hour)
				again[i].Actual = kpi.Some(99)
			}
			if n := mustWriteHistory(t, s, again); n != 2 {
				t.Errorf("inserted %d, want the 2 new rows", n)
			}
			got := mustHistory(t, s, HistoryFilter{})
			for _, r := range got {
				old := false
				for _, o := range rows {
					old = old || (o.KPI == r.KPI && o.Region == r.Region && o.Period == r.Period && o.Window == r.Window)
				}
				if old && (!r.ClosedAt.Equal(closed) || r.Actual.V != 12) {
					t.Errorf("row %s %s %s %s overwritten: closed %v actual %v", r.KPI, r.Region, r.Period, r.Window, r.ClosedAt, r.Actual)
				}
			}
		}},
		{"rows come back as written, undefined figures included", func(t *testing.T, s *Store) {
			row := HistoryRow{
				KPI: "sembako_salur", Region: "32.16.06", Level: kpi.LevelKecamatan, Period: "2026-10", Window: kpi.WindowMonth,
				Actual: kpi.Some(0.913), Numerator: kpi.Some(913), Denominator: kpi.Some(1000),
				Target: kpi.Some(0.95), Expected: kpi.None, Attainment: kpi.Some(0.913 / 0.95), Pace: kpi.None,
				Status: kpi.AtRisk, ClosedAt: time.Date(2026, 11, 1, 7, 0, 0, 123_000_000, kpi.WIB),
			}
			mustWriteHistory(t, s, []HistoryRow{row})
			got := mustHistory(t, s, HistoryFilter{})
			row.ClosedAt = row.ClosedAt.UTC()
			if len(got) != 1 || !reflect.DeepEqual(got[0], row) {
				t.Errorf("History:\n got %+v\nwant %+v", got, row)
			}
		}},
		{"History filters by KPI, region, level, months and window, ordered by region and period", func(t *testing.T, s *Store) {
			mustWriteHistory(t, s, historyFixture())
			prov, kec := kpi.LevelProvinsi, kpi.LevelKecamatan
			key := func(r HistoryRow) string { return r.KPI + " " + r.Region + " " + r.Period + " " + string(r.Window) }
			for _, tc := range []struct {
				f    HistoryFilter
				want []string
			}{
				{HistoryFilter{KPI: "ewarong_aktif", Regions: []string{"32"}, Window: kpi.WindowMonth}, []string{
					"ewarong_aktif 32 2026-09 month", "ewarong_aktif 32 2026-10 month"}},
				{HistoryFilter{KPI: "ewarong_aktif", Level: &kec, From: "2026-10", To: "2026-10"}, []string{
					"ewarong_aktif 32.16.06 2026-10 month", "ewarong_aktif 32.16.06 2026-10 year"}},
				{HistoryFilter{Level: &prov, To: "2026-09", Window: kpi.WindowYear}, []string{
					"ewarong_aktif 32 2026-09 year", "sembako_salur 32 2026-09 year"}},
				{HistoryFilter{KPI: "sembako_salur", From: "2026-10", Window: kpi.WindowYear}, []string{
					"sembako_salur 32 2026-10 year", "sembako_salur 32.16.06 2026-10 year"}},
				{HistoryFilter{KPI: "sembako_salur", Regions: []string{"32.16.06", "32"}, To: "2026-09"}, []string{
					"sembako_salur 32 2026-09 month", "sembako_salur 32 2026-09 year",
					"sembako_salur 32.16.06 2026-09 month", "sembako_salur 32.16.06 2026-09 year"}},
				{HistoryFilter{Regions: []string{"32.16"}}, nil},
				{HistoryFilter{From: "2026-11"}, nil},
			} {
				var got []string
				for _, r := range mustHistory(t, s, tc.f) {
					got = append(got, key(r))
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("History(%+v):\n got %q\nwant %q", tc.f, got, tc.want)
				}
			}
			if _, err := s.History(ctx, HistoryFilter{From: "2026-1"}); err == nil {
				t.Error("a malformed month was accepted")
			}
			if _, err := s.History(ctx, HistoryFilter{Regions: make([]string, HistoryMaxRegions+1)}); err == nil {
				t.Errorf("%d regions in one read were accepted", HistoryMaxRegions+1)
			}
		}},
		{"HasHistory tells whether a KPI's month is stored", func(t *testing.T, s *Store) {
			mustWriteHistory(t, s, historyFixture())
			for _, tc := range []struct {
				kpi, period string
				want        bool
			}{
				{"ewarong_aktif", "2026-10", true},
				{"sembako_salur", "2026-09", true},
				{"ewarong_aktif", "2026-11", false},
				{"kube_jasa", "2026-10", false},
			} {
				got, err := s.HasHistory(ctx, tc.kpi, tc.period, "")
				if err != nil || got != tc.want {
					t.Errorf("HasHistory(%s, %s) = %v, %v; want %v", tc.kpi, tc.period, got, err, tc.want)
				}
			}
		}},
		{"rows that cannot be stored are refused before anything is written", func(t *testing.T, s *Store) {
			for _, tc := range []struct {
				name string
				edit func(*HistoryRow)
				want string
			}{
				{"bad month", func(r *HistoryRow) { r.Period = "2026-13" }, "month must be 01..12"},
				{"bad window", func(r *HistoryRow) { r.Window = "week" }, "window"},
				{"bad level", func(r *HistoryRow) { r.Level = 9 }, "level"},
				{"no closing time", func(r *HistoryRow) { r.ClosedAt = time.Time{} }, "closed_at"},
			} {
				rows := historyFixture()
				tc.edit(&rows[len(rows)-1])
				_, err := s.WriteHistory(ctx, rows)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
				}
			}
			if got := mustHistory(t, s, HistoryFilter{}); len(got) != 0 {
				t.Errorf("%d rows written", len(got))
			}
		}},
	})
}

// manyHistoryRows returns n rows of one KPI: regions × months × windows.
func manyHistoryRows(kpiID string, n int) []HistoryRow {
	rows := make([]HistoryRow, 0, n)
	for i := 0; len(rows) < n; i++ {
		region := fmt.Sprintf("%02d.%02d.%02d", 11+i/(99*99), 1+i/99%99, 1+i%99)
		for m := 1; m <= 12 && len(rows) < n; m++ {
			for _, w := range kpi.Windows {
				if len(rows) == n {
					break
				}
				rows = append(rows, HistoryRow{
					KPI: kpiID, Region: region, Level: kpi.LevelKecamatan,
					Period: fmt.Sprintf("2026-%02d", m), Window: w,
					Actual: kpi.Some(float64(i)), Target: kpi.Some(100), Expected: kpi.Some(100),
					Attainment: kpi.Some(float64(i) / 100), Pace: kpi.Some(float64(i) / 100),
					Status: kpi.Behind, ClosedAt: closed,
				})
			}
		}
	}
	return rows
}

func TestWriteHistoryVolume(t *testing.T) {
	if testing.Short() {
		t.Skip("100k rows")
	}
	n := 100_000
	if raceEnabled {
		n = 20_000 // the benchmark measures the full 100k
	}
	runStoreTests(t, []storeTest{{"100k rows go in at once, and again as no-ops", func(t *testing.T, s *Store) {
		rows := manyHistoryRows("ewarong_aktif", n)
		start := time.Now()
		if n := mustWriteHistory(t, s, rows); n != len(rows) {
			t.Errorf("inserted %d, want %d", n, len(rows))
		}
		first := time.Since(start)
		if n := mustWriteHistory(t, s, rows); n != 0 {
			t.Errorf("second write inserted %d", n)
		}
		t.Logf("%s: %d rows in %v, again in %v", s.Driver(), len(rows), first, time.Since(start)-first)
		if first > time.Minute {
			t.Errorf("100k rows took %v", first)
		}
	}}})
}

// BenchmarkWriteHistory writes 100k new rows per iteration. Run it on
// PostgreSQL once:
//
//	go test ./store -run '^$' -bench WriteHistory/postgres -benchtime 1x
func BenchmarkWriteHistory(b *testing.B) {
	const n = 100_000
	for _, driver := range drivers {
		b.Run(driver, func(b *testing.B) {
			s, err := Open(context.Background(), driver, testDSN(b, driver))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				b.StopTimer()
				rows := manyHistoryRows(fmt.Sprintf("kpi_%d", i), n)
				i++
				b.StartTimer()
				if got, err := s.WriteHistory(context.Background(), rows); err != nil || got != n {
					b.Fatalf("WriteHistory = %d, %v", got, err)
				}
			}
			b.ReportMetric(float64(n*i)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
