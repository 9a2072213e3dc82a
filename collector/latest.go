package collector

import (
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// latestMonth remembers, for a KPI of a latest_data source, the latest
// month found with data, so a refresh reads that month alone instead of
// searching back from the calendar month every time. Only the KPI's own
// live refresh touches it.
type latestMonth struct {
	// month is the latest month with data; zero when none was found within
	// lagLimit months of calendar.
	month kpi.Period
	// calendar and probed are the calendar month and instant of the last
	// search for a newer month.
	calendar kpi.Period
	probed   time.Time
}

// latestWithData returns the latest month with data of a latest_data KPI
// and its rows. Once a month with data is known, a refresh queries that
// month only, and probes the months after it (newest first) when the
// calendar month has changed or the source's recheck_closed interval has
// passed since the last probe: in the steady state one query a refresh.
// Without a known month it searches back from the calendar month, at most
// lagLimit months, as on the first refresh; if nothing has data the
// calendar month is used, with no data.
func (c *Collector) latestWithData(k config.KPI, calendar kpi.Period, now time.Time, run queryFunc) (kpi.Period, map[string]kpi.Observation, error) {
	lm := c.latest[k.ID]
	every := c.opts.Spec.Sources[k.Source].RecheckClosed
	probeDue := lm.calendar != calendar || now.Sub(lm.probed) >= every || now.Before(lm.probed)
	if lm.month.IsZero() && !probeDue {
		// Nothing had data at the last search: nothing to read until the
		// next one.
		return calendar, nil, nil
	}
	if !lm.month.IsZero() && !calendar.Before(lm.month) {
		if probeDue {
			for p := calendar; lm.month.Before(p); p = p.Prev() {
				month, err := run("month", monthParams(p))
				if err != nil {
					return p, nil, err // probed again at the next refresh
				}
				if len(month) > 0 {
					lm.month, lm.calendar, lm.probed = p, calendar, now
					return p, month, nil
				}
			}
			lm.calendar, lm.probed = calendar, now
		}
		month, err := run("month", monthParams(lm.month))
		if err != nil || len(month) > 0 {
			return lm.month, month, err
		}
		// The remembered month has lost its rows: search afresh.
	}
	*lm = latestMonth{}
	p := calendar
	for i := 0; i <= lagLimit; i, p = i+1, p.Prev() {
		month, err := run("month", monthParams(p))
		if err != nil {
			return p, nil, err // searched again at the next refresh
		}
		if len(month) > 0 {
			*lm = latestMonth{month: p, calendar: calendar, probed: now}
			return p, month, nil
		}
	}
	lm.calendar, lm.probed = calendar, now
	return calendar, nil, nil
}
