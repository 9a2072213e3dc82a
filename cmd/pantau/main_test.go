package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// pantau runs the command line the way main does and captures its output.
func pantau(args ...string) (stdout, stderr string, code int) {
	return pantauIn(context.Background(), args...)
}

func pantauIn(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// at is a context whose clock stands still at t: a command run in it sees
// the same Jakarta day, month and year however long the test takes.
func at(t time.Time) context.Context {
	return withClock(context.Background(), func() time.Time { return t })
}

// TestCheckGolden runs "pantau check" on every spec in testdata/check and
// compares stdout, stderr and the exit code with the .golden file next to
// it. Run "go test ./cmd/pantau -update" to rewrite the golden files after a
// deliberate change, and review the diff.
func TestCheckGolden(t *testing.T) {
	specs, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs in testdata/check: %v", err)
	}
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(spec), ".yaml")
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := pantau("check", spec)
			got := fmt.Sprintf("$ pantau check %s\nexit %d\n-- stdout --\n%s-- stderr --\n%s", spec, code, stdout, stderr)
			compareGolden(t, strings.TrimSuffix(spec, ".yaml")+".golden", got)
		})
	}
}

func TestCheckAcceptsTheExampleSpec(t *testing.T) {
	stdout, stderr, code := pantau("check", "../../examples/dinsos.yaml")
	// The default exposure: 1 + 38 + 514 regions from the nation to
	// kabupaten/kota, 2 windows, 8 families for each of the 3 count KPIs
	// and 10 (numerator and denominator too) for each of the 3 rates, plus
	// a pantau_region_info for each of the 7,838 regions:
	// 553 × 2 × (3×8 + 3×10) + 7,838 = 67,562.
	want := `../../examples/dinsos.yaml: ok, 1 source, 6 KPIs
  to Prometheus, nationally at most 67562 series (the API serves every level):
    ewarong_aktif, kube_jasa, sembako_salur, pkh_salur, kpm_per_ewarong, pkh_graduasi: levels nasional, provinsi, kabupaten_kota; windows all; families all
`
	if code != exitOK || stderr != "" || stdout != want {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}

func TestCheckReportsEachFileAndFailsIfAnyIsInvalid(t *testing.T) {
	stdout, stderr, code := pantau("check", "testdata/check/valid.yaml", "testdata/check/secrets.yaml", "testdata/check/missing.yaml")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.HasPrefix(stdout, "testdata/check/valid.yaml: ok, 1 source, 2 KPIs\n  to Prometheus") {
		t.Errorf("stdout = %q", stdout)
	}
	for _, want := range []string{
		"testdata/check/secrets.yaml:5:5: source dinsos: dsn: secrets do not belong in the spec file",
		"testdata/check/missing.yaml: cannot read the spec: no such file or directory",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring; "" means stdout must be empty
		stderr string // substring; "" means stderr must be empty
	}{
		{"no arguments print the usage to stderr as a usage error", nil, exitUsage, "", "Usage:\n\n\tpantau <command> [arguments]"},
		{"help prints the usage", []string{"help"}, exitOK, "pantau check examples/dinsos.yaml", ""},
		{"-h prints the usage", []string{"-h"}, exitOK, "Commands:", ""},
		{"--help prints the usage", []string{"--help"}, exitOK, "Commands:", ""},
		{"help for a command explains it", []string{"help", "check"}, exitOK, "Usage: pantau check FILE...\n\nCheck validates", ""},
		{"help for an unknown command is a usage error", []string{"help", "serv"}, exitUsage, "", `unknown command "serv"`},
		{"an unknown command suggests the nearest one", []string{"chek", "x.yaml"}, exitUsage, "", `pantau: unknown command "chek" (did you mean check?)`},
		{"check without files is a usage error", []string{"check"}, exitUsage, "", "name at least one spec file"},
		{"check -h explains check", []string{"check", "-h"}, exitOK, "Exit status: 0 when every file is valid", ""},
		{"an unknown flag is a usage error", []string{"check", "-strict", "x.yaml"}, exitUsage, "", "flag provided but not defined: -strict"},
		{"version takes no arguments", []string{"version", "extra"}, exitUsage, "", "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := pantau(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			for _, c := range []struct{ name, got, want string }{{"stdout", stdout, tt.stdout}, {"stderr", stderr, tt.stderr}} {
				if c.want == "" && c.got != "" {
					t.Errorf("%s should be empty, got:\n%s", c.name, c.got)
				}
				if !strings.Contains(c.got, c.want) {
					t.Errorf("%s lacks %q:\n%s", c.name, c.want, c.got)
				}
			}
		})
	}
}

func TestUsageListsExactlyTheCommandsThatExist(t *testing.T) {
	stdout, _, _ := pantau("help")
	for _, c := range commands() {
		if !strings.Contains(stdout, "\n  "+c.name) {
			t.Errorf("usage does not list %s:\n%s", c.name, stdout)
		}
		if c.run == nil || c.summary == "" || c.help == "" {
			t.Errorf("command %s lacks run, summary or help", c.name)
		}
	}
	for _, future := range []string{"serve", "demo", "migrate", "targets", "backfill", "rules"} {
		if lookup(future) == nil && strings.Contains(stdout, "  "+future) {
			t.Errorf("usage lists %s, which does not exist yet", future)
		}
	}
}

func TestVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })

	version = "v1.2.3"
	want, _, _ := pantau("version")
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}, {"-v"}} {
		stdout, stderr, code := pantau(args...)
		if code != exitOK || stderr != "" || !strings.HasPrefix(stdout, "pantau v1.2.3 ") || stdout != want {
			t.Errorf("pantau %s: exit %d, stdout %q, stderr %q; want exit 0 and what pantau version prints", args[0], code, stdout, stderr)
		}
	}
	if _, stderr, code := pantau("--version", "extra"); code != exitUsage || !strings.Contains(stderr, "takes no arguments") {
		t.Errorf("pantau --version extra: exit %d, stderr %q; want a usage error", code, stderr)
	}

	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-05-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	got := versionLine("", bi)
	if !strings.HasPrefix(got, "pantau v0.4.0 (commit 0123456789ab, 2026-05-01T10:00:00Z, modified) go1.26.0 ") {
		t.Errorf("versionLine = %q", got)
	}
	if got := versionLine("v9.9.9", bi); !strings.HasPrefix(got, "pantau v9.9.9 (") {
		t.Errorf("the -ldflags override should win: %q", got)
	}
	if got := versionLine("", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); !strings.HasPrefix(got, "pantau devel ") {
		t.Errorf("a development build: %q", got)
	}
}

// compareGolden compares got with the golden file, or rewrites the file
// with -update.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update if the change is intended)\n--- got\n%s\n--- want\n%s", golden, got, want)
	}
}
