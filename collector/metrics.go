package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/kpi"
)

// seriesLabels identify one KPI × region × window series. Province and
// regency codes are labels too so Grafana variables filter without joins.
var seriesLabels = []string{"kpi", "level", "region_code", "province_code", "regency_code", "window"}

// family is one metric family of the snapshot's exposition. collect emits
// its samples; both the prometheus.Collector and the fast text renderer are
// driven by it, so the two cannot drift apart.
type family struct {
	name, help string
	labels     []string
	collect    func(s *Snapshot, emit func(v float64, labelValues ...string))
}

// progressFamily publishes one field of every progress row, skipping
// undefined values (a pace with nothing expected yet has no sample).
func progressFamily(name, help string, field func(p *kpi.Progress) kpi.Number) family {
	return family{name: name, help: help, labels: seriesLabels,
		collect: func(s *Snapshot, emit func(float64, ...string)) {
			s.eachProgress(func(p *kpi.Progress, labels []string) {
				if n := field(p); n.OK {
					emit(n.V, labels...)
				}
			})
		}}
}

// families lists the exposition in name order, as client_golang sorts it.
var families = func() []family {
	fs := []family{
		progressFamily("pantau_kpi_actual", "Actual value: the count, or numerator ÷ denominator for rates.",
			func(p *kpi.Progress) kpi.Number { return p.Actual }),
		progressFamily("pantau_kpi_attainment_ratio", "Actual ÷ target (target ÷ actual for direction=down).",
			func(p *kpi.Progress) kpi.Number { return p.Attainment }),
		progressFamily("pantau_kpi_denominator", "Denominator of a rate KPI; sum it to re-aggregate rates correctly.",
			func(p *kpi.Progress) kpi.Number { return p.Denominator }),
		progressFamily("pantau_kpi_expected", "Target phased to the refresh instant (Asia/Jakarta calendar).",
			func(p *kpi.Progress) kpi.Number { return p.Expected }),
		progressFamily("pantau_kpi_forecast", "Actual projected to the end of the window at the pace so far.",
			func(p *kpi.Progress) kpi.Number { return p.Forecast }),
		{name: "pantau_kpi_info", help: "KPI definitions; join on kpi for names and units.",
			labels: []string{"kpi", "name", "unit", "kind", "accumulation", "direction"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					d := st.Def
					emit(1, d.ID, d.Name, d.Unit, string(d.Kind), string(d.Accumulation), string(d.Direction))
				}
			}},
		progressFamily("pantau_kpi_numerator", "Numerator of a rate KPI; sum it to re-aggregate rates correctly.",
			func(p *kpi.Progress) kpi.Number { return p.Numerator }),
		progressFamily("pantau_kpi_pace_ratio", "Actual ÷ expected (expected ÷ actual for direction=down); below 1 is behind plan.",
			func(p *kpi.Progress) kpi.Number { return p.Pace }),
		{name: "pantau_kpi_period_start_timestamp_seconds",
			help:   "Start of the month the KPI's values are for (Unix time); earlier than this month for a lagging source.",
			labels: []string{"kpi"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					if !st.Period.IsZero() {
						emit(float64(st.Period.Start().Unix()), st.Def.ID)
					}
				}
			}},
		{name: "pantau_kpi_stale", help: "1 when the KPI's last refresh failed and its values are carried over from an earlier one.",
			labels: []string{"kpi"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					emit(boolFloat(st.Stale), st.Def.ID)
				}
			}},
		{name: "pantau_kpi_status",
			help:   "Current status: one sample of value 1 per series, labelled with the status (on_track, at_risk, behind, no_target, no_data).",
			labels: append(slices.Clone(seriesLabels), "status"),
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				s.eachProgress(func(p *kpi.Progress, labels []string) {
					emit(1, append(labels, string(p.Status))...)
				})
			}},
		progressFamily("pantau_kpi_target", "Target for the window: the month's amount (flow), the level due at month end (stock), the annual target (window=year), or the target rate.",
			func(p *kpi.Progress) kpi.Number { return p.Target }),
		{name: "pantau_query_last_success_timestamp_seconds", help: "When the KPI's queries last all succeeded (Unix time).",
			labels: []string{"kpi"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					if !st.LastSuccess.IsZero() {
						emit(float64(st.LastSuccess.UnixNano())/1e9, st.Def.ID)
					}
				}
			}},
		{name: "pantau_region_info", help: "Regions of the Kepmendagri master in this deployment's scope; join on region_code for names.",
			labels: []string{"region_code", "name", "level", "province_code", "regency_code"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, r := range s.Hierarchy.Regions() {
					emit(1, r.Code, r.Name, r.Level.String(), r.ProvinceCode(), r.RegencyCode())
				}
			}},
	}
	slices.SortFunc(fs, func(a, b family) int { return strings.Compare(a.name, b.name) })
	return fs
}()

