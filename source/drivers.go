package source

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openDB builds the pool for a driver, with the connect timeout and the
// driver options a source needs, without connecting.
func openDB(driverName, dsn string, connectTimeout time.Duration) (*sqlx.DB, error) {
	if err := checkDSNShape(driverName, dsn); err != nil {
		return nil, err
	}
	var (
		c   driver.Connector
		err error
	)
	switch driverName {
	case DriverPostgres:
		c, err = postgresConnector(dsn, connectTimeout)
	case DriverMySQL:
		c, err = mysqlConnector(dsn, connectTimeout)
	case DriverSQLite:
		c, err = sqliteConnector(dsn, connectTimeout)
	default:
		err = fmt.Errorf("unknown driver %q", driverName)
	}
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(c), driverName), nil
}

// dsnShapes describe each driver's DSN, for a source given another's.
var dsnShapes = map[string]struct{ name, example string }{
	DriverPostgres: {"PostgreSQL", "postgres://user:password@host:5432/database?sslmode=require, or host=… dbname=… user=…"},
	DriverMySQL:    {"MySQL/MariaDB", "user:password@tcp(host:3306)/database"},
	DriverSQLite:   {"SQLite", "/path/to/file.db or file:/path/to/file.db?mode=ro"},
}

var (
	pgKeyValueRE = regexp.MustCompile(`(^|\s)(host|hostaddr|dbname|user|sslmode|port)\s*=`)
	mysqlAddrRE  = regexp.MustCompile(`@(tcp|tcp6|unix)?\(`)
	sqliteFileRE = regexp.MustCompile(`(?i)\.(db|db3|sqlite|sqlite3)$`)
)

// dsnDriver returns the driver whose DSN dsn clearly looks like, "" when it
// could be any: a PostgreSQL URL or key=value string, a go-sql-driver/mysql
// DSN (user@tcp(host)/db, user@/db) or a mysql:// URL, a SQLite file: URI or
// file name ending in .db, .sqlite….
func dsnDriver(dsn string) string {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	path, _, _ := strings.Cut(lower, "?")
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return DriverPostgres
	case strings.HasPrefix(lower, "mysql://"), strings.HasPrefix(lower, "mariadb://"):
		return DriverMySQL
	case strings.HasPrefix(lower, "file:"), lower == ":memory:":
		return DriverSQLite
	case strings.Contains(lower, "://"):
		return ""
	case mysqlAddrRE.MatchString(lower), strings.Contains(lower, "@/"):
		return DriverMySQL
	case pgKeyValueRE.MatchString(lower):
		return DriverPostgres
	case sqliteFileRE.MatchString(path):
		return DriverSQLite
	}
	return ""
}

// checkDSNShape reports a DSN of another driver's shape, which the driver
// would otherwise refuse with a puzzling parse error, or (SQLite) take for
// a file name.
func checkDSNShape(driverName, dsn string) error {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	mysqlURL := ""
	if strings.HasPrefix(lower, "mysql://") || strings.HasPrefix(lower, "mariadb://") {
		mysqlURL = "; go-sql-driver/mysql takes no URL, write " + dsnShapes[DriverMySQL].example
	}
	other := dsnDriver(dsn)
	switch {
	case other == "":
		return nil
	case other == driverName && mysqlURL != "":
		return fmt.Errorf("this is a URL%s", mysqlURL)
	case other == driverName:
		return nil
	}
	return fmt.Errorf("this looks like a %s DSN, but the source's driver is %s: set driver: %s in the spec (for this DSN), or give a %s DSN such as %s%s",
		dsnShapes[other].name, driverName, other, dsnShapes[driverName].name, dsnShapes[driverName].example, mysqlURL)
}

// postgresConnector: lib/pq sends BEGIN READ ONLY for a read-only
// transaction, and on a cancelled context sends a cancel request and drops
// the connection. connect_timeout is set unless the DSN (or
// PGCONNECT_TIMEOUT) sets it.
func postgresConnector(dsn string, connectTimeout time.Duration) (driver.Connector, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	return pq.NewConnectorConfig(cfg)
}

// mysqlConnector: go-sql-driver/mysql sends START TRANSACTION READ ONLY for
// a read-only transaction and closes the connection on a cancelled context.
// multiStatements is always off; parseTime is on (with loc UTC unless the
// DSN sets loc), so DATE and DATETIME columns come back as time.Time as they
// do from lib/pq; the dial timeout is set unless the DSN sets one.
func mysqlConnector(dsn string, connectTimeout time.Duration) (driver.Connector, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MultiStatements = false
	cfg.ParseTime = true
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	return mysql.NewConnector(cfg)
}

// The MySQL/MariaDB session variables that stop a statement on the server.
const (
	mysqlTimeoutUnknown = ""
	mysqlTimeoutMariaDB = "max_statement_time" // MariaDB 10.1+, seconds
	mysqlTimeoutMySQL   = "max_execution_time" // MySQL 5.7.8+, milliseconds, SELECT only
	mysqlTimeoutNone    = "none"
)

