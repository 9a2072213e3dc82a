package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/kpi"
)

// ClosedSums are one KPI's source figures for the closed months of a year,
// per region of the KPI's level: what its year-to-date window adds the open
// month to, so a refresh need not query the whole year.
type ClosedSums struct {
	// Open is the open month ("2026-10") the sums were read for: they cover
	// 1 January up to its start, as its year query sees them.
	Open string
	// QueryHash identifies the query and level the sums came from; sums of
	// another query are not to be trusted.
	QueryHash string
	Sums      map[string]kpi.Observation
	// CheckedAt is when they were read from the source.
	CheckedAt time.Time
}

// sum is the stored form of a kpi.Observation: short keys, zeros left out.
type sum struct {
	V float64 `json:"v,omitempty"`
	N float64 `json:"n,omitempty"`
	D float64 `json:"d,omitempty"`
	X bool    `json:"x,omitempty"`
}

// ClosedSums returns the stored closed-month sums of a KPI for a collector
// scope ("ID", or "32" for a shard) and open month; false when there are
// none.
func (s *Store) ClosedSums(ctx context.Context, kpiID, scope, open string) (ClosedSums, bool, error) {
	var r struct {
		QueryHash string `db:"query_hash"`
		Sums      string `db:"sums"`
		CheckedAt string `db:"checked_at"`
	}
	err := s.rdb.GetContext(ctx, &r, s.rebind(
		"SELECT query_hash, sums, checked_at FROM closed_month_sums WHERE kpi = ? AND scope = ? AND open_period = ?"),
		kpiID, scope, open)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ClosedSums{}, false, nil
	case err != nil:
		return ClosedSums{}, false, fmt.Errorf("store: read closed month sums: %w", err)
	}
	var stored map[string]sum
	if err := json.Unmarshal([]byte(r.Sums), &stored); err != nil {
		return ClosedSums{}, false, fmt.Errorf("store: closed month sums of %s before %s: %w", kpiID, open, err)
	}
	checked, err := parseTime(r.CheckedAt)
	if err != nil {
		return ClosedSums{}, false, err
	}
	c := ClosedSums{Open: open, QueryHash: r.QueryHash, CheckedAt: checked, Sums: make(map[string]kpi.Observation, len(stored))}
	for code, v := range stored {
		c.Sums[code] = kpi.Observation{Value: v.V, Numerator: v.N, Denominator: v.D, Invalid: v.X}
	}
	return c, true, nil
}

// SaveClosedSums stores a KPI's closed-month sums for a collector scope,
// replacing those of any earlier open month: only the latest are read.
func (s *Store) SaveClosedSums(ctx context.Context, kpiID, scope string, c ClosedSums) error {
	if _, err := kpi.ParsePeriod(c.Open, nil); err != nil {
		return fmt.Errorf("store: closed month sums of %s: %w", kpiID, err)
	}
	if c.CheckedAt.IsZero() {
		return fmt.Errorf("store: closed month sums of %s before %s: checked_at is not set", kpiID, c.Open)
	}
	stored := make(map[string]sum, len(c.Sums))
	for code, o := range c.Sums {
		stored[code] = sum{V: o.Value, N: o.Numerator, D: o.Denominator, X: o.Invalid}
	}
	b, err := json.Marshal(stored)
	if err != nil {
		return fmt.Errorf("store: closed month sums of %s before %s: %w", kpiID, c.Open, err)
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM closed_month_sums WHERE kpi = ? AND scope = ?"), kpiID, scope); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.rebind("INSERT INTO closed_month_sums (kpi, scope, open_period, query_hash, sums, checked_at) VALUES (?, ?, ?, ?, ?, ?)"),
			kpiID, scope, c.Open, c.QueryHash, string(b), formatTime(c.CheckedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: write closed month sums of %s: %w", kpiID, err)
	}
	return nil
}
