package source

import (
	"fmt"
	"time"

	"github.com/pantau-id/pantau/sqlcheck"
)

// Params are the period a query runs for, bound to its named parameters
// (sqlcheck.ParamNames) as 'YYYY-MM-DD' strings in each time's own location
// (pantau passes midnights in Asia/Jakarta).
type Params struct {
	PeriodStart time.Time // :period_start, the first day of the month
	PeriodEnd   time.Time // :period_end, exclusive: the first day of the next month
	YearStart   time.Time // :year_start, January 1st of the period's year
}

// args returns the values of the named parameters behind a prepared
// query's placeholders, in order.
func (p Params) args(names []string) ([]any, error) {
	args := make([]any, len(names))
	for i, name := range names {
		var t time.Time
		switch name {
		case sqlcheck.ParamPeriodStart:
			t = p.PeriodStart
		case sqlcheck.ParamPeriodEnd:
			t = p.PeriodEnd
		case sqlcheck.ParamYearStart:
			t = p.YearStart
		default:
			return nil, fmt.Errorf("%w :%s", sqlcheck.ErrUnknownParameter, name)
		}
		if t.IsZero() {
			return nil, fmt.Errorf("the query uses :%s but Params has no value for it", name)
		}
		args[i] = t.Format(time.DateOnly)
	}
	return args, nil
}
