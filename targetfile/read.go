package targetfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Format is a spreadsheet file format.
type Format string

const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// ParseFormat reads a format name, "csv" or "xlsx".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, XLSX:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want csv or xlsx)", s)
}

// FormatOf returns the format a file name's extension says: .csv or .xlsx.
func FormatOf(path string) (Format, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".xls":
		return "", fmt.Errorf("%s: the old .xls format is not supported; save the workbook as .xlsx (Excel Workbook)", path)
	case ".xlsm", ".ods", ".tsv", ".txt":
		return "", fmt.Errorf("%s: %s files are not supported; save the sheet as .xlsx or .csv", path, ext)
	default:
		return "", fmt.Errorf("%s: cannot tell the format from the name; name the file .csv or .xlsx", path)
	}
}

// column is one of the columns a target file may have.
type column int

const (
	colRegion column = iota
	colName
	colKPI
	colYear
	colTarget
	colRate
	colJan  // colJan+11 is December
	numCols = colJan + 12
)

// headers are the Indonesian column names Write uses and problems fall
// back to when a row did not come from a file.
var headers = [numCols]string{
	"kode_wilayah", "nama_wilayah", "kpi", "tahun", "target", "rate",
	"jan", "feb", "mar", "apr", "mei", "jun", "jul", "agu", "sep", "okt", "nov", "des",
}

// aliases maps normalised header names to columns.
var aliases = func() map[string]column {
	m := map[string]column{
		"kode_wilayah": colRegion, "region_code": colRegion, "kode": colRegion, "code": colRegion,
		"nama_wilayah": colName, "region_name": colName, "nama": colName, "name": colName,
		"kpi": colKPI, "indikator": colKPI, "indicator": colKPI, "kpi_id": colKPI,
		"tahun": colYear, "year": colYear,
		"target": colTarget, "target_tahunan": colTarget, "annual_target": colTarget,
		"rate": colRate, "target_rate": colRate, "persentase": colRate, "percentage": colRate,
	}
	months := [][]string{
		{"jan", "januari", "january"},
		{"feb", "februari", "february", "pebruari"},
		{"mar", "maret", "march"},
		{"apr", "april"},
		{"mei", "may"},
		{"jun", "juni", "june"},
		{"jul", "juli", "july"},
		{"agu", "aug", "agt", "agustus", "august"},
		{"sep", "sept", "september"},
		{"okt", "oct", "oktober", "october"},
		{"nov", "nopember", "november"},
		{"des", "dec", "desember", "december"},
	}
	for i, names := range months {
		for _, n := range names {
			m[n] = colJan + column(i)
		}
	}
	return m
}()

// normHeader folds a header cell for lookup in aliases: lower case, a
// parenthesised note dropped ("Persentase (%)"), spaces, dashes and dots
// as underscores.
func normHeader(s string) string {
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	s = strings.ToLower(trimCell(s))
	var b strings.Builder
	under := false
	for _, r := range s {
		if r == ' ' || r == '-' || r == '.' || r == '_' || r == '\u00a0' {
			under = true
			continue
		}
		if under && b.Len() > 0 {
			b.WriteByte('_')
		}
		under = false
		b.WriteRune(r)
	}
	return b.String()
}

// Row is one data row of a target file as written: trimmed cell text, not
// yet checked (Validate does that).
type Row struct {
	// Line is the row's number in the spreadsheet (its line in a CSV file),
	// counting the header and any title rows, as the office sees it.
	Line       int
	Region     string
	RegionName string
	KPI        string
	Year       string
	Target     string
	Rate       string
	// Profile holds the twelve monthly cells, January first, when the file
	// has the month columns; nil otherwise.
	Profile []string

	src *source
	// numeric has bit c set when the cell of column c is stored as a
	// number in an XLSX file, and so is read without Indonesian notation.
	numeric uint32
}

// source is what the rows of one file share.
type source struct {
	file  string
	names [numCols]string // the header cells as the file writes them
}

func (r *Row) cell(c column) string {
	switch c {
	case colRegion:
		return r.Region
	case colName:
		return r.RegionName
	case colKPI:
		return r.KPI
	case colYear:
		return r.Year
	case colTarget:
		return r.Target
	case colRate:
		return r.Rate
	}
	if r.Profile == nil {
		return ""
	}
	return r.Profile[c-colJan]
}

func (r *Row) setCell(c column, v string) {
	switch c {
	case colRegion:
		r.Region = v
	case colName:
		r.RegionName = v
	case colKPI:
		r.KPI = v
	case colYear:
		r.Year = v
	case colTarget:
		r.Target = v
	case colRate:
		r.Rate = v
	default:
		r.Profile[c-colJan] = v
	}
}

// header returns the name the row's file gives column c.
func (r *Row) header(c column) string {
	if r.src != nil && r.src.names[c] != "" {
		return r.src.names[c]
	}
	return headers[c]
}

