package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// Error is the body of every error answer: {"error": {"code", "message"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badParam(name, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "bad_parameter", "%s: %s", name, fmt.Sprintf(format, args...))
}

func forbidden(format string, args ...any) *Error {
	return errorf(http.StatusForbidden, "forbidden", format, args...)
}

func abort(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": Error{Code: code, Message: msg}})
}

func errNotReady() *Error {
	return errorf(http.StatusServiceUnavailable, "not_ready", "the first refresh has not finished yet; try again in a few seconds")
}

// retryAfter is what a client is told to wait before the first refresh
// has finished: a refresh of a national spec takes seconds.
const retryAfter = "5"

// requestLog gives every request an id (X-Request-Id, the client's when it
// sent a sane one) and logs it when it ends. The Authorization header and
// the token are never logged; the token's name is.
func (a *API) requestLog(c *gin.Context) {
	start := time.Now()
	id := c.GetHeader("X-Request-Id")
	if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < '!' || r > '~' }) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set("request_id", id)
	c.Header("X-Request-Id", id)
	c.Next()
	status := c.Writer.Status()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	args := []any{"request_id", id, "method", c.Request.Method, "path", redactTokens(c.Request.URL.Path),
		"query", redactTokens(c.Request.URL.RawQuery), "status", status, "bytes", c.Writer.Size(),
		"duration", time.Since(start).Round(time.Microsecond)}
	if name := c.GetString("token_name"); name != "" {
		args = append(args, "token", name)
	}
	if e := c.GetString("error_code"); e != "" {
		args = append(args, "error", e)
	}
	a.opts.Logger.Log(c.Request.Context(), level, "api request", args...)
}

// tokenLike is an API token, also percent-encoded (once or more): the API
// never takes one in the URL, but a client that puts one there must not get
// it logged.
var tokenLike = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(strings.TrimSuffix(store.TokenPrefix, "_")) + `(_|%(25)*5f)[a-z0-9_%-]+`)

// redactTokens replaces whatever looks like a token in a logged URL part.
func redactTokens(s string) string {
	return tokenLike.ReplaceAllString(s, store.TokenPrefix+"REDACTED")
}

func (a *API) recovered(c *gin.Context, err any) {
	a.opts.Logger.Error("api handler panicked", "request_id", c.GetString("request_id"), "panic", fmt.Sprint(err))
	c.Set("error_code", "internal")
	abort(c, http.StatusInternalServerError, "internal", "internal error; the request id "+c.GetString("request_id")+" is in pantau's log")
}

// request is one API request being answered.
type request struct {
	*gin.Context
	a     *API
	route *route
	snap  *collector.Snapshot
	token store.Token
	// fromStore is set by handlers whose answer depends on the store, whose
	// changes the snapshot's time does not follow.
	fromStore bool
	// etag, when set, is the answer's ETag (a target's version) instead
	// of one derived from the snapshot or the body.
	etag string
}

// scope is the region the request may see: the token's scope or the nation.
func (r *request) scope() string {
	if r.token.Scope == "" {
		return kpi.NationalCode
	}
	return r.token.Scope
}

// wrap turns a route's handler into a gin handler: parameters checked,
// token checked, snapshot present, errors rendered.
func (a *API) wrap(rt route) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := &request{Context: c, a: a, route: &rt}
		if err := a.prepare(r); err != nil {
			r.fail(err)
			return
		}
		if r.cacheable() {
			if ans := a.cache.get(r.snap, r.cacheKey()); ans != nil {
				if err := r.send(ans); err != nil {
					r.fail(err)
				}
				return
			}
		}
		if err := rt.handle(r); err != nil {
			r.fail(err)
		}
	}
}

