package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
		id               int64
		name, role, hash string
		scope            sql.NullString
	)
	// Looked up by hash, so the index lookup's timing says nothing about
	// the token itself; the hash read back is still compared in constant
	// time, so that no code path compares secrets byte by byte.
	want := hashToken(token)
	err := s.rdb.QueryRowxContext(ctx, s.rebind(
		"SELECT id, name, role, region_scope, token_hash FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"),
		want).Scan(&id, &name, &role, &scope, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrNotFound
	}
	if err != nil {
		return Token{}, fmt.Errorf("store: look up token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(want)) != 1 {
		return Token{}, ErrNotFound
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

// TokenInfo describes a stored token for listing: never the token or its hash.
type TokenInfo struct {
	Token
	CreatedAt time.Time
	// RevokedAt is zero while the token is valid.
	RevokedAt time.Time
}

// ListTokens returns every token, revoked ones included, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.rdb.QueryxContext(ctx,
		"SELECT id, name, role, region_scope, created_at, revoked_at FROM api_tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var (
			id             int64
			name, role     string
			scope, revoked sql.NullString
			created        string
		)
		if err := rows.Scan(&id, &name, &role, &scope, &created, &revoked); err != nil {
			return nil, fmt.Errorf("store: list tokens: %w", err)
		}
		t := TokenInfo{Token: Token{ID: strconv.FormatInt(id, 10), Name: name, Role: role, Scope: scope.String}}
		if t.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if revoked.Valid {
			if t.RevokedAt, err = parseTime(revoked.String); err != nil {
				return nil, err
			}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return out, nil
}
