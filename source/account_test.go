package source

import (
	"context"
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// readmeAccount returns the SQL block README.md gives, under the marker
// "<!-- read-only account: driver -->", to make pantau's read-only account,
// with the database dinsos and the account pantau renamed to the test's.
func readmeAccount(t *testing.T, driver, database, account string) []string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- read-only account: " + driver + " -->\n```sql\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README.md has no read-only account block for %s", driver)
	}
	script := regexp.MustCompile(`\bdinsos\b`).ReplaceAllString(string(m[1]), database)
	script = regexp.MustCompile(`\bpantau\b`).ReplaceAllString(script, account)
	return sourcetest.Statements(script)
}

// TestReadmeReadOnlyAccount makes the account README.md describes on the
// real servers and checks that pantau can query with it and that it can
// write nothing, even outside pantau's read-only transaction.
func TestReadmeReadOnlyAccount(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{DriverPostgres, DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			adminDSN := sourcetest.DSN(t, driver)
			sourcetest.Exec(t, driver, adminDSN, penyaluran...)
			var database, dsn string
			switch driver {
			case DriverPostgres:
				u, err := url.Parse(adminDSN)
				if err != nil {
					t.Fatal(err)
				}
				database = strings.TrimPrefix(u.Path, "/")
				u.User = url.UserPassword("ro_"+database, "change-me")
				dsn = u.String()
			case DriverMySQL:
				cfg, err := mysql.ParseDSN(adminDSN)
				if err != nil {
					t.Fatal(err)
				}
				database = cfg.DBName
				cfg.User, cfg.Passwd = "ro_"+database, "change-me"
				dsn = cfg.FormatDSN()
			}
			// Accounts are server-wide: named after the test's database.
			account := "ro_" + database
			t.Cleanup(func() {
				if driver == DriverPostgres {
					sourcetest.Exec(t, driver, adminDSN, "DROP OWNED BY "+account, "DROP ROLE "+account)
				} else {
					sourcetest.Exec(t, driver, adminDSN, "DROP USER IF EXISTS '"+account+"'@'%'")
				}
			})
			sourcetest.Exec(t, driver, adminDSN, readmeAccount(t, driver, database, account)...)

			s, err := Open(context.Background(), Config{Name: "dinsos", Driver: driver, DSN: dsn, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Query(context.Background(), "SELECT sum(jumlah) AS total FROM penyaluran", march2026)
			s.Close()
			if err != nil {
				t.Fatalf("pantau cannot query with the account: %v", err)
			}
			if got := asFloat(res).Rows; len(got) != 1 || got[0][0] != 138.0 {
				t.Errorf("sum = %v, want 138", got)
			}

			// Outside pantau's read-only transaction, as any client would.
			db := rawDB(t, driver, dsn)
			if driver == DriverPostgres {
				// The role's default read-only transactions are one layer;
				// turned off, the missing privileges must still refuse.
				db.SetMaxOpenConns(1)
				if _, err := db.Exec("SET default_transaction_read_only = off"); err != nil {
					t.Fatal(err)
				}
			}
			for _, w := range writes {
				_, err := db.Exec(w.query)
				var (
					pe *pq.Error
					me *mysql.MySQLError
				)
				switch {
				case errors.As(err, &pe) && pe.Code == "42501": // insufficient_privilege
				case errors.As(err, &me) && (me.Number == 1142 || me.Number == 1044): // table or database access denied
				default:
					t.Errorf("%s with the account: err = %v, want a permission error", w.name, err)
				}
			}
			admin, err := Open(context.Background(), Config{Name: "dinsos", Driver: driver, DSN: adminDSN, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close()
			unchanged(t, admin)
		})
	}
}
