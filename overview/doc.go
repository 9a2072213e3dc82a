// Package overview is pantau's own answer to "are we on pace, and who
// lags?" in the browser: server-rendered pages at / and /wilayah/{code}
// for the nation, a province, a kabupaten/kota and a kecamatan, with per
// KPI the region's progress, a map (provinces) or ranked bars (below) of
// its children, a sortable ranking and the year's history.
//
// The pages are one more client of the JSON API: they read through
// api.Reader, with the API's rows and scope rules, and compute nothing of
// their own. Templates and CSS are embedded; there is no JavaScript, so
// sorting and choosing a KPI are links that work with the keyboard and on
// an office network without internet. Text is in Indonesian.
package overview
