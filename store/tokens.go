package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pantau-id/pantau/kpi"
)

// Token roles.
const (
	RoleViewer = "viewer"
	RoleAdmin  = "admin"
)

// TokenPrefix starts every API token, so that a leaked one is recognisable
// (and secret scanners can look for it).
const TokenPrefix = "pnt_"

// Token is an API token as the API sees it: never the token itself.
type Token struct {
	ID   string
	Name string
	Role string // RoleViewer or RoleAdmin
	// Scope is the region code the token is limited to (it sees that region
	// and below); empty means the whole country.
	Scope string
}

// hashToken is what the database holds instead of the token: its SHA-256,
// in hex. Tokens carry 256 random bits, so a fast hash is enough.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken creates an API token and returns it; it is shown this once
// and stored only as a hash. name must be unique among the tokens not
// revoked (ErrExists otherwise); role is RoleViewer or RoleAdmin; scope is a
// region code or empty for the whole country.
func (s *Store) CreateToken(ctx context.Context, name, role string, scope string) (token string, err error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errors.New("store: create token: a name is required")
	}
	if role != RoleViewer && role != RoleAdmin {
		return "", fmt.Errorf("store: create token %q: role %q must be %s or %s", name, role, RoleViewer, RoleAdmin)
	}
	if scope == kpi.NationalCode {
		scope = ""
	}
	if scope != "" {
		if _, err := kpi.CodeLevel(scope); err != nil {
			return "", fmt.Errorf("store: create token %q: scope: %w", name, err)
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: create token: %w", err)
	}
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	_, err = s.db.ExecContext(ctx, s.rebind(
		"INSERT INTO api_tokens (name, token_hash, role, region_scope, created_at) VALUES (?, ?, ?, ?, ?)"),
		name, hashToken(token), role, sql.NullString{String: scope, Valid: scope != ""}, formatTime(s.now()))
	if isUniqueViolation(err) {
		return "", fmt.Errorf("store: create token: a token named %q exists already; revoke it first: %w", name, ErrExists)
	}
	if err != nil {
		return "", fmt.Errorf("store: create token %q: %w", name, err)
	}
	return token, nil
}

// LookupToken returns the token's record, or ErrNotFound when the token is
// unknown or revoked.
func (s *Store) LookupToken(ctx context.Context, token string) (Token, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return Token{}, ErrNotFound
	}
	var (
		id         int64
		name, role string
		scope      sql.NullString
	)
	// Looked up by hash: equal hashes reveal nothing about the token, so
	// the comparison need not be constant-time.
	err := s.rdb.QueryRowxContext(ctx, s.rebind(
		"SELECT id, name, role, region_scope FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
		hashToken(token)).Scan(&id, &name, &role, &scope)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: look up token: %w", err)
	}
	return Token{ID: strconv.FormatInt(id, 10), Name: name, Role: role, Scope: scope.String}, nil
}

// RevokeToken revokes the token with this name; ErrNotFound when there is
// no such token not yet revoked. Revoked tokens stay in the table.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(
		"UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL"),
		formatTime(s.now()), strings.TrimSpace(name))
	if err != nil {
		return fmt.Errorf("store: revoke token %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: revoke token %q: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("store: revoke token %q: %w", name, ErrNotFound)
	}
	return nil
}
