package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/kpi"
)

// exportHeaders are the report's column titles, in office Indonesian.
var exportHeaders = []string{
	"Kode Wilayah", "Nama Wilayah", "Tingkat", "Kode Provinsi", "Kode Kabupaten/Kota",
	"KPI", "Nama KPI", "Satuan", "Periode", "Jangka Waktu",
	"Realisasi", "Target", "Target s.d. Saat Ini", "Capaian", "Laju", "Proyeksi",
	"Status", "Pembilang", "Penyebut", "Data Basi", "Dihitung Pada",
}

var statusText = map[string]string{
	string(kpi.OnTrack): "Sesuai target", string(kpi.AtRisk): "Berisiko", string(kpi.Behind): "Tertinggal",
	string(kpi.NoTarget): "Tanpa target", string(kpi.NoData): "Tanpa data",
}

var windowText = map[string]string{string(kpi.WindowMonth): "Bulan", string(kpi.WindowYear): "Tahun berjalan"}

var levelText = map[string]string{
	"nasional": "Nasional", "provinsi": "Provinsi", "kabupaten_kota": "Kabupaten/Kota",
	"kecamatan": "Kecamatan", "desa": "Desa/Kelurahan",
}

var monthNames = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
	"Agustus", "September", "Oktober", "November", "Desember"}

// monthTitle writes "2026-10" as "Oktober 2026".
func monthTitle(period string) string {
	p, err := kpi.ParsePeriod(period, nil)
	if err != nil {
		return period
	}
	return monthNames[p.Month()-1] + " " + strconv.Itoa(p.Year())
}

// exportRow is one progress row as report cells: text, or numbers left as
// numbers (nil when undefined) so spreadsheets can compute with them.
func (a *API) exportRow(p ProgressRow) []any {
	def, _ := a.spec().KPI(p.KPI)
	stale := "Tidak"
	if p.Stale {
		stale = "Ya"
	}
	num := func(n kpi.Number) any {
		if !n.OK {
			return nil
		}
		return n.V
	}
	return []any{p.RegionCode, p.RegionName, levelText[p.Level], p.ProvinceCode, p.RegencyCode,
		p.KPI, def.Name, def.Unit, p.Period, windowText[p.Window],
		num(p.Actual), num(p.Target), num(p.Expected), num(p.Attainment), num(p.Pace), num(p.Forecast),
		statusText[p.Status], num(p.Numerator), num(p.Denominator), stale, p.ComputedAt.Format(time.RFC3339)}
}

func (a *API) export(r *request) error {
	format := r.Query("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		return badParam("format", "%q: use csv or xlsx", format)
	}
	s, err := r.selection()
	if err != nil {
		return err
	}
	period, err := r.period()
	if err != nil {
		return err
	}
	rows, err := r.progressRows(s, period)
	if err != nil {
		return err
	}
	shown := period.String()
	if period.IsZero() {
		shown = s.kpis[0].Period.String()
		for _, st := range s.kpis {
			shown = max(shown, st.Period.String())
		}
	}
	var names []string
	for _, st := range s.kpis {
		names = append(names, st.Def.Name)
	}
	title := fmt.Sprintf("Laporan capaian KPI %s, %s — %s", strings.Join(names, ", "), monthTitle(shown), regionTitle(r))
	file := fmt.Sprintf("pantau-capaian-%s-%s.%s", strings.ReplaceAll(s.scope, ".", ""), shown, format)
	if s.scope == kpi.NationalCode {
		file = fmt.Sprintf("pantau-capaian-%s.%s", shown, format)
	}
	h := r.Writer.Header()
	h.Set("Content-Disposition", `attachment; filename="`+file+`"`)
	h.Set("Cache-Control", "private, no-cache")
	if format == "csv" {
		h.Set("Content-Type", "text/csv; charset=utf-8")
		r.Status(http.StatusOK)
		w := csv.NewWriter(r.Writer)
		w.Write([]string{title})
		w.Write(exportHeaders)
		cells := make([]string, len(exportHeaders))
		for _, p := range rows {
			for i, v := range a.exportRow(p) {
				cells[i] = csvCell(v)
			}
			w.Write(cells)
		}
		w.Flush()
		return w.Error()
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Capaian"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{title}); err != nil {
		return err
	}
	head := make([]any, len(exportHeaders))
	for i, t := range exportHeaders {
		head[i] = t
	}
	if err := sw.SetRow("A2", head); err != nil {
		return err
	}
	for i, p := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		if err := sw.SetRow(cell, a.exportRow(p)); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	r.Status(http.StatusOK)
	_, err = f.WriteTo(r.Writer)
	return err
}

func regionTitle(r *request) string {
	code := r.scope()
	if p := r.Query("parent"); p != "" {
		code = p
	}
	reg, _ := r.snap.Hierarchy.Lookup(code)
	return reg.Name
}

// csvCell writes numbers with a decimal point, as machines read CSV.
func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