func (a *API) prepare(r *request) error {
	rt := r.route
	// URL.Query drops pairs it cannot decode (%zz, a ';'): refuse them
	// rather than answer as if the parameter had not been given.
	q, err := url.ParseQuery(r.Request.URL.RawQuery)
	if err != nil {
		return badParam("query string", "%v; percent-encode the values and separate parameters with &", err)
	}
	for name := range q {
		if !slices.Contains(rt.params, name) {
			allowed := "it takes none"
			if len(rt.params) > 0 {
				allowed = "allowed: " + strings.Join(rt.params, ", ")
			}
			return badParam(name, "unknown query parameter for %s %s (%s)", rt.method, Prefix+rt.path, allowed)
		}
		if len(q[name]) > 1 {
			return badParam(name, "given %d times; give it once (lists are comma-separated: a,b)", len(q[name]))
		}
	}
	if !rt.public {
		if err := a.authenticate(r); err != nil {
			return err
		}
	}
	if rt.store && a.opts.Store == nil {
		return errorf(http.StatusNotImplemented, "no_store", "this pantau runs without a store (serve --store): targets and history are not available")
	}
	if rt.snapshot {
		r.snap = a.opts.Snapshots.Snapshot()
		if r.snap == nil {
			r.Header("Retry-After", retryAfter)
			return errNotReady()
		}
		if _, ok := r.snap.Hierarchy.Lookup(r.scope()); !ok {
			return forbidden("the token's scope %s is outside the regions this pantau collects", r.scope())
		}
	}
	return nil
}

// authenticate reads the bearer token. Without one, reads pass when the
// API is open for reading; with one, it must be valid even then, so that a
// revoked token is noticed.
func (a *API) authenticate(r *request) error {
	h := r.GetHeader("Authorization")
	if h == "" {
		switch {
		case r.route.admin:
			return errorf(http.StatusUnauthorized, "unauthorized", "this needs an admin token: Authorization: Bearer pnt_... (pantau token create --role admin)")
		case a.opts.OpenRead:
			return nil
		}
		return errorf(http.StatusUnauthorized, "unauthorized", "send a token: Authorization: Bearer pnt_... (pantau token create)")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errorf(http.StatusUnauthorized, "unauthorized", "the Authorization header must be: Bearer pnt_...")
	}
	t, err := a.lookupToken(r.Request.Context(), strings.TrimSpace(token))
	if err != nil {
		return err
	}
	r.token = t
	r.Set("token_name", t.Name)
	if r.route.admin && t.Role != store.RoleAdmin {
		return forbidden("this needs an admin token; token %q is a %s", t.Name, t.Role)
	}
	return nil
}

func (a *API) lookupToken(ctx context.Context, secret string) (store.Token, error) {
	if a.opts.Store == nil {
		return store.Token{}, errorf(http.StatusUnauthorized, "unauthorized", "this pantau runs without a store and so has no tokens")
	}
	t, err := a.opts.Store.LookupToken(ctx, secret)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, errorf(http.StatusUnauthorized, "unauthorized", "the token is unknown or revoked")
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("checking the token: %w", err)
	}
	return t, nil
}

// fail writes err as the error JSON; errors that are not *Error are a 503
// when the store is unavailable, otherwise internal, and logged.
func (r *request) fail(err error) {
	var e *Error
	if !errors.As(err, &e) && store.IsUnavailable(err) {
		// Not a bug: the store is down or full, and the client may try
		// again.
		r.a.opts.Logger.Warn("api request failed: the store is unavailable", "request_id", r.GetString("request_id"), "err", err)
		r.Header("Retry-After", retryAfter)
		e = errorf(http.StatusServiceUnavailable, "store_unavailable", "pantau's store cannot be used right now (unreachable or out of space); try again later")
	}
	if e == nil {
		r.a.opts.Logger.Error("api request failed", "request_id", r.GetString("request_id"), "err", err)
		e = errorf(http.StatusInternalServerError, "internal", "internal error; the request id %s is in pantau's log", r.GetString("request_id"))
	}
	r.Set("error_code", e.Code)
	abort(r.Context, e.Status, e.Code, e.Message)
}