func (r *Row) isNumeric(c column) bool { return r.numeric&(1<<c) != 0 }

// ReadFile reads a target file, its format given by its extension (.csv or
// .xlsx). Problems with the file as a whole (no header row, a missing
// column) are returned as a Problem naming the file.
func ReadFile(path string) ([]Row, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := Read(f, format)
	if err != nil {
		var p Problem
		if errors.As(err, &p) {
			p.File = path
			return nil, p
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) > 0 {
		rows[0].src.file = path // shared by every row
	}
	return rows, nil
}

// Read reads the rows of a target file. Problems with the file as a whole
// are returned as a Problem; problems in single cells are left to Validate,
// which reports every one.
func Read(r io.Reader, format Format) ([]Row, error) {
	var t table
	var err error
	switch format {
	case CSV:
		t, err = readCSV(r)
	case XLSX:
		t, err = readXLSX(r)
	default:
		return nil, fmt.Errorf("unknown format %q (want csv or xlsx)", format)
	}
	if err != nil {
		return nil, err
	}
	return t.rows()
}

// table is a sheet's cells before the header is interpreted.
type table struct {
	records [][]string
	// lines[i] is record i's row number; nil means i+1.
	lines []int
	// numeric reports whether a cell is stored as a number; nil for CSV.
	numeric func(line, col int) bool
}

func (t *table) line(i int) int {
	if t.lines == nil {
		return i + 1
	}
	return t.lines[i]
}

func readCSV(r io.Reader) (table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// Excel writes a byte-order mark in "CSV UTF-8" files.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\ufeff")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffDelimiter(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var t table
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return t, Problem{Row: pe.Line, Message: "cannot read the CSV: " + pe.Err.Error()}
			}
			return t, err
		}
		line, _ := cr.FieldPos(0)
		t.records = append(t.records, append([]string(nil), rec...))
		t.lines = append(t.lines, line)
	}
	return t, nil
}

// sniffDelimiter picks the separator the start of the file uses most: a
// comma, a semicolon (Excel's CSV in locales with a decimal comma, like
// Indonesian) or a tab. The whole buffered start is counted, not just the
// first line, which may be a title.
func sniffDelimiter(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	best, n := ',', bytes.Count(b, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(b, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

// MaxUnzipped bounds the unzipped size of a workbook (excelize's default
// is 16 GB): far above a national target sheet, and a file claiming more
// is refused before it fills memory or disk.
const MaxUnzipped = 256 << 20

func readXLSX(r io.Reader) (table, error) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: MaxUnzipped})
	if err != nil {
		return table{}, Problem{Message: fmt.Sprintf("cannot open the workbook (%v); save it from Excel or LibreOffice as .xlsx", err)}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return table{}, Problem{Message: "the workbook has no sheets"}
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if n := strings.ToLower(strings.TrimSpace(s)); n == "target" || n == "targets" {
			sheet = s
			break
		}
	}
	// Raw values: a number is read as stored, not as its display format
	// shows it (which may group thousands with commas).
	records, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return table{}, Problem{Message: fmt.Sprintf("cannot read sheet %q: %v", sheet, err)}
	}
	t := table{records: records}
	t.numeric = func(line, col int) bool {
		cell, err := excelize.CoordinatesToCellName(col+1, line)
		if err != nil {
			return false
		}
		typ, err := f.GetCellType(sheet, cell)
		return err == nil && (typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset)
	}
	rows, err := t.rowsXLSX()
	if err != nil {
		return table{}, err
	}
	return rows, nil
}

// rowsXLSX resolves, while the workbook is open, which cells hold numbers,
// and returns a table that no longer needs the workbook.
func (t table) rowsXLSX() (table, error) {
	hdr, cols, err := t.header()
	if err != nil {
		return table{}, err
	}
	marks := map[[2]int]bool{}
	for i := hdr + 1; i < len(t.records); i++ {
		rec := t.records[i]
		for j, c := range cols {
			if c < 0 || j >= len(rec) || !numericMatters(c, rec[j]) {
				continue
			}
			if t.numeric(i+1, j) {
				marks[[2]int{i + 1, j}] = true
			}
		}
	}
	t.numeric = func(line, col int) bool { return marks[[2]int{line, col}] }
	return t, nil
}

// numericMatters reports whether it matters that a cell is stored as a
// number rather than as text: only where the two readings differ, which
// is rare, so that the (costly) type lookup is too. A number like 1.234
// is 1.234 stored as a number but 1234 as Indonesian text; 0.95 or 412.5
// read the same either way. A region code like 32.1 is Excel's number for
// 32.10 but malformed text; 32.16 reads the same either way.
func numericMatters(c column, v string) bool {
	switch c {
	case colName, colKPI, colYear:
		return false
	case colRegion:
		_, frac, ok := strings.Cut(v, ".")
		return ok && len(frac) != 2 && !strings.Contains(frac, ".")
	}
	return thousands(strings.TrimPrefix(v, "-"))
}

