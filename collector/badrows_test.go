package collector

import (
	"context"
	"maps"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// badRowsSpec reads a report table holding rows of every kind a source
// gets wrong. laporan_hitung and laporan_rasio are stock KPIs so that only
// their month query returns rows (the rows are dated October and a stock
// count's baseline query asks for December 2025): each bad row is counted
// once. kolom_salah returns the wrong columns.
const badRowsSpec = `
timezone: Asia/Jakarta
sources:
  laporan:
    driver: postgres
    dsn_env: PANTAU_TEST_LAPORAN_DSN
    timeout: 10s
kpis:
  - id: laporan_hitung
    name: Laporan hitung
    kind: count
    accumulation: stock
    source: laporan
    level: kecamatan
    query: |
      SELECT kode AS region_code, nilai AS value
      FROM laporan
      WHERE jenis = 'hitung' AND tanggal >= :period_start AND tanggal < :period_end
      ORDER BY id
  - id: laporan_rasio
    name: Laporan rasio
    kind: rate
    accumulation: stock
    source: laporan
    level: kecamatan
    target: {rate: 0.95}
    query: |
      SELECT kode AS region_code, pembilang AS numerator, penyebut AS denominator
      FROM laporan
      WHERE jenis = 'rasio' AND tanggal >= :period_start AND tanggal < :period_end
      ORDER BY id
  - id: kolom_salah
    name: Kolom salah
    kind: count
    accumulation: stock
    source: laporan
    level: kecamatan
    query: |
      SELECT v.region_code, v.value AS jumlah
      FROM (SELECT kode AS region_code, nilai AS value FROM laporan WHERE jenis = 'hitung') v
`

// badRows: nilai is text, so that a value that is not a number can be
// stored at all; the numbers in it are read from text.
var badRows = []string{
	`CREATE TABLE laporan (
		id        INTEGER     NOT NULL PRIMARY KEY,
		jenis     VARCHAR(10) NOT NULL,
		kode      VARCHAR(20) NULL,
		nilai     VARCHAR(20) NULL,
		pembilang INTEGER     NULL,
		penyebut  INTEGER     NULL,
		tanggal   DATE        NOT NULL
	)`,
	`INSERT INTO laporan (id, jenis, kode, nilai, pembilang, penyebut, tanggal) VALUES
		(1,  'hitung', '32.16.06',   '5',    NULL, NULL, '2026-10-01'),
		(2,  'hitung', ' 32.16.07 ', ' 7 ',  NULL, NULL, '2026-10-02'),
		(3,  'hitung', '32.16.99',   '1',    NULL, NULL, '2026-10-03'),
		(4,  'hitung', '32.16.6',    '1',    NULL, NULL, '2026-10-04'),
		(5,  'hitung', 'Bekasi',     '1',    NULL, NULL, '2026-10-05'),
		(6,  'hitung', '32.16',      '1',    NULL, NULL, '2026-10-06'),
		(7,  'hitung', '32.16.08',   NULL,   NULL, NULL, '2026-10-07'),
		(8,  'hitung', '32.16.09',   '-3',   NULL, NULL, '2026-10-08'),
		(9,  'hitung', '32.16.10',   'tiga', NULL, NULL, '2026-10-09'),
		(10, 'hitung', '32.16.06',   '9',    NULL, NULL, '2026-10-10'),
		(11, 'hitung', NULL,         '2',    NULL, NULL, '2026-10-11'),
		(12, 'hitung', '32.75.01',   '2.5',  NULL, NULL, '2026-10-12'),
		(13, 'hitung', '31.71.01',   '4',    NULL, NULL, '2026-10-13'),
		(20, 'rasio',  '32.16.06',   NULL,   3,    4,    '2026-10-01'),
		(21, 'rasio',  '32.16.07',   NULL,   2,    0,    '2026-10-02'),
		(22, 'rasio',  '32.16.08',   NULL,   0,    0,    '2026-10-03'),
		(23, 'rasio',  '32.75.01',   NULL,   NULL, 5,    '2026-10-04'),
		(24, 'rasio',  '32.75.02',   NULL,   1,    -2,   '2026-10-05'),
		(25, 'rasio',  '32.16.06',   NULL,   1,    1,    '2026-10-06'),
		(26, 'rasio',  '32.75.03',   NULL,   1,    2,    '2026-10-07'),
		(27, 'rasio',  '31.71.01',   NULL,   1,    2,    '2026-10-08')`,
}

// wantRejected are the rejections of one refresh, per KPI and reason.
var wantRejected = map[string]map[string]int{
	"laporan_hitung": {
		RejectUnknownRegion:   1, // 32.16.99
		RejectMalformedRegion: 2, // 32.16.6, Bekasi
		RejectWrongLevel:      1, // 32.16 is a kabupaten
		RejectNull:            2, // NULL value, NULL region code
		RejectNegative:        1, // -3
		RejectNonNumeric:      1, // 'tiga'
		RejectDuplicate:       1, // 32.16.06 again
	},
	"laporan_rasio": {
		RejectZeroDenominator: 1, // 2 over 0
		RejectNull:            1, // NULL numerator
		RejectNegative:        1, // denominator -2
		RejectDuplicate:       1, // 32.16.06 again
	},
	"kolom_salah": {},
}

func TestBadRows(t *testing.T) {
	for _, driver := range testDrivers {
		t.Run("bad rows are dropped and counted, good rows served, on "+driver, func(t *testing.T) {
			spec, err := config.Parse("bad-rows.yaml", []byte(badRowsSpec))
			if err != nil {
				t.Fatalf("config.Parse: %v", err)
			}
			setDriver(spec, driver)
			dsn := sourceDSN(t, driver, badRows...)
			src := openSource(t, spec, "laporan", dsn)
			// Collecting for Jawa Barat only: the Jakarta rows (31.71.01) are
			// good but out of scope, dropped quietly.
			c := newCollector(t, spec, "32", map[string]Querier{"laporan": src}, nil)
			snap := c.Refresh(context.Background())

			t.Run("the good rows are served with their values", func(t *testing.T) {
				for _, w := range []struct {
					kpi, region string
					actual      float64
					num, den    float64
				}{
					{"laporan_hitung", "32.16.06", 5, none, none}, // the first of the duplicates
					{"laporan_hitung", "32.16.07", 7, none, none}, // code and value trimmed
					{"laporan_hitung", "32.75.01", 2.5, none, none},
					{"laporan_hitung", "32.16", 12, none, none},
					{"laporan_hitung", "32", 14.5, none, none},
					{"laporan_hitung", "ID", 14.5, none, none},
					{"laporan_rasio", "32.16.06", 0.75, 3, 4},
					{"laporan_rasio", "32.16.08", none, 0, 0}, // nothing due, nothing paid: kept, no rate
					{"laporan_rasio", "32.75.03", 0.5, 1, 2},
					{"laporan_rasio", "32.16", 0.75, 3, 4},
					{"laporan_rasio", "ID", 4.0 / 6, 4, 6},
				} {
					for _, win := range kpi.Windows {
						p := progressOf(t, snap, w.kpi, w.region, win)
						if !numberIs(p.Actual, w.actual) || !numberIs(p.Numerator, w.num) || !numberIs(p.Denominator, w.den) {
							t.Errorf("%s %s %s: actual %s (%s / %s), want %s (%s / %s)", w.kpi, w.region, win,
								showNumber(p.Actual), showNumber(p.Numerator), showNumber(p.Denominator),
								showNumber(kpi.Some(w.actual)), showNumber(kpi.Some(w.num)), showNumber(kpi.Some(w.den)))
						}
					}
				}
				for _, st := range snap.KPIs {
					for _, p := range st.Progress {
						if p.Region == "31.71.01" || p.Region == "31" {
							t.Fatalf("%s has a row for %s, outside the collector's scope", st.Def.ID, p.Region)
						}
					}
				}
				for _, region := range []string{"32.16.07", "32.75.01", "32.75.02"} {
					if p := progressOf(t, snap, "laporan_rasio", region, inMonth); p.Status != kpi.NoData || p.Actual.OK {
						t.Errorf("laporan_rasio %s: its only row was rejected, yet it has actual %s, status %s", region, showNumber(p.Actual), p.Status)
					}
				}
			})

			t.Run("KPIState.Rejected counts the rejections per reason", func(t *testing.T) {
				for id, want := range wantRejected {
					st, _ := snap.KPI(id)
					got := map[string]int{}
					for r, n := range st.Rejected {
						if n != 0 {
							got[r] = n
						}
					}
					if !maps.Equal(got, want) {
						t.Errorf("%s: Rejected = %v, want %v", id, got, want)
					}
				}
			})

			t.Run("pantau_rows_rejected_total says the same, with every reason present", func(t *testing.T) {
				mfs := gatherSelf(t, c)
				for id, want := range wantRejected {
					for _, reason := range RejectReasons {
						v, ok := sample(mfs, "pantau_rows_rejected_total", map[string]string{"kpi": id, "reason": reason})
						if !ok {
							t.Errorf("no pantau_rows_rejected_total{kpi=%q,reason=%q}", id, reason)
							continue
						}
						if v != float64(want[reason]) {
							t.Errorf("pantau_rows_rejected_total{kpi=%q,reason=%q} = %v, want %d", id, reason, v, want[reason])
						}
					}
				}
			})

			t.Run("a result with the wrong columns fails its KPI with an error naming the KPI and the columns", func(t *testing.T) {
				st, _ := snap.KPI("kolom_salah")
				for _, part := range []string{"kolom_salah", "[region_code, jumlah]", "region_code, value"} {
					if !strings.Contains(st.Err, part) {
						t.Errorf("kolom_salah's error %q does not mention %q", st.Err, part)
					}
				}
				if st.Progress != nil || st.Stale {
					t.Errorf("kolom_salah never succeeded, yet it has %d rows (stale %v)", len(st.Progress), st.Stale)
				}
				mfs := gatherSelf(t, c)
				for id, fails := range map[string]float64{"kolom_salah": 1, "laporan_hitung": 0, "laporan_rasio": 0} {
					if v, _ := sample(mfs, "pantau_refresh_failures_total", map[string]string{"kpi": id}); v != fails {
						t.Errorf("pantau_refresh_failures_total{kpi=%q} = %v, want %v", id, v, fails)
					}
				}
				for _, id := range []string{"laporan_hitung", "laporan_rasio"} {
					if st, _ := snap.KPI(id); st.Err != "" || st.Stale || st.Progress == nil {
						t.Errorf("%s was affected by kolom_salah: err %q, stale %v, %d rows", id, st.Err, st.Stale, len(st.Progress))
					}
				}
			})

			t.Run("a second refresh counts the rejections again", func(t *testing.T) {
				snap := c.Refresh(context.Background())
				st, _ := snap.KPI("laporan_hitung")
				if st.Rejected[RejectMalformedRegion] != 2 {
					t.Errorf("KPIState.Rejected is per refresh: malformed_region = %d, want 2", st.Rejected[RejectMalformedRegion])
				}
				v, _ := sample(gatherSelf(t, c), "pantau_rows_rejected_total", map[string]string{"kpi": "laporan_hitung", "reason": RejectMalformedRegion})
				if v != 4 {
					t.Errorf("pantau_rows_rejected_total is a counter: malformed_region = %v after two refreshes, want 4", v)
				}
			})
		})
	}
}
