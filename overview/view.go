package overview

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/pantau-id/pantau/api"
	"github.com/pantau-id/pantau/collector"
	"github.com/pantau-id/pantau/kpi"
)

// page is everything the template shows.
type page struct {
	Title string
	// Login shows the token form; Waiting says the first refresh runs;
	// Message is an error or a notice in words.
	Login   bool
	Waiting bool
	Message string
	// Viewer is the token's name, "" for an open pantau.
	Viewer string

	Region   api.RegionRow
	Level    string // the region's level in words
	Crumbs   []crumb
	At       string
	NotReady bool
	Data     []freshness
	KPIs     []kpiRow
	Selected *kpiRow
	// ChildLevel names the children's level in words, "" when the KPI has
	// none below this region.
	ChildLevel string
	Map        *mapView
	Bars       []bar
	Ranking    *ranking
	History    *chart
	// HistoryNote says why there is no history.
	HistoryNote string
	ColourLinks []link
	Legend      []legendItem
}

type crumb struct{ Name, Href string }

type link struct {
	Label, Href string
	Current     bool
}

// freshness is how current one KPI's data is, in words.
type freshness struct {
	ID, Name, Source string
	Data, Class      string
	Updated, Err     string
}

// kpiRow is one KPI in the region: the month and the year.
type kpiRow struct {
	ID, Name, Unit, Href string
	Selected             bool
	Period               string
	// NoValues is set for a KPI that has never refreshed: nothing to show,
	// not zeros.
	NoValues    bool
	Stale       bool
	Month, Year cells
	Rate        bool
}

// cells are one window's figures, formatted.
type cells struct {
	Actual, Target, Expected, Attainment, Pace, Forecast string
	Parts                                                string // numerator/denominator for rates
	Status, StatusClass                                  string
}

// statusLabels name the statuses for people.
var statusLabels = map[kpi.Status]string{
	kpi.OnTrack:  "sesuai target",
	kpi.AtRisk:   "berisiko",
	kpi.Behind:   "tertinggal",
	kpi.NoTarget: "tanpa target",
	kpi.NoData:   "tanpa data",
}

var printer = message.NewPrinter(language.Indonesian)

// number formats a value: counts whole or to one decimal, rates without a
// unit as a percentage, rates with one in their unit.
func number(n kpi.Number, k kpi.KPI) string {
	if !n.OK {
		return "—"
	}
	if k.Kind == kpi.KindRate && k.Unit == "" {
		return printer.Sprintf("%.1f %%", n.V*100)
	}
	if n.V == math.Trunc(n.V) {
		return printer.Sprintf("%.0f", n.V)
	}
	return printer.Sprintf("%.1f", n.V)
}

func count(n kpi.Number) string {
	if !n.OK {
		return "—"
	}
	return printer.Sprintf("%.0f", n.V)
}

func percent(n kpi.Number) string {
	if !n.OK {
		return "—"
	}
	return printer.Sprintf("%.0f %%", n.V*100)
}

func cellsOf(p *api.ProgressRow, k kpi.KPI) cells {
	c := cells{Actual: number(p.Actual, k), Target: number(p.Target, k), Expected: number(p.Expected, k),
		Attainment: percent(p.Attainment), Pace: percent(p.Pace), Forecast: number(p.Forecast, k),
		Status: statusLabels[kpi.Status(p.Status)], StatusClass: p.Status}
	if k.Kind == kpi.KindRate {
		c.Parts = count(p.Numerator) + " / " + count(p.Denominator)
	}
	return c
}

// pageQuery is a page's choices: the KPI, the ranking's order and the
// map's colouring. Defaults are left out of links.
type pageQuery struct {
	KPI    string
	Sort   string // sortKeys
	Desc   bool
	Colour string // "status" or "capaian"
}

// sortKeys are the ranking's columns that sort, by their parameter.
var sortKeys = []string{"laju", "capaian", "nama", "selisih"}