// mysqlServerTimeout sets the session's statement time limit to the
// source's timeout; which variable the server knows is found out once.
func (s *Source) mysqlServerTimeout(ctx context.Context, tx *sqlx.Tx) error {
	known := s.mysqlTimeoutVar.Load().(string)
	if known == mysqlTimeoutNone {
		return nil
	}
	if known == mysqlTimeoutUnknown || known == mysqlTimeoutMariaDB {
		_, err := tx.ExecContext(ctx, "SET SESSION max_statement_time = ?", s.cfg.Timeout.Seconds())
		switch {
		case err == nil:
			s.mysqlTimeoutVar.Store(mysqlTimeoutMariaDB)
			return nil
		case !isMySQLError(err, 1193): // ER_UNKNOWN_SYSTEM_VARIABLE
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "SET SESSION max_execution_time = ?", s.cfg.Timeout.Milliseconds())
	switch {
	case err == nil:
		s.mysqlTimeoutVar.Store(mysqlTimeoutMySQL)
	case isMySQLError(err, 1193):
		// Neither: an old server. The client-side timeout still holds.
		s.mysqlTimeoutVar.Store(mysqlTimeoutNone)
		err = nil
	}
	return err
}

func isMySQLError(err error, number uint16) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == number
}

// isServerTimeout reports whether err is the server stopping a statement at
// the time limit serverTimeout set.
func isServerTimeout(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code) == "57014" && strings.Contains(pe.Message, "statement timeout")
	}
	// MariaDB ER_STATEMENT_TIMEOUT, MySQL ER_QUERY_TIMEOUT.
	return isMySQLError(err, 1969) || isMySQLError(err, 3024)
}

// isReadOnlyError reports whether err is the database refusing a write
// inside the read-only transaction: PostgreSQL's 25006
// (read_only_sql_transaction), MySQL/MariaDB's 1792
// (ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION), and SQLite's SQLITE_READONLY
// (query_only) and SQLITE_AUTH (sqliteReadOnly's authorizer).
func isReadOnlyError(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "25006"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff // the primary code of an extended one
		return c == sqlite3.SQLITE_READONLY || c == sqlite3.SQLITE_AUTH
	}
	return isMySQLError(err, 1792)
}

// sqliteConnector: modernc.org/sqlite ignores TxOptions.ReadOnly (it sends
// a plain BEGIN), so read-only is enforced on each connection instead:
// _query_only=1 (PRAGMA query_only, applied after any _pragma in the DSN, so
// the DSN cannot turn it off) and an authorizer that lets a statement read
// but not write, change the schema, ATTACH, run a PRAGMA or COMMIT. The
// busy timeout is the connect timeout unless the DSN sets one.
func sqliteConnector(dsn string, busyTimeout time.Duration) (driver.Connector, error) {
	path, query, _ := strings.Cut(dsn, "?")
	var kept []string
	hasBusy := false
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, _, _ := strings.Cut(kv, "=")
			if k, err := url.QueryUnescape(k); err == nil {
				switch k {
				case "_query_only":
					continue // ours wins
				case "_busy_timeout", "_timeout":
					hasBusy = true
				}
			}
			kept = append(kept, kv)
		}
	}
	kept = append(kept, "_query_only=1")
	if !hasBusy {
		kept = append(kept, "_busy_timeout="+strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	}
	base, err := sqlite.NewConnector(path + "?" + strings.Join(kept, "&"))
	if err != nil {
		return nil, err
	}
	return readOnlySQLite{base}, nil
}

// readOnlySQLite installs sqliteReadOnly on every connection it opens.
type readOnlySQLite struct{ driver.Connector }

func (c readOnlySQLite) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := conn.(sqlite.AuthorizerRegisterer)
	if !ok {
		conn.Close()
		return nil, errors.New("modernc.org/sqlite connection has no authorizer; cannot make it read-only")
	}
	if err := r.RegisterAuthorizer(sqliteReadOnly); err != nil {
		conn.Close()
		return nil, fmt.Errorf("install read-only authorizer: %w", err)
	}
	return conn, nil
}

// sqliteReadOnly is a SQLite authorizer that allows reading only.
func sqliteReadOnly(action sqlite.AuthorizerActionCode, arg1, _, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthFunction, sqlite.AuthRecursive:
		return sqlite.AuthorizerOK
	case sqlite.AuthTransaction:
		// BEGIN and ROLLBACK, never COMMIT.
		if strings.EqualFold(arg1, "BEGIN") || strings.EqualFold(arg1, "ROLLBACK") {
			return sqlite.AuthorizerOK
		}
	}
	return sqlite.AuthorizerDeny
}
