package collector

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/source/sourcetest"
)

// FuzzSourceRows puts rows of arbitrary shape in a real SQLite source
// table, runs a KPI's query through the source (its type normalisation
// included) and validates the result as a refresh does. Whatever the rows
// hold, nothing panics; a result without the KPI's columns is an error; and
// otherwise every row is either served or rejected with one of
// RejectReasons, every served value is a finite, non-negative number of a
// known region at the KPI's level, and an integer cell is served as
// exactly that number.
//
// The rows are lines of cells separated by '|': region code, then value
// (count) or numerator and denominator (rate). A cell is SQL NULL as "~",
// an integer as "i:7", a float as "f:1.5", a blob as "x:…", else text.
// shape picks the KPI kind (bit 0), the declared type of the value columns
// (bits 1-2: none, INTEGER, REAL, DECIMAL(12,2)), and adds an extra column
// (bit 3) or drops the last one the KPI needs (bit 4).
func FuzzSourceRows(f *testing.F) {
	for _, s := range []struct {
		shape uint8
		rows  string
	}{
		{0, "32.16.06|i:3\n32.16.07|2.50"},
		{1, "32.16.06|i:3|i:4\n32.16.07|2|f:2"},
		{2, "32.16.06|f:1.5\n32.16.07|i:0"},
		{4, "32.16.06|f:1e308\n32.16.07|1e400\n32.16.01|NaN\n32.16.02|-Inf\n32.16.03|f:-0"},
		{6, "32.16.06|9223372036854775807\n32.16.07|18446744073709551616\n32.16.01|0x10\n32.16.02|1_000"},
		{0, "~|i:1\n32.16.06|~\ni:3216|i:1\nx:32.16.06|i:1\n 32.16.06\t| 7 "},
		{0, "32.16.06|i:1\n32.16.06|i:2\n32.16.99|i:1\n32.16|i:1\nID|i:1\n32.16.6|i:1\n|i:1"},
		{1, "32.16.06|i:2|i:0\n32.16.07|i:0|i:0\n32.16.01|i:-1|i:4\n32.16.02|tiga|i:4\n32.16.03|x:\xff|i:1"},
		{8, "32.16.06|i:1|extra"},
		{16, "32.16.06"},
		{17, "32.16.06|i:1"},
		{0, "32.16.06|true\n32.16.07|١٢\n32.16.01|1,5\n32.16.02|\x00"},
	} {
		f.Add(s.shape, s.rows)
	}
	h := regionMaster(f)
	dsn := sourcetest.SQLite(f)
	sourcetest.Exec(f, source.DriverSQLite, dsn,
		"CREATE TABLE laporan (id INTEGER PRIMARY KEY, kode, a, b, c, a_int INTEGER, b_int INTEGER, a_real REAL, b_real REAL, a_dec DECIMAL(12,2), b_dec DECIMAL(12,2))")
	src, err := source.Open(context.Background(), source.Config{Name: "laporan", Driver: source.DriverSQLite, DSN: dsn, Timeout: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { src.Close() })
	writer := sqliteWriter(f, dsn)
	count := kpi.KPI{ID: "laporan_hitung", Kind: kpi.KindCount, Accumulation: kpi.Stock, Direction: kpi.Up, Level: kpi.LevelKecamatan}
	rate := kpi.KPI{ID: "laporan_rasio", Kind: kpi.KindRate, Direction: kpi.Up, Level: kpi.LevelKecamatan, TargetRate: 0.95}
	params := source.Params{PeriodStart: time.Date(2026, 10, 1, 0, 0, 0, 0, kpi.WIB), PeriodEnd: time.Date(2026, 11, 1, 0, 0, 0, 0, kpi.WIB),
		YearStart: time.Date(2026, 1, 1, 0, 0, 0, 0, kpi.WIB)}

	f.Fuzz(func(t *testing.T, shape uint8, text string) {
		k := count
		if shape&1 != 0 {
			k = rate
		}
		suffix := []string{"", "_int", "_real", "_dec"}[shape>>1&3]
		cols := []string{"kode AS region_code", "a" + suffix + " AS value"}
		if k.Kind == kpi.KindRate {
			cols = []string{"kode AS region_code", "a" + suffix + " AS numerator", "b" + suffix + " AS denominator"}
		}
		missing := shape&16 != 0
		if missing {
			cols = cols[:len(cols)-1]
		}
		if shape&8 != 0 {
			cols = append(cols, "c AS nama")
		}
		cells := fillLaporan(t, writer, text, suffix)

		res, err := src.Query(context.Background(), "SELECT "+strings.Join(cols, ", ")+" FROM laporan ORDER BY id", params)
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		obs, rejected, err := observations(h, k, res)
		if missing {
			if err == nil || !strings.Contains(err.Error(), "must return") {
				t.Fatalf("a result without %s: error %v", cols, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("observations: %v", err)
		}
		rejectedRow := map[int]bool{}
		for _, r := range rejected {
			if !slices.Contains(RejectReasons, r.Reason) || r.Row < 1 || r.Row > len(res.Rows) || r.Detail == "" || rejectedRow[r.Row] {
				t.Fatalf("rejection %+v of %d rows", r, len(res.Rows))
			}
			rejectedRow[r.Row] = true
		}
		served := 0
		for code, o := range obs {
			if o.Invalid {
				continue
			}
			served++
			if reg, ok := h.Lookup(code); !ok || reg.Level != k.Level {
				t.Fatalf("served region %q (known %v, level %s)", code, ok, reg.Level)
			}
			for _, v := range []float64{o.Value, o.Numerator, o.Denominator} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("served %s: %+v", code, o)
				}
			}
			if o.Denominator == 0 && o.Numerator != 0 {
				t.Fatalf("served %s over a zero denominator: %+v", code, o)
			}
		}
		if served+len(rejected) != len(res.Rows) {
			t.Fatalf("%d rows: %d served, %d rejected", len(res.Rows), served, len(rejected))
		}
		// An integer cell of a served row is served exactly.
		for i, row := range cells {
			if rejectedRow[i+1] || k.Kind != kpi.KindCount || len(row) < 2 {
				continue
			}
			code, _ := row[0].(string)
			if b, ok := row[0].([]byte); ok {
				code = string(b)
			}
			if n, ok := row[1].(int64); ok && float64(n) != obs[strings.TrimSpace(code)].Value {
				t.Fatalf("row %d: integer %d served as %+v", i+1, n, obs[strings.TrimSpace(code)])
			}
		}
	})
}

// fillLaporan replaces the table's rows with those text describes (at most
// 64) and returns their cells as inserted.
func fillLaporan(t *testing.T, w *sql.DB, text, suffix string) [][]any {
	t.Helper()
	db, err := w.Begin() // one commit per input, not per row
	if err != nil {
		t.Fatal(err)
	}
	defer db.Rollback()
	if _, err := db.Exec("DELETE FROM laporan"); err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for n, line := range strings.Split(text, "\n") {
		if n == 64 {
			break
		}
		cells := strings.SplitN(line, "|", 4)
		row := make([]any, 4)
		for i := range row {
			if i < len(cells) {
				row[i] = cellValue(cells[i])
			}
		}
		out = append(out, row)
		q := fmt.Sprintf("INSERT INTO laporan (kode, a%[1]s, b%[1]s, c) VALUES (?, ?, ?, ?)", suffix)
		if _, err := db.Exec(q, row...); err != nil {
			t.Fatalf("insert %q: %v", line, err)
		}
	}
	if err := db.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sqliteWriter opens a read-write connection to a test's SQLite database.
func sqliteWriter(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open(source.DriverSQLite, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	// The table is refilled for every input: durability would only cost
	// an fsync each time.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("PRAGMA synchronous = OFF"); err != nil {
		tb.Fatal(err)
	}
	return db
}

func cellValue(s string) any {
	switch {
	case s == "~":
		return nil
	case strings.HasPrefix(s, "i:"):
		if n, err := strconv.ParseInt(s[2:], 10, 64); err == nil {
			return n
		}
	case strings.HasPrefix(s, "f:"):
		if f, err := strconv.ParseFloat(s[2:], 64); err == nil {
			return f
		}
	case strings.HasPrefix(s, "x:"):
		return []byte(s[2:])
	}
	return s
}
