package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
	"github.com/pantau-id/pantau/store"
)

// ClosedMonthStore keeps the closed months' sums across restarts;
// *store.Store is one. Without it they live in memory only and are read
// from the sources once at start-up.
type ClosedMonthStore interface {
	ClosedSums(ctx context.Context, kpiID, scope, open string) (store.ClosedSums, bool, error)
	SaveClosedSums(ctx context.Context, kpiID, scope string, c store.ClosedSums) error
}

// closedMonths holds one flow KPI's figures for the closed months of the
// year before its open month, per region of the KPI's level. The
// year-to-date window is their sum plus the open month, so a refresh reads
// only the open month from the source.
//
// The closed part is the year query of the open month minus its month
// query, both bound to the open month's end, rather than a sum of each
// closed month's own query: a query whose figures depend on :period_end
// beyond selecting rows (Sembako allocated in September and distributed on
// 2 October counts as distributed in the year, not in September's month)
// then gives exactly what the year query gives. It is read again every
// recheck_closed, and when the open month changes; a recheck that fails
// keeps the closed months as last read.
//
// Only the KPI's own live refresh touches it, and refreshes never overlap
// (refreshMu).
type closedMonths struct {
	open kpi.Period
	// loaded says the store has been asked for open's sums.
	loaded bool
	// sums is nil until read.
	sums    map[string]kpi.Observation
	checked time.Time
}

// queryFunc runs a KPI's query with the given parameters under a name for
// the query-duration metric.
type queryFunc func(name string, p source.Params) (map[string]kpi.Observation, error)

// yearFromClosed returns the year-to-date observations of a flow KPI whose
// open month is period and whose open month's rows are month: the closed
// months' sums, read with a year query when not held or due for a recheck,
// plus month. A recheck that finds the closed months changed (rows that
// arrived late) logs it and counts it in pantau_closed_month_changes_total.
func (c *Collector) yearFromClosed(ctx context.Context, k config.KPI, period kpi.Period, now time.Time, month map[string]kpi.Observation, run queryFunc) (map[string]kpi.Observation, error) {
	if period.Month() == time.January {
		return month, nil // nothing has closed yet: the year is the month
	}
	cm := c.closed[k.ID]
	if cm.open.String() != period.String() {
		*cm = closedMonths{open: period}
	}
	hash := queryHash(k)
	if !cm.loaded && c.opts.ClosedMonths != nil {
		stored, ok, err := c.opts.ClosedMonths.ClosedSums(ctx, k.ID, c.opts.Scope, period.String())
		switch {
		case err != nil:
			// A store that fails only costs a year query.
			c.log.Warn("reading the closed months' sums failed; reading them from the source", "kpi", k.ID, "err", err)
		case ok && stored.QueryHash == hash:
			cm.sums, cm.checked = stored.Sums, stored.CheckedAt
		}
	}
	cm.loaded = true
	if cm.sums == nil || c.recheckDue(k, cm.checked, now) {
		year, err := run("year", yearParams(period))
		if err != nil && cm.sums != nil {
			// The open month was read: show it with the closed months
			// as last read, and try again after recheck_closed rather
			// than run a failing year query on every refresh.
			c.log.Warn("rechecking the closed months failed; the year window keeps them as last read",
				"kpi", k.ID, "read_at", cm.checked, "err", err)
			cm.checked = now
			return add(cm.sums, month), nil
		}
		if err != nil {
			return nil, err
		}
		closed := subtract(year, month)
		if cm.sums != nil {
			if n := changedRegions(cm.sums, closed); n > 0 {
				c.metrics.closedChanges.WithLabelValues(k.ID).Inc()
				c.log.Info("the closed months changed since they were last read (rows arrived late); the year window follows",
					"kpi", k.ID, "before", period.String(), "regions", n)
			}
		}
		cm.sums, cm.checked = closed, now
		if c.opts.ClosedMonths != nil {
			err := c.opts.ClosedMonths.SaveClosedSums(ctx, k.ID, c.opts.Scope, store.ClosedSums{Open: period.String(), QueryHash: hash, Sums: closed, CheckedAt: now})
			if err != nil {
				// Memory still holds them: only a restart reads them again.
				c.log.Warn("saving the closed months' sums failed", "kpi", k.ID, "err", err)
			}
		}
	}
	return add(cm.sums, month), nil
}

