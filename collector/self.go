package collector

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// selfMetrics say how pantau itself is doing. They are few and change on
// every scrape (snapshot age), so they are gathered live, unlike the KPI
// series.
type selfMetrics struct {
	registry        *prometheus.Registry
	sourceUp        *prometheus.GaugeVec
	queryDuration   *prometheus.GaugeVec
	rowsRejected    *prometheus.CounterVec
	targetsRejected *prometheus.CounterVec
	refreshFailures *prometheus.CounterVec
	refreshDuration prometheus.Gauge
	targetFailures  prometheus.Counter
	closedChanges   *prometheus.CounterVec
}

func newSelfMetrics(c *Collector, opts Options) *selfMetrics {
	m := &selfMetrics{
		registry: prometheus.NewRegistry(),
		sourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pantau_source_up", Help: "1 when the source answered a ping at the last refresh.",
		}, []string{"source"}),
		queryDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pantau_query_duration_seconds", Help: "Run time of the KPI's last query of each kind (month, year, baseline).",
		}, []string{"kpi", "query"}),
		rowsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_rows_rejected_total", Help: "Source rows dropped because they could not be used, by reason.",
		}, []string{"kpi", "reason"}),
		targetsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_targets_rejected_total", Help: "Targets left out at a refresh because their region is not in the region master or their values are invalid, by reason.",
		}, []string{"kpi", "reason"}),
		refreshFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_refresh_failures_total", Help: "KPI refreshes that failed and left the KPI's values stale.",
		}, []string{"kpi"}),
		refreshDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pantau_refresh_duration_seconds", Help: "How long the last refresh took, queries and rendering included.",
		}),
		targetFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pantau_target_read_failures_total", Help: "Failed reads of the targets from pantau's store.",
		}),
		closedChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pantau_closed_month_changes_total", Help: "Closed months whose figures changed when queried again (rows that arrived late).",
		}, []string{"kpi"}),
	}
	snapshotAge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pantau_snapshot_age_seconds", Help: "Time since the published snapshot was computed; -1 before the first refresh.",
	}, func() float64 {
		if s := c.Snapshot(); s != nil {
			return opts.Now().Sub(s.At).Seconds()
		}
		return -1
	})
	series := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pantau_snapshot_series", Help: "KPI series in the published snapshot's exposition.",
	}, func() float64 {
		if s := c.Snapshot(); s != nil {
			return float64(s.Series())
		}
		return 0
	})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pantau_build_info", Help: "pantau's version and the Go version it was built with.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(opts.Version, runtime.Version()).Set(1)
	m.initKPIs(opts.Spec)
	m.registry.MustRegister(m.sourceUp, m.queryDuration, m.rowsRejected, m.targetsRejected, m.refreshFailures, m.refreshDuration, m.targetFailures, m.closedChanges,
		snapshotAge, series, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// initKPIs starts every KPI's counters at zero, so that rate() and
// increase() see the first failure.
func (m *selfMetrics) initKPIs(spec *config.Spec) {
	for _, k := range spec.KPIs {
		m.refreshFailures.WithLabelValues(k.ID)
		if k.YearQuery() || k.BaselineQuery() {
			m.closedChanges.WithLabelValues(k.ID)
		}
		for _, r := range RejectReasons {
			m.rowsRejected.WithLabelValues(k.ID, r)
		}
		for _, r := range kpi.TargetRejectReasons {
			m.targetsRejected.WithLabelValues(k.ID, r)
		}
	}
}

func (m *selfMetrics) observe(s *Snapshot) {
	m.refreshDuration.Set(s.Duration.Seconds())
}
