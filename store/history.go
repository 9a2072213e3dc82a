package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/kpi"
)

// HistoryRow is the final value of one KPI in one region for one window of
// a closed month.
type HistoryRow struct {
	KPI    string
	Region string
	Level  kpi.Level
	// Period is the month, "2026-10".
	Period string
	Window kpi.Window

	Actual, Target, Expected kpi.Number
	Numerator, Denominator   kpi.Number
	Attainment, Pace         kpi.Number
	Status                   kpi.Status
	// ClosedAt is when the month was closed and the row first written.
	ClosedAt time.Time
}

// HistoryRows turns a closed month's progress into history rows.
func HistoryRows(period kpi.Period, closedAt time.Time, ps []kpi.Progress) []HistoryRow {
	out := make([]HistoryRow, len(ps))
	p := period.String()
	for i, pr := range ps {
		out[i] = HistoryRow{
			KPI: pr.KPI, Region: pr.Region, Level: pr.Level, Period: p, Window: pr.Window,
			Actual: pr.Actual, Target: pr.Target, Expected: pr.Expected,
			Numerator: pr.Numerator, Denominator: pr.Denominator,
			Attainment: pr.Attainment, Pace: pr.Pace,
			Status: pr.Status, ClosedAt: closedAt,
		}
	}
	return out
}

// HistoryFilter selects history rows; zero fields match everything. From
// and To ("2026-01", "2026-12") are inclusive.
type HistoryFilter struct {
	KPI string
	// Regions are exact region codes, at most HistoryMaxRegions.
	Regions  []string
	Level    *kpi.Level
	From, To string
	Window   kpi.Window
}

// HistoryMaxRegions bounds HistoryFilter.Regions: one parameter each, well
// under SQLite's 32766 and PostgreSQL's 65535.
const HistoryMaxRegions = 1000

const historyColumns = "kpi, region_code, level, period, time_window, actual, target, expected, numerator, denominator, attainment, pace, status, closed_at"

// historyBatch is the number of rows per INSERT: 14 parameters a row keeps
// a statement well under SQLite's 32766 and PostgreSQL's 65535 parameters.
const historyBatch = 500

func validateHistoryRow(i int, r HistoryRow) error {
	fail := func(msg string, args ...any) error {
		return fmt.Errorf("store: history row %d (%s %s %s %s): %s", i+1, r.KPI, r.Region, r.Period, r.Window, fmt.Sprintf(msg, args...))
	}
	switch {
	case strings.TrimSpace(r.KPI) == "":
		return fail("kpi is empty")
	case r.Region == "":
		return fail("region is empty")
	case r.Window != kpi.WindowMonth && r.Window != kpi.WindowYear:
		return fail("window %q is neither month nor year", r.Window)
	case r.Status == "":
		return fail("status is empty")
	case r.ClosedAt.IsZero():
		return fail("closed_at is not set")
	}
	if _, err := kpi.ParseLevel(r.Level.String()); err != nil {
		return fail("level %v is not a level", r.Level)
	}
	if _, err := kpi.ParsePeriod(r.Period, nil); err != nil {
		return fail("%v", err)
	}
	return nil
}

func nullNumber(n kpi.Number) sql.NullFloat64 { return sql.NullFloat64{Float64: n.V, Valid: n.OK} }

func number(n sql.NullFloat64) kpi.Number {
	if !n.Valid {
		return kpi.None
	}
	return kpi.Some(n.Float64)
}

// WriteHistory stores closed months' rows and returns how many were new. A
// row whose KPI, region, period and window are already stored is skipped,
// never overwritten, so writing a month twice (a restart, a second replica)
// is harmless. All rows go in one transaction, in multi-row inserts.
func (s *Store) WriteHistory(ctx context.Context, rows []HistoryRow) (inserted int, err error) {
	for i, r := range rows {
		if err := validateHistoryRow(i, r); err != nil {
			return 0, err
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	// Insert in key order: two writers of overlapping rows on PostgreSQL
	// then wait for each other instead of deadlocking.
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b HistoryRow) int {
		return cmp.Or(cmp.Compare(a.KPI, b.KPI), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Period, b.Period), cmp.Compare(a.Window, b.Window))
	})
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		inserted = 0
		var full *sqlx.Stmt
		defer func() {
			if full != nil {
				full.Close()
			}
		}()
		args := make([]any, 0, historyBatch*14)
		for start := 0; start < len(sorted); start += historyBatch {
			batch := sorted[start:min(start+historyBatch, len(sorted))]
			args = args[:0]
			for _, r := range batch {
				args = append(args, r.KPI, r.Region, r.Level.String(), r.Period, string(r.Window),
					nullNumber(r.Actual), nullNumber(r.Target), nullNumber(r.Expected),
					nullNumber(r.Numerator), nullNumber(r.Denominator),
					nullNumber(r.Attainment), nullNumber(r.Pace),
					string(r.Status), formatTime(r.ClosedAt))
			}
			var res sql.Result
			var err error
			if len(batch) == historyBatch {
				if full == nil {
					if full, err = tx.PreparexContext(ctx, s.historyInsert(historyBatch)); err != nil {
						return err
					}
				}
				res, err = full.ExecContext(ctx, args...)
			} else {
				res, err = tx.ExecContext(ctx, s.historyInsert(len(batch)), args...)
			}
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: write history: %w", err)
	}
	return inserted, nil
}

