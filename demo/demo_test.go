package demo_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/demo"
	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/wilayah"
)

var (
	// lateOctober is the last evening of a PKH stage month: the month's
	// Sembako batches are all out.
	lateOctober = time.Date(2026, time.October, 31, 20, 0, 0, 0, kpi.WIB)
	// lateNovember is the 23rd, three quarters into a month without a PKH
	// stage.
	lateNovember = time.Date(2026, time.November, 23, 19, 30, 0, 0, kpi.WIB)
)

func country(t testing.TB) *kpi.Hierarchy {
	t.Helper()
	h, err := wilayah.Load()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// countryOrSample is the whole country, or under the race detector Aceh,
// DKI Jakarta and Bali.
func countryOrSample(t testing.TB) *kpi.Hierarchy {
	if raceEnabled {
		return regions(t, "11", "31", "51")
	}
	return country(t)
}

// regions returns the hierarchy cut down to some regions, their ancestors
// and their descendants.
func regions(t testing.TB, codes ...string) *kpi.Hierarchy {
	t.Helper()
	all, err := wilayah.Regions(false)
	if err != nil {
		t.Fatal(err)
	}
	var keep []kpi.Region
	for _, r := range all {
		for _, c := range codes {
			if kpi.Contains(c, r.Code) || kpi.Contains(r.Code, c) {
				keep = append(keep, r)
				break
			}
		}
	}
	h, err := kpi.NewHierarchy(keep)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fixture is a database generated once and shared by the tests that only
// read it.
type fixture struct {
	once sync.Once
	opts func(testing.TB) demo.Options
	path string
	info demo.Info
	took time.Duration
	err  error
}

var fixtureDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pantau-demo-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sample holds DKI Jakarta, Kota Bekasi, DI Yogyakarta, Bali and Gorontalo:
// 27 kabupaten/kota and 268 kecamatan.
var sample = []string{"31", "32.75", "34", "51", "75"}

var (
	// The whole country, one household per kecamatan.
	smallCountry = &fixture{opts: func(t testing.TB) demo.Options {
		return demo.Options{Seed: 1, Scale: 0.05, Now: lateNovember, Regions: countryOrSample(t)}
	}}
	// The sample at the default size, at the end of October and in late
	// November.
	sampleOctober = &fixture{opts: func(t testing.TB) demo.Options {
		return demo.Options{Seed: 7, Scale: 1, Now: lateOctober, Regions: regions(t, sample...)}
	}}
	sampleNovember = &fixture{opts: func(t testing.TB) demo.Options {
		return demo.Options{Seed: 7, Scale: 1, Now: lateNovember, Regions: regions(t, sample...)}
	}}
)

func (f *fixture) get(t testing.TB) (string, demo.Options) {
	t.Helper()
	opts := f.opts(t)
	f.once.Do(func() {
		f.path = filepath.Join(fixtureDir, fmt.Sprintf("demo-%p.db", f))
		start := time.Now()
		f.info, f.err = demo.Generate(context.Background(), f.path, opts)
		f.took = time.Since(start)
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.path, opts
}

func open(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func queryInt(t testing.TB, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n sql.NullInt64
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

func queryString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

func kecamatanCount(h *kpi.Hierarchy) int64 { return int64(h.Count(kpi.LevelKecamatan)) }

func TestGenerate(t *testing.T) {
	tests := []struct {
		name    string
		fixture *fixture
		// Expected rows per kecamatan and month, from the package doc.
		sembakoPerKec [2]float64
		pkhPerKec     [2]float64
	}{
		{"scale 0.05 has one household per kecamatan, for the whole country", smallCountry, [2]float64{1, 1}, [2]float64{1, 1}},
		{"five regions at the default scale have about 13 Sembako and 7 PKH households per kecamatan", sampleOctober, [2]float64{11, 15}, [2]float64{6, 9}},
	}
	// PKH households before rounding, for graduations.
	const pkhPerKecamatan = 1373 * 0.005
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, opts := tt.fixture.get(t)
			t.Logf("generated %v in %v", tt.fixture.info, tt.fixture.took.Round(time.Millisecond))
			db := open(t, path)
			kecs := kecamatanCount(opts.Regions)
			now := opts.Now.In(kpi.WIB)
			today := now.Format(time.DateOnly)
			months := int64(12 + now.Month())
			stages := int64(4 + (now.Month()-1)/3 + 1)

			if got := int64(tt.fixture.info.Kecamatan); got != kecs {
				t.Errorf("Info.Kecamatan = %d, want %d", got, kecs)
			}
			if tt.fixture.info.From != "2025-01-01" || tt.fixture.info.To != today {
				t.Errorf("Info covers %s..%s, want 2025-01-01..%s", tt.fixture.info.From, tt.fixture.info.To, today)
			}
			for _, table := range demo.Tables {
				if got, want := queryInt(t, db, "SELECT COUNT(*) FROM "+table), tt.fixture.info.Rows[table]; got != want {
					t.Errorf("%s has %d rows, Info says %d", table, got, want)
				}
			}

			checks := []struct {
				name     string
				query    string
				min, max float64
			}{
				{"every kecamatan has e-Warong rows", "SELECT COUNT(DISTINCT kode_kecamatan) FROM ewarong", float64(kecs), float64(kecs)},
				{"every kecamatan has Sembako allocations every month", "SELECT COUNT(*) FROM (SELECT DISTINCT kode_kecamatan, periode FROM sembako_alokasi)", float64(kecs * months), float64(kecs * months)},
				{"every kecamatan has every PKH stage", "SELECT COUNT(*) FROM (SELECT DISTINCT kode_kecamatan, tahun, tahap FROM pkh_tahap)", float64(kecs * stages), float64(kecs * stages)},
				{"e-Warong rows are 1 to 6 per kecamatan", "SELECT COUNT(*) FROM ewarong", float64(kecs), 6 * float64(kecs)},
				{"KUBE are formed at 1 to 6 a year per kecamatan", "SELECT COUNT(*) FROM kube", float64(kecs) * float64(months) / 12, 6 * float64(kecs) * float64(months) / 12},
				{"Sembako rows are the households times the months", "SELECT COUNT(*) FROM sembako_alokasi", tt.sembakoPerKec[0] * float64(kecs*months), tt.sembakoPerKec[1] * float64(kecs*months)},
				{"PKH rows are the households times the stages", "SELECT COUNT(*) FROM pkh_tahap", tt.pkhPerKec[0] * float64(kecs*stages), tt.pkhPerKec[1] * float64(kecs*stages)},
				{"PKH graduations are 5-12 % of PKH households a year", "SELECT COUNT(*) FROM pkh_graduasi", 0.05 * 0.9 * pkhPerKecamatan * opts.Scale * float64(kecs) * float64(months) / 12, 0.12 * 1.1 * pkhPerKecamatan * opts.Scale * float64(kecs) * float64(months) / 12},
				{"KUBE are jasa, perdagangan or produksi", "SELECT COUNT(*) FROM kube WHERE jenis NOT IN ('jasa', 'perdagangan', 'produksi')", 0, 0},
				{"e-Warong status says whether it has closed", "SELECT COUNT(*) FROM ewarong WHERE (status = 'tutup') <> (tanggal_tutup IS NOT NULL) OR status NOT IN ('aktif', 'tutup')", 0, 0},
				{"e-Warong close after they open", "SELECT COUNT(*) FROM ewarong WHERE tanggal_tutup <= tanggal_aktif", 0, 0},
				{"Sembako is received within the month allocated", "SELECT COUNT(*) FROM sembako_alokasi WHERE tanggal_salur < periode OR tanggal_salur >= date(periode, '+1 month')", 0, 0},
				{"PKH is paid within the stage's first month", "SELECT COUNT(*) FROM pkh_tahap WHERE tanggal_salur < periode OR tanggal_salur >= date(periode, '+1 month')", 0, 0},
				{"PKH stages start in January, April, July and October", "SELECT COUNT(*) FROM pkh_tahap WHERE periode <> printf('%04d-%02d-01', tahun, 3 * tahap - 2)", 0, 0},
				{"family card numbers have 16 digits", "SELECT COUNT(*) FROM sembako_alokasi WHERE length(no_kk) <> 16 OR no_kk GLOB '*[^0-9]*' OR substr(no_kk, 1, 6) <> replace(kode_kecamatan, '.', '')", 0, 0},
				{"a household gets one allocation a month", "SELECT COUNT(*) FROM (SELECT no_kk, periode FROM sembako_alokasi GROUP BY 1, 2 HAVING COUNT(*) > 1)", 0, 0},
			}
			for _, c := range checks {
				got := float64(queryInt(t, db, c.query))
				if got < c.min || got > c.max {
					t.Errorf("%s: got %v, want %v..%v", c.name, got, c.min, c.max)
				}
			}

			for _, q := range []string{
				"SELECT MAX(tanggal_aktif) FROM ewarong", "SELECT MAX(tanggal_tutup) FROM ewarong",
				"SELECT MAX(tanggal_bentuk) FROM kube", "SELECT MAX(tanggal_salur) FROM sembako_alokasi",
				"SELECT MAX(tanggal_salur) FROM pkh_tahap", "SELECT MAX(tanggal_graduasi) FROM pkh_graduasi",
			} {
				if got := queryString(t, db, q); got > today {
					t.Errorf("nothing should happen after Now (%s): %s = %s", today, q, got)
				}
			}
			if got, want := queryString(t, db, "SELECT MAX(periode) FROM sembako_alokasi"), now.Format("2006-01")+"-01"; got != want {
				t.Errorf("the last Sembako month is %s, want Now's month %s", got, want)
			}
		})
	}
}

func TestGenerateStopsAtNow(t *testing.T) {
	// Early on 12 October (WIB): a PKH stage and a Sembako month under way.
	now := time.Date(2026, time.October, 11, 20, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "demo.db")
	info, err := demo.Generate(context.Background(), path, demo.Options{Seed: 5, Scale: 1, Now: now, Regions: subtree(t, "51")})
	if err != nil {
		t.Fatal(err)
	}
	if info.To != "2026-10-12" {
		t.Errorf("data runs to %s, want Now's date in Jakarta, 2026-10-12", info.To)
	}
	db := open(t, path)
	tests := []struct {
		name     string
		query    string
		min, max float64
	}{
		{"the current Sembako month is partly distributed", "SELECT AVG(tanggal_salur IS NOT NULL) FROM sembako_alokasi WHERE periode = '2026-10-01'", 0.15, 0.7},
		{"the current PKH stage is partly paid", "SELECT AVG(tanggal_salur IS NOT NULL) FROM pkh_tahap WHERE periode = '2026-10-01'", 0.1, 0.8},
		{"the previous PKH stage is 90-99 % paid", "SELECT AVG(tanggal_salur IS NOT NULL) FROM pkh_tahap WHERE periode = '2026-07-01'", 0.9, 0.99},
		{"the current month's allocations are all there", "SELECT COUNT(*) = (SELECT COUNT(*) FROM sembako_alokasi WHERE periode = '2026-09-01') FROM sembako_alokasi WHERE periode = '2026-10-01'", 1, 1},
		{"nothing is distributed after Now's date in Jakarta", "SELECT COUNT(*) FROM sembako_alokasi WHERE tanggal_salur > '2026-10-12'", 0, 0},
		{"there is no November", "SELECT COUNT(*) FROM sembako_alokasi WHERE periode > '2026-10-01'", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got float64
			if err := db.QueryRow(tt.query).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got < tt.min || got > tt.max {
				t.Errorf("got %v, want %v..%v", got, tt.min, tt.max)
			}
		})
	}
}

// checksum hashes every row of every table, in id order.
func checksum(t testing.TB, path string, where string) string {
	t.Helper()
	db := open(t, path)
	h := sha256.New()
	for _, table := range demo.Tables {
		rows, err := db.Query("SELECT * FROM " + table + " " + where + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(h, "%s %d rows\n", table, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func generate(t testing.TB, opts demo.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	if _, err := demo.Generate(context.Background(), path, opts); err != nil {
		t.Fatal(err)
	}
	return path
}

func subtree(t testing.TB, code string) *kpi.Hierarchy {
	t.Helper()
	h, err := country(t).Subtree(code)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGenerateIsDeterministic(t *testing.T) {
	bali := subtree(t, "51")
	tests := []struct {
		name      string
		a, b      demo.Options
		where     string // the rows compared
		wantEqual bool
	}{
		{
			name:      "the same options give the same rows",
			a:         demo.Options{Seed: 1, Scale: 0.05, Now: lateNovember, Regions: countryOrSample(t)},
			b:         demo.Options{Seed: 1, Scale: 0.05, Now: lateNovember, Regions: countryOrSample(t)},
			wantEqual: true,
		},
		{
			name:      "another seed gives other rows",
			a:         demo.Options{Seed: 1, Scale: 0.5, Now: lateNovember, Regions: bali},
			b:         demo.Options{Seed: 2, Scale: 0.5, Now: lateNovember, Regions: bali},
			wantEqual: false,
		},
		{
			// Which kabupaten lag or stall is chosen within the
			// hierarchy, so compare the tables that do not depend on it
			// (their ids are below those of the dated household rows).
			name:      "a kota's e-Warong, KUBE and graduations do not depend on the other regions",
			a:         demo.Options{Seed: 3, Scale: 0.5, Now: lateNovember, Regions: subtree(t, "32")},
			b:         demo.Options{Seed: 3, Scale: 0.5, Now: lateNovember, Regions: subtree(t, "32.75")},
			where:     "WHERE kode_kecamatan LIKE '32.75.%' AND id < 202500000000000000",
			wantEqual: true,
		},
		{
			// Household rows carry their month in their id. A stall
			// starts at most four months before Now.
			name:      "a later Now leaves the months before it alone",
			a:         demo.Options{Seed: 3, Scale: 0.5, Now: lateOctober, Regions: bali},
			b:         demo.Options{Seed: 3, Scale: 0.5, Now: lateNovember, Regions: bali},
			where:     "WHERE id >= 202500000000000000 AND id < 202606000000000000",
			wantEqual: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := checksum(t, generate(t, tt.a), tt.where), checksum(t, generate(t, tt.b), tt.where)
			if (a == b) != tt.wantEqual {
				t.Errorf("checksums %s and %s: equal = %v, want %v", a[:12], b[:12], a == b, tt.wantEqual)
			}
		})
	}
}

func TestGenerateReplacesTheFile(t *testing.T) {
	opts := demo.Options{Seed: 1, Scale: 0.1, Now: lateNovember, Regions: subtree(t, "51")}
	tests := []struct {
		name    string
		ctx     func() context.Context
		wantErr error
		// wantOld: the old file is still there, untouched.
		wantOld bool
	}{
		{"an existing file is replaced by the new database", context.Background, nil, false},
		{"a cancelled run leaves the existing file alone", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "demo.db")
			old := []byte("an old demo database")
			if err := os.WriteFile(path, old, 0o644); err != nil {
				t.Fatal(err)
			}
			// A leftover from a crashed run is overwritten, not appended to.
			if err := os.WriteFile(path+".tmp", []byte("half a database"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := demo.Generate(tt.ctx(), path, opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Generate: %v, want %v", err, tt.wantErr)
			}
			got, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tt.wantOld != (string(got) == string(old)) {
				t.Errorf("old file kept = %v, want %v", string(got) == string(old), tt.wantOld)
			}
			if !tt.wantOld {
				db := open(t, path)
				if n := queryInt(t, db, "SELECT COUNT(*) FROM sembako_alokasi"); n == 0 {
					t.Error("the new database has no Sembako rows")
				}
			}
			if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s.tmp is left behind: %v", path, err)
			}
		})
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	h := subtree(t, "51")
	tests := []struct {
		name string
		opts demo.Options
		want string
	}{
		{"no regions", demo.Options{Now: lateNovember}, "Regions"},
		{"no Now", demo.Options{Regions: h}, "Now"},
		{"a negative scale", demo.Options{Scale: -1, Now: lateNovember, Regions: h}, "scale"},
		{"a scale that is not a number", demo.Options{Scale: math.NaN(), Now: lateNovember, Regions: h}, "scale"},
		{"a scale beyond MaxScale", demo.Options{Scale: demo.MaxScale * 2, Now: lateNovember, Regions: h}, "scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "demo.db")
			_, err := demo.Generate(context.Background(), path, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Generate: %v, want an error about %s", err, tt.want)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a file was created: %v", err)
			}
			if got := demo.Targets(tt.opts); got != nil {
				t.Errorf("Targets gave %d targets for bad options", len(got))
			}
		})
	}
}

// spec is the example spec with its source switched to SQLite.
func spec(t testing.TB) *config.Spec {
	t.Helper()
	s, err := config.Parse("dinsos.yaml", examples.DinsosSpec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openSource(t testing.TB, path string) *source.Source {
	t.Helper()
	src, err := source.Open(context.Background(), source.Config{Name: "dinsos", Driver: source.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func monthParams(p kpi.Period) source.Params {
	return source.Params{PeriodStart: p.Start(), PeriodEnd: p.End(), YearStart: p.YearStart()}
}

func yearParams(p kpi.Period) source.Params {
	return source.Params{PeriodStart: p.YearStart(), PeriodEnd: p.End(), YearStart: p.YearStart()}
}

// observations runs a KPI query and reads its rows as the collector does.
func observations(t testing.TB, src *source.Source, k config.KPI, p source.Params) map[string]kpi.Observation {
	t.Helper()
	res, err := src.Query(context.Background(), k.Query, p)
	if err != nil {
		t.Fatalf("kpi %s: %v", k.ID, err)
	}
	num := func(v any) float64 {
		switch x := v.(type) {
		case int64:
			return float64(x)
		case float64:
			return x
		}
		t.Fatalf("kpi %s: %v (%T) is not a number", k.ID, v, v)
		return 0
	}
	out := map[string]kpi.Observation{}
	for _, row := range res.Rows {
		code := row[0].(string)
		if _, dup := out[code]; dup {
			t.Fatalf("kpi %s: two rows for %s", k.ID, code)
		}
		if k.Kind == kpi.KindRate {
			out[code] = kpi.Observation{Numerator: num(row[1]), Denominator: num(row[2])}
		} else {
			out[code] = kpi.Observation{Value: num(row[1])}
		}
	}
	return out
}

// byRegion sums observations up to the regions at level.
func byRegion(h *kpi.Hierarchy, obs map[string]kpi.Observation, level kpi.Level) map[string]kpi.Observation {
	up, _ := kpi.RollUp(h, obs)
	out := map[string]kpi.Observation{}
	for code, o := range up {
		if r, ok := h.Lookup(code); ok && r.Level == level {
			out[code] = o
		}
	}
	return out
}

// share counts the observations whose rate lies in lo..hi.
func share(obs map[string]kpi.Observation, lo, hi float64) float64 {
	n := 0
	for _, o := range obs {
		if o.Denominator == 0 {
			continue
		}
		if r := o.Numerator / o.Denominator; r >= lo && r <= hi {
			n++
		}
	}
	return float64(n) / float64(len(obs))
}

func TestKPIQueries(t *testing.T) {
	sp := spec(t)
	tests := []struct {
		name    string
		fixture *fixture
		// Least share of kecamatan each KPI's query returns a row for in
		// Now's month (the latest PKH stage for pkh_salur).
		coverage map[string]float64
	}{
		{"at the end of a PKH stage month", sampleOctober, map[string]float64{
			"ewarong_aktif": 0.85, "kube_jasa": 0.03, "sembako_salur": 1, "pkh_salur": 1, "kpm_per_ewarong": 0.85, "pkh_graduasi": 0.01,
		}},
		{"three quarters into a month", sampleNovember, map[string]float64{
			"ewarong_aktif": 0.85, "kube_jasa": 0.03, "sembako_salur": 1, "pkh_salur": 1, "kpm_per_ewarong": 0.85, "pkh_graduasi": 0.01,
		}},
	}
	for _, tt := range tests {
		path, opts := tt.fixture.get(t)
		src := openSource(t, path)
		h := opts.Regions
		kecs := float64(kecamatanCount(h))
		now := kpi.PeriodAt(opts.Now, kpi.WIB)
		stage := kpi.NewPeriod(now.Year(), now.Month()-(now.Month()-1)%3, kpi.WIB)
		elapsed := now.Elapsed(opts.Now)
		kpis := map[string]config.KPI{}
		for _, k := range sp.KPIs {
			kpis[k.ID] = k
		}
		run := func(id string, p source.Params) map[string]kpi.Observation {
			return observations(t, src, kpis[id], p)
		}

		t.Run(tt.name+": every query returns rows for the kecamatan it should", func(t *testing.T) {
			for _, k := range sp.KPIs {
				p := now
				if k.ID == "pkh_salur" {
					p = stage
				}
				obs := observations(t, src, k, monthParams(p))
				for code := range obs {
					if r, ok := h.Lookup(code); !ok || r.Level != kpi.LevelKecamatan {
						t.Errorf("kpi %s returned %s, not a kecamatan", k.ID, code)
					}
				}
				if got := float64(len(obs)) / kecs; got < tt.coverage[k.ID] {
					t.Errorf("kpi %s has rows for %.1f %% of kecamatan in %s, want at least %.1f %%", k.ID, 100*got, p, 100*tt.coverage[k.ID])
				}
			}
		})

		t.Run(tt.name+": most kabupaten have distributed 85-99 % of the month's Sembako due so far", func(t *testing.T) {
			obs := run("sembako_salur", monthParams(now))
			// Batches are spread over the month, so by day d a kabupaten
			// has distributed about d/(days−3) of what it will.
			due := min(1, elapsed*float64(now.Days())/float64(now.Days()-3))
			scaled := map[string]kpi.Observation{}
			for code, o := range byRegion(h, obs, kpi.LevelKabupatenKota) {
				scaled[code] = kpi.Observation{Numerator: o.Numerator, Denominator: o.Denominator * due}
			}
			// Batch days differ from kecamatan to kecamatan: allow more
			// spread before the month is out.
			lo, hi := 0.85, 0.99
			if due < 1 {
				lo, hi = 0.75, 1.15
			}
			if got := share(scaled, lo, hi); got < 0.85 {
				t.Errorf("%.0f %% of kabupaten/kota distributed %.0f-%.0f %% of what was due, want at least 85 %%", 100*got, 100*lo, 100*hi)
			}
			// Overall, distribution keeps about the expected pace of 95 %
			// × the month elapsed (the sample over-represents the stalled
			// and the lagging kabupaten).
			national := byRegion(h, obs, kpi.LevelNasional)[kpi.NationalCode]
			if pace := national.Numerator / national.Denominator / (0.95 * elapsed); pace < 0.9 || pace > 1.2 {
				t.Errorf("overall pace %.2f, want about on track (0.9..1.2)", pace)
			}
			if due == 1 {
				// About 13 households a kecamatan: 11/13 is 0.846.
				if got := share(obs, 0.84, 0.99); got < 0.6 {
					t.Errorf("%.0f %% of kecamatan distributed 84-99 %%, want most", 100*got)
				}
			}
		})

		t.Run(tt.name+": last month most kecamatan distributed 85-99 % of their Sembako", func(t *testing.T) {
			obs := run("sembako_salur", monthParams(now.Prev()))
			// About 13 households a kecamatan: 11/13 is 0.846, 13/13 is 1.
			if got := share(obs, 0.84, 0.99); got < 0.6 {
				t.Errorf("%.0f %% of kecamatan distributed 84-99 %%, want most", 100*got)
			}
			if got := share(byRegion(h, obs, kpi.LevelKabupatenKota), 0.85, 0.99); got < 0.85 {
				t.Errorf("%.0f %% of kabupaten/kota distributed 85-99 %%, want at least 85 %%", 100*got)
			}
		})

		t.Run(tt.name+": one kabupaten stopped distributing Sembako months ago", func(t *testing.T) {
			var stalled []string
			cur := byRegion(h, run("sembako_salur", monthParams(now)), kpi.LevelKabupatenKota)
			prev := byRegion(h, run("sembako_salur", monthParams(now.Prev())), kpi.LevelKabupatenKota)
			for code, o := range cur {
				if o.Numerator == 0 && o.Denominator > 0 && prev[code].Numerator == 0 {
					stalled = append(stalled, code)
				}
			}
			if len(stalled) != 1 {
				t.Errorf("kabupaten/kota at 0 %% this month and last: %v, want one", stalled)
			}
		})

		t.Run(tt.name+": most kabupaten paid 90-99 % of the PKH stage", func(t *testing.T) {
			obs := byRegion(h, run("pkh_salur", monthParams(stage)), kpi.LevelKabupatenKota)
			if stage == now {
				for code, o := range obs {
					obs[code] = kpi.Observation{Numerator: o.Numerator, Denominator: o.Denominator * elapsed}
				}
			}
			if got := share(obs, 0.88, 1); got < 0.8 {
				t.Errorf("%.0f %% of kabupaten/kota paid 88-100 %%, want at least 80 %%", 100*got)
			}
		})

		t.Run(tt.name+": DKI Jakarta had 35 to 45 e-Warong active on 1 January and is near the pace to 70", func(t *testing.T) {
			dec := kpi.NewPeriod(now.Year()-1, time.December, kpi.WIB)
			start := byRegion(h, run("ewarong_aktif", monthParams(dec)), kpi.LevelProvinsi)["31"].Value
			if start < 35 || start > 45 {
				t.Errorf("DKI Jakarta had %v e-Warong active on 1 January, want 35..45", start)
			}
			actual := byRegion(h, run("ewarong_aktif", monthParams(now)), kpi.LevelProvinsi)["31"].Value
			expected := start + (70-start)*now.YearElapsed(opts.Now)
			if pace := actual / expected; pace < 0.88 || pace > 1.02 {
				t.Errorf("DKI Jakarta has %v e-Warong active, expected %.1f: pace %.2f, want a little behind", actual, expected, pace)
			}
		})

		t.Run(tt.name+": DKI Jakarta forms about 71/12 KUBE Jasa a month, a little behind", func(t *testing.T) {
			actual := byRegion(h, run("kube_jasa", yearParams(now)), kpi.LevelProvinsi)["31"].Value
			plan := kpi.PlanFor(kpi.Target{Annual: 71, Profile: []float64{4, 5, 6, 6, 6, 6, 6, 6, 6, 7, 7, 6}})
			expected := 71 * float64(plan.Share(now, opts.Now).V)
			if pace := actual / expected; pace < 0.8 || pace > 1.0 {
				t.Errorf("DKI Jakarta formed %v KUBE Jasa this year, expected %.1f: pace %.2f, want a little behind", actual, expected, pace)
			}
		})

		t.Run(tt.name+": Kota Bekasi graduates about 23 PKH households a year", func(t *testing.T) {
			last := kpi.NewPeriod(now.Year()-1, time.December, kpi.WIB)
			got := byRegion(h, run("pkh_graduasi", yearParams(last)), kpi.LevelKabupatenKota)["32.75"].Value
			if want := 4618 * 0.005 * opts.Scale; math.Abs(got-want) > 3 {
				t.Errorf("Kota Bekasi graduated %v PKH households last year, want about %.0f", got, want)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	opts := demo.Options{Seed: 1, Scale: 0.05, Now: lateNovember, Regions: country(t)}
	targets := demo.Targets(opts)
	find := func(kpiID, region string) (kpi.Target, bool) {
		for _, tg := range targets {
			if tg.KPI == kpiID && tg.Region == region {
				return tg, true
			}
		}
		return kpi.Target{}, false
	}
	sum := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s
	}

	t.Run("DKI Jakarta has 70 e-Warong aktif, phased linearly", func(t *testing.T) {
		tg, ok := find("ewarong_aktif", "31")
		if !ok || tg.Annual != 70 || tg.Profile != nil || tg.Year != 2026 {
			t.Errorf("got %+v (found %v), want 70 for 2026 without a profile", tg, ok)
		}
	})
	t.Run("DKI Jakarta has 71 KUBE Jasa with a monthly profile adding up to 71", func(t *testing.T) {
		tg, ok := find("kube_jasa", "31")
		if !ok || tg.Annual != 71 || len(tg.Profile) != 12 || sum(tg.Profile) != 71 || tg.Year != 2026 {
			t.Errorf("got %+v (found %v), want 71 for 2026 with 12 months adding up to 71", tg, ok)
		}
	})
	t.Run("every target validates", func(t *testing.T) {
		for _, tg := range targets {
			if err := tg.Validate(); err != nil {
				t.Errorf("%s %s: %v", tg.KPI, tg.Region, err)
			}
			if tg.Rate != 0 && tg.KPI != "kpm_per_ewarong" {
				t.Errorf("%s %s has a target rate %v", tg.KPI, tg.Region, tg.Rate)
			}
		}
	})
	t.Run("every province has a target for each count KPI, and the nation a scaled KPM per e-Warong ceiling", func(t *testing.T) {
		for _, p := range opts.Regions.Children(kpi.NationalCode) {
			for _, id := range []string{"ewarong_aktif", "kube_jasa", "pkh_graduasi"} {
				if _, ok := find(id, p.Code); !ok {
					t.Errorf("province %s has no %s target", p.Code, id)
				}
			}
		}
		if want := 1 + 3*opts.Regions.Count(kpi.LevelProvinsi); len(targets) != want {
			t.Errorf("%d targets, want %d", len(targets), want)
		}
		if tg, ok := find("kpm_per_ewarong", kpi.NationalCode); !ok || tg.Rate != 12*opts.Scale && !(opts.Scale == 0 && tg.Rate == 12) {
			t.Errorf("national kpm_per_ewarong target %+v (found %v), want a rate of 12 × scale", tg, ok)
		}
		for _, tg := range targets {
			if tg.KPI == "kpm_per_ewarong" {
				continue
			}
			if k, ok := spec(t).KPI(tg.KPI); !ok || k.Kind != kpi.KindCount {
				t.Errorf("target for %s, which is not a count KPI of the spec", tg.KPI)
			}
		}
	})
	t.Run("the same options give the same targets", func(t *testing.T) {
		again := demo.Targets(opts)
		if fmt.Sprint(again) != fmt.Sprint(targets) {
			t.Error("Targets differs between two calls")
		}
	})
	t.Run("targets cover only the provinces of the hierarchy", func(t *testing.T) {
		got := demo.Targets(demo.Options{Seed: 1, Now: lateNovember, Regions: subtree(t, "32")})
		if len(got) != 4 {
			t.Fatalf("%d targets for Jawa Barat alone, want 3 and the national ceiling", len(got))
		}
		for _, tg := range got {
			if tg.Region != "32" && tg.Region != kpi.NationalCode {
				t.Errorf("target for %s", tg.Region)
			}
		}
	})
}

// TestTargetsAgainstTheData evaluates the generated data against Targets
// the way the collector does and checks the statuses tell a story.
func TestTargetsAgainstTheData(t *testing.T) {
	path, opts := smallCountry.get(t)
	src := openSource(t, path)
	targets := demo.Targets(opts)
	now := kpi.PeriodAt(opts.Now, kpi.WIB)
	for _, k := range spec(t).KPIs {
		if k.Kind != kpi.KindCount {
			continue
		}
		t.Run("most provinces are on track for "+k.ID+" and some are behind", func(t *testing.T) {
			in := kpi.Input{KPI: k.KPI, Hierarchy: opts.Regions, Period: now, At: opts.Now,
				Month: observations(t, src, k, monthParams(now))}
			if k.YearQuery() {
				in.Year = observations(t, src, k, yearParams(now))
			}
			if k.BaselineQuery() {
				in.Baseline = observations(t, src, k, monthParams(kpi.NewPeriod(now.Year()-1, time.December, kpi.WIB)))
			}
			for _, tg := range targets {
				if tg.KPI == k.ID {
					in.Targets = append(in.Targets, tg)
				}
			}
			progress, unknown := kpi.Evaluate(in)
			if len(unknown) > 0 {
				t.Errorf("unknown regions: %v", unknown)
			}
			statuses := map[kpi.Status]int{}
			provinces := 0
			for _, p := range progress {
				if p.Level == kpi.LevelProvinsi && p.Window == kpi.WindowYear {
					statuses[p.Status]++
					provinces++
					if p.Region == "31" && k.ID != "pkh_graduasi" {
						t.Logf("DKI Jakarta: actual %v, expected %v, target %v, pace %v: %s",
							p.Actual, p.Expected, p.AnnualTarget, p.Pace, p.Status)
					}
				}
			}
			t.Logf("%v", statuses)
			if provinces < 10 {
				return // the race detector's sample: too few provinces to tell
			}
			if statuses[kpi.OnTrack] < provinces/2 {
				t.Errorf("%d of %d provinces on track, want most", statuses[kpi.OnTrack], provinces)
			}
			if statuses[kpi.Behind]+statuses[kpi.AtRisk] == 0 || statuses[kpi.Behind]+statuses[kpi.AtRisk] > provinces/2 {
				t.Errorf("%d of %d provinces at risk or behind, want some", statuses[kpi.Behind]+statuses[kpi.AtRisk], provinces)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	benchmarkGenerate(b, 0.1)
}

// BenchmarkGenerateDefaultScale measures `pantau demo`'s own run; a few
// seconds an iteration.
func BenchmarkGenerateDefaultScale(b *testing.B) {
	benchmarkGenerate(b, 1)
}

func benchmarkGenerate(b *testing.B, scale float64) {
	opts := demo.Options{Seed: 1, Scale: scale, Now: lateNovember, Regions: country(b)}
	path := filepath.Join(b.TempDir(), "demo.db")
	b.ReportAllocs()
	var info demo.Info
	for b.Loop() {
		var err error
		if info, err = demo.Generate(context.Background(), path, opts); err != nil {
			b.Fatal(err)
		}
	}
	rows := int64(0)
	for _, n := range info.Rows {
		rows += n
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
}
