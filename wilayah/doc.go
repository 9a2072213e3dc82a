// Package wilayah owns the official region master pantau ships inside its
// binary: Indonesia's provinces, kabupaten/kota, kecamatan and
// desa/kelurahan with their Kepmendagri codes ("32" → "32.16" → "32.16.06"
// → "32.16.06.2001").
//
// The data lives in data/ as the CSV files of idn-area-data 4.0.1, embedded
// unchanged. It is licensed under the Open Database License (ODbL); the
// attribution is in data/README.md and the licence in data/LICENSE-ODbL.md.
// Anything that ships these files, or a database derived from them, must keep
// both.
//
// Load returns the hierarchy down to kecamatan, the level pantau's KPIs
// report at and the common case; LoadWithDesa adds the desa/kelurahan. Both
// parse once per process and return the same immutable *kpi.Hierarchy to
// every caller.
package wilayah
