package alerting

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pantau-id/pantau/source/sourcetest"
)

// TestAlertmanagerExampleRoutesByProvince checks alertmanager.yml with
// amtool and asks it where alerts shaped like the generated ones go.
func TestAlertmanagerExampleRoutesByProvince(t *testing.T) {
	amtool := sourcetest.Program(t, "amtool", "install the Debian package prometheus-alertmanager (apt-get install prometheus-alertmanager)")
	file := repoPath("alertmanager.yml")
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, amtool, args...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("amtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("check-config", file)
	for _, tc := range []struct {
		name   string
		labels []string
		want   string
	}{
		{"a Jawa Barat warning goes to its Dinas only", []string{"alertname=" + AlertAtRisk, "severity=warning", "province_code=32", "region_code=32.16"}, "dinsos-jawa-barat"},
		{"a Jawa Barat critical alert goes to its Dinas and the ministry", []string{"alertname=" + AlertBehind, "severity=critical", "province_code=32", "region_code=32.16"}, "dinsos-jawa-barat,kemensos-pusat"},
		{"a province without a route goes to the ministry", []string{"alertname=" + AlertBehind, "severity=critical", "province_code=73", "region_code=73.71"}, "kemensos-pusat"},
		{"the nation goes to the ministry", []string{"alertname=" + AlertMonthMissed, "severity=warning", "province_code=", "region_code=ID"}, "kemensos-pusat"},
		{"a source down goes to the operators", []string{"alertname=" + AlertSourceDown, "severity=critical", "source=dinsos"}, "operator-pantau"},
		{"pantau down goes to the operators", []string{"alertname=" + AlertPantauDown, "severity=critical", "instance=pantau-32:9875"}, "operator-pantau"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := run(append([]string{"config", "routes", "test", "--config.file=" + file}, tc.labels...)...)
			if got != tc.want {
				t.Errorf("receivers %q, want %q", got, tc.want)
			}
		})
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// One message per region, not one per series.
	if !strings.Contains(string(body), "group_by: [province_code, region_code]") {
		t.Errorf("%s does not group by region", file)
	}
}
