// Package config reads the YAML KPI spec: strict decoding, defaults,
// validation with file:line:column messages.
//
// The spec is the one file that names the source databases and, for each
// KPI, its kind, region level and query (see examples/dinsos.yaml).
//
// Decoding is strict: an unknown key is an error (with a "did you mean"
// suggestion), and so is a secret written into the file. Parse reports every
// problem it finds, not only the first, as an Errors value whose lines read
// "file:line:column: message" in file order; each message says what is wrong
// and what to write instead. A Spec that parses without error holds only
// valid kpi.KPI definitions, with defaults filled in:
//
//	timezone        Asia/Jakarta
//	refresh         5m (at least 1s)
//	source timeout  30s, max_concurrent 4, current_month calendar
//	kpi direction   up, level kecamatan, thresholds kpi.DefaultThresholds
//
// Queries use the named parameters :period_start, :period_end (exclusive:
// the first day of the next month) and :year_start. Parse checks each query
// with package source, which runs them: an unknown parameter is reported at
// its place in the file, a query source would refuse to run (not one
// read-only SELECT) at the query.
package config
