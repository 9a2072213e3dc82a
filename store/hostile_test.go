package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/pantau-id/pantau/kpi"
)

// hostile are strings that would change a query pasted together with
// them. The API validates codes before they reach the store; these go
// straight to the store, which must bind them.
var hostile = []string{
	"32' OR '1'='1",
	"32'; DELETE FROM targets; --",
	`32"; DROP TABLE target_audit; --`,
	`32\'; DELETE FROM targets; --`,
	"') OR 1=1 --",
	"32.16.06' UNION SELECT token_hash FROM api_tokens --",
	"%", "_",
}

func TestHostileStringsAreBoundNotInterpolated(t *testing.T) {
	ctx := context.Background()
	runStoreTests(t, []storeTest{{
		name: "a hostile string in every filter matches nothing and changes nothing",
		run: func(t *testing.T, s *Store) {
			mustApply(t, s, sets(kpi.Target{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: 12}), "admin", "awal")
			if _, err := s.CreateToken(ctx, "bekasi", RoleViewer, "32.16"); err != nil {
				t.Fatal(err)
			}
			state := func() string {
				tokens, err := s.ListTokens(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(mustTargets(t, s, TargetFilter{}), len(mustAudit(t, s, AuditFilter{})), len(tokens), tokens[0].RevokedAt)
			}
			before := state()
			for _, h := range hostile {
				if ts := mustTargets(t, s, TargetFilter{KPI: h}); len(ts) != 0 {
					t.Errorf("targets of kpi %q: %v", h, ts)
				}
				if ts := mustTargets(t, s, TargetFilter{Region: h}); len(ts) != 0 {
					t.Errorf("targets of region %q: %v", h, ts)
				}
				if es := mustAudit(t, s, AuditFilter{KPI: h, Region: h}); len(es) != 0 {
					t.Errorf("audit of %q: %v", h, es)
				}
				if rows, err := s.History(ctx, HistoryFilter{KPI: h, Regions: []string{h}}); err != nil || len(rows) != 0 {
					t.Errorf("history of %q: %v, %v", h, rows, err)
				}
				if _, err := s.History(ctx, HistoryFilter{From: h, To: h}); err == nil {
					t.Errorf("history from %q: no error, want the period refused", h)
				}
				if ok, err := s.HasHistory(ctx, h, h, h); err != nil || ok {
					t.Errorf("HasHistory(%q): %v, %v", h, ok, err)
				}
				if _, ok, err := s.ClosedSums(ctx, h, h, h); err != nil || ok {
					t.Errorf("ClosedSums(%q): %v, %v", h, ok, err)
				}
				if _, err := s.LookupToken(ctx, TokenPrefix+h); !errors.Is(err, ErrNotFound) {
					t.Errorf("LookupToken(%q): err = %v, want ErrNotFound", TokenPrefix+h, err)
				}
				if err := s.RevokeToken(ctx, h); !errors.Is(err, ErrNotFound) {
					t.Errorf("RevokeToken(%q): err = %v, want ErrNotFound", h, err)
				}
			}
			if after := state(); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		},
	}, {
		name: "a hostile name, author and reason are stored as written",
		run: func(t *testing.T, s *Store) {
			for i, h := range hostile {
				mustApply(t, s, sets(kpi.Target{KPI: "kube_jasa", Region: "32.16.06", Year: 2026, Annual: float64(i + 1)}), h, h)
				if _, err := s.CreateToken(ctx, h, RoleViewer, ""); err != nil {
					t.Fatalf("CreateToken(%q): %v", h, err)
				}
			}
			entries := mustAudit(t, s, AuditFilter{})
			tokens, err := s.ListTokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(hostile) || len(tokens) != len(hostile) {
				t.Fatalf("%d audit entries and %d tokens, want %d of each", len(entries), len(tokens), len(hostile))
			}
			for i, h := range hostile {
				e := entries[len(entries)-1-i] // newest first
				if e.ChangedBy != h || e.Reason != h || tokens[i].Name != h {
					t.Errorf("stored %q / %q / token %q, want %q", e.ChangedBy, e.Reason, tokens[i].Name, h)
				}
			}
			if ts := mustTargets(t, s, TargetFilter{}); len(ts) != 1 || ts[0].Annual != float64(len(hostile)) {
				t.Errorf("targets %v, want the one target at its last value %d", ts, len(hostile))
			}
		},
	}})
}
