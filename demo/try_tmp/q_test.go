package demotry

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/pantau-id/pantau/config"
	"github.com/pantau-id/pantau/examples"
	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
)

func TestQ(t *testing.T) {
	spec, err := config.Parse("dinsos.yaml", examples.DinsosSpec)
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.Open(context.Background(), source.Config{Name: "dinsos", Driver: "sqlite", DSN: "/tmp/demotry/demo.db"})
	if err != nil {
		t.Fatal(err)
	}
	for _, per := range []kpi.Period{kpi.NewPeriod(2026, 11, nil), kpi.NewPeriod(2026, 10, nil), kpi.NewPeriod(2025, 12, nil)} {
		for _, k := range spec.KPIs {
			t0 := time.Now()
			res, err := src.Query(context.Background(), k.Query, source.Params{PeriodStart: per.Start(), PeriodEnd: per.End(), YearStart: per.YearStart()})
			if err != nil {
				t.Fatal(err)
			}
			d := time.Since(t0)
			// distribution
			var vals []float64
			var sumN, sumD, dki float64
			for _, r := range res.Rows {
				code := r[0].(string)
				if len(r) == 2 {
					v := toF(r[1])
					vals = append(vals, v)
					sumN += v
					if code[:2] == "31" {
						dki += v
					}
				} else {
					n, dd := toF(r[1]), toF(r[2])
					sumN += n
					sumD += dd
					if dd > 0 {
						vals = append(vals, n/dd)
					}
				}
			}
			sort.Float64s(vals)
			q := func(p float64) float64 {
				if len(vals) == 0 {
					return -1
				}
				return vals[int(p*float64(len(vals)-1))]
			}
			t.Logf("%s %-16s rows %5d in %-12v sum %8.0f/%8.0f dki %4.0f q05 %.3f q25 %.3f q50 %.3f q75 %.3f q95 %.3f", per, k.ID, len(res.Rows), d, sumN, sumD, dki, q(.05), q(.25), q(.5), q(.75), q(.95))
		}
	}
}

func toF(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	}
	return -999
}
