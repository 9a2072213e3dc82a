// Package httpserve serves pantau's HTTP listener: the Prometheus-style web
// configuration file (--web.config.file, the format of
// github.com/prometheus/exporter-toolkit: TLS, basic auth users with bcrypt
// hashes, headers, a rate limit) and the security headers of every answer.
//
// exporter-toolkit parses and validates the file and builds the TLS
// configuration (certificates are re-read at each handshake, so a renewed
// certificate needs no restart). Basic auth is checked here rather than
// by its web.Serve because the JSON API authorizes with bearer tokens in
// the same Authorization header: a request under the API's path that
// carries a bearer token skips basic auth and is authorized by the API
// (which answers 401 to an unknown token); every other request needs a
// basic auth user. /metrics, the pages and /readyz are thus guarded by the
// web config, the API by its tokens (or, without one, by basic auth), and
// TLS covers the whole listener.
package httpserve

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/pantau-id/pantau/api"
)

// Web is a loaded web configuration; the zero value and nil serve plain
// HTTP without basic auth.
type Web struct {
	tls   *tls.Config
	http2 bool
	// users maps a basic auth user to its bcrypt hash.
	users   map[string]string
	headers map[string]string
	limiter *rate.Limiter
	// bearerPath is the path prefix whose bearer-token requests skip basic
	// auth.
	bearerPath string

	// bcrypt is slow by design: checks run one at a time (as
	// exporter-toolkit's do, under bcryptMu) and results are remembered
	// (under mu), so that a scrape every few seconds costs one hash
	// comparison, not one each, and never waits behind another client's.
	bcryptMu sync.Mutex
	mu       sync.Mutex
	known    map[[32]byte]bool
}

// knownMax bounds the remembered credentials; when full it starts over.
const knownMax = 256

// unknownUserHash is compared against for a user that does not exist, so
// that the answer's timing does not tell which users do (bcrypt of
// "fakepassword", exporter-toolkit's choice).
const unknownUserHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

// Load reads the web configuration file at path; an empty path is plain
// HTTP. bearerPath is where the JSON API is mounted (its requests with a
// bearer token skip basic auth). Errors name the file, and the line for a
// YAML mistake.
func Load(path, bearerPath string) (*Web, error) {
	if path == "" {
		return &Web{}, nil
	}
	if err := web.Validate(path); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Read as exporter-toolkit reads it, with its defaults and strictness
	// (web.Validate has just done so, but does not return the result).
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c := web.Config{
		TLSConfig:  web.TLSConfig{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13},
		HTTPConfig: web.HTTPConfig{HTTP2: true},
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.TLSConfig.SetDirectory(filepath.Dir(path))
	w := &Web{http2: c.HTTPConfig.HTTP2, headers: c.HTTPConfig.Header, bearerPath: bearerPath,
		users: map[string]string{}, known: map[[32]byte]bool{}}
	for user, hash := range c.Users {
		w.users[user] = string(hash)
	}
	if c.TLSConfig.IsEnabled() {
		if w.tls, err = web.ConfigToTLSConfig(&c.TLSConfig); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if c.RateLimiterConfig.Interval > 0 {
		w.limiter = rate.NewLimiter(rate.Every(c.RateLimiterConfig.Interval), c.RateLimiterConfig.Burst)
	}
	return w, nil
}

// Scheme is https with TLS, http without.
func (w *Web) Scheme() string {
	if w != nil && w.tls != nil {
		return "https"
	}
	return "http"
}

// Describe says in a few words how the listener is guarded, for the log.
func (w *Web) Describe() string {
	if w == nil || (w.tls == nil && len(w.users) == 0) {
		return "plain HTTP, no basic auth"
	}
	s := "TLS"
	if w.tls == nil {
		s = "plain HTTP"
	}
	if len(w.users) > 0 {
		s += fmt.Sprintf(", basic auth (%d users; %s* with a bearer token is authorized by the API)", len(w.users), w.bearerPath)
	}
	return s
}

// Configure sets srv up for the configuration and returns what serves it
// on a listener: TLS when there is a certificate, and every request
// through the rate limit, basic auth and the security headers (Headers).
// It sets srv's Handler, TLSConfig and, without http2, TLSNextProto, before
// serving starts (so that nothing else touching srv races with it); the
// rest of srv (its timeouts) is the caller's.
func (w *Web) Configure(srv *http.Server) (serve func(net.Listener) error) {
	srv.Handler = Headers(w.guard(srv.Handler))
	if w == nil || w.tls == nil {
		return srv.Serve
	}
	srv.TLSConfig = w.tls.Clone()
	if !w.http2 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	return func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
}

// guard applies the rate limit, the configured headers and basic auth.
func (w *Web) guard(next http.Handler) http.Handler {
	if w == nil || (len(w.users) == 0 && w.limiter == nil && len(w.headers) == 0) {
		return next
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.limiter != nil && !w.limiter.Allow() {
			w.refuse(rw, r, http.StatusTooManyRequests, "too_many_requests", "too many requests (rate_limit of --web.config.file); try again shortly")
			return
		}
		for k, v := range w.headers {
			rw.Header().Set(k, v)
		}
		if len(w.users) == 0 || w.bearer(r) || w.authorized(r) {
			next.ServeHTTP(rw, r)
			return
		}
		rw.Header().Set("WWW-Authenticate", `Basic realm="pantau", charset="UTF-8"`)
		w.refuse(rw, r, http.StatusUnauthorized, "unauthorized", "this listener needs basic auth (a user of --web.config.file)")
	})
}

// bearer reports whether r is an API request with a bearer token, which
// the API authorizes itself.
func (w *Web) bearer(r *http.Request) bool {
	if !w.underAPI(r) {
		return false
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer")
}

func (w *Web) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hash, exists := w.users[user]
	if !exists {
		hash = unknownUserHash
	}
	// The key is a hash, so that no password stays in memory as sent.
	key := sha256.Sum256([]byte(user + "\x00" + hash + "\x00" + pass))
	w.mu.Lock()
	good, seen := w.known[key]
	w.mu.Unlock()
	if !seen {
		w.bcryptMu.Lock()
		good = bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil
		w.bcryptMu.Unlock()
		w.mu.Lock()
		if len(w.known) >= knownMax {
			clear(w.known)
		}
		w.known[key] = good
		w.mu.Unlock()
	}
	return good && exists
}

// refuse answers in the API's error vocabulary under the API's path and in
// plain text elsewhere.
func (w *Web) refuse(rw http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if w.underAPI(r) {
		rw.Header().Set("Content-Type", "application/json; charset=utf-8")
		rw.WriteHeader(status)
		json.NewEncoder(rw).Encode(map[string]any{"error": api.Error{Code: code, Message: msg}})
		return
	}
	http.Error(rw, msg, status)
}

// underAPI reports whether r is for the JSON API.
func (w *Web) underAPI(r *http.Request) bool {
	return w.bearerPath != "" && strings.HasPrefix(r.URL.Path, w.bearerPath)
}
