// Package alerting generates the Prometheus alerting and recording rules
// for a KPI spec: pace alerts per region at the levels the spec chooses, a
// month closed below target, and the data problems (a source down, a KPI
// stale, a region that stopped reporting, pantau itself down).
//
// The rules select on the series docs/metrics.md defines; their summaries
// and descriptions are in Indonesian, for the offices that receive them.
package alerting
