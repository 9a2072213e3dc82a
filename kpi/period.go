package kpi

import (
	"fmt"
	"strconv"
	"time"
)

// WIB is Western Indonesia Time (Asia/Jakarta), UTC+7 with no daylight
// saving since 1964. It is the default zone for periods; a fixed zone needs
// no tz database, which keeps this package free of I/O.
var WIB = time.FixedZone("WIB", 7*60*60)

// Period is a calendar month in a time zone. The zero Period is invalid.
type Period struct {
	year  int
	month time.Month
	loc   *time.Location
}

// NewPeriod returns the month of year in loc (WIB when loc is nil).
func NewPeriod(year int, month time.Month, loc *time.Location) Period {
	if loc == nil {
		loc = WIB
	}
	// Normalise month overflow (month 13 → January next year) via time.Date.
	t := time.Date(year, month, 1, 0, 0, 0, 0, loc)
	return Period{year: t.Year(), month: t.Month(), loc: loc}
}

// PeriodAt returns the month that contains instant t in loc: 2026-10-31T17:30Z
// is already November in Jakarta.
func PeriodAt(t time.Time, loc *time.Location) Period {
	if loc == nil {
		loc = WIB
	}
	t = t.In(loc)
	return Period{year: t.Year(), month: t.Month(), loc: loc}
}

// ParsePeriod parses "2026-10" (four-digit year, two-digit month).
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if len(s) != 7 || s[4] != '-' {
		return Period{}, fmt.Errorf("period %q: write it as YYYY-MM, like 2026-10", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[5] == '+' || s[5] == '-' {
		return Period{}, fmt.Errorf("period %q: write it as YYYY-MM, like 2026-10", s)
	}
	if y < 1900 || m < 1 || m > 12 {
		return Period{}, fmt.Errorf("period %q: month must be 01..12 and year from 1900", s)
	}
	return NewPeriod(y, time.Month(m), loc), nil
}

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p.loc == nil }

func (p Period) Year() int                { return p.year }
func (p Period) Month() time.Month        { return p.month }
func (p Period) Location() *time.Location { return p.loc }

// String formats the period as "2026-10".
func (p Period) String() string { return fmt.Sprintf("%04d-%02d", p.year, int(p.month)) }

// MarshalText makes periods appear as "2026-10" in JSON.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Start is the first instant of the month in its zone.
func (p Period) Start() time.Time { return time.Date(p.year, p.month, 1, 0, 0, 0, 0, p.loc) }

// End is the first instant of the next month: periods are half-open [Start, End).
func (p Period) End() time.Time { return time.Date(p.year, p.month+1, 1, 0, 0, 0, 0, p.loc) }

// YearStart is the first instant of the period's year.
func (p Period) YearStart() time.Time { return time.Date(p.year, time.January, 1, 0, 0, 0, 0, p.loc) }

func (p Period) Next() Period { return NewPeriod(p.year, p.month+1, p.loc) }
func (p Period) Prev() Period { return NewPeriod(p.year, p.month-1, p.loc) }

// Days is the number of days in the month.
func (p Period) Days() int { return p.End().AddDate(0, 0, -1).Day() }

// Contains reports whether instant t lies within the month.
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.Start()) && t.Before(p.End())
}

// Before reports whether p is an earlier month than q.
func (p Period) Before(q Period) bool {
	return p.year < q.year || (p.year == q.year && p.month < q.month)
}

// Elapsed is the fraction of the month gone by at instant t, clamped to
// [0, 1]: 0 before the month starts, 1 once it has ended.
func (p Period) Elapsed(t time.Time) float64 {
	return fraction(p.Start(), p.End(), t)
}

// YearElapsed is the fraction of the year gone by at t as seen from this
// period: the months before it count 1/12 each (however long they are,
// matching how targets are phased) plus the elapsed part of this month. It
// stops at the period's end, so a closed month evaluated later reads as
// month/12.
func (p Period) YearElapsed(t time.Time) float64 {
	return (float64(p.month-1) + p.Elapsed(t)) / 12
}

func fraction(start, end, t time.Time) float64 {
	if !t.After(start) {
		return 0
	}
	if !t.Before(end) {
		return 1
	}
	return float64(t.Sub(start)) / float64(end.Sub(start))
}
