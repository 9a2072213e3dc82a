// Package collector runs the KPI queries of a spec on a schedule, turns
// their rows into progress with package kpi, and publishes the result as an
// immutable Snapshot swapped in atomically. It also renders the snapshot's
// Prometheus exposition once per refresh, so a scrape only copies bytes.
//
// A failing query never fails a refresh: its KPI keeps its last good values,
// marked stale, and the self-metrics say what went wrong.
package collector
