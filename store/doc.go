// Package store is pantau's own database: targets with their audit trail,
// monthly history, API tokens; PostgreSQL in production, SQLite embedded.
//
// One code path serves both databases: queries are written in portable SQL
// with ? placeholders and rebound for the driver (sqlx), and the few places
// where the dialects differ (DDL, row locks) are kept to the migration
// directories and the small dialect table in store.go.
//
// # Storage choices
//
// Instants (updated_at, changed_at, closed_at, created_at, revoked_at) are
// TEXT in RFC 3339, UTC, with millisecond precision, like
// "2026-10-31T17:30:00.000Z". The same type holds the same bytes on both
// databases, needs no driver-specific time conversion (lib/pq and
// modernc.org/sqlite disagree on how they hand back time values), reads
// plainly in psql and sqlite3, and sorts chronologically as text because the
// width and zone are fixed. Months are TEXT "YYYY-MM" for the same reasons.
// Figures that may be undefined (kpi.Number) are nullable DOUBLE PRECISION.
// A monthly profile is a JSON array of twelve numbers in a TEXT column.
//
// # Concurrency
//
// ApplyTargets runs one transaction per batch, reading each target inside
// it before writing it and appending the audit row. On PostgreSQL the read
// is SELECT ... FOR UPDATE under READ COMMITTED, so a second writer of the
// same target waits and then sees the first writer's committed value; two
// writers creating the same target at once collide on the primary key, and
// the losing transaction is retried from the start (as are deadlocks and
// serialisation failures). On SQLite every write transaction begins
// IMMEDIATE (_txlock=immediate), taking the database's write lock up front,
// and the store keeps a single writing connection next to a pool of
// read-only ones: in WAL mode readers never wait for the writer.
//
// # Migrations
//
// Versioned with goose, embedded in the binary, one directory per dialect
// with the same version numbers. Open does not migrate; call Migrate (the
// CLI's `pantau migrate` and start-up do) or use OpenAndMigrate. A database
// migrated by a newer pantau is refused rather than used.
package store
