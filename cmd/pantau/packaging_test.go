package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

const unitFile = "../../packaging/pantau.service"

// unitSettings reads the Key=Value lines of a unit file; a key set twice
// keeps every value.
func unitSettings(t *testing.T, text string) map[string][]string {
	t.Helper()
	settings := map[string][]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "[") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not Key=Value", unitFile, line)
		}
		settings[k] = append(settings[k], v)
	}
	return settings
}

func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	settings := unitSettings(t, text)
	for key, want := range map[string]string{
		"User":                  "pantau",
		"EnvironmentFile":       "/etc/pantau/pantau.env",
		"ProtectSystem":         "strict",
		"NoNewPrivileges":       "yes",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"StateDirectory":        "pantau",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
		"CapabilityBoundingSet": "",
	} {
		if got := settings[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s=%v, want %s=%s", unitFile, key, got, key, want)
		}
	}
	// ExecStart runs serve with flags serve knows, and no DSN on the
	// command line: they come from the EnvironmentFile.
	exec0 := strings.Fields(settings["ExecStart"][0])
	if len(exec0) < 2 || exec0[0] != "/usr/local/bin/pantau" || exec0[1] != "serve" {
		t.Fatalf("ExecStart=%v, want /usr/local/bin/pantau serve ...", exec0)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := serveFlags(fs)
	fs.SetOutput(new(bytes.Buffer))
	if err := fs.Parse(exec0[2:]); err != nil || fs.NArg() > 0 {
		t.Errorf("ExecStart's serve flags do not parse: %v (left over %v)", err, fs.Args())
	}
	if cfg.store.dsn != "" || !cfg.useStore || cfg.config == "" {
		t.Errorf("ExecStart should name the spec and --store, and leave the DSN to the environment: %v", exec0)
	}

	analyze := sourcetest.Program(t, "systemd-analyze", "install systemd (apt-get install systemd) to verify packaging/pantau.service")
	// verify checks that ExecStart's binary exists: point it at a real one.
	bin := buildPantau(t)
	unit := filepath.Join(t.TempDir(), "pantau.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(text, "/usr/local/bin/pantau", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Unknown keys and bad values are only warnings to systemd (it ignores
	// them), so any output at all fails the test.
	if out, err := exec.CommandContext(ctx, analyze, "verify", unit).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The exposure level is 0 (locked down) to 10 (unprotected), and
	// --threshold counts in tenths of it; the unit scores 1.4 with systemd 252.
	if out, err := exec.CommandContext(ctx, analyze, "security", "--offline=yes", "--threshold=20", unit).CombinedOutput(); err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0: %v\n%s", err, out)
	}
}
