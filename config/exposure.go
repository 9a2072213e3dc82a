package config

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/suggest"
)

// Families lists the per-region metric families that exposure governs, by
// metric name. Every other family pantau exposes (pantau_kpi_info,
// pantau_kpi_stale, the self-metrics, …) is small and always exposed.
var Families = []string{
	"pantau_kpi_actual",
	"pantau_kpi_attainment_ratio",
	"pantau_kpi_denominator",
	"pantau_kpi_expected",
	"pantau_kpi_forecast",
	"pantau_kpi_numerator",
	"pantau_kpi_pace_ratio",
	"pantau_kpi_status",
	"pantau_kpi_target",
	"pantau_kpi_target_coverage_ratio",
}

// familyPrefix is left out of family names in a spec: families: [actual, status].
const familyPrefix = "pantau_kpi_"

// DefaultExposure is what goes to Prometheus when the spec says nothing:
// every family and window down to kabupaten/kota. Kecamatan and desa are
// served by the API; at national scale they are over 90 % of the series
// (docs/metrics.md has the arithmetic).
var DefaultExposure = Exposure{
	Levels:   []kpi.Level{kpi.LevelNasional, kpi.LevelProvinsi, kpi.LevelKabupatenKota},
	Windows:  slices.Clone(kpi.Windows),
	Families: slices.Clone(Families),
}

// Exposure is which of a KPI's per-region series go to Prometheus. The
// snapshot and the API keep every row regardless.
type Exposure struct {
	Levels   []kpi.Level
	Windows  []kpi.Window
	Families []string // metric names, from Families
}

// Exposes reports whether the series of family (a metric name such as
// pantau_kpi_status) for a region at level, in window, goes to Prometheus.
// Families that exposure does not govern (not in Families) are always
// exposed.
func (e Exposure) Exposes(level kpi.Level, window kpi.Window, family string) bool {
	if !slices.Contains(Families, family) {
		return true
	}
	return slices.Contains(e.Levels, level) && slices.Contains(e.Windows, window) && slices.Contains(e.Families, family)
}

// Exposes reports whether the KPI's series of family for a region at
// level, in window, goes to Prometheus; see Exposure.Exposes.
func (k KPI) Exposes(level kpi.Level, window kpi.Window, family string) bool {
	return k.Exposure.Exposes(level, window, family)
}

var exposureKeys = []string{"levels", "windows", "families"}

// exposure reads an exposure: mapping (at the top of the spec or in a KPI);
// keys it leaves out keep their value in base.
func (d *decoder) exposure(fs *fieldSet, base Exposure, label string) Exposure {
	v, ok := fs.value("exposure")
	if !ok {
		return base
	}
	const example = "{levels: [nasional, provinsi, kabupaten_kota], windows: [month, year], families: all}"
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "%sexposure must be a mapping like %s, not %s", label, example, kindName(v))
		return base
	}
	efs := d.fields(v)
	d.checkKeys(efs, exposureKeys, "in "+label+"exposure", nil)
	e := base
	var levelNames, windowNames, familyNames []string
	for _, l := range kpi.Levels {
		levelNames = append(levelNames, l.String())
	}
	for _, w := range kpi.Windows {
		windowNames = append(windowNames, string(w))
	}
	for _, f := range Families {
		familyNames = append(familyNames, strings.TrimPrefix(f, familyPrefix))
	}
	if lv, ok := efs.value("levels"); ok {
		canonical := func(s string) string {
			if l, err := kpi.ParseLevel(s); err == nil {
				return l.String()
			}
			return ""
		}
		if names, ok := d.wordList(lv, label+"exposure: levels", levelNames, canonical); ok {
			e.Levels = nil
			for _, n := range names {
				l, _ := kpi.ParseLevel(n)
				e.Levels = append(e.Levels, l)
			}
		}
	}
	if wv, ok := efs.value("windows"); ok {
		if names, ok := d.wordList(wv, label+"exposure: windows", windowNames, nil); ok {
			e.Windows = nil
			for _, n := range names {
				e.Windows = append(e.Windows, kpi.Window(n))
			}
		}
	}
	if fv, ok := efs.value("families"); ok {
		canonical := func(s string) string { return strings.TrimPrefix(s, familyPrefix) }
		if names, ok := d.wordList(fv, label+"exposure: families", familyNames, canonical); ok {
			e.Families = nil
			for _, n := range names {
				e.Families = append(e.Families, familyPrefix+n)
			}
		}
	}
	return e
}

// wordList reads "all" or a list of words from allowed (an empty list is
// allowed: nothing of that kind is exposed). It returns the words in the
// order of allowed. canonical, when set, maps other spellings (kabupaten,
// pantau_kpi_status) to the word meant, for the message.
func (d *decoder) wordList(v *yaml.Node, label string, allowed []string, canonical func(string) string) ([]string, bool) {
	explain := "all or a list of " + andList(allowed)
	if v.Kind == yaml.ScalarNode && !isNull(v) {
		if v.Value == "all" {
			return allowed, true
		}
		d.errorf(v, "%s: %q is not valid; use %s, like [%s]", label, truncate(v.Value, 40), explain, allowed[0])
		return nil, false
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "%s must be %s, not %s", label, explain, kindName(v))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	good := true
	for _, item := range v.Content {
		item = resolve(item)
		s, ok := d.scalar(item, label)
		if !ok {
			good = false
			continue
		}
		if !contains(allowed, s) {
			sug := suggest.Closest(s, allowed)
			if canonical != nil && contains(allowed, canonical(s)) {
				sug = canonical(s)
			}
			if sug != "" {
				d.errorf(item, "%s: %q is not valid (did you mean %s?); use %s", label, truncate(s, 40), sug, explain)
			} else {
				d.errorf(item, "%s: %q is not valid; use %s", label, truncate(s, 40), explain)
			}
			good = false
			continue
		}
		if first := seen[s]; first != nil {
			d.errorf(item, "%s: %s is listed twice (the first is at line %d); keep one", label, s, first.Line)
			good = false
			continue
		}
		seen[s] = item
	}
	if !good {
		return nil, false
	}
	var out []string
	for _, a := range allowed {
		if seen[a] != nil {
			out = append(out, a)
		}
	}
	return out, true
}
