package collector

import (
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
)

func TestObservations(t *testing.T) {
	h, err := kpi.NewHierarchy([]kpi.Region{
		{Code: "32", Name: "Jawa Barat"},
		{Code: "32.16", Name: "Kabupaten Bekasi"},
		{Code: "32.16.06", Name: "Tambun Selatan"},
		{Code: "32.16.07", Name: "Cibitung"},
	})
	if err != nil {
		t.Fatal(err)
	}
	count := kpi.KPI{ID: "ewarong_aktif", Kind: kpi.KindCount, Accumulation: kpi.Stock, Direction: kpi.Up, Level: kpi.LevelKecamatan}
	rate := kpi.KPI{ID: "sembako_salur", Kind: kpi.KindRate, Direction: kpi.Up, Level: kpi.LevelKecamatan, TargetRate: 0.95}
	countCols := []string{"region_code", "value"}
	rateCols := []string{"region_code", "numerator", "denominator"}

	type rejected struct {
		reason string
		row    int
	}
	tests := []struct {
		name     string
		kpi      kpi.KPI
		columns  []string
		rows     [][]any
		want     map[string]kpi.Observation
		rejected []rejected
	}{
		{
			name:    "count rows with integers, floats and decimal text are served",
			kpi:     count,
			columns: countCols,
			rows:    [][]any{{"32.16.06", int64(3)}, {"32.16.07", "2.50"}},
			want:    map[string]kpi.Observation{"32.16.06": {Value: 3}, "32.16.07": {Value: 2.5}},
		},
		{
			name:    "a float count and a zero count are served",
			kpi:     count,
			columns: countCols,
			rows:    [][]any{{"32.16.06", 1.5}, {"32.16.07", int64(0)}},
			want:    map[string]kpi.Observation{"32.16.06": {Value: 1.5}, "32.16.07": {Value: 0}},
		},
		{
			name:    "rate rows keep numerator and denominator apart",
			kpi:     rate,
			columns: rateCols,
			rows:    [][]any{{"32.16.06", int64(3), int64(4)}, {"32.16.07", "2", 2.0}},
			want:    map[string]kpi.Observation{"32.16.06": {Numerator: 3, Denominator: 4}, "32.16.07": {Numerator: 2, Denominator: 2}},
		},
		{
			name:    "columns are found by name in any order and any case, and extra columns are ignored",
			kpi:     rate,
			columns: []string{"Denominator", "nama", "REGION_CODE", "numerator"},
			rows:    [][]any{{int64(4), "Tambun Selatan", "32.16.06", int64(3)}},
			want:    map[string]kpi.Observation{"32.16.06": {Numerator: 3, Denominator: 4}},
		},
		{
			name:    "whitespace around the region code and a value in text is trimmed",
			kpi:     count,
			columns: countCols,
			rows:    [][]any{{" 32.16.06\t", " 7 "}, {"32.16.07\n", "\t1.25"}},
			want:    map[string]kpi.Observation{"32.16.06": {Value: 7}, "32.16.07": {Value: 1.25}},
		},
		{
			name:     "a malformed region code is rejected as malformed_region",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{"32.16.6", int64(1)}, {"Tambun Selatan", int64(1)}, {"", int64(1)}, {"32.16.06", int64(2)}},
			want:     map[string]kpi.Observation{"32.16.06": {Value: 2}},
			rejected: []rejected{{RejectMalformedRegion, 1}, {RejectMalformedRegion, 2}, {RejectMalformedRegion, 3}},
		},
		{
			name:     "a region code that is not text is rejected as malformed_region",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{int64(3216), int64(1)}},
			want:     map[string]kpi.Observation{},
			rejected: []rejected{{RejectMalformedRegion, 1}},
		},
		{
			name:     "a well-formed code missing from the region master is rejected as unknown_region",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{"32.16.99", int64(1)}, {"33.01.01", int64(1)}},
			want:     map[string]kpi.Observation{},
			rejected: []rejected{{RejectUnknownRegion, 1}, {RejectUnknownRegion, 2}},
		},
		{
			name:     "a kabupaten or province row for a kecamatan KPI is rejected as wrong_level",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{"32.16", int64(5)}, {"32", int64(5)}, {"ID", int64(5)}},
			want:     map[string]kpi.Observation{},
			rejected: []rejected{{RejectWrongLevel, 1}, {RejectWrongLevel, 2}, {RejectWrongLevel, 3}},
		},
		{
			name:     "a NULL value or region code is rejected as null",
			kpi:      rate,
			columns:  rateCols,
			rows:     [][]any{{"32.16.06", nil, int64(4)}, {"32.16.07", int64(1), nil}, {nil, int64(1), int64(1)}},
			want:     map[string]kpi.Observation{"32.16.06": {Invalid: true}, "32.16.07": {Invalid: true}},
			rejected: []rejected{{RejectNull, 1}, {RejectNull, 2}, {RejectNull, 3}},
		},
		{
			name:     "a negative value, numerator or denominator is rejected as negative",
			kpi:      rate,
			columns:  rateCols,
			rows:     [][]any{{"32.16.06", int64(-1), int64(4)}, {"32.16.07", int64(1), "-2.5"}},
			want:     map[string]kpi.Observation{"32.16.06": {Invalid: true}, "32.16.07": {Invalid: true}},
			rejected: []rejected{{RejectNegative, 1}, {RejectNegative, 2}},
		},
		{
			name:    "text that is not a number, a boolean, NaN or infinity is rejected as non_numeric",
			kpi:     count,
			columns: countCols,
			rows: [][]any{{"32.16.06", "tiga"}, {"32.16.06", "1,5"}, {"32.16.06", true}, {"32.16.06", "NaN"},
				{"32.16.06", math.Inf(1)}, {"32.16.06", []byte("1")}},
			want: map[string]kpi.Observation{"32.16.06": {Invalid: true}},
			rejected: []rejected{{RejectNonNumeric, 1}, {RejectNonNumeric, 2}, {RejectNonNumeric, 3}, {RejectNonNumeric, 4},
				{RejectNonNumeric, 5}, {RejectNonNumeric, 6}},
		},
		{
			name:     "a numerator over a zero denominator is rejected as zero_denominator",
			kpi:      rate,
			columns:  rateCols,
			rows:     [][]any{{"32.16.06", int64(2), int64(0)}},
			want:     map[string]kpi.Observation{"32.16.06": {Invalid: true}},
			rejected: []rejected{{RejectZeroDenominator, 1}},
		},
		{
			name:    "zero over zero is served: nothing was due and nothing paid",
			kpi:     rate,
			columns: rateCols,
			rows:    [][]any{{"32.16.06", int64(0), int64(0)}},
			want:    map[string]kpi.Observation{"32.16.06": {}},
		},
		{
			name:     "a region twice keeps the first row and rejects the next as duplicate_region",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{"32.16.06", int64(5)}, {"32.16.07", int64(1)}, {" 32.16.06", int64(9)}},
			want:     map[string]kpi.Observation{"32.16.06": {Value: 5}, "32.16.07": {Value: 1}},
			rejected: []rejected{{RejectDuplicate, 3}},
		},
		{
			name:     "a rejected first row leaves the region to a later good one",
			kpi:      count,
			columns:  countCols,
			rows:     [][]any{{"32.16.06", nil}, {"32.16.06", int64(4)}},
			want:     map[string]kpi.Observation{"32.16.06": {Value: 4}},
			rejected: []rejected{{RejectNull, 1}},
		},
		{
			name:    "an empty result serves nothing and rejects nothing",
			kpi:     count,
			columns: countCols,
			want:    map[string]kpi.Observation{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs, rej, err := observations(h, tt.kpi, source.Result{Columns: tt.columns, Rows: tt.rows})
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !maps.Equal(obs, tt.want) {
				t.Errorf("served %v, want %v", obs, tt.want)
			}
			var got []rejected
			for _, r := range rej {
				got = append(got, rejected{r.Reason, r.Row})
				if r.Detail == "" {
					t.Errorf("rejection of row %d (%s) has no detail", r.Row, r.Reason)
				}
				if !slices.Contains(RejectReasons, r.Reason) {
					t.Errorf("reason %q is not in RejectReasons", r.Reason)
				}
			}
			if !slices.Equal(got, tt.rejected) {
				t.Errorf("rejected %v, want %v", got, tt.rejected)
			}
		})
	}

	t.Run("a result without the expected columns is an error naming the KPI and the columns", func(t *testing.T) {
		for _, tc := range []struct {
			k       kpi.KPI
			columns []string
			want    string
		}{
			{count, []string{"region_code", "jumlah"}, "region_code, value"},
			{rate, []string{"region_code", "rate"}, "region_code, numerator, denominator"},
			{count, []string{"kode", "value"}, "region_code, value"},
		} {
			_, _, err := observations(h, tc.k, source.Result{Columns: tc.columns, Rows: [][]any{{"32.16.06", int64(1)}}})
			if err == nil {
				t.Errorf("%s with columns %v: no error", tc.k.ID, tc.columns)
				continue
			}
			for _, part := range []string{tc.k.ID, tc.want, strings.Join(tc.columns, ", ")} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not mention %q", err, part)
				}
			}
		}
	})
}
