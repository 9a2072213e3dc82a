package source

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Result is what a query returned.
type Result struct {
	// Columns are the column names, lower-cased.
	Columns []string
	// Rows hold one value per column: nil (SQL NULL), int64, float64,
	// string, bool or time.Time (see the package documentation).
	Rows [][]any
}

// kind is how a column's text values are read.
type kind int

const (
	kindText kind = iota
	kindInteger
	kindDecimal
	kindFloat
	kindBool
)

// columnKind classifies a column by the type name the driver reports:
// lib/pq ("INT8", "NUMERIC"), go-sql-driver/mysql ("BIGINT", "UNSIGNED
// INT", "DECIMAL") or modernc.org/sqlite (the declared type, such as
// "DECIMAL(10,2)"; empty for expressions).
func columnKind(databaseTypeName string) kind {
	t := strings.ToUpper(strings.TrimSpace(databaseTypeName))
	t = strings.TrimPrefix(t, "UNSIGNED ")
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "INT", "INT2", "INT4", "INT8", "INTEGER", "SMALLINT", "BIGINT", "TINYINT", "MEDIUMINT", "YEAR", "OID":
		return kindInteger
	case "NUMERIC", "DECIMAL":
		return kindDecimal
	case "FLOAT", "FLOAT4", "FLOAT8", "DOUBLE", "DOUBLE PRECISION", "REAL":
		return kindFloat
	case "BOOL", "BOOLEAN":
		return kindBool
	}
	return kindText
}

// normalise turns a value as the driver returned it into one of the types
// Result promises.
func normalise(v any, k kind) any {
	switch v := v.(type) {
	case nil:
		return nil
	case []byte:
		return fromText(string(v), k)
	case string:
		return fromText(v, k)
	case int64:
		return v
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case int16:
		return int64(v)
	case int8:
		return int64(v)
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v)
		}
		return float64(v)
	case uint32:
		return int64(v)
	case uint16:
		return int64(v)
	case uint8:
		return int64(v)
	case uint:
		return normalise(uint64(v), k)
	case float64:
		return v
	case float32:
		return float64(v)
	case bool:
		return v
	case time.Time:
		if _, offset := v.Zone(); offset == 0 {
			return v.UTC()
		}
		return v
	default:
		return fmt.Sprint(v)
	}
}

// fromText reads text a driver returned for a column of kind k. Text that
// does not parse as the column's kind stays a string, for the caller to
// reject.
func fromText(s string, k kind) any {
	switch k {
	case kindInteger:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return float64(n)
		}
	case kindDecimal:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	case kindFloat:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case kindBool:
		switch strings.ToLower(s) {
		case "t", "true", "1":
			return true
		case "f", "false", "0":
			return false
		}
	}
	return s
}
