package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // driver "postgres"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// ErrNotFound reports that a token, target or other record does not exist
// (or, for a token, has been revoked).
var ErrNotFound = errors.New("store: not found")

// ErrExists reports that a record with the same unique name already exists.
var ErrExists = errors.New("store: already exists")

// dialect holds everything that differs between the two databases. Keep it
// small: everything else is portable SQL.
type dialect struct {
	name  string // the driver name given to Open
	bind  int    // sqlx bind type for Rebind
	goose goose.Dialect
	// dir is the migrations directory under migrations/.
	dir string
	// forUpdate locks the rows a SELECT reads until the transaction ends.
	// SQLite has no row locks; its write transactions begin IMMEDIATE and
	// hold the database's write lock instead.
	forUpdate string
	// retryable reports whether a failed write transaction may succeed if
	// run again from the start.
	retryable func(error) bool
}

var (
	postgres = dialect{
		name:      "postgres",
		bind:      sqlx.DOLLAR,
		goose:     goose.DialectPostgres,
		dir:       "migrations/postgres",
		forUpdate: " FOR UPDATE",
		retryable: func(err error) bool {
			switch sqlState(err) {
			case "40001", // serialization_failure
				"40P01", // deadlock_detected
				"23505": // unique_violation: a concurrent writer created the row we read as missing
				return true
			}
			return false
		},
	}
	sqlite = dialect{
		name:      "sqlite",
		bind:      sqlx.QUESTION,
		goose:     goose.DialectSQLite3,
		dir:       "migrations/sqlite",
		forUpdate: "",
		retryable: func(error) bool { return false },
	}
)

// Store is pantau's database. It is safe for concurrent use.
type Store struct {
	d dialect
	// db takes every write (and on PostgreSQL every read). On SQLite it is a
	// single connection whose transactions begin IMMEDIATE.
	db *sqlx.DB
	// rdb serves reads: on SQLite a pool of read-only connections that, in
	// WAL mode, never wait for the writer; on PostgreSQL the same pool as db.
	rdb *sqlx.DB
	now func() time.Time
	// applyHook, when set by tests, runs after each change ApplyTargets
	// writes, inside the transaction; an error aborts the batch.
	applyHook func(i int) error
}

// Open connects to pantau's database without migrating it. driver is
// "postgres" (dsn as lib/pq takes it, URL or key=value) or "sqlite" (dsn a
// file name, optionally with modernc.org/sqlite query parameters).
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	switch driver {
	case "postgres":
		db, err := sqlx.Open("postgres", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
		return &Store{d: postgres, db: db, rdb: db, now: time.Now}, nil
	case "sqlite":
		return openSQLite(ctx, dsn)
	}
	return nil, fmt.Errorf("store: unknown database driver %q (want postgres or sqlite)", driver)
}

