package config

import (
	"net/url"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pantau-id/pantau/kpi"
)

// Defaults of the spec's alerts: section.
const (
	// DefaultAlertFor is how long a region must stay behind pace before
	// its alert fires: long enough that one bad refresh or a batch of
	// rows arriving late does not page anyone.
	DefaultAlertFor = time.Hour
	// DefaultGrafanaURL is where alert links point when the spec names no
	// Grafana.
	DefaultGrafanaURL = "http://localhost:3000"
)

// DefaultAlertLevels are the levels pace alerts are generated for when the
// spec does not choose: kabupaten/kota and up. A national deployment has
// 7,285 kecamatan; an alert for each is noise for a ministry.
var DefaultAlertLevels = []kpi.Level{kpi.LevelNasional, kpi.LevelProvinsi, kpi.LevelKabupatenKota}

// Alerts configures the Prometheus rules pantau rules generates.
type Alerts struct {
	// Levels are the region levels alerts are generated for, top down.
	Levels []kpi.Level
	// Explicit says Levels come from the spec rather than the default:
	// then every level must have the series its alerts need.
	Explicit bool
	// For is how long a condition must hold before the alert fires.
	For time.Duration
	// GrafanaURL is the base URL of the Grafana the alerts link to.
	GrafanaURL string
}

// Alerting reports whether alerts are generated for level.
func (a Alerts) Alerting(level kpi.Level) bool {
	for _, l := range a.Levels {
		if l == level {
			return true
		}
	}
	return false
}

var alertKeys = []string{"levels", "for", "grafana_url"}

func defaultAlerts() Alerts {
	return Alerts{Levels: append([]kpi.Level(nil), DefaultAlertLevels...), For: DefaultAlertFor, GrafanaURL: DefaultGrafanaURL}
}

// alerts decodes the optional alerts: mapping.
func (d *decoder) alerts(top *fieldSet, spec *Spec) {
	spec.Alerts = defaultAlerts()
	n, ok := top.value("alerts")
	if !ok {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "alerts must be a mapping with the keys %s, not %s", andList(alertKeys), kindName(n))
		return
	}
	fs := d.fields(n)
	d.checkKeys(fs, alertKeys, "in alerts", nil)
	if v, ok := fs.value("levels"); ok {
		spec.Alerts.Levels, spec.Alerts.Explicit = d.alertLevels(v), true
	}
	if v, ok := fs.value("for"); ok {
		if dur, ok := d.duration(v, "alerts: for"); ok {
			if dur <= 0 {
				d.errorf(v, "alerts: for must be positive, like 1h")
			}
			spec.Alerts.For = dur
		}
	}
	if v, ok := fs.value("grafana_url"); ok {
		if s, ok := d.scalar(v, "alerts: grafana_url"); ok {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				d.errorf(v, "alerts: grafana_url %q is not an http(s) URL; write it like https://grafana.dinsos.example", truncate(s, 60))
			}
			spec.Alerts.GrafanaURL = s
		}
	}
}

func (d *decoder) alertLevels(v *yaml.Node) []kpi.Level {
	const explain = "nasional, provinsi, kabupaten_kota, kecamatan or desa"
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "alerts: levels must be a list, like [provinsi, kabupaten_kota], not %s", kindName(v))
		return nil
	}
	seen := map[kpi.Level]bool{}
	for _, item := range v.Content {
		item = resolve(item)
		s, ok := d.scalar(item, "alerts: levels")
		if !ok {
			continue
		}
		// Only canonical names: they are the level label values the
		// generated rules select on.
		l, err := kpi.ParseLevel(s)
		if err != nil || l.String() != s {
			if err == nil {
				d.errorf(item, "alerts: levels: write %s as %s, the level label's value", s, l)
			} else {
				d.errorf(item, "alerts: levels: %q is not a level; use %s", truncate(s, 40), explain)
			}
			continue
		}
		if seen[l] {
			d.errorf(item, "alerts: levels: %s appears twice; keep one", s)
			continue
		}
		seen[l] = true
	}
	var out []kpi.Level
	for _, l := range kpi.Levels {
		if seen[l] {
			out = append(out, l)
		}
	}
	if len(out) == 0 && len(v.Content) == 0 {
		d.errorf(v, "alerts: levels is empty; list at least one level, like [provinsi, kabupaten_kota]")
	}
	return out
}
