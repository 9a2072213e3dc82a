package collector

import (
	"bytes"
	"compress/flate"
	"hash/crc32"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pantau-id/pantau/kpi"
)

// seriesLabels identify one KPI × region × window series. Province and
// regency codes are labels too so Grafana variables filter without joins.
var seriesLabels = []string{"kpi", "level", "region_code", "province_code", "regency_code", "window"}

// family is one metric family of the snapshot's exposition. Its samples
// come from collect (snapshot-wide families) or perKPI (one KPI's share of
// a per-region family); both the prometheus.Collector and the fast text
// renderer are driven by them, so the two cannot drift apart.
type family struct {
	name, help string
	labels     []string
	collect    func(s *Snapshot, emit func(v float64, labelValues ...string))
	// perKPI emits the rows keep accepts (the exposure).
	perKPI func(st *KPIState, keep func(*kpi.Progress) bool, emit func(v float64, labelValues ...string))
}

// each emits the family's exposed samples for the whole snapshot.
func (f *family) each(s *Snapshot, emit func(float64, ...string)) {
	if f.perKPI == nil {
		f.collect(s, emit)
		return
	}
	for i := range s.KPIs {
		f.perKPI(&s.KPIs[i], s.exposure.keep(s.KPIs[i].Def.ID, f.name), emit)
	}
}

