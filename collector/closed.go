package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
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
	ClosedMonthSums(ctx context.Context, kpiID, scope string, year int) ([]store.MonthSums, error)
	SaveClosedMonthSums(ctx context.Context, kpiID, scope string, months []store.MonthSums) error
}

// closedMonths holds one flow KPI's figures for the closed months of one
// year, per region of the KPI's level. The year-to-date window is their sum
// plus the open month, so a refresh reads only the open month from the
// source; the closed months are read again every recheck_closed for rows
// that arrive late. Only the KPI's own refresh touches it, and refreshes
// never overlap (refreshMu).
type closedMonths struct {
	year int
	// loaded says the store has been read for year.
	loaded bool
	// months[m] is nil until month m has been read.
	months [13]map[string]kpi.Observation
	// checked is when every held month was last read; zero before the
	// first complete read.
	checked time.Time
}

// queryFunc runs a KPI's query with the given parameters under a name for
// the query-duration metric.
type queryFunc func(name string, p source.Params) (map[string]kpi.Observation, error)

// yearFromClosed returns the year-to-date observations of a flow KPI whose
// open month is period and whose open month's rows are month: the sums of
// the year's closed months, read from the source only when not held yet or
// when a recheck is due, plus month. A recheck that finds a closed month
// changed logs it and counts it in pantau_closed_month_changes_total.
func (c *Collector) yearFromClosed(ctx context.Context, k config.KPI, period kpi.Period, now time.Time, month map[string]kpi.Observation, run queryFunc) (map[string]kpi.Observation, error) {
	cm := c.closed[k.ID]
	if cm.year != period.Year() {
		*cm = closedMonths{year: period.Year()}
	}
	hash := queryHash(k)
	if !cm.loaded && c.opts.ClosedMonths != nil {
		c.loadClosed(ctx, k, hash, cm)
	}
	cm.loaded = true
	every := c.opts.Spec.Sources[k.Source].RecheckClosed
	recheck := cm.checked.IsZero() || now.Sub(cm.checked) >= every || now.Before(cm.checked)
	var save []store.MonthSums
	for m := time.January; m < period.Month(); m++ {
		old := cm.months[m]
		if old != nil && !recheck {
			continue
		}
		p := kpi.NewPeriod(period.Year(), m, period.Location())
		obs, err := run("closed", monthParams(p))
		if err != nil {
			return nil, err
		}
		if old != nil && !sameObservations(old, obs) {
			c.metrics.closedChanges.WithLabelValues(k.ID).Inc()
			c.log.Info("a closed month changed since it was last read (rows arrived late); the year window follows",
				"kpi", k.ID, "month", p.String(), "regions_before", len(old), "regions_now", len(obs))
		}
		if obs == nil {
			obs = map[string]kpi.Observation{} // read, and empty
		}
		cm.months[m] = obs
		save = append(save, store.MonthSums{Period: p.String(), QueryHash: hash, Sums: obs, CheckedAt: now})
	}
	if recheck {
		cm.checked = now
	}
	if c.opts.ClosedMonths != nil && len(save) > 0 {
		if err := c.opts.ClosedMonths.SaveClosedMonthSums(ctx, k.ID, c.opts.Scope, save); err != nil {
			// Memory still holds them: only a restart reads them again.
			c.log.Warn("saving closed months' sums failed", "kpi", k.ID, "err", err)
		}
	}
	// Clip: appending the open month must not write into cm.months.
	return addMonths(append(slices.Clip(cm.months[1:period.Month()]), month)), nil
}

// loadClosed fills cm from the store with the sums of the same query.
// Their oldest check time becomes cm's, so a restart does not reread what
// was read recently. A store that fails only costs queries.
func (c *Collector) loadClosed(ctx context.Context, k config.KPI, hash string, cm *closedMonths) {
	stored, err := c.opts.ClosedMonths.ClosedMonthSums(ctx, k.ID, c.opts.Scope, cm.year)
	if err != nil {
		c.log.Warn("reading closed months' sums failed; reading the months from the source", "kpi", k.ID, "err", err)
		return
	}
	for _, s := range stored {
		p, err := kpi.ParsePeriod(s.Period, nil)
		if err != nil || p.Year() != cm.year || s.QueryHash != hash {
			continue
		}
		cm.months[p.Month()] = s.Sums
		if cm.checked.IsZero() || s.CheckedAt.Before(cm.checked) {
			cm.checked = s.CheckedAt
		}
	}
}

// queryHash identifies what a KPI's monthly figures depend on in the spec.
func queryHash(k config.KPI) string {
	h := sha256.Sum256([]byte(string(k.Kind) + "\x00" + k.Level.String() + "\x00" + k.Query))
	return hex.EncodeToString(h[:8])
}

// addMonths sums monthly observations per region, as a year query over the
// same rows would: unusable rows (Invalid) add nothing, and a region only
// ever reported unusable stays unusable.
func addMonths(months []map[string]kpi.Observation) map[string]kpi.Observation {
	year := make(map[string]kpi.Observation, len(months[len(months)-1]))
	for _, m := range months {
		for code, o := range m {
			y, seen := year[code]
			switch {
			case o.Invalid:
				if !seen {
					year[code] = o
				}
			case !seen || y.Invalid:
				year[code] = o
			default:
				y.Value += o.Value
				y.Numerator += o.Numerator
				y.Denominator += o.Denominator
				year[code] = y
			}
		}
	}
	return year
}

func sameObservations(a, b map[string]kpi.Observation) bool {
	if len(a) != len(b) {
		return false
	}
	for code, o := range a {
		if p, ok := b[code]; !ok || p != o {
			return false
		}
	}
	return true
}
