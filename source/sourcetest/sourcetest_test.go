package sourcetest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestNeedsAWidget is run by TestUnavailable in a child process: it needs
// something that is never there.
func TestNeedsAWidget(t *testing.T) {
	if os.Getenv("SOURCETEST_CHILD") == "" {
		t.Skip("run by TestUnavailable")
	}
	Unavailable(t, "the widget server", "start it with widgetd", errors.New("connection refused"))
	t.Error("Unavailable returned")
}

func TestUnavailable(t *testing.T) {
	child := func(ci string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNeedsAWidget$")
		cmd.Env = append(os.Environ(), "SOURCETEST_CHILD=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Run("a local run skips and ends with a summary of what it skipped", func(t *testing.T) {
		out, err := child("")
		if err != nil {
			t.Fatalf("the child failed: %v\n%s", err, out)
		}
		for _, want := range []string{
			"!! SKIPPED 1 test(s): the widget server is not available; start it with widgetd",
			"!!     TestNeedsAWidget",
			"this is not a full pass",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("a CI run fails instead", func(t *testing.T) {
		out, err := child("1")
		if err == nil || !strings.Contains(out, "the widget server is not available: connection refused (CI is set, so this is a failure)") {
			t.Errorf("err = %v, output:\n%s", err, out)
		}
		if strings.Contains(out, "SKIPPED") {
			t.Errorf("a CI run reports a skip:\n%s", out)
		}
	})
}
