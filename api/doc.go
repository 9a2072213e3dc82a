// Package api will hold pantau's Gin JSON API (DESIGN.md §6): KPIs, the
// region tree, progress, rankings, monthly history, slips, targets with
// their audit trail, CSV/XLSX export and the OpenAPI document, behind
// bearer tokens with a role and a region scope (store.Token), with one
// error vocabulary. It reads the collector's Snapshot and the store; it is
// not written yet, and nothing imports it.
package api
