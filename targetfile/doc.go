// Package targetfile handles reading and writing target spreadsheets (CSV,
// XLSX) as offices keep them.
//
// A target file has one row per KPI × region × year, under a header row
// whose columns are found by name, in Indonesian or English, in any order
// and case:
//
//	kode_wilayah | region_code | kode   region code, Kepmendagri dotted (32.16.06)
//	nama_wilayah | region_name | nama   optional; offices keep names beside codes; ignored
//	kpi | indikator                     KPI id from the spec (ewarong_aktif)
//	tahun | year                        the target's year (2026)
//	target                              annual target of a count KPI
//	rate | target_rate | persentase     optional: target rate of a rate KPI (0,95 or 95%)
//	jan feb mar apr mei jun             optional monthly profile of a count target:
//	jul agu sep okt nov des             all twelve columns or none (English
//	                                    may, aug, oct, dec and full month names too)
//
// Other columns (no, keterangan, ...) are ignored, and so are title rows
// above the header: the header is the first of the first 10 rows that names
// the region, KPI and year columns. Fully empty rows are skipped. CSV files
// may be separated by commas, semicolons (Excel in an Indonesian locale) or
// tabs; the header line decides. In an XLSX workbook the sheet named
// "target" or "targets" is read if there is one, else the first sheet.
//
// # Numbers
//
// Text cells (every CSV cell, and XLSX cells stored as text) are read the
// Indonesian way, and a number that could mean two different values is
// rejected rather than guessed:
//
//   - ',' is the decimal comma and may appear once: 0,95 and 1.234,5.
//   - '.' followed by groups of exactly three digits separates thousands:
//     1.234 is one thousand two hundred thirty-four, 12.345.678 likewise.
//   - A single '.' that cannot be a thousands separator (not followed by
//     exactly three digits, or after a leading 0) is a decimal point, as
//     systems export numbers: 0.95, 1.5, 0.955, 1234.5.
//   - Rejected as ambiguous: a comma followed by exactly three digits after
//     a 1–3 digit whole part with no thousands dots, like 1,234 (1.234 in
//     Indonesian, 1234 in English); more than one comma (1,234,567); a comma
//     before a dot (1,234.5). Write 1234 or 1.234 for the thousands, or 1,2340
//     for the decimal.
//   - A rate may end in %: 95% and 95,5% are 0.95 and 0.955.
//
// XLSX cells stored as numbers are read exactly as stored, whatever their
// display format. A region code stored as a number (Excel turns 32.10 into
// 32.1) is read back with its two-digit part (32.10).
//
// Write produces the same columns with Indonesian headers, numbers without
// thousands separators and with a decimal comma, so a file written by Write
// reads back to the identical targets.
package targetfile
