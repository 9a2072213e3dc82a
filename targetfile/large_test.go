package targetfile

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/pantau-id/pantau/kpi"
)

// largeWorkbook builds, with excelize directly rather than Write, a
// workbook of n target rows over the kecamatan of the region master: two
// KPIs per kecamatan, a count (every other one with a monthly profile) and
// a count with decimals or a rate. It returns the file and the targets it
// holds.
func largeWorkbook(tb testing.TB, n int) ([]byte, []kpi.Target) {
	tb.Helper()
	var kecamatan []kpi.Region
	for _, r := range loadRegions(tb).Regions() {
		if r.Level == kpi.LevelKecamatan {
			kecamatan = append(kecamatan, r)
		}
	}
	if 2*len(kecamatan) < n {
		tb.Fatalf("only %d kecamatan for %d rows", len(kecamatan), n)
	}
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	head := []any{"kode_wilayah", "nama_wilayah", "kpi", "tahun", "target", "rate",
		"jan", "feb", "mar", "apr", "mei", "jun", "jul", "agu", "sep", "okt", "nov", "des"}
	if err := sw.SetRow("A1", head); err != nil {
		tb.Fatal(err)
	}
	targets := make([]kpi.Target, 0, n)
	for i := range n {
		r := kecamatan[i/2]
		t := kpi.Target{KPI: "ewarong_aktif", Region: r.Code, Year: 2026, Annual: float64(12 * (1 + i%50))}
		var row []any
		switch i % 4 {
		case 1:
			t.KPI, t.Annual = "kube_jasa", float64(i%7)+0.5
		case 3:
			t.KPI, t.Annual, t.Rate = "sembako_salur", 0, []float64{0.9, 0.925, 0.95, 0.975, 1}[(i/4)%5]
		}
		if t.Rate != 0 {
			row = []any{r.Code, r.Name, t.KPI, t.Year, nil, t.Rate}
		} else {
			row = []any{r.Code, r.Name, t.KPI, t.Year, t.Annual, nil}
		}
		if i%4 == 0 {
			t.Profile = make([]float64, 12)
			for m := range t.Profile {
				t.Profile[m] = t.Annual / 12
				row = append(row, t.Profile[m])
			}
		}
		targets = append(targets, t)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, row); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), targets
}

func Test10kRowWorkbook(t *testing.T) {
	data, want := largeWorkbook(t, 10_000)
	rows, err := Read(bytes.NewReader(data), XLSX)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10_000 || rows[0].Line != 2 || rows[9_999].Line != 10_001 {
		t.Fatalf("%d rows, first %d, last %d", len(rows), rows[0].Line, rows[len(rows)-1].Line)
	}
	got, problems := Validate(rows, loadSpec(t), loadRegions(t))
	if len(problems) > 0 {
		t.Fatalf("%d problems, first: %s", len(problems), problems[0])
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the targets read differ from those written")
	}

	t.Run("and through Write in both formats", func(t *testing.T) {
		for _, format := range []Format{CSV, XLSX} {
			var buf bytes.Buffer
			if err := Write(&buf, format, want, loadRegions(t)); err != nil {
				t.Fatal(err)
			}
			rows, err := Read(&buf, format)
			if err != nil {
				t.Fatal(err)
			}
			got, problems := Validate(rows, loadSpec(t), loadRegions(t))
			if len(problems) > 0 || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %d problems, targets equal %v", format, len(problems), reflect.DeepEqual(got, want))
			}
		}
	})
}

func BenchmarkRead10k(b *testing.B) {
	data, _ := largeWorkbook(b, 10_000)
	var csvData bytes.Buffer
	rows, err := Read(bytes.NewReader(data), XLSX)
	if err != nil {
		b.Fatal(err)
	}
	targets, _ := Validate(rows, loadSpec(b), loadRegions(b))
	if err := Write(&csvData, CSV, targets, nil); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		format Format
		data   []byte
	}{{XLSX, data}, {CSV, csvData.Bytes()}} {
		b.Run(string(bc.format), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.data)))
			for b.Loop() {
				rows, err := Read(bytes.NewReader(bc.data), bc.format)
				if err != nil || len(rows) != 10_000 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
			}
		})
	}
	b.Run("validate", func(b *testing.B) {
		spec, regions := loadSpec(b), loadRegions(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, problems := Validate(rows, spec, regions); len(problems) > 0 {
				b.Fatal(problems[0])
			}
		}
	})
}
