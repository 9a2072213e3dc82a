package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/store"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// Snapshots is how the API reads what the collector computed: the latest
// published snapshot (nil before the first refresh) and the spec in use,
// which a reload may replace. *collector.Collector is one. The API never
// triggers a query of a source.
type Snapshots interface {
	Snapshot() *collector.Snapshot
	Spec() *config.Spec
}

// Store is the part of pantau's store the API reads and writes;
// *store.Store is one.
type Store interface {
	LookupToken(ctx context.Context, token string) (store.Token, error)
	History(ctx context.Context, f store.HistoryFilter) ([]store.HistoryRow, error)
	ListTargets(ctx context.Context, f store.TargetFilter) ([]kpi.Target, error)
	ApplyTargets(ctx context.Context, changes []store.Change, by, reason string) (store.Summary, error)
	Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Options configure the API.
type Options struct {
	Snapshots Snapshots
	// Regions is the full region master, against which target writes are
	// validated as pantau targets import validates them.
	Regions *kpi.Hierarchy
	// Store may be nil: targets, history and tokens then answer 501, and
	// only OpenRead lets anyone in.
	Store Store
	// OpenRead lets requests without a token read (GET) everything; writes
	// still need an admin token.
	OpenRead bool
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// API is the JSON API's handler.
type API struct {
	opts   Options
	engine *gin.Engine
	routes []route
	cache  answerCache
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the API. Mount Handler at Prefix.
func New(opts Options) (*API, error) {
	if opts.Snapshots == nil || opts.Regions == nil {
		return nil, errors.New("api: snapshots and regions are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{opts: opts}
	a.routes = a.table()
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// One path per resource, and every answer that is not a success is the
	// error JSON: /kpis/ is a 404, not a redirect (which a PUT would follow
	// to a target without its year).
	e.RedirectTrailingSlash = false
	e.ContextWithFallback = true
	e.Use(a.requestLog, gin.CustomRecoveryWithWriter(nil, a.recovered))
	e.NoRoute(func(c *gin.Context) {
		abort(c, http.StatusNotFound, "not_found", "no such endpoint: "+c.Request.URL.Path+"; GET "+Prefix+"/openapi.json lists them")
	})
	e.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method_not_allowed", c.Request.Method+" is not allowed on "+c.Request.URL.Path)
	})
	g := e.Group(Prefix)
	for _, r := range a.routes {
		g.Handle(r.method, r.path, a.wrap(r))
	}
	a.engine = e
	return a, nil
}

func (a *API) spec() *config.Spec { return a.opts.Snapshots.Spec() }

// loc is the zone months and times are in.
func (a *API) loc() *time.Location {
	if l := a.spec().Location; l != nil {
		return l
	}
	return kpi.WIB
}

// Handler serves the API; requests must carry the Prefix.
func (a *API) Handler() http.Handler { return a.engine }