func (s *Store) historyInsert(n int) string {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	var b strings.Builder
	b.Grow(100 + n*(len(row)+2))
	b.WriteString("INSERT INTO monthly_history (" + historyColumns + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return s.rebind(b.String())
}

// HasHistory reports whether history is stored for a KPI and month
// ("2026-10"): for that region when region is set (a shard asks about its
// own province), for any region when it is "".
func (s *Store) HasHistory(ctx context.Context, kpiID, period, region string) (bool, error) {
	var one int
	q, args := "SELECT 1 FROM monthly_history WHERE kpi = ? AND period = ?", []any{kpiID, period}
	if region != "" {
		q, args = q+" AND region_code = ?", append(args, region)
	}
	err := s.rdb.QueryRowxContext(ctx, s.rebind(q+" LIMIT 1"), args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: read history: %w", err)
	}
	return true, nil
}

type historyRow struct {
	KPI         string          `db:"kpi"`
	Region      string          `db:"region_code"`
	Level       string          `db:"level"`
	Period      string          `db:"period"`
	Window      string          `db:"time_window"`
	Actual      sql.NullFloat64 `db:"actual"`
	Target      sql.NullFloat64 `db:"target"`
	Expected    sql.NullFloat64 `db:"expected"`
	Numerator   sql.NullFloat64 `db:"numerator"`
	Denominator sql.NullFloat64 `db:"denominator"`
	Attainment  sql.NullFloat64 `db:"attainment"`
	Pace        sql.NullFloat64 `db:"pace"`
	Status      string          `db:"status"`
	ClosedAt    string          `db:"closed_at"`
}

// History returns the stored rows the filter selects, ordered by region,
// period, KPI and window (month before year).
func (s *Store) History(ctx context.Context, f HistoryFilter) ([]HistoryRow, error) {
	var where []string
	var args []any
	if f.KPI != "" {
		where, args = append(where, "kpi = ?"), append(args, f.KPI)
	}
	switch n := len(f.Regions); {
	case n > HistoryMaxRegions:
		return nil, fmt.Errorf("store: history: %d regions in one read, at most %d", n, HistoryMaxRegions)
	case n > 0:
		// With the KPI, the primary key (kpi, region_code, period, …) finds
		// each region's months without reading the others'.
		where, args = append(where, "region_code IN (?)"), append(args, f.Regions)
	}
	if f.Level != nil {
		where, args = append(where, "level = ?"), append(args, f.Level.String())
	}
	for _, b := range []struct{ op, p string }{{">=", f.From}, {"<=", f.To}} {
		if b.p == "" {
			continue
		}
		if _, err := kpi.ParsePeriod(b.p, nil); err != nil {
			return nil, fmt.Errorf("store: history: %w", err)
		}
		where, args = append(where, "period "+b.op+" ?"), append(args, b.p)
	}
	if f.Window != "" {
		where, args = append(where, "time_window = ?"), append(args, string(f.Window))
	}
	q, args, err := sqlx.In("SELECT "+historyColumns+" FROM monthly_history"+whereClause(where)+
		" ORDER BY region_code, period, kpi, time_window", args...)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	rows, err := s.rdb.QueryxContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: read history: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		var r historyRow
		if err := rows.StructScan(&r); err != nil {
			return nil, fmt.Errorf("store: read history: %w", err)
		}
		lvl, err := kpi.ParseLevel(r.Level)
		if err != nil {
			return nil, fmt.Errorf("store: history row %s %s %s: %w", r.KPI, r.Region, r.Period, err)
		}
		closed, err := parseTime(r.ClosedAt)
		if err != nil {
			return nil, err
		}
		out = append(out, HistoryRow{
			KPI: r.KPI, Region: r.Region, Level: lvl, Period: r.Period, Window: kpi.Window(r.Window),
			Actual: number(r.Actual), Target: number(r.Target), Expected: number(r.Expected),
			Numerator: number(r.Numerator), Denominator: number(r.Denominator),
			Attainment: number(r.Attainment), Pace: number(r.Pace),
			Status: kpi.Status(r.Status), ClosedAt: closed,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read history: %w", err)
	}
	return out, nil
}
