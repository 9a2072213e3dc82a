package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	runStoreTests(t, []storeTest{
		{"a created token is found, with its role and scope, until it is revoked", func(t *testing.T, s *Store) {
			token, err := s.CreateToken(ctx, "grafana bekasi", RoleViewer, "32.16")
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^pnt_[A-Za-z0-9_-]{43}$`).MatchString(token) {
				t.Errorf("token %q: want pnt_ and 32 bytes of base64url", token)
			}
			got, err := s.LookupToken(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == "" || got.Name != "grafana bekasi" || got.Role != RoleViewer || got.Scope != "32.16" {
				t.Errorf("LookupToken = %+v", got)
			}
			if err := s.RevokeToken(ctx, "grafana bekasi"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.LookupToken(ctx, token); !errors.Is(err, ErrNotFound) {
				t.Errorf("revoked token: err = %v, want ErrNotFound", err)
			}
			if err := s.RevokeToken(ctx, "grafana bekasi"); !errors.Is(err, ErrNotFound) {
				t.Errorf("revoking twice: err = %v, want ErrNotFound", err)
			}
		}},
		{"unknown tokens are not found", func(t *testing.T, s *Store) {
			token, err := s.CreateToken(ctx, "admin", RoleAdmin, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, unknown := range []string{"", "pnt_", token + "x", strings.TrimPrefix(token, "pnt_"), hashToken(token)} {
				if _, err := s.LookupToken(ctx, unknown); !errors.Is(err, ErrNotFound) {
					t.Errorf("LookupToken(%q): err = %v, want ErrNotFound", unknown, err)
				}
			}
			if err := s.RevokeToken(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
				t.Errorf("RevokeToken(nobody): err = %v", err)
			}
			got, err := s.LookupToken(ctx, token)
			if err != nil || got.Role != RoleAdmin || got.Scope != "" {
				t.Errorf("LookupToken = %+v, %v", got, err)
			}
		}},
		{"only the token's hash is stored", func(t *testing.T, s *Store) {
			token, err := s.CreateToken(ctx, "ci", RoleAdmin, "")
			if err != nil {
				t.Fatal(err)
			}
			var rows []struct {
				Name  string  `db:"name"`
				Hash  string  `db:"token_hash"`
				Role  string  `db:"role"`
				Scope *string `db:"region_scope"`
				At    string  `db:"created_at"`
				Rev   *string `db:"revoked_at"`
			}
			if err := s.db.SelectContext(ctx, &rows, "SELECT name, token_hash, role, region_scope, created_at, revoked_at FROM api_tokens"); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(token))
			if len(rows) != 1 || rows[0].Hash != hex.EncodeToString(sum[:]) {
				t.Fatalf("rows %+v, want the sha256 of the token", rows)
			}
			secret := strings.TrimPrefix(token, "pnt_")
			for _, v := range []string{rows[0].Name, rows[0].Hash, rows[0].Role, rows[0].At} {
				if strings.Contains(v, secret) {
					t.Errorf("the token is stored: %q", v)
				}
			}
		}},
		{"a name is unique among live tokens and free again once revoked", func(t *testing.T, s *Store) {
			if _, err := s.CreateToken(ctx, "grafana", RoleViewer, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.CreateToken(ctx, "grafana", RoleViewer, ""); !errors.Is(err, ErrExists) {
				t.Fatalf("second grafana: err = %v, want ErrExists", err)
			}
			if err := s.RevokeToken(ctx, "grafana"); err != nil {
				t.Fatal(err)
			}
			token, err := s.CreateToken(ctx, "grafana", RoleAdmin, "")
			if err != nil {
				t.Fatalf("reusing a revoked name: %v", err)
			}
			if got, err := s.LookupToken(ctx, token); err != nil || got.Role != RoleAdmin {
				t.Errorf("LookupToken = %+v, %v", got, err)
			}
		}},
		{"tokens with a bad name, role or scope are refused", func(t *testing.T, s *Store) {
			for _, tc := range []struct{ name, role, scope, want string }{
				{"", RoleViewer, "", "name is required"},
				{"x", "root", "", `role "root"`},
				{"x", RoleViewer, "32.1", "scope"},
			} {
				if _, err := s.CreateToken(ctx, tc.name, tc.role, tc.scope); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("CreateToken(%q, %q, %q): err = %v, want %q", tc.name, tc.role, tc.scope, err, tc.want)
				}
			}
		}},
	})
}
