// Package source holds connections to the offices' databases, where KPI
// queries run read-only.
//
// A Source is one database (PostgreSQL through lib/pq, MySQL or MariaDB
// through go-sql-driver/mysql, SQLite through modernc.org/sqlite). It knows
// nothing about KPIs or regions: Query runs one SQL query safely and hands
// back its raw rows, with values normalised so that the same query on the
// same data gives the same Result on every driver.
//
// # Parameters
//
// A query takes its period through the named parameters :period_start,
// :period_end (exclusive: the first day of the next month) and :year_start.
// They are bound, never spliced into the SQL, as 'YYYY-MM-DD' strings in
// the location of the times in Params, so a query compares them with DATE
// columns directly:
//
//	SELECT kode_kecamatan AS region_code, count(*) AS value
//	FROM ewarong
//	WHERE tanggal_aktif >= :year_start AND tanggal_aktif < :period_end
//	GROUP BY kode_kecamatan
//
// Query rewrites them to the driver's placeholders ($1, $2… for Postgres,
// ? for MySQL and SQLite) with package sqlcheck's scanner rather than
// sqlx.Named, which turns Postgres casts (x::date) into x:date and takes a
// colon inside a string literal ('10:30') for a parameter. The scanner skips
// string literals, quoted identifiers, comments, Postgres dollar quoting and
// casts. Any other :name is an error (sqlcheck.ErrUnknownParameter).
//
// # Safety
//
// Several layers keep a query from changing a source:
//
//   - sqlcheck refuses, before the query reaches the database, more than one
//     statement (a trailing semicolon is fine; MySQL DSNs never get
//     multiStatements), a first word other than SELECT, WITH, VALUES or
//     TABLE, and what it can recognise as writing, locking or side effects:
//     DELETE/INSERT/UPDATE/MERGE inside a WITH, SELECT … INTO (a table, a
//     variable, MySQL's OUTFILE/DUMPFILE), FOR UPDATE/SHARE, and functions
//     such as nextval, pg_terminate_backend, lo_import, dblink
//     (sqlcheck.ErrNotReadOnly). This matters on MySQL and MariaDB, where DDL
//     such as CREATE TABLE commits the transaction implicitly and so escapes
//     READ ONLY;
//   - it runs inside a READ ONLY transaction that is always rolled back:
//     PostgreSQL (BEGIN READ ONLY) and MySQL/MariaDB (START TRANSACTION READ
//     ONLY) reject writes themselves; modernc.org/sqlite ignores ReadOnly,
//     so SQLite connections are opened with _query_only=1 and carry an
//     authorizer that denies every write, DDL, ATTACH, PRAGMA and COMMIT.
//     A write refused there (PostgreSQL 25006, MySQL/MariaDB 1792, SQLite
//     SQLITE_READONLY or SQLITE_AUTH) is ErrWrites, "this query tries to
//     write", wrapping the driver's error;
//   - it is bounded in time: Config.Timeout on the client (context), and on
//     the server too (statement_timeout on Postgres, max_statement_time on
//     MariaDB, max_execution_time on MySQL), so a runaway query stops even if
//     pantau is gone;
//   - it is bounded in size: more than Config.MaxRows rows is an error
//     (ErrTooManyRows).
//
// The account in the DSN should still be a read-only one (README.md gives
// the statements): that is the only layer that also covers what a function
// can do outside the tables.
//
// A DSN of another driver's shape (a MySQL DSN for postgres, a PostgreSQL
// URL for mysql, either for sqlite) is refused by Open with a message that
// names the shape.
//
// # Values
//
// Column names are lower-cased. Values are nil (SQL NULL), int64, float64,
// string, bool or time.Time:
//
//   - integer columns are int64 on every driver, including the text that
//     MySQL's text protocol sends (COUNT(*) is int64 everywhere);
//   - NUMERIC and DECIMAL values, which lib/pq and the MySQL driver return
//     as text, become int64 when the text is a whole number that fits
//     (SUM of an integer column is DECIMAL on MySQL and NUMERIC for bigint on
//     Postgres), float64 otherwise; a value that is not a finite number
//     (Postgres 'NaN', 'Infinity') stays a string for the caller to reject;
//   - floating-point columns are float64;
//   - other text and []byte become string;
//   - dates and timestamps are time.Time, in UTC when they carry no offset
//     (MySQL connections use parseTime=true with loc=UTC). SQLite has no
//     date type: a column declared DATE comes back as time.Time, but an
//     expression over it (MAX(tanggal)) is the stored text;
//   - a parameter selected as such (SELECT :period_end) is the string
//     '2026-04-01' on every driver.
//
// So the same query on the same data gives the same values on all three
// drivers, up to int64 versus float64 for a whole number (SQLite stores
// 100.00 in a DECIMAL column as the integer 100): compare them as float64.
//
// # Connections
//
// Open does not connect: a source that is down must not stop pantau from
// serving, and each Query tries again. Ping checks the connection.
// Config.MaxConcurrent bounds both the queries running at once (a semaphore
// that a waiting Query leaves when its context ends) and the connection
// pool. A connection attempt gives up after min(Timeout, 10s) (lib/pq
// connect_timeout, MySQL timeout, SQLite busy timeout, unless the DSN sets
// its own), so a refused or unreachable source fails fast with a clear
// error.
//
// Each query runs on a connection of its own, given back to the pool (or
// dropped, when broken) before Query returns. A query that times out leaves
// no busy connection behind: lib/pq sends a cancel request and drops the
// connection, the MySQL driver closes it, SQLite interrupts the statement.
// A connection lost mid-query (server restart, killed backend) fails that
// query only; the next one gets a new connection.
//
// Every error names the source and driver, "source dinsos (postgres): …",
// and is an *Error. A timeout satisfies errors.Is(err,
// context.DeadlineExceeded); a cancelled caller context gives
// context.Canceled.
package source
