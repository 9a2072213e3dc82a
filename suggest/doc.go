// Package suggest makes typo suggestions: the candidate nearest to a
// mistyped word, for "did you mean" hints in error messages.
package suggest
