package targetfile

import (
	"math"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in      string
		percent bool
		want    float64
		err     string // substring; "" for success
	}{
		{"70", false, 70, ""},
		{"1.234", false, 1234, ""},
		{"12.345.678", false, 12345678, ""},
		{"0,95", false, 0.95, ""},
		{"1.234,5", false, 1234.5, ""},
		{"0.95", false, 0.95, ""},
		{"1.5", false, 1.5, ""},
		{"1234.5", false, 1234.5, ""},
		{"0.950", false, 0.95, ""},
		{"0,955", false, 0.955, ""},
		{"1234,567", false, 1234.567, ""},
		{"1,2340", false, 1.234, ""},
		{" 70\u00a0", false, 70, ""},
		{"-5", false, -5, ""},
		{"\u22125", false, -5, ""},
		{"+5", false, 5, ""},
		{"95%", true, 0.95, ""},
		{"95 %", true, 0.95, ""},
		{"95,5%", true, 0.955, ""},
		{"97.5%", true, 0.975, ""},
		{"33,3333%", true, 0.333333, ""},
		{"", false, 0, "empty"},
		{"95%", false, 0, "% is only for target rates"},
		{"1,234", false, 0, "ambiguous: a decimal in Indonesian notation but 1234 in English; write 1234 or 1.234 for the thousands, or 1,2340 for the decimal"},
		{"12,345", false, 0, "ambiguous"},
		{"1,234,567", false, 0, "ambiguous: more than one ','"},
		{"1,234.5", false, 0, "ambiguous: '.' after ','"},
		{"1.23.4", false, 0, "groups of three"},
		{"12.34,5", false, 0, "groups of three"},
		{",5", false, 0, "digits on both sides"},
		{".5", false, 0, "digits on both sides"},
		{"5.", false, 0, "digits on both sides"},
		{"4 buah", false, 0, "not a number"},
		{"1e3", false, 0, "not a number"},
		{"-", false, 0, "not a number"},
		{"%", true, 0, "not a number"},
	}
	for _, tt := range tests {
		in := tt.in
		got, err := parseNumber(in, tt.percent)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseNumber(%q) = %v, %v; want error containing %q", in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", in, got, err, tt.want)
		}
	}
}

func TestFormatNumberReadsBackExactly(t *testing.T) {
	values := []float64{0, 1, 70, 1234, 1234.5, 1.234, 12.345, 412.345, 0.95, 0.955, 0.1 + 0.2,
		1.0 / 3, 2.0 / 3 * 1000, 1e-7, 123456789012, 4618, 99.999, 100.001, -1.234, -0.5, math.Pi * 1000}
	for _, v := range values {
		s := FormatNumber(v)
		got, err := parseNumber(s, false)
		if err != nil || got != v {
			t.Errorf("FormatNumber(%v) = %q, which reads back as %v, %v", v, s, got, err)
		}
		if strings.Contains(s, ".") {
			t.Errorf("FormatNumber(%v) = %q uses a dot", v, s)
		}
	}
}
