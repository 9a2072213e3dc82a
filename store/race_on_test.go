//go:build race

package store

// raceEnabled is true when the tests run under the race detector, which
// slows the pure-Go SQLite engine several times over.
const raceEnabled = true
