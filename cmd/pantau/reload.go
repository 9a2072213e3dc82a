package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/source"
)

// sourcePool holds the open source connections by their settings, so that
// a reload reuses every source whose settings did not change.
type sourcePool struct {
	mu   sync.Mutex
	open map[source.Config]*source.Source
}

// connect returns a connection for every source of spec, opening those it
// does not have yet.
func (p *sourcePool) connect(ctx context.Context, spec *config.Spec) (map[string]collector.Querier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == nil {
		p.open = map[source.Config]*source.Source{}
	}
	queriers := map[string]collector.Querier{}
	for _, name := range spec.SourceNames {
		sc := spec.Sources[name]
		dsn, err := sc.DSN()
		if err != nil {
			return nil, err
		}
		cfg := source.Config{Name: name, Driver: sc.Driver, DSN: dsn, Timeout: sc.Timeout, MaxConcurrent: sc.MaxConcurrent}
		s := p.open[cfg]
		if s == nil {
			if s, err = source.Open(ctx, cfg); err != nil {
				return nil, err
			}
			p.open[cfg] = s
		}
		queriers[name] = s
	}
	return queriers, nil
}

// keepOnly closes every connection that none of inUse holds: after a
// reload is applied, the sources only the old spec used.
func (p *sourcePool) keepOnly(log func(name string, err error), inUse ...map[string]collector.Querier) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for cfg, s := range p.open {
		used := false
		for _, q := range inUse {
			used = used || q[cfg.Name] == collector.Querier(s)
		}
		if !used {
			if err := s.Close(); err != nil {
				log(cfg.Name, err)
			}
			delete(p.open, cfg)
		}
	}
}

func (p *sourcePool) closeAll(log func(name string, err error)) { p.keepOnly(log) }

// reloader reloads the spec file on SIGHUP or POST /-/reload: the new spec
// is validated and its sources connected first, and on any error the
// current spec stays in use.
type reloader struct {
	file    string
	mu      sync.Mutex // one reload at a time
	total   *prometheus.CounterVec
	lastOK  prometheus.Gauge
	enabled bool // POST /-/reload is served
	// latest holds the connections of the last spec handed to the
	// collector, which may still wait for its refresh.
	latest map[string]collector.Querier
}

func newReloader(file string, reg prometheus.Registerer) *reloader {
	r := &reloader{
		file: file,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_spec_reloads_total", Help: "Reloads of the KPI spec (SIGHUP, POST /-/reload), by result: success or failure.",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_spec_last_reload_successful", Help: "1 when the last reload of the KPI spec succeeded (or none was tried), 0 when it failed and the previous spec is still in use.",
		}),
	}
	r.total.WithLabelValues("success")
	r.total.WithLabelValues("failure")
	r.lastOK.Set(1)
	reg.MustRegister(r.total, r.lastOK)
	return r
}

// reload reads the spec file again and hands it to the collector for its
// next refresh.
func (rt *app) reload(ctx context.Context) error {
	r := rt.reloader
	r.mu.Lock()
	defer r.mu.Unlock()
	err := func() error {
		spec, err := config.Load(r.file)
		if err != nil {
			return err
		}
		logSpecWarnings(rt.log, spec)
		queriers, err := rt.pool.connect(ctx, spec)
		if err != nil {
			return err
		}
		applied := func() {
			// A later reload may be waiting for the next refresh: keep its
			// connections too.
			r.mu.Lock()
			defer r.mu.Unlock()
			rt.pool.keepOnly(func(name string, err error) {
				rt.log.Warn("closing source", "source", name, "err", err)
			}, queriers, r.latest)
		}
		if err := rt.collector.Reload(spec, queriers, applied); err != nil {
			return err
		}
		r.latest = queriers
		rt.log.Info("spec reloaded; it applies from the next refresh", "file", r.file, "kpis", len(spec.KPIs))
		return nil
	}()
	if err != nil {
		r.total.WithLabelValues("failure").Inc()
		r.lastOK.Set(0)
		rt.log.Error("spec reload failed; keeping the current spec", "file", r.file, "err", err)
		return err
	}
	r.total.WithLabelValues("success").Inc()
	r.lastOK.Set(1)
	return nil
}

// watchReloads reloads on SIGHUP until ctx is done. Without a spec file
// (the demo) SIGHUP keeps its default meaning.
func (rt *app) watchReloads(ctx context.Context) {
	if rt.reloader == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				rt.log.Info("SIGHUP: reloading the spec", "file", rt.reloader.file)
				rt.reload(ctx)
			}
		}
	}()
}

// mountReload serves POST /-/reload when --enable-reload allows it.
func (rt *app) mountReload(mux *http.ServeMux) {
	if rt.reloader == nil || !rt.reloader.enabled {
		return
	}
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := rt.reload(r.Context()); err != nil {
			http.Error(w, "reload failed; the current spec stays in use: "+err.Error()+"\n", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "spec reloaded; it applies from the next refresh\n")
	})
}
