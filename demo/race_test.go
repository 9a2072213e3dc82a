//go:build race

package demo_test

// raceEnabled: the race detector slows the pure-Go SQLite down some
// twentyfold, so tests that would cover the whole country use a sample.
const raceEnabled = true
