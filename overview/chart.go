package overview

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
)

// chart is the year's months of one KPI in one region: the year-to-date
// actual against the target line, drawn as SVG, with the same figures as
// a table (the chart's text alternative).
type chart struct {
	Year          int
	Width, Height int
	// Left and Right bound the plot, where the grid lines run.
	Left, Right int
	Actual      string // polyline points
	Target      string
	Dots        []dot
	Ticks       []tick
	Months      []tick
	Rows        []historyRow
	Summary     string
}

type dot struct {
	X, Y  float64
	Final bool
	Title string
}

type tick struct {
	X, Y  float64
	Label string
}

type historyRow struct {
	Month, Actual, Target, Status, StatusClass, State string
}

// unreadableHistory is said when the store fails: the page still shows
// this month.
const unreadableHistory = "Riwayat bulanan tidak dapat dibaca dari store saat ini; rinciannya ada di log pantau."

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"}

const (
	chartWidth, chartHeight = 640, 240
	chartLeft, chartRight   = 64, 12
	chartTop, chartBottom   = 12, 28
)

// history reads the chosen KPI's year in the region through the API's
// reader: closed months from monthly history, this month from the
// snapshot.
func (o *Overview) history(ctx context.Context, snap *collector.Snapshot, v viewer, reg kpi.Region, sel collector.KPIState, p *page) {
	if sel.Period.IsZero() {
		p.HistoryNote = "Belum ada data untuk KPI ini."
		return
	}
	from := kpi.NewPeriod(sel.Period.Year(), time.January, sel.Period.Start().Location())
	rows, err := o.opts.Reader.History(ctx, snap, v.scope, []string{sel.Def.ID}, reg.Code, from)
	var ae *api.Error
	switch {
	case errors.As(err, &ae) && ae.Code == "no_store":
		p.HistoryNote = "Riwayat bulanan memerlukan store (serve --store); pantau ini berjalan tanpa store."
		return
	case err != nil:
		o.opts.Logger.Warn("overview: reading history", "kpi", sel.Def.ID, "region", reg.Code, "err", err)
		p.HistoryNote = unreadableHistory
		return
	case len(rows) == 0:
		p.HistoryNote = "Belum ada riwayat bulanan untuk wilayah ini."
		return
	}
	p.History = drawHistory(rows, sel.Def, sel.Period.Year())
}

func drawHistory(rows []api.HistoryRow, k kpi.KPI, year int) *chart {
	c := &chart{Year: year, Width: chartWidth, Height: chartHeight, Left: chartLeft, Right: chartWidth - chartRight}
	top := 0.0
	for _, r := range rows {
		if r.CumulativeActual.OK {
			top = max(top, r.CumulativeActual.V)
		}
		if r.CumulativeTarget.OK {
			top = max(top, r.CumulativeTarget.V)
		}
	}
	top = niceCeil(top)
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	x := func(m time.Month) float64 { return chartLeft + plotW*(float64(m)-0.5)/12 }
	y := func(v float64) float64 { return chartTop + plotH*(1-v/top) }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		c.Ticks = append(c.Ticks, tick{X: chartLeft - 6, Y: y(v), Label: number(kpi.Some(v), k)})
	}
	for m := time.January; m <= time.December; m++ {
		c.Months = append(c.Months, tick{X: x(m), Y: chartHeight - 8, Label: monthNames[m-1]})
	}
	var actual, target []string
	for _, r := range rows {
		m := r.Time.Month()
		hr := historyRow{Month: monthNames[m-1] + " " + fmt.Sprint(r.Time.Year()), Actual: number(r.CumulativeActual, k),
			Target: number(r.CumulativeTarget, k), Status: statusLabels[kpi.Status(r.Status)], StatusClass: r.Status, State: "final"}
		if !r.Final {
			hr.State = "berjalan"
		}
		c.Rows = append(c.Rows, hr)
		if r.CumulativeTarget.OK {
			target = append(target, fmt.Sprintf("%.1f,%.1f", x(m), y(r.CumulativeTarget.V)))
		}
		if r.CumulativeActual.OK {
			actual = append(actual, fmt.Sprintf("%.1f,%.1f", x(m), y(r.CumulativeActual.V)))
			c.Dots = append(c.Dots, dot{X: x(m), Y: y(r.CumulativeActual.V), Final: r.Final,
				Title: hr.Month + ": " + hr.Actual + " (target " + hr.Target + ", " + hr.State + ")"})
		}
	}
	c.Actual, c.Target = strings.Join(actual, " "), strings.Join(target, " ")
	last := c.Rows[len(c.Rows)-1]
	c.Summary = fmt.Sprintf("%s s.d. %s: %s terhadap target %s (%s).", k.Name, last.Month, last.Actual, last.Target, last.Status)
	return c
}

// niceCeil rounds a chart's top up to 1, 2, 2.5 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		if v <= f*p {
			return f * p
		}
	}
	return 10 * p
}