// eachProgress calls fn for every progress row with its series labels. The
// label slice is reused between calls.
func (s *Snapshot) eachProgress(fn func(p *kpi.Progress, labels []string)) {
	labels := make([]string, len(seriesLabels), len(seriesLabels)+1)
	for i := range s.KPIs {
		ps := s.KPIs[i].Progress
		for j := range ps {
			p := &ps[j]
			r, _ := s.Hierarchy.Lookup(p.Region)
			labels[0], labels[1], labels[2] = p.KPI, p.Level.String(), p.Region
			labels[3], labels[4], labels[5] = provinceCode(r), regencyCode(r), string(p.Window)
			fn(p, labels[:len(seriesLabels)])
		}
	}
}

// provinceCode and regencyCode slice the region's own code rather than
// allocate: "32.16.06" → "32", "32.16".
func provinceCode(r kpi.Region) string {
	if r.Level < kpi.LevelProvinsi {
		return ""
	}
	return r.Code[:2]
}

func regencyCode(r kpi.Region) string {
	if r.Level < kpi.LevelKabupatenKota {
		return ""
	}
	return r.Code[:5]
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// snapshotMetrics is the snapshot as a prometheus.Collector, for tests
// (testutil) and for anyone embedding pantau in their own registry. It is
// unchecked (Describe sends nothing) because its series depend on the data.
type snapshotMetrics struct{ snap *Snapshot }

func (snapshotMetrics) Describe(chan<- *prometheus.Desc) {}

func (m snapshotMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, f := range families {
		desc := prometheus.NewDesc(f.name, f.help, f.labels, nil)
		f.collect(m.snap, func(v float64, lv ...string) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, lv...)
		})
	}
}

// exposition is a snapshot's KPI series rendered once, in the Prometheus
// text format, gzipped. Only the compressed form is kept: at national scale
// the text is over 100 MB and compresses about 30:1, and every Prometheus
// scrape asks for gzip. A client that does not gets it decompressed on the
// fly, still without re-encoding a series.
type exposition struct {
	gzip      []byte
	textBytes int
	series    int
}

// render writes the snapshot in the text exposition format (version 0.0.4).
// It writes directly instead of gathering through a registry: at national
// scale (about a million samples) the registry's sorting and consistency
// checks take over ten seconds, this well under one.
// TestRenderMatchesClientGolang holds the two outputs equal but for the
// order of labels within a sample (pantau keeps kpi first; the format allows
// any order).
func render(s *Snapshot) *exposition {
	e := &exposition{}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	cw := &countingWriter{w: zw}
	w := bufio.NewWriterSize(cw, 64<<10)
	var num []byte
	for _, f := range families {
		headerDone := false
		f.collect(s, func(v float64, lv ...string) {
			if !headerDone {
				// Like client_golang: no HELP/TYPE for a family without samples.
				w.WriteString("# HELP ")
				w.WriteString(f.name)
				w.WriteByte(' ')
				writeEscaped(w, f.help, false)
				w.WriteString("\n# TYPE ")
				w.WriteString(f.name)
				w.WriteString(" gauge\n")
				headerDone = true
			}
			e.series++
			w.WriteString(f.name)
			w.WriteByte('{')
			for i, name := range f.labels {
				if i > 0 {
					w.WriteByte(',')
				}
				w.WriteString(name)
				w.WriteString(`="`)
				writeEscaped(w, lv[i], true)
				w.WriteByte('"')
			}
			w.WriteString("} ")
			num = strconv.AppendFloat(num[:0], v, 'g', -1, 64)
			w.Write(num)
			w.WriteByte('\n')
		})
	}
	w.Flush()
	zw.Close()
	e.gzip, e.textBytes = gz.Bytes(), cw.n
	return e
}

type countingWriter struct {
	w io.Writer
	n int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += n
	return n, err
}

// writeEscaped escapes as the text format requires: backslash and newline
// everywhere, double quotes in label values.
func writeEscaped(w *bufio.Writer, s string, quote bool) {
	if !strings.ContainsAny(s, "\\\n\"") {
		w.WriteString(s)
		return
	}
	for _, r := range s {
		switch {
		case r == '\\':
			w.WriteString(`\\`)
		case r == '\n':
			w.WriteString(`\n`)
		case r == '"' && quote:
			w.WriteString(`\"`)
		default:
			w.WriteRune(r)
		}
	}
}
