package config

import "strings"

// orList joins words as "a, b or c".
func orList(words []string) string { return joinList(words, "or") }

// andList joins words as "a, b and c".
func andList(words []string) string { return joinList(words, "and") }

func joinList(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
