// Package history closes months: once a month is over, its final values are
// computed from the sources as they stood at the month's end and written to
// the store's monthly history, exactly once. Backfill does the same for a
// range of past months, resumably.
package history

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// Store is where history goes; *store.Store is one.
type Store interface {
	HasHistory(ctx context.Context, kpiID, period, region string) (bool, error)
	WriteHistory(ctx context.Context, rows []store.HistoryRow) (int, error)
}

// Computer evaluates a closed month; *collector.Collector is one.
type Computer interface {
	ComputeMonth(ctx context.Context, p kpi.Period) ([]collector.KPIState, error)
	// Scope is the region the computer collects ("ID", or "32" for a
	// province shard).
	Scope() string
}

// CloseMonth writes month p's final values for every KPI that has none yet
// and returns how many rows were written. It is idempotent: a KPI already
// in history is neither recomputed nor rewritten, and the store ignores rows
// another replica wrote in the meantime. KPIs whose queries fail are
// reported and retried at the next call, and so are months a lagging source
// does not have yet (collector.ErrMonthNotAvailable).
//
// A province shard writes only its own regions: the nation's figures it
// computes are partial sums of its province, and another shard's history
// of the same month does not count as its own.
func CloseMonth(ctx context.Context, c Computer, s Store, kpiIDs []string, p kpi.Period, closedAt time.Time) (int, error) {
	scope := c.Scope()
	missing := map[string]bool{}
	for _, id := range kpiIDs {
		has, err := s.HasHistory(ctx, id, p.String(), scope)
		if err != nil {
			return 0, fmt.Errorf("history of %s: %w", p, err)
		}
		if !has {
			missing[id] = true
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	states, computeErr := c.ComputeMonth(ctx, p)
	var rows []store.HistoryRow
	for _, st := range states {
		if !missing[st.Def.ID] {
			continue
		}
		for _, r := range store.HistoryRows(st.Period, closedAt, st.Progress) {
			if kpi.Contains(scope, r.Region) {
				rows = append(rows, r)
			}
		}
	}
	written, err := s.WriteHistory(ctx, rows)
	if err != nil {
		return 0, fmt.Errorf("writing history of %s: %w", p, err)
	}
	if err := failures(computeErr); err != nil {
		return written, fmt.Errorf("closing %s: %w", p, err)
	}
	return written, nil
}

// failures drops from ComputeMonth's joined errors the months a lagging
// source does not have yet: they are not failures, only not due.
func failures(err error) error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []error
	for _, e := range errs {
		if !errors.Is(e, collector.ErrMonthNotAvailable) {
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

// Progress is told about each month Backfill finishes.
type Progress func(done, total int, p kpi.Period, written int)

// Backfill closes every month from from to to (inclusive). Months already
// in history are skipped, so an interrupted backfill resumes where it
// stopped. It stops between months when ctx is cancelled, and at the first
// month that fails.
func Backfill(ctx context.Context, c Computer, s Store, kpiIDs []string, from, to kpi.Period, now time.Time, progress Progress) (int, error) {
	if to.Before(from) {
		return 0, fmt.Errorf("backfill: %s is after %s", from, to)
	}
	if current := kpi.PeriodAt(now, from.Location()); !to.Before(current) {
		return 0, fmt.Errorf("backfill: %s has not closed yet; the latest closed month is %s", to, current.Prev())
	}
	total := 0
	for p := from; !to.Before(p); p = p.Next() {
		total++
	}
	written, done := 0, 0
	for p := from; !to.Before(p); p = p.Next() {
		if err := ctx.Err(); err != nil {
			return written, fmt.Errorf("backfill interrupted before %s (%d of %d months done; run it again to resume): %w", p, done, total, err)
		}
		n, err := CloseMonth(ctx, c, s, kpiIDs, p, now)
		written += n
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return written, fmt.Errorf("backfill interrupted in %s (run it again to resume): %w", p, err)
			}
			return written, err
		}
		done++
		if progress != nil {
			progress(done, total, p, n)
		}
	}
	return written, nil
}