func (q pageQuery) encode() string {
	v := url.Values{}
	if q.KPI != "" {
		v.Set("kpi", q.KPI)
	}
	if q.Sort != "laju" || q.Desc {
		v.Set("urut", q.Sort)
		if q.Desc {
			v.Set("arah", "turun")
		} else {
			v.Set("arah", "naik")
		}
	}
	if q.Colour != "status" {
		v.Set("warna", q.Colour)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func parseQuery(snap *collector.Snapshot, v url.Values) (pageQuery, error) {
	q := pageQuery{KPI: v.Get("kpi"), Sort: "laju", Colour: "status"}
	bad := func(format string, args ...any) error {
		return &pageError{status: http.StatusBadRequest, message: fmt.Sprintf(format, args...)}
	}
	if q.KPI != "" {
		if _, ok := snap.KPI(q.KPI); !ok {
			var ids []string
			for _, st := range snap.KPIs {
				ids = append(ids, st.Def.ID)
			}
			return q, bad("KPI %q tidak ada dalam spesifikasi; pilih salah satu: %s.", q.KPI, strings.Join(ids, ", "))
		}
	}
	if s := v.Get("urut"); s != "" {
		if !slices.Contains(sortKeys, s) {
			return q, bad("urut=%q tidak dikenal; gunakan %s.", s, strings.Join(sortKeys, ", "))
		}
		q.Sort = s
	}
	switch a := v.Get("arah"); a {
	case "", "naik":
	case "turun":
		q.Desc = true
	default:
		return q, bad("arah=%q tidak dikenal; gunakan naik atau turun.", a)
	}
	switch c := v.Get("warna"); c {
	case "", "status":
	case "capaian":
		q.Colour = c
	default:
		return q, bad("warna=%q tidak dikenal; gunakan status atau capaian.", c)
	}
	return q, nil
}

// build reads what the page shows, through the API's reader and within
// the viewer's scope.
func (o *Overview) build(ctx context.Context, snap *collector.Snapshot, v viewer, code string, values url.Values) (*page, error) {
	rd := o.opts.Reader
	reg, err := rd.Region(snap, v.scope, code)
	if err != nil {
		return nil, err
	}
	q, err := parseQuery(snap, values)
	if err != nil {
		return nil, err
	}
	if len(snap.KPIs) == 0 {
		return nil, &pageError{status: http.StatusOK, message: "Spesifikasi ini tidak berisi KPI."}
	}
	sel := snap.KPIs[0]
	if q.KPI != "" {
		sel, _ = snap.KPI(q.KPI)
	}
	p := &page{Title: reg.Name, Viewer: v.name, At: wib(snap.At), NotReady: !o.opts.Ready(),
		Region: api.RegionRow{Code: reg.Code, Name: reg.Name, Level: reg.Level.String()}, Level: reg.Level.Label()}
	p.Crumbs = crumbs(snap, v, reg, q)
	p.Data = o.freshness(snap)

	// The region's own figures, both windows, every KPI.
	own := map[kpi.Window]map[string]*api.ProgressRow{}
	for _, w := range kpi.Windows {
		rows, err := rd.Progress(ctx, snap, api.ProgressQuery{Scope: v.scope, Regions: []string{reg.Code}, Window: w})
		if err != nil {
			return nil, err
		}
		own[w] = map[string]*api.ProgressRow{}
		for i := range rows {
			own[w][rows[i].KPI] = &rows[i]
		}
	}
	for _, st := range snap.KPIs {
		row := kpiRow{ID: st.Def.ID, Name: st.Def.Name, Unit: st.Def.Unit, Selected: st.Def.ID == sel.Def.ID,
			Period: st.Period.String(), Stale: st.Stale, Rate: st.Def.Kind == kpi.KindRate,
			Href: regionHref(reg.Code, pageQuery{KPI: st.Def.ID, Sort: q.Sort, Desc: q.Desc, Colour: q.Colour})}
		m, y := own[kpi.WindowMonth][st.Def.ID], own[kpi.WindowYear][st.Def.ID]
		if m == nil || y == nil {
			row.NoValues = true
		} else {
			row.Month, row.Year = cellsOf(m, st.Def), cellsOf(y, st.Def)
		}
		p.KPIs = append(p.KPIs, row)
	}
	for i := range p.KPIs {
		if p.KPIs[i].Selected {
			p.Selected = &p.KPIs[i]
		}
	}

	if err := o.children(ctx, snap, v, reg, sel, q, p); err != nil {
		return nil, err
	}
	o.history(ctx, snap, v, reg, sel, p)
	return p, nil
}

// crumbs lead from the nation down to the region; regions above the
// token's scope are named but not linked.
func crumbs(snap *collector.Snapshot, v viewer, reg kpi.Region, q pageQuery) []crumb {
	anc := snap.Hierarchy.Ancestors(reg.Code)
	out := make([]crumb, 0, len(anc)+1)
	for i := len(anc) - 1; i >= 0; i-- {
		c := crumb{Name: anc[i].Name}
		if kpi.Contains(v.scope, anc[i].Code) {
			c.Href = regionHref(anc[i].Code, q)
		}
		out = append(out, c)
	}
	return append(out, crumb{Name: reg.Name})
}

// freshness says per KPI whether its data is current, which source it
// comes from and since when.
func (o *Overview) freshness(snap *collector.Snapshot) []freshness {
	out := make([]freshness, 0, len(snap.KPIs))
	for i := range snap.KPIs {
		st := &snap.KPIs[i]
		f := freshness{ID: st.Def.ID, Name: st.Def.Name, Source: o.opts.Reader.Source(st.Def.ID), Err: st.Err}
		switch st.Data() {
		case collector.DataFresh:
			f.Data, f.Class = "terkini", "terkini"
		case collector.DataStale:
			f.Data, f.Class = "basi: pembaruan terakhir gagal", "basi"
		default:
			f.Data, f.Class = "gagal: belum pernah berhasil diperbarui", "gagal"
		}
		if !st.LastSuccess.IsZero() {
			f.Updated = wib(st.LastSuccess)
		}
		out = append(out, f)
	}
	return out
}

// rankRow is one child region in the ranking.
type rankRow struct {
	No          int
	Code, Name  string
	Href        string
	Cells       cells
	pace, att   kpi.Number
	slip        kpi.Number
	Slip        string
	SlipClass   string
	Fill        string
	Description string
}

type ranking struct {
	Rows []rankRow
	// Headers are the columns that sort, with their links.
	Headers map[string]sortHeader
	// Prev is the closed month the slip is measured against; SlipNote
	// says why there is no slip.
	Prev, SlipNote string
	// SlipBy names the figure the slip compares: laju or capaian.
	SlipBy string
	Rate   bool
}

type sortHeader struct {
	Href string
	// Sort is aria-sort's value: none, ascending or descending.
	Sort string
}

type bar struct {
	Name, Href, Label, Fill string
	Width                   float64
}

type mapView struct {
	Width, Height int
	Shapes        []mapShape
}

type mapShape struct {
	Code, D, Fill, Href, Title string
}

type legendItem struct{ Label, Fill string }

// statusFills colour the statuses; the words are always beside them.
var statusFills = map[kpi.Status]string{
	kpi.OnTrack:  "#2da44e",
	kpi.AtRisk:   "#e3b341",
	kpi.Behind:   "#cf222e",
	kpi.NoTarget: "#8c959f",
	kpi.NoData:   "#d0d7de",
}

// attainmentBands colour attainment from behind to beyond the target.
var attainmentBands = []struct {
	below float64
	label string
	fill  string
}{
	{0.5, "capaian < 50 %", "#b62324"},
	{0.75, "50–75 %", "#e16f24"},
	{0.9, "75–90 %", "#e3b341"},
	{1, "90–100 %", "#7cc47f"},
	{math.Inf(1), "≥ 100 %", "#1a7f37"},
}

func attainmentFill(n kpi.Number) string {
	if !n.OK {
		return statusFills[kpi.NoData]
	}
	for _, b := range attainmentBands {
		if n.V < b.below {
			return b.fill
		}
	}
	return attainmentBands[len(attainmentBands)-1].fill
}

// children fills the map or bars and the ranking of the region's children
// for the chosen KPI.
func (o *Overview) children(ctx context.Context, snap *collector.Snapshot, v viewer, reg kpi.Region, sel collector.KPIState, q pageQuery, p *page) error {
	level := reg.Level + 1
	if level > sel.Def.Level {
		return nil
	}
	p.ChildLevel = level.Label()
	rd := o.opts.Reader
	base := api.ProgressQuery{Scope: v.scope, KPIs: []string{sel.Def.ID}, Level: &level, Parent: reg.Code}
	rows, err := rd.Progress(ctx, snap, base)
	if err != nil {
		return err
	}
	rk := &ranking{Rate: sel.Def.Kind == kpi.KindRate, SlipBy: "laju"}
	// The slip compares this month with how the last closed month ended,
	// by a figure that means the same mid-month: a count's pace (actual
	// against what is due by now), a rate's attainment (a rate does not
	// accumulate).
	slipOf := func(r *api.ProgressRow) kpi.Number { return r.Pace }
	if rk.Rate {
		rk.SlipBy = "capaian"
		slipOf = func(r *api.ProgressRow) kpi.Number { return r.Attainment }
	}
	prevQ := base
	prevQ.Period = sel.Period.Prev()
	for _, r := range rows {
		prevQ.Regions = append(prevQ.Regions, r.RegionCode) // an indexed read, not the whole level
	}
	var prevRows []api.ProgressRow
	if len(rows) > 0 { // without rows there is no region filter, and the read would be the whole level
		prevRows, err = rd.Progress(ctx, snap, prevQ)
	}
	var ae *api.Error
	prevPace := map[string]kpi.Number{}
	switch {
	case err == nil && len(prevRows) > 0:
		rk.Prev = prevQ.Period.String()
		for i := range prevRows {
			prevPace[prevRows[i].RegionCode] = slipOf(&prevRows[i])
		}
	case err == nil:
		rk.SlipNote = "Riwayat bulan " + prevQ.Period.String() + " belum ada, jadi selisih belum bisa dihitung."
	case errors.As(err, &ae) && ae.Code == "no_store":
		rk.SlipNote = "Selisih memerlukan riwayat bulanan, dan pantau ini berjalan tanpa store."
	default:
		// The store failing costs the slip, not the page.
		o.opts.Logger.Warn("overview: reading last month from history", "kpi", sel.Def.ID, "region", reg.Code, "err", err)
		rk.SlipNote = unreadableHistory
	}
	for _, r := range rows {
		row := rankRow{Code: r.RegionCode, Name: r.RegionName, Href: regionHref(r.RegionCode, q), Cells: cellsOf(&r, sel.Def),
			pace: r.Pace, att: r.Attainment, Slip: "—"}
		if prev, now := prevPace[r.RegionCode], slipOf(&r); prev.OK && now.OK {
			row.slip = kpi.Some(now.V - prev.V)
			d := row.slip.V * 100
			switch {
			case math.Round(d) > 0:
				row.Slip, row.SlipClass = printer.Sprintf("naik %.0f poin", d), "naik"
			case math.Round(d) < 0:
				row.Slip, row.SlipClass = printer.Sprintf("turun %.0f poin", -d), "turun"
			default:
				row.Slip = "tetap"
			}
		}
		row.Fill = statusFills[kpi.Status(r.Status)]
		if q.Colour == "capaian" {
			row.Fill = attainmentFill(r.Attainment)
		}
		row.Description = fmt.Sprintf("%s: laju %s, capaian %s, %s", r.RegionName, row.Cells.Pace, row.Cells.Attainment, row.Cells.Status)
		rk.Rows = append(rk.Rows, row)
	}
	if reg.Code == kpi.NationalCode && level == kpi.LevelProvinsi {
		p.Map = nationalMap(rk.Rows)
	} else {
		p.Bars = bars(rk.Rows)
	}
	sortRanking(rk.Rows, q)
	for i := range rk.Rows {
		rk.Rows[i].No = i + 1
	}
	rk.Headers = map[string]sortHeader{}
	for _, key := range sortKeys {
		h := sortHeader{Sort: "none", Href: regionHref(reg.Code, pageQuery{KPI: q.KPI, Sort: key, Desc: false, Colour: q.Colour})}
		if key == q.Sort {
			h.Sort = "ascending"
			if q.Desc {
				h.Sort = "descending"
			} else {
				h.Href = regionHref(reg.Code, pageQuery{KPI: q.KPI, Sort: key, Desc: true, Colour: q.Colour})
			}
		}
		rk.Headers[key] = h
	}
	p.Ranking = rk
	p.ColourLinks = []link{
		{Label: "status", Href: regionHref(reg.Code, pageQuery{KPI: q.KPI, Sort: q.Sort, Desc: q.Desc, Colour: "status"}), Current: q.Colour == "status"},
		{Label: "capaian", Href: regionHref(reg.Code, pageQuery{KPI: q.KPI, Sort: q.Sort, Desc: q.Desc, Colour: "capaian"}), Current: q.Colour == "capaian"},
	}
	if q.Colour == "capaian" {
		for _, b := range attainmentBands {
			p.Legend = append(p.Legend, legendItem{b.label, b.fill})
		}
		p.Legend = append(p.Legend, legendItem{"tanpa nilai", statusFills[kpi.NoData]})
	} else {
		for _, s := range kpi.Statuses {
			p.Legend = append(p.Legend, legendItem{statusLabels[s], statusFills[s]})
		}
	}
	return nil
}

// sortRanking orders the rows; regions without the value sort last either
// way, then by code.
func sortRanking(rows []rankRow, q pageQuery) {
	key := func(r rankRow) kpi.Number {
		switch q.Sort {
		case "capaian":
			return r.att
		case "selisih":
			return r.slip
		}
		return r.pace
	}
	slices.SortStableFunc(rows, func(a, b rankRow) int {
		if q.Sort == "nama" {
			c := cmp.Compare(a.Name, b.Name)
			if q.Desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(a.Code, b.Code))
		}
		ka, kb := key(a), key(b)
		if ka.OK != kb.OK {
			if ka.OK {
				return -1
			}
			return 1
		}
		c := cmp.Compare(ka.V, kb.V)
		if q.Desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.Code, b.Code))
	})
}

