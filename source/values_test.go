package source

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestColumnKind(t *testing.T) {
	tests := []struct {
		typeName string
		want     kind
	}{
		{"INT8", kindInteger},            // lib/pq bigint, count(*)
		{"INT4", kindInteger},            // lib/pq integer
		{"BIGINT", kindInteger},          // MySQL count(*)
		{"UNSIGNED BIGINT", kindInteger}, // MySQL
		{"integer", kindInteger},         // SQLite declared type
		{"NUMERIC", kindDecimal},         // lib/pq sum(bigint), numeric
		{"DECIMAL", kindDecimal},         // MySQL sum(int), sum(decimal)
		{"DECIMAL(12,2)", kindDecimal},   // SQLite declared type
		{"FLOAT8", kindFloat},
		{"DOUBLE", kindFloat},
		{"REAL", kindFloat},
		{"BOOL", kindBool},
		{"VARCHAR", kindText},
		{"TEXT", kindText},
		{"DATE", kindText},
		{"", kindText}, // SQLite expression
	}
	for _, tt := range tests {
		if got := columnKind(tt.typeName); got != tt.want {
			t.Errorf("columnKind(%q) = %v, want %v", tt.typeName, got, tt.want)
		}
	}
}

func TestNormalise(t *testing.T) {
	utc := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		kind kind
		want any
	}{
		{"SQL NULL is nil", nil, kindInteger, nil},
		{"MySQL text-protocol COUNT(*) is int64", []byte("42"), kindInteger, int64(42)},
		{"an int32 is int64", int32(7), kindText, int64(7)},
		{"an unsigned value that fits is int64", uint64(7), kindInteger, int64(7)},
		{"an unsigned value too big for int64 is float64", uint64(math.MaxUint64), kindInteger, float64(math.MaxUint64)},
		{"a whole DECIMAL is int64", []byte("300"), kindDecimal, int64(300)},
		{"a negative whole DECIMAL is int64", []byte("-3"), kindDecimal, int64(-3)},
		{"a fractional DECIMAL is float64", []byte("1750.75"), kindDecimal, 1750.75},
		{"a DECIMAL with zero fraction is float64", []byte("300.00"), kindDecimal, 300.0},
		{"a DECIMAL too big for int64 is float64", []byte("123456789012345678901234567890"), kindDecimal, 1.2345678901234568e29},
		{"a Postgres NaN numeric stays text", []byte("NaN"), kindDecimal, "NaN"},
		{"a Postgres Infinity numeric stays text", []byte("Infinity"), kindDecimal, "Infinity"},
		{"a float column's text is float64", []byte("2.5"), kindFloat, 2.5},
		{"a float32 is float64", float32(0.5), kindFloat, 0.5},
		{"non-numeric text in an integer column stays text", []byte("abc"), kindInteger, "abc"},
		{"bytes in a text column are a string", []byte("32.16.06"), kindText, "32.16.06"},
		{"a string stays a string", "10:30", kindText, "10:30"},
		{"boolean text is bool", []byte("t"), kindBool, true},
		{"a bool is a bool", false, kindBool, false},
		{"a time without offset is in UTC", utc.In(time.FixedZone("", 0)), kindText, utc},
		{"a time with an offset keeps it", day(2026, 3, 1), kindText, day(2026, 3, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := normalise(tt.in, tt.kind)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("normalise(%#v) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}
