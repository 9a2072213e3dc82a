package kpi

import (
	"math"
	"strconv"
)

// Number is a figure that may be undefined: a ratio over a zero target, a
// pace before anything is expected. It never holds NaN or ±Inf, so nothing
// downstream (metrics, JSON) has to guard against them.
type Number struct {
	V  float64
	OK bool
}

// Some returns v as a defined Number, or an undefined one when v is NaN or infinite.
func Some(v float64) Number {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Number{}
	}
	return Number{V: v, OK: true}
}

// None is the undefined Number.
var None = Number{}

// Div returns a ÷ b, undefined when b is zero.
func Div(a, b float64) Number {
	if b == 0 {
		return None
	}
	return Some(a / b)
}

// MarshalJSON writes the value, or null when undefined.
func (n Number) MarshalJSON() ([]byte, error) {
	if !n.OK {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, n.V, 'g', -1, 64), nil
}
