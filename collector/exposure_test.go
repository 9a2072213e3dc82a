package collector

import (
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/kpi"
)

// withExposure returns the golden snapshot as a collector with that
// exposure and scope would publish it.
func withExposure(t testing.TB, scope string, e config.Exposure) *Snapshot {
	s := goldenSnapshot(t)
	spec := &config.Spec{}
	for _, st := range s.KPIs {
		spec.KPIs = append(spec.KPIs, config.KPI{KPI: st.Def, Exposure: e})
	}
	s.exposure = newExposure(spec, scope)
	return s
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestExposureShapesTheExposition(t *testing.T) {
	full := config.Exposure{Levels: kpi.Levels, Windows: kpi.Windows, Families: config.Families}
	tests := []struct {
		name  string
		scope string
		e     config.Exposure
		// ok says whether a per-region sample (family, level, region,
		// window) may appear; every one it accepts must appear.
		ok func(family, level, region, window string) bool
		// regions is the pantau_region_info codes wanted.
		regions []string
	}{
		{
			name: "the default exposure leaves out kecamatan series but still names every region",
			e:    config.DefaultExposure, scope: kpi.NationalCode,
			ok:      func(_, level, _, _ string) bool { return level != "kecamatan" },
			regions: []string{"31", "31.71", "31.71.01", "32", "32.16", "32.16.06", "32.16.07", "ID"},
		},
		{
			name: "a Jawa Barat shard exposes Jawa Barat and below, not the nation it computes from its own regions",
			e:    full, scope: "32",
			ok:      func(_, _, region, _ string) bool { return region == "32" || strings.HasPrefix(region, "32.") },
			regions: []string{"32", "32.16", "32.16.06", "32.16.07"},
		},
		{
			name:  "a families and windows list keeps only those",
			e:     config.Exposure{Levels: kpi.Levels, Windows: []kpi.Window{kpi.WindowMonth}, Families: []string{"pantau_kpi_status", "pantau_kpi_numerator"}},
			scope: kpi.NationalCode,
			ok: func(family, _, _, window string) bool {
				return window == "month" && (family == "pantau_kpi_status" || family == "pantau_kpi_numerator")
			},
			regions: []string{"31", "31.71", "31.71.01", "32", "32.16", "32.16.06", "32.16.07", "ID"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := parseFamilies(t, renderText(t, goldenSnapshot(t)))
			s := withExposure(t, tt.scope, tt.e)
			text := renderText(t, s)
			got := parseFamilies(t, text)
			for _, family := range config.Families {
				want := 0
				for _, m := range all[family].GetMetric() {
					if tt.ok(family, labelOf(m, "level"), labelOf(m, "region_code"), labelOf(m, "window")) {
						want++
					}
				}
				n := 0
				for _, m := range got[family].GetMetric() {
					n++
					if !tt.ok(family, labelOf(m, "level"), labelOf(m, "region_code"), labelOf(m, "window")) {
						t.Errorf("%s exposed for %s %s window %s", family, labelOf(m, "level"), labelOf(m, "region_code"), labelOf(m, "window"))
					}
				}
				if n != want {
					t.Errorf("%s: %d samples, want the %d the exposure accepts", family, n, want)
				}
			}
			var regions []string
			for _, m := range got["pantau_region_info"].GetMetric() {
				regions = append(regions, labelOf(m, "region_code"))
			}
			slices.Sort(regions)
			if !slices.Equal(regions, tt.regions) {
				t.Errorf("pantau_region_info for %v, want %v", regions, tt.regions)
			}
			if _, ok := got["pantau_kpi_info"]; !ok {
				t.Error("pantau_kpi_info is missing; exposure does not govern it")
			}
			if ours, theirs := canonicalLines(t, text), canonicalLines(t, clientGolangText(t, s)); !slices.Equal(ours, theirs) {
				t.Error("render and the prometheus.Collector disagree under an exposure")
			}
		})
	}
}

// TestFamiliesMatchConfig keeps config.Families, the names a spec's
// exposure may list, equal to the per-region families pantau renders.
func TestFamiliesMatchConfig(t *testing.T) {
	var perRegion []string
	for _, f := range families {
		if f.perKPI != nil {
			perRegion = append(perRegion, f.name)
		}
	}
	if !slices.Equal(perRegion, config.Families) {
		t.Errorf("per-region families %v, config.Families %v", perRegion, config.Families)
	}
}