// baseline is a stock count's level on 1 January (December's month
// query), the start its targets phase from: a closed month too, read at
// start-up, when the year changes and every recheck_closed.
type baseline struct {
	year    int
	obs     map[string]kpi.Observation
	checked time.Time
}

// baselineOf returns the level on 1 January of period's year, reading it
// from the source only when due. A change found at a recheck is logged and
// counted like the closed months'; a failed recheck keeps the last read.
func (c *Collector) baselineOf(k config.KPI, period kpi.Period, now time.Time, run queryFunc) (map[string]kpi.Observation, error) {
	b := c.baselines[k.ID]
	if b.year != period.Year() {
		*b = baseline{year: period.Year()}
	}
	if b.obs != nil && !c.recheckDue(k, b.checked, now) {
		return b.obs, nil
	}
	obs, err := run("baseline", baselineParams(period))
	switch {
	case err != nil && b.obs != nil:
		c.log.Warn("rechecking the level on 1 January failed; keeping it as last read", "kpi", k.ID, "read_at", b.checked, "err", err)
		b.checked = now
		return b.obs, nil
	case err != nil:
		return nil, err
	case b.obs != nil:
		if n := changedRegions(b.obs, obs); n > 0 {
			c.metrics.closedChanges.WithLabelValues(k.ID).Inc()
			c.log.Info("the level on 1 January changed since it was last read (rows arrived late)", "kpi", k.ID, "regions", n)
		}
	}
	b.obs, b.checked = obs, now
	return obs, nil
}

// recheckDue reports whether closed months read at checked are due to be
// read again: recheck_closed has passed, or the clock went back.
func (c *Collector) recheckDue(k config.KPI, checked, now time.Time) bool {
	return now.Sub(checked) >= c.opts.Spec.Sources[k.Source].RecheckClosed || now.Before(checked)
}

// queryHash identifies what a KPI's figures depend on in the spec.
func queryHash(k config.KPI) string {
	h := sha256.Sum256([]byte(string(k.Kind) + "\x00" + k.Level.String() + "\x00" + k.Query))
	return hex.EncodeToString(h[:8])
}

// subtract takes the open month's observations out of the year's, leaving
// the closed months'. A region whose year is all open month is left out;
// one the source reported unusable stays unusable.
func subtract(year, month map[string]kpi.Observation) map[string]kpi.Observation {
	closed := make(map[string]kpi.Observation, len(year))
	for code, y := range year {
		m, ok := month[code]
		if y.Invalid || !ok || m.Invalid {
			closed[code] = y
			continue
		}
		d := kpi.Observation{Value: y.Value - m.Value, Numerator: y.Numerator - m.Numerator, Denominator: y.Denominator - m.Denominator}
		if d != (kpi.Observation{}) {
			closed[code] = d
		}
	}
	return closed
}

// add sums the closed months and the open month per region, as the year
// query would: unusable rows add nothing, and a region reported only
// unusable stays unusable.
func add(closed, month map[string]kpi.Observation) map[string]kpi.Observation {
	year := make(map[string]kpi.Observation, max(len(closed), len(month)))
	for code, o := range closed {
		year[code] = o
	}
	for code, o := range month {
		y, seen := year[code]
		switch {
		case !seen || y.Invalid && !o.Invalid:
			year[code] = o
		case !o.Invalid:
			y.Value += o.Value
			y.Numerator += o.Numerator
			y.Denominator += o.Denominator
			year[code] = y
		}
	}
	return year
}

// changedRegions counts the regions whose closed-month figures differ.
func changedRegions(a, b map[string]kpi.Observation) int {
	n := 0
	for code, o := range a {
		if p, ok := b[code]; !ok || p != o {
			n++
		}
	}
	for code := range b {
		if _, ok := a[code]; !ok {
			n++
		}
	}
	return n
}
