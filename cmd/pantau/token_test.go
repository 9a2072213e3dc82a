package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/store"
)

func TestToken(t *testing.T) {
	onEachStore(t, func(t *testing.T, ts testStore) {
		migrated(t, ts)
		args := func(a ...string) []string { return append(append([]string{"token"}, a...), ts.flags()...) }
		out, errOut := mustRun(t, exitOK, args("create", "--role", "viewer", "--scope", "32.16", "--name", "grafana-bekasi")...)
		token := strings.TrimSpace(out)
		if !strings.HasPrefix(token, store.TokenPrefix) || strings.Contains(errOut, token) || !strings.Contains(errOut, "shown only this once") {
			t.Fatalf("create printed %q and %q; want the token alone on stdout", out, errOut)
		}
		got, err := ts.open(t).LookupToken(context.Background(), token)
		if err != nil || got.Role != store.RoleViewer || got.Scope != "32.16" || got.Name != "grafana-bekasi" {
			t.Fatalf("stored token %+v, %v", got, err)
		}
		mustRun(t, exitOK, args("create", "--role", "admin", "--name", "kadinsos")...)
		list, _ := mustRun(t, exitOK, args("list")...)
		if strings.Contains(list, token) || !strings.Contains(list, "grafana-bekasi  viewer  32.16") || !strings.Contains(list, "kadinsos        admin   ID") {
			t.Errorf("list:\n%s", list)
		}
		mustRun(t, exitOK, args("revoke", "grafana-bekasi")...)
		if _, err := ts.open(t).LookupToken(context.Background(), token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a revoked token still looks up: %v", err)
		}
		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"revoking twice fails", args("revoke", "grafana-bekasi"), exitFailure, `no valid token is named "grafana-bekasi"`},
			{"a scope not in the region master fails", args("create", "--scope", "32.99", "--name", "x"), exitFailure, "--scope 32.99 is not a region"},
			{"a role other than viewer or admin is a usage error", args("create", "--role", "root", "--name", "x"), exitUsage, `--role "root": use viewer or admin`},
			{"create needs a name", args("create"), exitUsage, "create needs --name"},
			{"an unknown subcommand is a usage error", args("delete", "x"), exitUsage, `unknown subcommand "delete"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, errOut := mustRun(t, tc.code, tc.args...)
				if !strings.Contains(errOut, tc.want) {
					t.Errorf("stderr %q lacks %q", errOut, tc.want)
				}
			})
		}
	})
}
