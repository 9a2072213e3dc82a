package targetfile

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "regenerate the XLSX files in testdata")

// TestGenerateTestdata writes the XLSX files in testdata the way offices'
// spreadsheets look: title rows, a notes sheet before the targets, numbers
// stored as numbers with display formats, an Excel-mangled region code.
// It runs with -update only (XLSX files carry timestamps, so they are
// committed rather than compared byte for byte).
func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/*.xlsx")
	}
	for name, build := range map[string]func(t *testing.T, f *excelize.File){
		"good_id.xlsx":  buildGoodID,
		"good_en.xlsx":  buildGoodEN,
		"bad_rows.xlsx": buildBadRows,
	} {
		f := excelize.NewFile()
		build(t, f)
		if err := f.SaveAs(filepath.Join("testdata", name)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setRows writes rows from the given row number down; nil cells stay empty.
func setRows(t *testing.T, f *excelize.File, sheet string, first int, rows [][]any) {
	t.Helper()
	for i, r := range rows {
		if r == nil {
			continue
		}
		cell, err := excelize.CoordinatesToCellName(1, first+i)
		must(t, err)
		must(t, f.SetSheetRow(sheet, cell, &r))
	}
}

func style(t *testing.T, f *excelize.File, numFmt int) int {
	t.Helper()
	id, err := f.NewStyle(&excelize.Style{NumFmt: numFmt})
	must(t, err)
	return id
}

func twelveOf(v any) []any {
	out := make([]any, 12)
	for i := range out {
		out[i] = v
	}
	return out
}

// buildGoodID is goodTargets as an Indonesian office keeps them: a notes
// sheet first, the targets on a sheet named "Target" under a title row,
// numbers stored as numbers (shown with thousands separators and percent
// formats), and Kabupaten Majalengka's code 32.10 typed into a number cell,
// which Excel stores as 32.1.
func buildGoodID(t *testing.T, f *excelize.File) {
	must(t, f.SetSheetName("Sheet1", "Petunjuk"))
	must(t, f.SetCellStr("Petunjuk", "A1", "Isi target di sheet Target. Kode wilayah sesuai Kepmendagri."))
	_, err := f.NewSheet("Target")
	must(t, err)
	const s = "Target"
	must(t, f.SetCellStr(s, "A1", "TARGET KINERJA DINAS SOSIAL KABUPATEN BEKASI TAHUN 2026"))
	head := []any{"No", "Kode Wilayah", "Nama Wilayah", "KPI", "Tahun", "Target", "Persentase (%)",
		"Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"}
	row := func(cells ...any) []any { return cells }
	rows := [][]any{
		head,
		append(row(1, "32.16.06", "Tambun Selatan", "ewarong_aktif", 2026, 1200, nil), twelveOf(100)...),
		row(2, "32.16.07", "Cibitung", "ewarong_aktif", 2026, 70),
		append(row(3, "32.16.06", "Tambun Selatan", "kube_jasa", 2026, 18, nil), 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1),
		row(4, "32.16", "Kabupaten Bekasi", "pkh_graduasi", 2026, 4618),
		nil,
		row(5, "32.16", "Kabupaten Bekasi", "sembako_salur", 2026, nil, 0.95),
		row(6, "32.16.06", "Tambun Selatan", "sembako_salur", 2026, nil, 0.975),
		row(7, "32.16.07", "Cibitung", "kpm_per_ewarong", 2026, nil, 412.5),
		row(8, 32.1, "Kabupaten Majalengka", "pkh_graduasi", 2026, 1234.5),
	}
	setRows(t, f, s, 2, rows)
	must(t, f.SetCellStyle(s, "F3", "F11", style(t, f, 4)))  // #,##0.00
	must(t, f.SetCellStyle(s, "G8", "G8", style(t, f, 9)))   // 0%
	must(t, f.SetCellStyle(s, "G9", "G9", style(t, f, 10)))  // 0.00%
	must(t, f.SetCellStyle(s, "H3", "S5", style(t, f, 3)))   // #,##0
	must(t, f.SetCellStyle(s, "B11", "B11", style(t, f, 2))) // 0.00
}

// buildGoodEN is goodTargets with English headers in another order, on the
// only sheet, with some numbers typed as text in English notation.
func buildGoodEN(t *testing.T, f *excelize.File) {
	const s = "Sheet1"
	row := func(cells ...any) []any { return cells }
	rows := [][]any{
		append(row("Region Code", "Indicator", "Year", "Target", "Target Rate", "Region Name"),
			"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"),
		append(row("32.16.06", "ewarong_aktif", 2026, "1200", nil, "Tambun Selatan"), twelveOf("100")...),
		row("32.16.07", "ewarong_aktif", "2026", 70, nil, "Cibitung"),
		append(row("32.16.06", "kube_jasa", 2026, 18, nil, "Tambun Selatan"), 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, 1),
		row("32.16", "pkh_graduasi", 2026, 4618, nil, "Kabupaten Bekasi"),
		row("32.16", "sembako_salur", 2026, nil, 0.95, "Kabupaten Bekasi"),
		row("32.16.06", "sembako_salur", 2026, nil, "97.5%", "Tambun Selatan"),
		row("32.16.07", "kpm_per_ewarong", 2026, nil, "412.5", "Cibitung"),
		row("32.10", "pkh_graduasi", 2026, "1234.5", nil, "Kabupaten Majalengka"),
	}
	setRows(t, f, s, 1, rows)
}

// buildBadRows has problems only a workbook can have (codes and years
// stored as numbers, text that looks like a number) next to common ones.
func buildBadRows(t *testing.T, f *excelize.File) {
	must(t, f.SetSheetName("Sheet1", "targets"))
	const s = "targets"
	row := func(cells ...any) []any { return cells }
	rows := [][]any{
		row("kode_wilayah", "nama_wilayah", "kpi", "tahun", "target", "rate"),
		row("32.1", "Kabupaten Majalengka", "pkh_graduasi", 2026, 5),
		row(99.1, "Entah", "pkh_graduasi", 2026, 5),
		row("32.16.06", "Tambun Selatan", "ewarong_aktif", 226, 5),
		row("32.16.07", "Cibitung", "ewarong_aktif", 2026, "1,234"),
		row("32.16.01", "Tarumajaya", "kube_jasa", 2026, -3),
		row("32.16.02", "Babelan", "kube_jasa", 2026, 12),
		row("32.16.02", "Babelan", "kube_jasa", 2026, 1.234),
		row("32.16.03", "Sukawangi", "kpm_per_ewarong", 2026, nil, "412,345"),
		row("32.16.03", "Sukawangi", "sembako_salur", 2026, nil, 95),
	}
	setRows(t, f, s, 1, rows)
}