// progressFamily publishes one field of every progress row, skipping
// undefined values (a pace with nothing expected yet has no sample).
func progressFamily(name, help string, field func(p *kpi.Progress) kpi.Number) family {
	return family{name: name, help: help, labels: seriesLabels,
		perKPI: func(st *KPIState, keep func(*kpi.Progress) bool, emit func(float64, ...string)) {
			eachProgress(st.Progress, keep, func(p *kpi.Progress, labels []string) {
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
		{name: "pantau_kpi_never_succeeded", help: "1 when every refresh of the KPI since pantau started has failed, so it has no values at all.",
			labels: []string{"kpi"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					emit(boolFloat(st.Data() == DataNeverSucceeded), st.Def.ID)
				}
			}},
		{name: "pantau_kpi_up", help: "1 when the KPI's last refresh succeeded, 0 when it failed (its values are then stale or absent).",
			labels: []string{"kpi"},
			collect: func(s *Snapshot, emit func(float64, ...string)) {
				for _, st := range s.KPIs {
					emit(boolFloat(st.Data() == DataFresh), st.Def.ID)
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
			perKPI: func(st *KPIState, keep func(*kpi.Progress) bool, emit func(float64, ...string)) {
				eachProgress(st.Progress, keep, func(p *kpi.Progress, labels []string) {
					emit(1, append(labels, string(p.Status))...)
				})
			}},
		{name: "pantau_kpi_target_coverage_ratio", help: "Fraction of the region's regions at the KPI's level that its target covers; attainment, pace and status judge that part only.",
			labels: seriesLabels,
			// At the KPI's own level a target covers its region or there
			// is none, which pantau_kpi_target already says: only the
			// levels above, a few percent of the rows, are published.
			perKPI: func(st *KPIState, keep func(*kpi.Progress) bool, emit func(float64, ...string)) {
				eachProgress(st.Progress, keep, func(p *kpi.Progress, labels []string) {
					if p.Level < st.Def.Level && p.TargetCoverage.OK {
						emit(p.TargetCoverage.V, labels...)
					}
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
					if s.exposure.region(r) {
						emit(1, r.Code, r.Name, r.Level.String(), r.ProvinceCode(), r.RegencyCode())
					}
				}
			}},
	}
	slices.SortFunc(fs, func(a, b family) int { return strings.Compare(a.name, b.name) })
	return fs
}()

// eachProgress calls fn for every progress row keep accepts, with its
// series labels. The label slice is reused between calls.
func eachProgress(ps []kpi.Progress, keep func(*kpi.Progress) bool, fn func(p *kpi.Progress, labels []string)) {
	labels := make([]string, len(seriesLabels), len(seriesLabels)+1)
	for j := range ps {
		p := &ps[j]
		if !keep(p) {
			continue
		}
		// kpi.Evaluate copies code and level from the hierarchy, so no
		// lookup is needed for the parents' codes.
		r := kpi.Region{Code: p.Region, Level: p.Level}
		labels[0], labels[1], labels[2] = p.KPI, p.Level.String(), p.Region
		labels[3], labels[4], labels[5] = provinceCode(r), regencyCode(r), string(p.Window)
		fn(p, labels[:len(seriesLabels)])
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
	for i := range families {
		f := &families[i]
		desc := prometheus.NewDesc(f.name, f.help, f.labels, nil)
		f.each(m.snap, func(v float64, lv ...string) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, lv...)
		})
	}
}

// exposition is a snapshot's exposed KPI series rendered once, in the
// Prometheus text format, compressed. Only the compressed form is kept: at
// national scale with full exposure the text is over 80 MB and compresses
// about 20:1, and every Prometheus scrape asks for gzip. A client that does
// not gets it inflated on the fly, still without re-encoding a series.
//
// deflate is raw DEFLATE ended by a sync flush, without a final block: the
// handler wraps it, the self-metrics and a final block into one gzip member
// (gzip.go). The families are rendered and compressed in parallel, each
// part sync-flushed the same way, and joined by appending.
type exposition struct {
	deflate   []byte
	crc       uint32 // CRC-32 (IEEE) of the text
	textBytes int
	series    int
}

// append adds part p after e's text.
func (e *exposition) append(p *exposition) {
	e.deflate = append(e.deflate, p.deflate...)
	e.crc = crc32Combine(e.crc, p.crc, p.textBytes)
	e.textBytes += p.textBytes
	e.series += p.series
}

// render writes the snapshot in the text exposition format (version 0.0.4).
// It writes directly instead of gathering through a registry: at national
// scale (about half a million samples) the registry's sorting and
// consistency checks take over ten seconds, this a fraction of one.
// TestRenderMatchesClientGolang holds the two outputs equal but for the
// order of labels within a sample (pantau keeps kpi first; the format allows
// any order).
//
// The per-region families are the bulk. Each KPI's share of them is
// rendered as soon as that KPI is evaluated (renderKPI, called by Refresh
// while other queries still run; a stale KPI keeps its share from an
// earlier refresh), so render mostly joins parts: for each family in name
// order its HELP/TYPE part, then each KPI's share in spec order. Shares not
// rendered yet, and the small snapshot-wide families, are rendered here by
// GOMAXPROCS workers; the output does not depend on the scheduling.
func render(s *Snapshot) *exposition {
	kpiParts := make([]*kpiPart, len(s.KPIs))
	parts := make([]exposition, len(families))
	var next atomic.Int64
	tasks := len(s.KPIs) + len(families)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), tasks) {
		wg.Go(func() {
			var r familyRenderer
			for t := int(next.Add(1)) - 1; t < tasks; t = int(next.Add(1)) - 1 {
				if t < len(s.KPIs) {
					if kpiParts[t] = s.KPIs[t].part; kpiParts[t] == nil {
						kpiParts[t] = r.renderKPI(&s.KPIs[t], s.exposure)
					}
				} else if f := &families[t-len(s.KPIs)]; f.perKPI == nil {
					parts[t-len(s.KPIs)] = r.render(f, func(emit func(float64, ...string)) { f.collect(s, emit) }, true)
				}
			}
		})
	}
	wg.Wait()
	size := 0
	for _, p := range parts {
		size += len(p.deflate)
	}
	for _, kp := range kpiParts {
		for _, m := range kp.members {
			size += len(m.deflate)
		}
	}
	e := &exposition{deflate: make([]byte, 0, size+len(families)*64)}
	for i := range families {
		if families[i].perKPI == nil {
			e.append(&parts[i])
			continue
		}
		headed := false
		for _, kp := range kpiParts {
			m := &kp.members[i]
			if m.series == 0 {
				continue
			}
			if !headed {
				headed = true
				e.append(&familyHeaders[i])
			}
			e.append(m)
		}
	}
	return e
}

// kpiPart is one KPI's share of the per-region families, rendered: one
// part per family (indexed like families; empty for the others).
type kpiPart struct{ members []exposition }

// renderKPI renders a KPI's exposed share of the per-region families on
// its own, for Refresh to call as soon as the KPI is evaluated.
func renderKPI(st *KPIState, x *exposure) *kpiPart {
	var r familyRenderer
	return r.renderKPI(st, x)
}

func (r *familyRenderer) renderKPI(st *KPIState, x *exposure) *kpiPart {
	kp := &kpiPart{members: make([]exposition, len(families))}
	for i := range families {
		if f := &families[i]; f.perKPI != nil {
			keep := x.keep(st.Def.ID, f.name)
			kp.members[i] = r.render(f, func(emit func(float64, ...string)) { f.perKPI(st, keep, emit) }, false)
		}
	}
	return kp
}

// familyHeaders are the HELP and TYPE lines of each family, one part each,
// made once.
var familyHeaders = func() []exposition {
	hs := make([]exposition, len(families))
	for i := range families {
		var r familyRenderer
		hs[i] = r.compress(appendHeader(nil, &families[i]))
	}
	return hs
}()

func appendHeader(buf []byte, f *family) []byte {
	buf = append(buf, "# HELP "...)
	buf = append(buf, f.name...)
	buf = append(buf, ' ')
	buf = appendEscaped(buf, f.help, false)
	buf = append(buf, "\n# TYPE "...)
	buf = append(buf, f.name...)
	return append(buf, " gauge\n"...)
}

// familyRenderer renders families one after the other, reusing its
// compressor and text buffer.
type familyRenderer struct {
	zw  *flate.Writer
	buf []byte
}

// start points the compressor at out.
func (r *familyRenderer) start(out *bytes.Buffer) {
	if r.zw == nil {
		r.zw, _ = flate.NewWriter(out, flate.BestSpeed)
	} else {
		r.zw.Reset(out)
	}
}

// compress makes a part of text on its own.
func (r *familyRenderer) compress(text []byte) exposition {
	var out bytes.Buffer
	r.start(&out)
	r.zw.Write(text)
	r.zw.Flush()
	return exposition{deflate: out.Bytes(), crc: crc32.ChecksumIEEE(text), textBytes: len(text)}
}

// render renders the samples each emits as one part, led by the family's
// HELP/TYPE lines when header is set; nothing at all when there are no
// samples (like client_golang: no HELP/TYPE then).
func (r *familyRenderer) render(f *family, each func(emit func(float64, ...string)), header bool) exposition {
	const chunk = 64 << 10
	var e exposition
	var out bytes.Buffer
	started := false
	buf := r.buf[:0]
	if buf == nil {
		buf = make([]byte, 0, chunk+4<<10)
	}
	flush := func() {
		r.zw.Write(buf)
		e.crc = crc32.Update(e.crc, crc32.IEEETable, buf)
		e.textBytes += len(buf)
		buf = buf[:0]
	}
	each(func(v float64, lv ...string) {
		if !started {
			started = true
			r.start(&out)
			if header {
				buf = appendHeader(buf, f)
			}
		}
		e.series++
		buf = append(buf, f.name...)
		buf = append(buf, '{')
		for i, name := range f.labels {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, name...)
			buf = append(buf, `="`...)
			buf = appendEscaped(buf, lv[i], true)
			buf = append(buf, '"')
		}
		buf = append(buf, "} "...)
		buf = appendValue(buf, v)
		buf = append(buf, '\n')
		if len(buf) >= chunk {
			flush()
		}
	})
	r.buf = buf
	if !started {
		return e
	}
	flush()
	r.zw.Flush()
	e.deflate = out.Bytes()
	return e
}

// appendValue is strconv.AppendFloat(b, v, 'g', -1, 64), faster for the
// whole numbers below a million most samples are: 'g' writes those without
// an exponent, exactly as AppendInt does (-0 aside).
func appendValue(b []byte, v float64) []byte {
	if v > -1e6 && v < 1e6 && v == float64(int64(v)) && (v != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// appendEscaped escapes as the text format requires: backslash and newline
// everywhere, double quotes in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\n' || c == '"' {
			return appendEscapedSlow(b, s, quote)
		}
	}
	return append(b, s...)
}

func appendEscapedSlow(b []byte, s string, quote bool) []byte {
	for _, r := range s {
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}
