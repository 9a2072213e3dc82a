package source

import (
	"context"
	"database/sql"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// allDrivers are the drivers the integration tests run on.
var allDrivers = []string{DriverPostgres, DriverMySQL, DriverSQLite}

// wib is Asia/Jakarta (UTC+7, no daylight saving), without needing tzdata.
var wib = time.FixedZone("WIB", 7*3600)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, wib) }

// march2026 is the period most tests query.
var march2026 = Params{
	PeriodStart: day(2026, 3, 1),
	PeriodEnd:   day(2026, 4, 1),
	YearStart:   day(2026, 1, 1),
}

// penyaluran is a small distribution table, written so that the same DDL
// and data load on all three drivers. Its values are exact in binary, so
// sums compare equal as float64 whatever the driver does with DECIMAL.
var penyaluran = []string{
	`CREATE TABLE penyaluran (
		kode    VARCHAR(20) NOT NULL,
		tanggal DATE NOT NULL,
		jumlah  INTEGER NOT NULL,
		nilai   DECIMAL(12,2),
		catatan VARCHAR(50)
	)`,
	`INSERT INTO penyaluran (kode, tanggal, jumlah, nilai, catatan) VALUES
		('32.16.06', '2025-12-31', 100, 1000.00, 'tahun lalu'),
		('32.16.06', '2026-01-15',  10,  100.00, NULL),
		('32.16.06', '2026-03-01',   3,  250.25, 'awal bulan'),
		('32.16.06', '2026-03-31',   4, 1500.50, NULL),
		('32.16.06', '2026-04-01',   7,  700.00, 'bulan depan'),
		('32.16.07', '2026-02-28',   1,   10.00, NULL),
		('32.16.07', '2026-03-15',   5,  100.00, NULL),
		('32.16.07', '2026-03-20',   6,  200.00, NULL),
		('32.16.08', '2026-03-10',   2,    NULL, 'nilai kosong')`,
}

// testSource makes a fresh database for the driver, runs the setup
// statements in it, and opens a Source on it (closed when the test ends).
// cfg.Driver and cfg.DSN are filled in; cfg.Name defaults to "dinsos".
func testSource(t *testing.T, driver string, cfg Config, setup ...string) (*Source, string) {
	t.Helper()
	dsn := sourcetest.DSN(t, driver)
	if len(setup) > 0 {
		sourcetest.Exec(t, driver, dsn, setup...)
	}
	cfg.Driver, cfg.DSN = driver, dsn
	if cfg.Name == "" {
		cfg.Name = "dinsos"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, dsn
}

// rawDB opens a plain read-write connection pool on a test database, for
// checking what a query did and for administration (killing backends).
func rawDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return strconv.Itoa(port)
}

// mustQuery runs a query that must succeed.
func mustQuery(t *testing.T, s *Source, query string) Result {
	t.Helper()
	res, err := s.Query(context.Background(), query, march2026)
	if err != nil {
		t.Fatalf("Query(%q): %v", query, err)
	}
	return res
}

// asFloat turns the numbers of a Result into float64, so that results from
// different drivers compare equal.
func asFloat(res Result) Result {
	out := Result{Columns: res.Columns, Rows: make([][]any, len(res.Rows))}
	for i, row := range res.Rows {
		out.Rows[i] = make([]any, len(row))
		for j, v := range row {
			if n, ok := v.(int64); ok {
				v = float64(n)
			}
			out.Rows[i][j] = v
		}
	}
	return out
}
