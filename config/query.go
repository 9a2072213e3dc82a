package config

import "strings"

// missingColumns returns the columns that none of a query's words (see
// sqlcheck.Scan) mentions, case-insensitively.
func missingColumns(words, columns []string) []string {
	mentioned := make(map[string]bool)
	for _, w := range words {
		mentioned[strings.ToLower(w)] = true
	}
	var missing []string
	for _, c := range columns {
		if !mentioned[c] {
			missing = append(missing, c)
		}
	}
	return missing
}