// gzipMin is the body size from which JSON answers are compressed: below a
// packet's worth compression saves nothing.
const gzipMin = 1400

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// bodies are the buffers answers are encoded into before they are sent,
// so that their ETag and size are known.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// reply sends v as JSON with validators: answers from the snapshot carry
// an ETag from its refresh time and may be cached until the next refresh;
// answers from the store carry a hash of the body and are revalidated.
func (r *request) reply(status int, v any) error {
	buf := bodies.Get().(*bytes.Buffer)
	buf.Reset()
	defer bodies.Put(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	ans := &answer{status: status, body: buf.Bytes(), etag: r.etag}
	if ans.etag == "" && status == http.StatusOK {
		ans.etag = r.bodyETag(ans.body)
	}
	if r.cacheable() && status == http.StatusOK {
		ans.body = bytes.Clone(ans.body)
		r.a.cache.put(r.snap, r.cacheKey(), ans)
	}
	return r.send(ans)
}

// cacheable reports whether the answer depends on nothing but the
// snapshot, the request's URL and the token's scope.
func (r *request) cacheable() bool {
	return r.snap != nil && !r.fromStore && r.etag == "" && r.Request.Method == http.MethodGet
}

func (r *request) cacheKey() string {
	return r.scope() + " " + r.Request.URL.Path + "?" + r.Request.URL.RawQuery
}

// answer is an encoded JSON answer.
type answer struct {
	status int
	body   []byte
	etag   string
	// gz is the body gzipped, made once for a cached answer.
	gzOnce sync.Once
	gz     []byte
}

func (ans *answer) gzipped() []byte {
	ans.gzOnce.Do(func() {
		var b bytes.Buffer
		gz := gzipWriters.Get().(*gzip.Writer)
		gz.Reset(&b)
		gz.Write(ans.body)
		gz.Close()
		gzipWriters.Put(gz)
		ans.gz = b.Bytes()
	})
	return ans.gz
}

func (r *request) send(ans *answer) error {
	h := r.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Add("Vary", "Authorization, Accept-Encoding")
	if ans.etag != "" {
		h.Set("ETag", ans.etag)
		if r.snap != nil && !r.fromStore && r.etag == "" {
			h.Set("Cache-Control", "private, max-age="+strconv.Itoa(r.a.secondsToRefresh(r.snap)))
			h.Set("Last-Modified", r.snap.At.UTC().Format(http.TimeFormat))
		} else {
			h.Set("Cache-Control", "private, no-cache")
		}
		if inm := r.GetHeader("If-None-Match"); ans.status == http.StatusOK && inm != "" && etagMatches(inm, ans.etag) {
			r.Status(http.StatusNotModified)
			return nil
		}
	}
	body := ans.body
	if len(body) >= gzipMin && acceptsGzip(r.Request) {
		h.Set("Content-Encoding", "gzip")
		body = ans.gzipped()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	r.Status(ans.status)
	_, err := r.Writer.Write(body)
	return err
}

// answerCache keeps the encoded answers of the current snapshot: between
// refreshes the same URL gets the same bytes, so Grafana's panels, many
// viewers and their retries cost a map lookup. A new snapshot empties it.
type answerCache struct {
	mu   sync.Mutex
	snap *collector.Snapshot
	m    map[string]*answer
}

// cacheEntries bounds the cache; when it is full it starts over.
const cacheEntries = 1024

func (c *answerCache) get(s *collector.Snapshot, key string) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != s {
		return nil
	}
	return c.m[key]
}

func (c *answerCache) put(s *collector.Snapshot, key string, ans *answer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != s || len(c.m) >= cacheEntries {
		c.snap, c.m = s, map[string]*answer{}
	}
	c.m[key] = ans
}

// etag is weak for snapshot answers (the refresh time and the scope name
// the representation; gzip does not change it) and a body hash otherwise.
func (r *request) bodyETag(body []byte) string {
	if r.snap != nil && !r.fromStore {
		return fmt.Sprintf(`W/"%x-%s"`, r.snap.At.UnixNano(), r.scope())
	}
	sum := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(sum[:12]) + `"`
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// secondsToRefresh is how long an answer from s stays current: until the
// next refresh is due, at least 0.
func (a *API) secondsToRefresh(s *collector.Snapshot) int {
	left := s.At.Add(a.spec().Refresh).Sub(a.opts.Now())
	return max(0, int(left/time.Second))
}

// acceptsGzip reports whether the client takes gzip; only an explicit q=0
// refuses it.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		k, v, _ := strings.Cut(strings.TrimSpace(params), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
				return false
			}
		}
		return true
	}
	return false
}
