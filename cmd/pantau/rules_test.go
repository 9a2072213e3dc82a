package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesWritesTheCommittedRulesForTheExample(t *testing.T) {
	committed, err := os.ReadFile(repoFile("rules/dinsos.rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// The header names the spec as given; run from the repository root
	// it is examples/dinsos.yaml.
	want := strings.Replace(string(committed), "--config examples/dinsos.yaml", "--config ../../examples/dinsos.yaml", 1)

	stdout, stderr, code := pantau("rules", "--config", "../../examples/dinsos.yaml")
	if code != exitOK || stderr != "" || stdout != want {
		t.Errorf("to stdout: exit %d, stderr %q, output equal to rules/dinsos.rules.yml: %v", code, stderr, stdout == want)
	}

	out := filepath.Join(t.TempDir(), "dinsos.rules.yml")
	stdout, stderr, code = pantau("rules", "--config", "../../examples/dinsos.yaml", "-o", out)
	got, err := os.ReadFile(out)
	if code != exitOK || stdout != "" || stderr != "" || err != nil || string(got) != want {
		t.Errorf("-o: exit %d, stdout %q, stderr %q, read %v, file equal to rules/dinsos.rules.yml: %v", code, stdout, stderr, err, string(got) == want)
	}
}

func TestRulesRejectsBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("alerts: {levels: [kabupaten]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "never.yml")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"without --config it says how to name the spec", []string{"rules"}, exitUsage, "name the spec with --config"},
		{"an invalid spec is reported with its position and nothing is written", []string{"rules", "--config", bad, "-o", out}, exitFailure, bad + ":1:19: alerts: levels: write kabupaten as kabupaten_kota"},
		{"a spec that does not exist is named", []string{"rules", "--config", "nope.yaml"}, exitFailure, "nope.yaml: cannot read the spec"},
		{"an unknown flag is a usage error", []string{"rules", "--levels", "x"}, exitUsage, "flag provided but not defined: -levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := pantau(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written for an invalid spec (%v)", out, err)
	}
}
