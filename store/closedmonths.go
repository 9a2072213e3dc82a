package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/kpi"
)

// MonthSums are one KPI's source figures for a closed month, per region of
// the KPI's level, as the collector last read them: what the year-to-date
// window adds up instead of querying the whole year on every refresh.
type MonthSums struct {
	// Period is the month, "2026-03".
	Period string
	// QueryHash identifies the query and level the sums came from; sums of
	// another query are not to be trusted.
	QueryHash string
	Sums      map[string]kpi.Observation
	// CheckedAt is when the month was last read from the source.
	CheckedAt time.Time
}

// sum is the stored form of a kpi.Observation: short keys, zeros left out.
type sum struct {
	V float64 `json:"v,omitempty"`
	N float64 `json:"n,omitempty"`
	D float64 `json:"d,omitempty"`
	X bool    `json:"x,omitempty"`
}

// ClosedMonthSums returns the stored sums of a KPI's closed months of year
// for a collector scope ("ID", or "32" for a shard), oldest first.
func (s *Store) ClosedMonthSums(ctx context.Context, kpiID, scope string, year int) ([]MonthSums, error) {
	var rows []struct {
		Period    string `db:"period"`
		QueryHash string `db:"query_hash"`
		Sums      string `db:"sums"`
		CheckedAt string `db:"checked_at"`
	}
	y := strconv.Itoa(year)
	err := s.rdb.SelectContext(ctx, &rows, s.rebind(
		"SELECT period, query_hash, sums, checked_at FROM closed_month_sums WHERE kpi = ? AND scope = ? AND period >= ? AND period <= ? ORDER BY period"),
		kpiID, scope, y+"-01", y+"-12")
	if err != nil {
		return nil, fmt.Errorf("store: read closed month sums: %w", err)
	}
	out := make([]MonthSums, 0, len(rows))
	for _, r := range rows {
		var stored map[string]sum
		if err := json.Unmarshal([]byte(r.Sums), &stored); err != nil {
			return nil, fmt.Errorf("store: closed month sums of %s %s: %w", kpiID, r.Period, err)
		}
		checked, err := parseTime(r.CheckedAt)
		if err != nil {
			return nil, err
		}
		m := MonthSums{Period: r.Period, QueryHash: r.QueryHash, CheckedAt: checked, Sums: make(map[string]kpi.Observation, len(stored))}
		for code, v := range stored {
			m.Sums[code] = kpi.Observation{Value: v.V, Numerator: v.N, Denominator: v.D, Invalid: v.X}
		}
		out = append(out, m)
	}
	return out, nil
}

// SaveClosedMonthSums stores (or replaces) closed months' sums of a KPI for
// a collector scope, in one transaction.
func (s *Store) SaveClosedMonthSums(ctx context.Context, kpiID, scope string, months []MonthSums) error {
	type encoded struct {
		m    MonthSums
		sums []byte
	}
	enc := make([]encoded, len(months))
	for i, m := range months {
		if _, err := kpi.ParsePeriod(m.Period, nil); err != nil {
			return fmt.Errorf("store: closed month sums of %s: %w", kpiID, err)
		}
		if m.CheckedAt.IsZero() {
			return fmt.Errorf("store: closed month sums of %s %s: checked_at is not set", kpiID, m.Period)
		}
		stored := make(map[string]sum, len(m.Sums))
		for code, o := range m.Sums {
			stored[code] = sum{V: o.Value, N: o.Numerator, D: o.Denominator, X: o.Invalid}
		}
		b, err := json.Marshal(stored)
		if err != nil {
			return fmt.Errorf("store: closed month sums of %s %s: %w", kpiID, m.Period, err)
		}
		enc[i] = encoded{m, b}
	}
	q := s.rebind(`INSERT INTO closed_month_sums (kpi, scope, period, query_hash, sums, checked_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (kpi, scope, period) DO UPDATE SET query_hash = excluded.query_hash, sums = excluded.sums, checked_at = excluded.checked_at`)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, e := range enc {
			if _, err := tx.ExecContext(ctx, q, kpiID, scope, e.m.Period, e.m.QueryHash, string(e.sums), formatTime(e.m.CheckedAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write closed month sums of %s: %w", kpiID, err)
	}
	return nil
}
