package suggest

import "strings"

// Closest returns the candidate closest to word when it is close enough to
// be a likely typo ("qurey" → "query"), or "" when none is. The comparison
// ignores case; a candidate equal to word but for case is returned at once.
// Words of fewer than 5 letters may be 1 edit away, longer ones 2.
func Closest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	best, bestDist := "", 1<<30
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == lw {
			return c
		}
		if dist := Distance(lw, lc); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	limit := 1
	if len(word) >= 5 {
		limit = 2
	}
	if bestDist <= limit {
		return best
	}
	return ""
}

// Distance is the optimal string alignment distance between a and b,
// counted in runes: insertions, deletions, substitutions and transpositions
// of neighbours each cost 1. Words longer than 64 runes are never close:
// their distance is a large number.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		// Nobody mistypes a word by that much; keep the table small.
		return 1 << 20
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
