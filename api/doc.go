// Package api is pantau's JSON API (Gin), mounted at /api/v1 on the same
// listener as /metrics: the KPI catalog, the region tree, progress,
// rankings, monthly history, slips, targets with their audit trail,
// CSV/XLSX export, province boundaries and its own OpenAPI document.
//
// It reads what the collector published through Snapshots and never
// queries a source; targets, history and tokens come from the store. Every
// answer is a JSON array of flat rows (Grafana's Infinity datasource reads
// them as a table), every error is {"error": {"code", "message"}}. Bearer
// tokens carry a role (viewer, admin) and a region scope that holds in
// every endpoint: a token for 32.16 sees Kabupaten Bekasi and below.
// docs/api.md describes the endpoints with examples. Reader gives the same
// rows and scope rules to pages in the same binary (overview/) without HTTP.
package api
