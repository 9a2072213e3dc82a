package main

import (
	"context"
	"flag"
	"fmt"
	"time"
)

// clockKey carries the clock of a command in its context: the wall clock
// unless --at (or a test) sets another.
type clockKey struct{}

// withClock returns ctx carrying now as the clock.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// clockOf returns the clock ctx carries, time.Now by default.
func clockOf(ctx context.Context) func() time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now
	}
	return time.Now
}

// atFlag is --at: run as of another instant. The clock then starts there
// and runs on, so refreshes still advance.
type atFlag struct{ at time.Time }

func (a *atFlag) register(fs *flag.FlagSet, what string) {
	fs.Func("at", "run as of this `instant` (RFC 3339, like 2026-10-16T12:00:00+07:00) instead of now, the clock running on from there: "+what, func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("write the instant like 2026-10-16T12:00:00+07:00")
		}
		a.at = t
		return nil
	})
}

// clock returns ctx with the clock --at asks for, or ctx as it is.
func (a *atFlag) clock(ctx context.Context) context.Context {
	if a.at.IsZero() {
		return ctx
	}
	start, at := time.Now(), a.at
	return withClock(ctx, func() time.Time { return at.Add(time.Since(start)) })
}
