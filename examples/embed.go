// Package examples holds the example KPI spec and source schema, embedded so
// the demo runs the very same spec.
//
// dinsos.yaml is a Dinas Sosial KPI spec (six KPIs: e-Warong aktif, KUBE
// Jasa terbentuk, Sembako and PKH distribution rates, KPM per e-Warong, PKH
// graduation); dinsos-schema.sql is the portable source schema its queries
// read. The files stay plain files next to this one, so `pantau check
// examples/dinsos.yaml` and the documentation can point at them.
package examples

import _ "embed"

// DinsosSpec is examples/dinsos.yaml, the example KPI spec.
//
//go:embed dinsos.yaml
var DinsosSpec []byte

// DinsosSchema is examples/dinsos-schema.sql, the source schema the spec's
// queries are written against (portable DDL for PostgreSQL, MariaDB/MySQL
// and SQLite).
//
//go:embed dinsos-schema.sql
var DinsosSchema string
