package main

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/store"
)

// poolMetrics reports, at each scrape, the connections pantau holds open
// to each source and to its store: a leak shows as a count that only
// grows (the load and soak test checks that it stays flat).
type poolMetrics struct {
	pool        *sourcePool
	store       *store.Store // nil without --store
	open, inUse *prometheus.Desc
}

func newPoolMetrics(pool *sourcePool, st *store.Store) *poolMetrics {
	return &poolMetrics{pool: pool, store: st,
		open: prometheus.NewDesc("pantau_db_open_connections",
			"Connections open to a database: a source (pool=\"source/NAME\") or pantau's store (pool=\"store\").", []string{"pool"}, nil),
		inUse: prometheus.NewDesc("pantau_db_in_use_connections",
			"Connections running a query or transaction now, per pool as pantau_db_open_connections.", []string{"pool"}, nil),
	}
}

func (m *poolMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.open
	ch <- m.inUse
}

func (m *poolMetrics) Collect(ch chan<- prometheus.Metric) {
	emit := func(pool string, s sql.DBStats) {
		ch <- prometheus.MustNewConstMetric(m.open, prometheus.GaugeValue, float64(s.OpenConnections), pool)
		ch <- prometheus.MustNewConstMetric(m.inUse, prometheus.GaugeValue, float64(s.InUse), pool)
	}
	m.pool.mu.Lock()
	// Sources with the same name are summed: during a reload an old and a
	// new connection to one source may both be open.
	sources := map[string]sql.DBStats{}
	for cfg, s := range m.pool.open {
		st, sum := s.Stats(), sources[cfg.Name]
		sum.OpenConnections += st.OpenConnections
		sum.InUse += st.InUse
		sources[cfg.Name] = sum
	}
	m.pool.mu.Unlock()
	for name, s := range sources {
		emit("source/"+name, s)
	}
	if m.store != nil {
		emit("store", m.store.Stats())
	}
}
