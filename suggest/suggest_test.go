package suggest

import (
	"strings"
	"testing"
)

// keys are a spec's KPI keys, a realistic list of candidates.
var keys = []string{"id", "name", "unit", "kind", "accumulation", "direction", "source", "level", "query", "target", "rate_builds_up", "thresholds"}

func TestClosest(t *testing.T) {
	tests := []struct {
		name       string
		word       string
		candidates []string
		want       string
	}{
		{"two swapped letters are a typo", "qurey", keys, "query"},
		{"a word that differs only in case is that word", "Query", keys, "query"},
		{"a missing letter is a typo", "treshold", keys, "thresholds"},
		{"a missing letter in the plural is a typo", "tresholds", keys, "thresholds"},
		{"a missing double letter is a typo", "acumulation", keys, "accumulation"},
		{"a word near nothing gets no suggestion", "zzz", keys, ""},
		{"a short word may be one edit away", "kimd", keys, "kind"},
		{"a short word two edits away gets no suggestion", "kmdx", keys, ""},
		{"a long word may be two edits away", "drection_", keys, "direction"},
		{"the case of the candidate is kept", "dinsos", []string{"Dinsos-DKI", "DINSOS"}, "DINSOS"},
		{"no candidates give no suggestion", "query", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.word, tt.candidates); got != tt.want {
				t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
			}
		})
	}
}

func TestDistance(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"equal words are 0 apart", "query", "query", 0},
		{"the empty word is as far as the other is long", "", "abc", 3},
		{"a substitution costs 1", "kind", "kimd", 1},
		{"an insertion costs 1", "treshold", "threshold", 1},
		{"a deletion costs 1", "thresholds", "threshold", 1},
		{"swapping neighbours costs 1", "qurey", "query", 1},
		{"case matters", "Query", "query", 1},
		{"letters are counted in runes, not bytes", "Jakarta Selatan", "Jakarta Seläten", 2},
		{"a word longer than 64 runes is never close", long, long[1:] + "b", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := Distance(tt.b, tt.a); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d (not symmetric)", tt.b, tt.a, got, tt.want)
			}
		})
	}
}
