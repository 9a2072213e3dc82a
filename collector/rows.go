package collector

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pantau-id/pantau/kpi"
	"github.com/pantau-id/pantau/source"
)

// Reasons a source row is rejected; they are the values of the reason label
// of pantau_rows_rejected_total.
const (
	RejectMalformedRegion = "malformed_region"
	RejectUnknownRegion   = "unknown_region"
	RejectWrongLevel      = "wrong_level"
	RejectNull            = "null"
	RejectNonNumeric      = "non_numeric"
	RejectNegative        = "negative"
	RejectZeroDenominator = "zero_denominator"
	RejectDuplicate       = "duplicate_region"
)

// RejectReasons lists every reason, so each counter exists from the start.
var RejectReasons = []string{RejectMalformedRegion, RejectUnknownRegion, RejectWrongLevel, RejectNull,
	RejectNonNumeric, RejectNegative, RejectZeroDenominator, RejectDuplicate}

// Rejection is one dropped row, kept as an example for the log.
type Rejection struct {
	Reason string
	Row    int // 1-based position in the result
	Detail string
}

// columnsFor returns the columns a KPI's query must return.
func columnsFor(k kpi.KPI) []string {
	if k.Kind == kpi.KindRate {
		return []string{"region_code", "numerator", "denominator"}
	}
	return []string{"region_code", "value"}
}

// observations validates a query result row by row. Bad rows are dropped and
// returned as rejections; the good ones are served. Only a result without
// the expected columns is an error, since no row of it can be read.
func observations(h *kpi.Hierarchy, k kpi.KPI, res source.Result) (map[string]kpi.Observation, []Rejection, error) {
	want := columnsFor(k)
	idx := make([]int, len(want))
	for i, name := range want {
		idx[i] = -1
		for j, c := range res.Columns {
			if strings.EqualFold(c, name) {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, nil, fmt.Errorf("kpi %s: query returned columns [%s]; a %s KPI must return %s",
				k.ID, strings.Join(res.Columns, ", "), k.Kind, strings.Join(want, ", "))
		}
	}
	obs := make(map[string]kpi.Observation, len(res.Rows))
	var rejected []Rejection
	for n, row := range res.Rows {
		reject := func(reason, format string, args ...any) {
			rejected = append(rejected, Rejection{Reason: reason, Row: n + 1, Detail: fmt.Sprintf(format, args...)})
		}
		code, ok := row[idx[0]].(string)
		if !ok {
			if row[idx[0]] == nil {
				reject(RejectNull, "region_code is NULL")
			} else {
				reject(RejectMalformedRegion, "region_code %v is not text", row[idx[0]])
			}
			continue
		}
		code = strings.TrimSpace(code)
		lvl, err := kpi.CodeLevel(code)
		if err != nil {
			reject(RejectMalformedRegion, "%v", err)
			continue
		}
		if _, known := h.Lookup(code); !known {
			reject(RejectUnknownRegion, "region %s is not in the region master", code)
			continue
		}
		if lvl != k.Level {
			reject(RejectWrongLevel, "region %s is a %s; the KPI reports per %s", code, lvl, k.Level)
			continue
		}
		vals := make([]float64, len(want)-1)
		bad := false
		for i := range vals {
			v, reason, detail := number(row[idx[i+1]])
			if reason != "" {
				reject(reason, "%s %s for region %s", want[i+1], detail, code)
				markInvalid(obs, code)
				bad = true
				break
			}
			vals[i] = v
		}
		if bad {
			continue
		}
		var o kpi.Observation
		if k.Kind == kpi.KindRate {
			o.Numerator, o.Denominator = vals[0], vals[1]
			if o.Denominator == 0 && o.Numerator != 0 {
				reject(RejectZeroDenominator, "numerator %v over a zero denominator for region %s", o.Numerator, code)
				markInvalid(obs, code)
				continue
			}
		} else {
			o.Value = vals[0]
		}
		if prev, dup := obs[code]; dup && !prev.Invalid {
			reject(RejectDuplicate, "region %s appears more than once; the first row is kept", code)
			continue
		}
		obs[code] = o
	}
	return obs, rejected, nil
}

// markInvalid records that a known region's row was unusable, so the
// region shows as no data instead of being counted as zero.
func markInvalid(obs map[string]kpi.Observation, code string) {
	if _, seen := obs[code]; !seen {
		obs[code] = kpi.Observation{Invalid: true}
	}
}

// number reads a numeric cell. Drivers return numbers as integers, floats
// or (for NUMERIC/DECIMAL) text.
func number(v any) (float64, string, string) {
	var f float64
	switch x := v.(type) {
	case nil:
		return 0, RejectNull, "is NULL"
	case int64:
		f = float64(x)
	case float64:
		f = x
	case string:
		p, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, RejectNonNumeric, fmt.Sprintf("%q is not a number", x)
		}
		f = p
	case bool:
		return 0, RejectNonNumeric, fmt.Sprintf("%v is not a number", x)
	default:
		return 0, RejectNonNumeric, fmt.Sprintf("%v (%T) is not a number", x, x)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, RejectNonNumeric, fmt.Sprintf("%v is not a finite number", f)
	}
	if f < 0 {
		return 0, RejectNegative, fmt.Sprintf("%v is negative", f)
	}
	return f, "", ""
}