// headerSearch is how many rows may precede the header (titles, notes).
const headerSearch = 10

// header finds the header row and maps each of its cells to a column (-1
// for cells pantau does not read).
func (t *table) header() (int, []column, error) {
	if len(t.records) == 0 {
		return 0, nil, Problem{Row: 1, Message: "the file is empty; the first row should be the header, like kode_wilayah,nama_wilayah,kpi,tahun,target"}
	}
	for i := 0; i < len(t.records) && i < headerSearch; i++ {
		cols := make([]column, len(t.records[i]))
		var found [numCols]int // index+1 of the cell naming each column
		for j, cell := range t.records[i] {
			c, ok := aliases[normHeader(cell)]
			if !ok {
				cols[j] = -1
				continue
			}
			if found[c] != 0 {
				first := t.records[i][found[c]-1]
				return 0, nil, Problem{Row: t.line(i), Message: fmt.Sprintf(
					"header: columns %q and %q both name the %s column; keep one", trimCell(first), trimCell(cell), headers[c])}
			}
			found[c] = j + 1
			cols[j] = c
		}
		if found[colRegion] == 0 || found[colKPI] == 0 || found[colYear] == 0 {
			continue
		}
		if found[colTarget] == 0 && found[colRate] == 0 {
			return 0, nil, Problem{Row: t.line(i), Message: "header has neither a target column (annual targets of count KPIs) nor a rate column (target rates of rate KPIs)"}
		}
		var missing []string
		months := 0
		for m := colJan; m < numCols; m++ {
			if found[m] != 0 {
				months++
			} else {
				missing = append(missing, headers[m])
			}
		}
		if months > 0 && months < 12 {
			return 0, nil, Problem{Row: t.line(i), Message: fmt.Sprintf(
				"header has %d of the 12 month columns; add %s, or remove them all to phase targets linearly", months, strings.Join(missing, ", "))}
		}
		return i, cols, nil
	}
	var first []string
	for _, c := range t.records[0] {
		if c = trimCell(c); c != "" {
			first = append(first, c)
		}
	}
	return 0, nil, Problem{Row: t.line(0), Message: fmt.Sprintf(
		"no header row: none of the first %d rows names the columns kode_wilayah, kpi and tahun (or region_code, kpi and year); row %d reads %s",
		headerSearch, t.line(0), strconv.Quote(strings.Join(first, ",")))}
}

// rows interprets the records under the header.
func (t table) rows() ([]Row, error) {
	hdr, cols, err := t.header()
	if err != nil {
		return nil, err
	}
	src := &source{}
	hasProfile := false
	for j, c := range cols {
		if c >= 0 {
			src.names[c] = trimCell(t.records[hdr][j])
			hasProfile = hasProfile || c >= colJan
		}
	}
	out := make([]Row, 0, len(t.records)-hdr-1)
	for i := hdr + 1; i < len(t.records); i++ {
		rec := t.records[i]
		r := Row{Line: t.line(i), src: src}
		if hasProfile {
			r.Profile = make([]string, 12)
		}
		empty := true
		for j, c := range cols {
			if c < 0 || j >= len(rec) {
				continue
			}
			v := trimCell(rec[j])
			if v == "" {
				continue
			}
			empty = false
			r.setCell(c, v)
			if t.numeric != nil && numericMatters(c, v) && t.numeric(r.Line, j) {
				r.numeric |= 1 << c
			}
		}
		if empty {
			continue
		}
		if hasProfile && allEmpty(r.Profile) {
			r.Profile = nil
		}
		out = append(out, r)
	}
	return out, nil
}

func allEmpty(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

// ValueRow is a row made of exact numbers rather than spreadsheet text, as
// the API's JSON gives them: the numbers are read as written (like XLSX
// cells stored as numbers), never the Indonesian way, so 1.234 stays one
// and a fraction. Nil numbers and a nil profile are empty cells. Validate
// checks it as it checks a row of a file.
func ValueRow(region, kpiID string, year int, target, rate *float64, profile []float64) Row {
	r := Row{Line: 1, Region: region, KPI: kpiID, Year: strconv.Itoa(year)}
	plain := func(c column, v float64) string {
		r.numeric |= 1 << c
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if target != nil {
		r.Target = plain(colTarget, *target)
	}
	if rate != nil {
		r.Rate = plain(colRate, *rate)
	}
	if profile != nil {
		r.Profile = make([]string, 12)
		for m := range min(12, len(profile)) {
			r.Profile[m] = plain(colJan+column(m), profile[m])
		}
	}
	return r
}
