// Package kpi is pantau's domain: periods (calendar months in a time zone),
// the region hierarchy, KPI definitions, targets and their monthly phasing,
// progress against target and the roll-up of values from the lowest region
// level to the nation.
//
// It holds all KPI arithmetic and nothing else: no I/O, no clock. Callers
// pass the instant they want progress computed at, so every figure pantau
// publishes can be reproduced in a test.
package kpi
