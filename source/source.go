package source

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/pantau-id/pantau/sqlcheck"
)

// The drivers a source can use (named in sqlcheck, which checks queries
// without linking the drivers).
const (
	DriverPostgres = sqlcheck.DriverPostgres // PostgreSQL, through github.com/lib/pq
	DriverMySQL    = sqlcheck.DriverMySQL    // MySQL and MariaDB, through github.com/go-sql-driver/mysql
	DriverSQLite   = sqlcheck.DriverSQLite   // SQLite, through modernc.org/sqlite (pure Go)
)

// Drivers lists the supported driver names.
func Drivers() []string { return sqlcheck.Drivers() }

// Defaults for the Config fields left zero.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxConcurrent = 4
	DefaultMaxRows       = 1_000_000
	// MaxConnectTimeout caps how long a connection attempt may take; it is
	// min(Timeout, MaxConnectTimeout) unless the DSN sets its own.
	MaxConnectTimeout = 10 * time.Second
	// Pooled connections are closed after being idle this long, and renewed
	// after this age, so that a source restarted or failed over is picked up.
	ConnMaxIdleTime = 10 * time.Minute
	ConnMaxLifetime = 30 * time.Minute
)

// Config describes one source database.
type Config struct {
	Name   string // the source's name in the spec, for errors and logs
	Driver string // DriverPostgres, DriverMySQL or DriverSQLite
	// DSN is the connection string, already resolved from the environment:
	// a lib/pq URL or key=value string, a go-sql-driver/mysql DSN, or a
	// modernc.org/sqlite file name or file: URI.
	DSN string
	// Timeout bounds each query, from the moment it has a slot (waiting for
	// one is bounded by the caller's context). DefaultTimeout when zero.
	Timeout time.Duration
	// MaxConcurrent bounds the queries running at once against this source,
	// and sizes the connection pool. DefaultMaxConcurrent when zero.
	MaxConcurrent int
	// MaxRows bounds the rows one query may return; more is an error
	// (ErrTooManyRows). DefaultMaxRows when zero.
	MaxRows int
}

// Source is an open source database. It is safe for concurrent use.
type Source struct {
	cfg     Config
	db      *sqlx.DB
	slots   chan struct{}
	running atomic.Int64 // queries holding a slot, for tests

	// mysqlTimeoutVar is the MySQL/MariaDB session variable that bounds a
	// statement on the server, found out on the first query.
	mysqlTimeoutVar atomic.Value // string: mysqlTimeoutUnknown, …
}

// Error is an error from a source; it names the source and its driver.
type Error struct {
	Source string // the source's name
	Driver string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("source %s (%s): %v", e.Source, e.Driver, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	// ErrTooManyRows: a query returned more rows than Config.MaxRows.
	ErrTooManyRows = errors.New("too many rows")
	// ErrWrites: the database refused the query because it tried to write
	// in the read-only transaction (a write sqlcheck cannot see, such as a
	// function that writes).
	ErrWrites = errors.New("this query tries to write")
)

// Open prepares a source. It checks the configuration but does not connect:
// a source that is down now must not stop pantau from starting, and every
// Query tries to connect again. Use Ping to check the connection. The
// context is not used yet; it is there for connectors that need it.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	_ = ctx
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConcurrent == 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxRows == 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	fail := func(format string, args ...any) (*Source, error) {
		return nil, &Error{Source: cfg.Name, Driver: cfg.Driver, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case !slices.Contains(Drivers(), cfg.Driver):
		return fail("unknown driver %q; use one of %s", cfg.Driver, strings.Join(Drivers(), ", "))
	case cfg.DSN == "":
		return fail("no DSN")
	case cfg.Timeout < 0:
		return fail("timeout %s is negative", cfg.Timeout)
	case cfg.MaxConcurrent < 0:
		return fail("max_concurrent %d is negative", cfg.MaxConcurrent)
	case cfg.MaxRows < 0:
		return fail("max rows %d is negative", cfg.MaxRows)
	}
	connectTimeout := min(cfg.Timeout, MaxConnectTimeout)
	db, err := openDB(cfg.Driver, cfg.DSN, connectTimeout)
	if err != nil {
		// Never echo the DSN: it holds the password.
		return fail("invalid DSN: %v", redact(err, cfg.DSN))
	}
	db.SetMaxOpenConns(cfg.MaxConcurrent)
	db.SetMaxIdleConns(cfg.MaxConcurrent)
	db.SetConnMaxIdleTime(ConnMaxIdleTime)
	db.SetConnMaxLifetime(ConnMaxLifetime)
	s := &Source{
		cfg:   cfg,
		db:    db,
		slots: make(chan struct{}, cfg.MaxConcurrent),
	}
	s.mysqlTimeoutVar.Store(mysqlTimeoutUnknown)
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.cfg.Name }

// Driver returns the source's driver name.
func (s *Source) Driver() string { return s.cfg.Driver }

// Close closes the source's connections.
func (s *Source) Close() error {
	if err := s.db.Close(); err != nil {
		return s.wrap(err)
	}
	return nil
}

// Ping connects to the source (or checks a pooled connection), within the
// source's timeout.
func (s *Source) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		return s.wrap(fmt.Errorf("ping: %w", redact(err, s.cfg.DSN)))
	}
	return nil
}

// Stats returns the connection pool's statistics.
func (s *Source) Stats() sql.DBStats { return s.db.Stats() }

