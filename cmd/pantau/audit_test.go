package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTargetsAudit(t *testing.T) {
	t.Parallel()
	onEachStore(t, func(t *testing.T, ts testStore) {
		migrated(t, ts)
		mustRun(t, exitOK, importArgs(ts, goodCSV, "--by", "siti", "--reason", "SK Kadinsos 12/2026")...)
		good, err := os.ReadFile(goodCSV)
		if err != nil {
			t.Fatal(err)
		}
		revised := filepath.Join(t.TempDir(), "revised.csv")
		text := strings.Replace(string(good), "32.16.07;Cibitung;ewarong_aktif;2026;70;", "32.16.07;Cibitung;ewarong_aktif;2026;80;", 1)
		if err := os.WriteFile(revised, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		mustRun(t, exitOK, importArgs(ts, revised, "--by", "budi", "--reason", "APBD-P 2026")...)
		audit := func(extra ...string) []string {
			t.Helper()
			out, _ := mustRun(t, exitOK, append(append([]string{"targets", "audit"}, ts.flags()...), extra...)...)
			return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		}

		lines := audit()
		if len(lines) != 1+8 || !strings.HasPrefix(lines[0], "WHEN (WIB)") {
			t.Fatalf("audit: %d lines, want a header and 8 entries (7 creates, 1 update):\n%s", len(lines), strings.Join(lines, "\n"))
		}
		newest := strings.Fields(lines[1])
		if got := strings.Join(newest[2:], " "); got != "budi update ewarong_aktif 32.16.07 Cibitung 2026 target 70 → 80 APBD-P 2026" {
			t.Errorf("the newest entry reads %q, want budi's update of Cibitung, 70 → 80, with the reason", got)
		}
		if _, err := time.ParseInLocation("2006-01-02 15:04:05", newest[0]+" "+newest[1], jakarta); err != nil {
			t.Errorf("the newest entry does not start with a time: %q", lines[1])
		}
		for _, l := range lines[2:] {
			if !strings.Contains(l, " siti ") || !strings.Contains(l, " create ") || !strings.HasSuffix(l, "SK Kadinsos 12/2026") {
				t.Errorf("an import entry does not say siti created it with the decree as reason: %q", l)
			}
		}

		if lines := audit("--kpi", "ewarong_aktif", "--region", "32.16.07"); len(lines) != 3 {
			t.Errorf("--kpi ewarong_aktif --region 32.16.07: %d lines, want a header and 2 entries:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		if lines := audit("--kpi", "kube_jasa"); len(lines) != 2 || !strings.Contains(lines[1], "31 Daerah Khusus Ibukota Jakarta") {
			t.Errorf("--kpi kube_jasa: want DKI Jakarta's one entry:\n%s", strings.Join(lines, "\n"))
		}
		tomorrow := time.Now().In(jakarta).AddDate(0, 0, 1).Format("2006-01-02")
		out, errOut := mustRun(t, exitOK, append(append([]string{"targets", "audit"}, ts.flags()...), "--since", tomorrow)...)
		if strings.Count(out, "\n") != 1 || !strings.Contains(errOut, "no changes match") {
			t.Errorf("--since %s: stdout %q, stderr %q; want the header alone and a note", tomorrow, out, errOut)
		}
		if lines := audit("--since", time.Now().In(jakarta).Format("2006-01-02")); len(lines) != 9 {
			t.Errorf("--since today: %d lines, want all 8 entries and the header", len(lines))
		}

		out, _ = mustRun(t, exitOK, append(append([]string{"targets", "audit"}, ts.flags()...), "--format", "csv", "--kpi", "ewarong_aktif")...)
		records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse: %v\n%s", err, out)
		}
		if strings.Join(records[0], ",") != strings.Join(auditCSVHeader, ",") || len(records) != 1+4 {
			t.Fatalf("CSV: header %v and %d records, want %v and 4 ewarong_aktif entries", records[0], len(records)-1, auditCSVHeader)
		}
		col := map[string]string{}
		for i, name := range records[0] {
			col[name] = records[1][i]
		}
		if col["changed_by"] != "budi" || col["action"] != "update" || col["region_code"] != "32.16.07" || col["region_name"] != "Cibitung" ||
			col["old_target"] != "70" || col["new_target"] != "80" || col["reason"] != "APBD-P 2026" {
			t.Errorf("the CSV's newest entry: %v", col)
		}
		if _, err := time.Parse(time.RFC3339, col["changed_at"]); err != nil || !strings.HasSuffix(col["changed_at"], "+07:00") {
			t.Errorf("changed_at %q, want RFC 3339 in WIB (+07:00)", col["changed_at"])
		}
		if col := records[4]; col[8] != "1200" || col[12] != strings.Repeat("100 ", 11)+"100" {
			t.Errorf("the oldest entry (Tambun Selatan, 1200 with a monthly profile): %v", col)
		}
	})
}

func TestTargetsAuditRejectsABadCommandLine(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "kemarin"}, "--since \"kemarin\": write a day like 2026-01-15"},
		{[]string{"--format", "xlsx"}, "--format \"xlsx\": use table or csv"},
		{[]string{"--region", "32.1"}, "--region:"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		_, stderr, code := pantau(append([]string{"targets", "audit"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("targets audit %v: exit %d, stderr %q; want exit 2 with %q", tc.args, code, stderr, tc.want)
		}
	}
}
