package sourcetest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
)

// Server is a private database server a test owns: unlike the shared
// servers Postgres and MySQL use, a test may stop it, restart it and kill
// its connections. It listens on a free loopback port with its data in a
// temporary directory, runs as the postgres or mysql account when the test
// runs as root (both servers refuse to run as root), and is killed and
// removed when the test ends.
type Server struct {
	t       testing.TB
	driver  string // "postgres" or "mysql"
	dir     string
	port    int
	cred    *syscall.Credential // nil: run as the test's own user
	bin     string              // postgres: the bin directory; mysql: mariadbd
	mysqld  *exec.Cmd           // the running mariadbd, nil when stopped
	running bool
}

// PrivatePostgres initialises and starts a private PostgreSQL server
// (initdb and pg_ctl from /usr/lib/postgresql/*/bin or PATH), trust
// authentication for user postgres.
func PrivatePostgres(t testing.TB) *Server {
	t.Helper()
	const how = "install the Debian package postgresql (initdb and pg_ctl in /usr/lib/postgresql/*/bin)"
	bin := pgBinDir()
	if bin == "" {
		Unavailable(t, "PostgreSQL server programs", how, fmt.Errorf("initdb not found"))
	}
	s := newServer(t, "postgres", "postgres")
	s.bin = bin
	data := filepath.Join(s.dir, "data")
	s.run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C")
	t.Cleanup(func() {
		if s.running {
			_ = s.command(filepath.Join(s.bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").Run()
		}
	})
	s.Start()
	return s
}

// PrivateMySQL initialises and starts a private MariaDB server
// (mariadb-install-db and mariadbd), root without a password.
func PrivateMySQL(t testing.TB) *Server {
	t.Helper()
	const how = "install the Debian package mariadb-server (mariadb-install-db and mariadbd)"
	install, err := exec.LookPath("mariadb-install-db")
	if err != nil {
		Unavailable(t, "MariaDB server programs", how, err)
	}
	mysqld, err := exec.LookPath("mariadbd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/mariadbd"); e != nil {
			Unavailable(t, "MariaDB server programs", how, err)
		}
		mysqld = "/usr/sbin/mariadbd"
	}
	s := newServer(t, "mysql", "mysql")
	s.bin = mysqld
	s.run(install, "--no-defaults", "--datadir="+filepath.Join(s.dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db")
	t.Cleanup(func() { s.kill() })
	s.Start()
	return s
}

func newServer(t testing.TB, driver, account string) *Server {
	t.Helper()
	// Not t.TempDir: its parents are private to the test's user, and the
	// server runs as another.
	dir, err := os.MkdirTemp("", "pantau-"+driver+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{t: t, driver: driver, dir: dir, port: freePort(t)}
	if os.Getuid() == 0 {
		u, err := user.Lookup(account)
		if err != nil {
			Unavailable(t, "the "+account+" account", "install the database server package, which creates it", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func pgBinDir() string {
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(dirs) > 0 {
		return filepath.Dir(dirs[len(dirs)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// command prepares a program run as the server's account, in its directory.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	if out, err := s.command(name, args...).CombinedOutput(); err != nil {
		s.t.Fatalf("sourcetest: %s: %v\n%s", filepath.Base(name), err, out)
	}
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// AdminDSN is the DSN of the server's administrator, for Exec.
func (s *Server) AdminDSN() string {
	if s.driver == "postgres" {
		return "postgres://postgres@" + s.Addr() + "/postgres?sslmode=disable"
	}
	return "root@tcp(" + s.Addr() + ")/"
}

// Database creates a database on the server and returns its DSN.
func (s *Server) Database(name string) string {
	s.t.Helper()
	if s.driver == "postgres" {
		Exec(s.t, s.driver, s.AdminDSN(), `CREATE DATABASE "`+name+`"`)
		return "postgres://postgres@" + s.Addr() + "/" + name + "?sslmode=disable"
	}
	Exec(s.t, s.driver, s.AdminDSN(), "CREATE DATABASE `"+name+"`")
	return "root@tcp(" + s.Addr() + ")/" + name
}

// Start starts the stopped server on its port and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	if s.running {
		return
	}
	if s.driver == "postgres" {
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", s.port, s.dir)
		s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-o", opts, "-l", filepath.Join(s.dir, "log"), "-w", "start")
	} else {
		cmd := s.command(s.bin, "--no-defaults", "--datadir="+filepath.Join(s.dir, "data"),
			"--port="+strconv.Itoa(s.port), "--bind-address=127.0.0.1", "--socket="+filepath.Join(s.dir, "sock"),
			"--pid-file="+filepath.Join(s.dir, "pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M",
			"--log-error="+filepath.Join(s.dir, "log"))
		if err := cmd.Start(); err != nil {
			s.t.Fatalf("sourcetest: mariadbd: %v", err)
		}
		s.mysqld = cmd
	}
	s.running = true
	s.waitUp()
}

// waitUp waits until the server accepts a query (30s at most).
func (s *Server) waitUp() {
	s.t.Helper()
	db, err := sql.Open(s.driver, s.AdminDSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
			s.t.Fatalf("sourcetest: private %s on %s did not answer within 30s: %v\n%s", s.driver, s.Addr(), err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop shuts the server down at once, as a crash or an operator's
// immediate stop would: open connections are cut, in-flight queries fail.
func (s *Server) Stop() {
	s.t.Helper()
	if !s.running {
		return
	}
	if s.driver == "postgres" {
		s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	} else {
		s.kill()
	}
	s.running = false
}

func (s *Server) kill() {
	if s.mysqld == nil {
		return
	}
	_ = s.mysqld.Process.Kill()
	_ = s.mysqld.Wait()
	s.mysqld = nil
}

// KillConnections ends every connection to the server's database named db
// but those of the ids in spare (PostgreSQL's pg_backend_pid(), MariaDB's
// CONNECTION_ID()), as an administrator (or a crashed pooler) would, and
// returns how many it ended and how many of those were running a query.
func (s *Server) KillConnections(db string, spare ...int64) (killed, midQuery int) {
	s.t.Helper()
	admin, err := sql.Open(s.driver, s.AdminDSN())
	if err != nil {
		s.t.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if s.driver == "postgres" {
		err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)), count(*) FILTER (WHERE state = 'active')
			FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> ALL($2)`, db, pq.Array(spare)).Scan(&killed, &midQuery)
		if err != nil {
			s.t.Fatalf("sourcetest: pg_terminate_backend: %v", err)
		}
		return killed, midQuery
	}
	conn, err := admin.Conn(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT id, command FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()", db)
	if err != nil {
		s.t.Fatalf("sourcetest: processlist: %v", err)
	}
	type victim struct {
		id      int64
		command string
	}
	var victims []victim
	for rows.Next() {
		var v victim
		if err := rows.Scan(&v.id, &v.command); err != nil {
			s.t.Fatal(err)
		}
		victims = append(victims, v)
	}
	rows.Close()
	for _, v := range victims {
		if slices.Contains(spare, v.id) {
			continue
		}
		// A connection may end by itself between the list and the KILL.
		if _, err := conn.ExecContext(ctx, "KILL CONNECTION "+strconv.FormatInt(v.id, 10)); err == nil {
			killed++
			if v.command == "Query" || v.command == "Execute" { // a prepared statement's
				midQuery++
			}
		} else if !strings.Contains(err.Error(), "Unknown thread") {
			s.t.Fatalf("sourcetest: KILL %d: %v", v.id, err)
		}
	}
	return killed, midQuery
}