// Query runs one read-only query with the period bound to its named
// parameters and returns its rows. It waits for a free slot (at most
// Config.MaxConcurrent queries run at once) for as long as ctx allows, then
// runs the query within Config.Timeout inside a READ ONLY transaction that
// is rolled back.
func (s *Source) Query(ctx context.Context, query string, p Params) (Result, error) {
	q, err := sqlcheck.Prepare(s.cfg.Driver, query)
	if err != nil {
		return Result{}, s.wrap(err)
	}
	args, err := p.args(q.Names)
	if err != nil {
		return Result{}, s.wrap(err)
	}

	if err := ctx.Err(); err != nil {
		return Result{}, s.wrap(fmt.Errorf("query cancelled: %w", err))
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return Result{}, s.wrap(fmt.Errorf("query cancelled while waiting for one of %d slots: %w", cap(s.slots), ctx.Err()))
	}
	s.running.Add(1)
	defer func() {
		s.running.Add(-1)
		<-s.slots
	}()

	qctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	res, err := s.run(qctx, q.SQL, args)
	if err == nil {
		return res, nil
	}
	switch {
	case ctx.Err() != nil:
		// The caller gave up (shutdown, or its own deadline).
		return Result{}, s.wrap(fmt.Errorf("query cancelled: %w", ctx.Err()))
	case qctx.Err() != nil || isServerTimeout(err):
		return Result{}, s.wrap(fmt.Errorf("query timed out after %s: %w", s.cfg.Timeout, context.DeadlineExceeded))
	}
	return Result{}, s.wrap(redact(err, s.cfg.DSN))
}

// run runs a rewritten query in a read-only transaction and reads its rows.
func (s *Source) run(ctx context.Context, query string, args []any) (Result, error) {
	// Cancelled on the way out, before rows.Close: a result cut at MaxRows
	// is then abandoned rather than read to its end.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A connection of our own, closed (given back to the pool, or dropped
	// if the driver found it broken) before run returns: Conn.Close waits
	// for database/sql to finish with it, even after a cancellation.
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("cannot connect: %w", err)
	}
	defer func() { _ = conn.Close() }()
	tx, err := conn.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		var netErr net.Error
		if errors.As(err, &netErr) {
			return Result{}, fmt.Errorf("cannot connect: %w", err)
		}
		return Result{}, fmt.Errorf("begin read-only transaction: %w", err)
	}
	// Never commit: whatever happened, nothing is kept. After a timeout the
	// rollback fails on a connection the driver has dropped; that is fine.
	defer func() { _ = tx.Rollback() }()

	if err := s.serverTimeout(ctx, tx); err != nil {
		return Result{}, fmt.Errorf("set statement timeout: %w", err)
	}

	rows, err := tx.QueryxContext(ctx, query, args...)
	if err != nil {
		return Result{}, queryError(err)
	}
	defer rows.Close()

	types, err := rows.ColumnTypes()
	if err != nil {
		return Result{}, fmt.Errorf("query: %w", err)
	}
	res := Result{Columns: make([]string, len(types))}
	kinds := make([]kind, len(types))
	for i, t := range types {
		res.Columns[i] = strings.ToLower(t.Name())
		kinds[i] = columnKind(t.DatabaseTypeName())
	}
	for rows.Next() {
		if len(res.Rows) >= s.cfg.MaxRows {
			cancel()
			return Result{}, fmt.Errorf("%w: the query returned more than %d rows", ErrTooManyRows, s.cfg.MaxRows)
		}
		row, err := rows.SliceScan()
		if err != nil {
			return Result{}, fmt.Errorf("read row %d: %w", len(res.Rows)+1, err)
		}
		for i, v := range row {
			row[i] = normalise(v, kinds[i])
		}
		res.Rows = append(res.Rows, row)
	}
	if err := rows.Err(); err != nil {
		return Result{}, queryError(err)
	}
	return res, nil
}

// queryError describes an error from running a query or reading its rows.
func queryError(err error) error {
	switch {
	case errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn):
		return fmt.Errorf("query: the connection was lost (server restarted, or the backend was killed): %w", err)
	case isReadOnlyError(err):
		return fmt.Errorf("query: %w; pantau runs every query in a read-only transaction, and a source query may only read: %w", ErrWrites, err)
	}
	return fmt.Errorf("query: %w", err)
}

// serverTimeout makes the server itself stop the statement after the
// source's timeout, so that a runaway query ends even if pantau is gone.
func (s *Source) serverTimeout(ctx context.Context, tx *sqlx.Tx) error {
	switch s.cfg.Driver {
	case DriverPostgres:
		// SET LOCAL takes no parameters; set_config(…, true) is the same
		// thing, transaction-local, with a bound value.
		ms := strconv.FormatInt(s.cfg.Timeout.Milliseconds(), 10)
		_, err := tx.ExecContext(ctx, "SELECT set_config('statement_timeout', $1, true)", ms)
		return err
	case DriverMySQL:
		return s.mysqlServerTimeout(ctx, tx)
	}
	return nil
}

func (s *Source) wrap(err error) error {
	return &Error{Source: s.cfg.Name, Driver: s.cfg.Driver, Err: err}
}

// redact replaces the DSN in an error's text, should a driver echo it.
func redact(err error, dsn string) error {
	if err == nil || dsn == "" || !strings.Contains(err.Error(), dsn) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), dsn, "[DSN]"))
}