func nationalMap(rows []rankRow) *mapView {
	pm, _ := provinces() // New checked it
	byCode := map[string]*rankRow{}
	for i := range rows {
		byCode[rows[i].Code] = &rows[i]
	}
	m := &mapView{Width: pm.Width, Height: pm.Height}
	for _, s := range pm.Shapes {
		sh := mapShape{Code: s.Code, D: s.D, Fill: statusFills[kpi.NoData], Title: s.Name + ": tidak ada data"}
		if r := byCode[s.Code]; r != nil {
			sh.Fill, sh.Href, sh.Title = r.Fill, r.Href, r.Description
		}
		m.Shapes = append(m.Shapes, sh)
	}
	return m
}

// bars are the children where no boundaries are shipped, worst pace
// first; a bar's length is its pace, full at 150 %.
func bars(rows []rankRow) []bar {
	sorted := slices.Clone(rows)
	sortRanking(sorted, pageQuery{Sort: "laju"})
	out := make([]bar, 0, len(sorted))
	for _, r := range sorted {
		b := bar{Name: r.Name, Href: r.Href, Fill: r.Fill, Label: "laju " + r.Cells.Pace + " · " + r.Cells.Status}
		if r.pace.OK {
			b.Width = math.Round(min(max(r.pace.V, 0), 1.5)/1.5*1000) / 10
		} else {
			b.Label = "aktual " + r.Cells.Actual + " · " + r.Cells.Status
		}
		out = append(out, b)
	}
	return out
}
