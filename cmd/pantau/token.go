package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pantau-id/pantau/store"
	"github.com/pantau-id/pantau/wilayah"
)

var tokenCommand = &command{
	name:    "token",
	args:    "create|list|revoke ...",
	summary: "create, list and revoke the bearer tokens of the JSON API",
	help: `
Token manages the bearer tokens of the JSON API (/api/v1). A token has a
role, viewer (reads) or admin (also writes targets), and optionally a
region scope: a token for 32.16 sees Kabupaten Bekasi and the regions
below it, and nothing else, in every endpoint and export.

	pantau token create --role viewer|admin [--scope CODE] --name NAME
	pantau token list
	pantau token revoke NAME

Create prints the token once; the store keeps only its SHA-256 hash, so a
lost token cannot be shown again: revoke it and create another. Clients
send it as Authorization: Bearer pnt_...

Examples:

	pantau token create --role viewer --scope 32.16 --name grafana-bekasi
	pantau token create --role admin --name kadinsos
	pantau token list
	pantau token revoke grafana-bekasi
` + storeHelp,
	flags: func(fs *flag.FlagSet) { new(tokenConfig).register(fs) },
}

type tokenConfig struct {
	store             storeFlags
	role, scope, name string
}

func (c *tokenConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.role, "role", "viewer", "create: `role` viewer (reads) or admin (also writes targets)")
	fs.StringVar(&c.scope, "scope", "", "create: region `code` the token is limited to, like 32.16 (default the whole country)")
	fs.StringVar(&c.name, "name", "", "create: a unique `name` for the token, like grafana-bekasi (required)")
	c.store.register(fs)
}

func init() { tokenCommand.run = runToken }

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "pantau token: %s\nRun 'pantau help token' for usage.\n", msg)
		return exitUsage
	}
	if len(args) == 0 {
		return usageErr("name what to do: create, list or revoke")
	}
	sub := args[0]
	if sub == "help" || sub == "-h" || sub == "--help" {
		commandUsage(tokenCommand, stdout)
		return exitOK
	}
	if sub != "create" && sub != "list" && sub != "revoke" {
		return usageErr(fmt.Sprintf("unknown subcommand %q; use create, list or revoke", sub))
	}
	for _, a := range args[1:] {
		if a == "-h" || a == "-help" || a == "--help" {
			commandUsage(tokenCommand, stdout)
			return exitOK
		}
	}
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	cfg := &tokenConfig{}
	cfg.register(fs)
	rest, code, ok := parseInterspersed("token "+sub, fs, args[1:], stdout, stderr)
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "pantau token %s: %v\n", sub, err)
		return exitFailure
	}
	switch {
	case sub == "revoke" && len(rest) != 1:
		return usageErr("revoke takes the token's name: pantau token revoke NAME")
	case sub != "revoke" && len(rest) > 0:
		return usageErr(sub + " takes no arguments")
	case sub == "create" && strings.TrimSpace(cfg.name) == "":
		return usageErr("create needs --name, like --name grafana-bekasi")
	case sub == "create" && cfg.role != store.RoleViewer && cfg.role != store.RoleAdmin:
		return usageErr(fmt.Sprintf("--role %q: use viewer or admin", cfg.role))
	}
	if sub == "create" && cfg.scope != "" {
		regions, err := wilayah.Load()
		if err != nil {
			return fail(err)
		}
		if _, ok := regions.Lookup(cfg.scope); !ok {
			return fail(fmt.Errorf("--scope %s is not a region of the region master (like 32 or 32.16)", cfg.scope))
		}
	}
	st, err := cfg.store.openStore(ctx, false)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	switch sub {
	case "create":
		token, err := st.CreateToken(ctx, cfg.name, cfg.role, cfg.scope)
		if err != nil {
			return fail(err)
		}
		scope := cfg.scope
		if scope == "" {
			scope = "the whole country"
		}
		fmt.Fprintf(stdout, "%s\n", token)
		fmt.Fprintf(stderr, "Token %q (%s, %s) created. It is shown only this once: keep it now.\n", cfg.name, cfg.role, scope)
	case "list":
		tokens, err := st.ListTokens(ctx)
		if err != nil {
			return fail(err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSCOPE\tCREATED\tREVOKED")
		for _, t := range tokens {
			scope, revoked := t.Scope, "-"
			if scope == "" {
				scope = "ID"
			}
			if !t.RevokedAt.IsZero() {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Role, scope, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		tw.Flush()
	case "revoke":
		if err := st.RevokeToken(ctx, rest[0]); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fail(fmt.Errorf("no valid token is named %q (pantau token list shows them)", rest[0]))
			}
			return fail(err)
		}
		fmt.Fprintf(stdout, "Token %q revoked.\n", rest[0])
	}
	return exitOK
}
