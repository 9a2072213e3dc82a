package targetfile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/kpi"
)

// SheetName is the sheet Write puts targets in, and one Read looks for.
const SheetName = "targets"

// Write writes targets in the given format with the Indonesian headers
// kode_wilayah, nama_wilayah, kpi, tahun, target, rate, jan..des, one row
// per target in the order given. Region names come from regions (nil
// leaves them empty). A count target fills target (and the months when it
// has a profile); a rate target, one with no annual target but a rate,
// fills rate. Reading the file back yields the same targets.
func Write(w io.Writer, format Format, targets []kpi.Target, regions *kpi.Hierarchy) error {
	switch format {
	case CSV:
		return writeCSV(w, targets, regions)
	case XLSX:
		return writeXLSX(w, targets, regions)
	}
	return fmt.Errorf("unknown format %q (want csv or xlsx)", format)
}

func regionName(regions *kpi.Hierarchy, code string) string {
	if regions == nil {
		return ""
	}
	r, _ := regions.Lookup(code)
	return r.Name
}

// isRateTarget reports whether t is a rate KPI's target: a rate and no
// annual target, as Validate builds them and kpi.ResolvePlans reads them.
func isRateTarget(t kpi.Target) bool { return t.Annual == 0 && t.Rate != 0 }

func writeCSV(w io.Writer, targets []kpi.Target, regions *kpi.Hierarchy) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(headers[:]); err != nil {
		return err
	}
	rec := make([]string, numCols)
	for _, t := range targets {
		clear(rec)
		rec[colRegion] = t.Region
		rec[colName] = regionName(regions, t.Region)
		rec[colKPI] = t.KPI
		rec[colYear] = fmt.Sprint(t.Year)
		if isRateTarget(t) {
			rec[colRate] = FormatNumber(t.Rate)
		} else {
			rec[colTarget] = FormatNumber(t.Annual)
			if t.Rate != 0 {
				rec[colRate] = FormatNumber(t.Rate)
			}
			for m, v := range t.Profile {
				rec[colJan+column(m)] = FormatNumber(v)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeXLSX(w io.Writer, targets []kpi.Target, regions *kpi.Hierarchy) (err error) {
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	const sheet = SheetName
	if err := f.SetSheetName(f.GetSheetName(0), sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	// Text format for the code column, so that Excel keeps 32.10 as typed
	// when the office edits the file.
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	for _, cw := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 14}, {"B", "B", 28}, {"C", "C", 18}, {"D", "D", 7}, {"E", "F", 10}, {"G", "R", 7}} {
		if err := f.SetColWidth(sheet, cw.from, cw.to, cw.width); err != nil {
			return err
		}
	}
	if err := f.SetColStyle(sheet, "A", text); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cell := func(c column, row int) string {
		name, _ := excelize.CoordinatesToCellName(int(c)+1, row)
		return name
	}
	for c, h := range headers {
		if err := f.SetCellStr(sheet, cell(column(c), 1), h); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", cell(numCols-1, 1), bold); err != nil {
		return err
	}
	// Numbers are written with every digit they need: excelize's default
	// keeps Excel's 15 significant digits, which would not read back as
	// the same float.
	num := func(c column, row int, v float64) error {
		return f.SetCellFloat(sheet, cell(c, row), v, decimals(v), 64)
	}
	for i, t := range targets {
		row := i + 2
		if err := f.SetCellStr(sheet, cell(colRegion, row), t.Region); err != nil {
			return err
		}
		if name := regionName(regions, t.Region); name != "" {
			if err := f.SetCellStr(sheet, cell(colName, row), name); err != nil {
				return err
			}
		}
		if err := f.SetCellStr(sheet, cell(colKPI, row), t.KPI); err != nil {
			return err
		}
		if err := f.SetCellInt(sheet, cell(colYear, row), int64(t.Year)); err != nil {
			return err
		}
		if isRateTarget(t) {
			if err := num(colRate, row, t.Rate); err != nil {
				return err
			}
			continue
		}
		if err := num(colTarget, row, t.Annual); err != nil {
			return err
		}
		if t.Rate != 0 {
			if err := num(colRate, row, t.Rate); err != nil {
				return err
			}
		}
		for m, v := range t.Profile {
			if err := num(colJan+column(m), row, v); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// decimals is how many decimals the shortest exact form of v has.
func decimals(v float64) int {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}