// OpenAndMigrate opens the database and applies any pending migrations.
func OpenAndMigrate(ctx context.Context, driver, dsn string) (*Store, error) {
	s, err := Open(ctx, driver, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(ctx context.Context, dsn string) (*Store, error) {
	wdsn, rdsn, memory, err := sqliteDSNs(dsn)
	if err != nil {
		return nil, err
	}
	w, err := sqlx.Open("sqlite", wdsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	// One writer: SQLite allows one write transaction at a time anyway, and
	// queueing writers in the pool (which honours ctx) beats having them
	// spin on SQLITE_BUSY. Keep the connection: an in-memory database lives
	// only as long as it.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connecting applies the pragmas, creating the file and switching it to
	// WAL before any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", dsn, err)
	}
	s := &Store{d: sqlite, db: w, rdb: w, now: time.Now}
	if memory {
		// Every connection to :memory: is a database of its own.
		return s, nil
	}
	r, err := sqlx.Open("sqlite", rdsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", dsn, err)
	}
	s.rdb = r
	return s, nil
}

// sqliteDSNs derives the writer's and the readers' DSNs from the user's:
// both wait up to 5 s for a lock and enforce foreign keys; the writer also
// switches the file to WAL and begins its transactions IMMEDIATE, and the
// readers are query_only. Pragmas the user set are kept as given.
func sqliteDSNs(dsn string) (writer, reader string, memory bool, err error) {
	path, query, _ := strings.Cut(dsn, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", false, fmt.Errorf("store: sqlite dsn %q: %w", dsn, err)
	}
	memory = path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") || q.Get("mode") == "memory"
	has := map[string]bool{}
	for _, p := range q["_pragma"] {
		name := strings.ToLower(strings.TrimSpace(p))
		if i := strings.IndexAny(name, "(= "); i >= 0 {
			name = name[:i]
		}
		has[name] = true
	}
	add := func(q url.Values, name, value string) {
		if !has[name] {
			q.Add("_pragma", name+"("+value+")")
		}
	}
	wq, rq := url.Values{}, url.Values{}
	for k, v := range q {
		wq[k] = append([]string(nil), v...)
		if k == "_txlock" {
			continue
		}
		for _, p := range v {
			if k == "_pragma" && strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "journal_mode") {
				continue // set by the writer; the file remembers it
			}
			rq.Add(k, p)
		}
	}
	add(wq, "busy_timeout", "5000")
	add(wq, "foreign_keys", "1")
	add(wq, "journal_mode", "WAL")
	wq.Set("_txlock", "immediate")
	add(rq, "busy_timeout", "5000")
	add(rq, "foreign_keys", "1")
	rq.Add("_pragma", "query_only(1)")
	return path + "?" + wq.Encode(), path + "?" + rq.Encode(), memory, nil
}

// Close closes the database connections.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}

// Stats are the connection pools' statistics, the writer's and the
// readers' added up on SQLite.
func (s *Store) Stats() sql.DBStats {
	st := s.db.Stats()
	if s.rdb != s.db {
		r := s.rdb.Stats()
		st.OpenConnections += r.OpenConnections
		st.InUse += r.InUse
		st.Idle += r.Idle
	}
	return st
}

// Driver returns the driver name the store was opened with.
func (s *Store) Driver() string { return s.d.name }

// rebind turns a query written with ? placeholders into the driver's form.
func (s *Store) rebind(query string) string { return sqlx.Rebind(s.d.bind, query) }

// inTx runs fn in a write transaction, committing when it returns nil and
// rolling back otherwise. Transactions the database aborted for
// concurrency (deadlock, serialisation, a concurrent insert of the same
// key) are run again from the start, a few times.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	const attempts = 10
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == attempts || !s.d.retryable(err) {
			return err
		}
		// Back off a little, with jitter, so retries do not collide again.
		d := time.Duration(attempt)*5*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) (err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// sqlState returns the SQLSTATE of a PostgreSQL error, "" for others.
func sqlState(err error) string {
	var e interface{ SQLState() string }
	if errors.As(err, &e) {
		return e.SQLState()
	}
	return ""
}

// isUniqueViolation reports whether err is a unique-constraint violation on
// either database.
func isUniqueViolation(err error) bool {
	if sqlState(err) == "23505" {
		return true
	}
	var e interface{ Code() int }
	if errors.As(err, &e) {
		const sqliteConstraint = 19 // SQLITE_CONSTRAINT; the extended codes keep it in the low byte
		return e.Code()&0xff == sqliteConstraint && strings.Contains(err.Error(), "UNIQUE")
	}
	return false
}

// timeLayout writes instants as RFC 3339 in UTC with milliseconds, fixed
// width so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: bad instant %q in the database: %w", s, err)
	}
	return t.UTC(), nil
}

// IsUnavailable reports whether err is pantau's database failing as a
// whole rather than refusing what was asked: unreachable (refused, cut,
// shutting down, too slow), or out of disk space. The same request may
// succeed later; the API answers it with a 503.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	switch state := sqlState(err); {
	case strings.HasPrefix(state, "08"), // connection exception
		strings.HasPrefix(state, "53"),  // insufficient resources: disk full, out of memory, too many connections
		strings.HasPrefix(state, "57P"): // operator intervention: the server shutting down or starting up
		return true
	}
	var e interface{ Code() int }
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case 10, // SQLITE_IOERR
			13, // SQLITE_FULL
			14: // SQLITE_CANTOPEN
			return true
		}
	}
	return false
}
