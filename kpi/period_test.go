package kpi

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPeriodAt(t *testing.T) {
	tests := []struct {
		name string
		at   string
		want string
	}{
		{"half past midnight on 1 November in Jakarta is already November", "2026-10-31T17:30:00Z", "2026-11"},
		{"the last second of October in Jakarta is still October", "2026-10-31T16:59:59Z", "2026-10"},
		{"midnight of 1 November in Jakarta starts November", "2026-10-31T17:00:00Z", "2026-11"},
		{"new year's eve in UTC evening is already January in Jakarta", "2026-12-31T18:00:00Z", "2027-01"},
		{"an instant given with a +07:00 offset keeps its calendar month", "2026-02-28T23:59:00+07:00", "2026-02"},
		{"the 29th of February in a leap year is February", "2028-02-29T12:00:00+07:00", "2028-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PeriodAt(mustTime(t, tt.at), WIB).String(); got != tt.want {
				t.Errorf("PeriodAt(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

func TestPeriodBounds(t *testing.T) {
	tests := []struct {
		name       string
		period     string
		start, end string
		days       int
	}{
		{"October starts and ends at Jakarta midnight", "2026-10", "2026-10-01T00:00:00+07:00", "2026-11-01T00:00:00+07:00", 31},
		{"February of a common year has 28 days", "2026-02", "2026-02-01T00:00:00+07:00", "2026-03-01T00:00:00+07:00", 28},
		{"February of a leap year has 29 days", "2028-02", "2028-02-01T00:00:00+07:00", "2028-03-01T00:00:00+07:00", 29},
		{"February of 2100 is not a leap month", "2100-02", "2100-02-01T00:00:00+07:00", "2100-03-01T00:00:00+07:00", 28},
		{"December ends at the next year's first instant", "2026-12", "2026-12-01T00:00:00+07:00", "2027-01-01T00:00:00+07:00", 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePeriod(tt.period, WIB)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Start().Equal(mustTime(t, tt.start)) || !p.End().Equal(mustTime(t, tt.end)) {
				t.Errorf("%s: [%s, %s), want [%s, %s)", tt.period, p.Start().Format(time.RFC3339), p.End().Format(time.RFC3339), tt.start, tt.end)
			}
			if p.Days() != tt.days {
				t.Errorf("%s has %d days, want %d", tt.period, p.Days(), tt.days)
			}
			if !p.Contains(p.Start()) || p.Contains(p.End()) {
				t.Errorf("%s must contain its start and not its end", tt.period)
			}
		})
	}
}

func TestPeriodNavigation(t *testing.T) {
	jan, _ := ParsePeriod("2026-01", WIB)
	dec, _ := ParsePeriod("2026-12", WIB)
	if got := jan.Prev().String(); got != "2025-12" {
		t.Errorf("the month before January 2026 is %s, want 2025-12", got)
	}
	if got := dec.Next().String(); got != "2027-01" {
		t.Errorf("the month after December 2026 is %s, want 2027-01", got)
	}
	if !jan.Before(dec) || dec.Before(jan) || jan.Before(jan) {
		t.Error("Before must order months")
	}
	if !jan.YearStart().Equal(dec.YearStart()) {
		t.Error("months of one year share a year start")
	}
}

func TestParsePeriodRejects(t *testing.T) {
	for _, s := range []string{"", "2026-1", "2026-13", "2026-00", "26-10", "2026/10", "2026-1a", "+026-10", "2026--1", "0000-01", "2026-10-01"} {
		t.Run("the period "+`"`+s+`"`+" is rejected", func(t *testing.T) {
			if p, err := ParsePeriod(s, WIB); err == nil {
				t.Errorf("ParsePeriod(%q) = %v, want an error", s, p)
			}
		})
	}
}

func TestElapsed(t *testing.T) {
	oct, _ := ParsePeriod("2026-10", WIB)
	feb, _ := ParsePeriod("2028-02", WIB)
	tests := []struct {
		name   string
		p      Period
		at     string
		month  float64
		yearly float64
	}{
		{"nothing of October has elapsed before it starts", oct, "2026-09-30T16:00:00Z", 0, 9.0 / 12},
		{"nothing has elapsed at October's first instant", oct, "2026-09-30T17:00:00Z", 0, 9.0 / 12},
		{"half of October has elapsed at noon on the 16th", oct, "2026-10-16T12:00:00+07:00", 0.5, 9.5 / 12},
		{"all of October has elapsed once November starts in Jakarta", oct, "2026-10-31T17:30:00Z", 1, 10.0 / 12},
		{"14.5 of the 29 days of a leap February have elapsed at noon on the 15th", feb, "2028-02-15T12:00:00+07:00", 14.5 / 29, (1 + 14.5/29) / 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := mustTime(t, tt.at)
			if got := tt.p.Elapsed(at); !near(got, tt.month) {
				t.Errorf("Elapsed = %v, want %v", got, tt.month)
			}
			if got := tt.p.YearElapsed(at); !near(got, tt.yearly) {
				t.Errorf("YearElapsed = %v, want %v", got, tt.yearly)
			}
		})
	}
}

func near(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-10", "2028-02", "1900-01", "9999-12", "2026-13", "abcd-ef", "2026-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s, WIB)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Errorf("ParsePeriod(%q).String() = %q, want the input back", s, p.String())
		}
		if !p.Start().Before(p.End()) || p.Next().Prev() != p {
			t.Errorf("period %s is inconsistent", p)
		}
		if got := PeriodAt(p.Start(), WIB); got != p {
			t.Errorf("PeriodAt(start of %s) = %s", p, got)
		}
	})
}
