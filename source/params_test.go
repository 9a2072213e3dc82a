package source

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParamsAreDatesInTheirOwnLocation(t *testing.T) {
	// Midnight of March 1st in Jakarta is still February 28th in UTC: the
	// bound value must be the Jakarta date.
	p := Params{PeriodStart: day(2026, 3, 1), PeriodEnd: day(2026, 4, 1), YearStart: day(2026, 1, 1)}
	names := []string{"period_start", "period_end", "year_start", "period_end"}
	got, err := p.args(names)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"2026-03-01", "2026-04-01", "2026-01-01", "2026-04-01"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("args = %q, want %q", got, want)
	}
	if p.PeriodStart.UTC().Day() != 28 {
		t.Fatalf("test premise: %s should be February 28th in UTC", p.PeriodStart)
	}
}

func TestParamsWithoutAValueAreAnError(t *testing.T) {
	names := []string{"period_end", "year_start"}
	_, err := Params{PeriodEnd: time.Date(2026, 4, 1, 0, 0, 0, 0, wib)}.args(names)
	if err == nil || !strings.Contains(err.Error(), ":year_start") {
		t.Errorf("err = %v, want one naming :year_start", err)
	}
}
