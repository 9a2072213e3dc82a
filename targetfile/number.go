package targetfile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// errEmpty reports an empty cell.
var errEmpty = errors.New("empty")

// trimCell trims the spaces spreadsheets leave around values, the
// no-break space included.
func trimCell(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u00a0' || r == '\u202f' || r == '\ufeff'
	})
}

// parseNumber reads a number written in a text cell, following the rules in
// the package documentation. With percentOK a trailing % divides by 100.
func parseNumber(s string, percentOK bool) (float64, error) {
	s = trimCell(s)
	if s == "" {
		return 0, errEmpty
	}
	percent := false
	if rest, ok := strings.CutSuffix(s, "%"); ok {
		if !percentOK {
			return 0, errors.New("not a number: % is only for target rates")
		}
		percent, s = true, trimCell(rest)
	}
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "\u2212"): // the minus sign word processors insert
		neg, s = true, s[len("\u2212"):]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if s == "" {
		return 0, errors.New("not a number")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != '.' && c != ',' {
			return 0, errors.New("not a number; write digits with '.' between thousands and ',' before decimals, like 1.234 or 0,95")
		}
	}
	whole, frac, err := splitNumber(s)
	if err != nil {
		return 0, err
	}
	text := whole
	if frac != "" {
		text += "." + frac
	}
	if percent {
		text += "e-2" // shift the decimal point: exact, unlike dividing by 100
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, errors.New("not a number")
	}
	if neg {
		v = -v
	}
	return v, nil
}

// splitNumber splits digits with separators into the whole digits and the
// decimal digits.
func splitNumber(s string) (whole, frac string, err error) {
	commas, dots := strings.Count(s, ","), strings.Count(s, ".")
	switch {
	case commas > 1:
		return "", "", errors.New("ambiguous: more than one ','; pantau reads ',' as the decimal comma (0,95) and '.' between thousands (1.234.567)")
	case commas == 1:
		w, f, _ := strings.Cut(s, ",")
		if strings.Contains(f, ".") {
			return "", "", errors.New("ambiguous: '.' after ','; pantau reads ',' as the decimal comma, so write 1.234,5 (or 1234.5)")
		}
		if w == "" || f == "" {
			return "", "", errors.New("not a number; write digits on both sides of the decimal comma, like 0,95")
		}
		if dots > 0 {
			if !thousands(w) {
				return "", "", errors.New("not a number; '.' separates thousands in groups of three, like 1.234,5")
			}
			return strings.ReplaceAll(w, ".", ""), f, nil
		}
		if len(f) == 3 && len(w) <= 3 && w[0] != '0' {
			return "", "", fmt.Errorf("ambiguous: a decimal in Indonesian notation but %s%s in English; write %s%s or %s.%s for the thousands, or %s,%s0 for the decimal",
				w, f, w, f, w, f, w, f)
		}
		return w, f, nil
	case dots == 0:
		return s, "", nil
	case thousands(s):
		return strings.ReplaceAll(s, ".", ""), "", nil
	case dots == 1:
		w, f, _ := strings.Cut(s, ".")
		if w == "" || f == "" {
			return "", "", errors.New("not a number; write digits on both sides of the decimal separator, like 0,95")
		}
		return w, f, nil
	}
	return "", "", errors.New("not a number; '.' separates thousands in groups of three, like 1.234.567")
}

// thousands reports whether s is digits grouped by dots the Indonesian way:
// a first group of one to three digits not starting with 0, then groups of
// exactly three.
func thousands(s string) bool {
	groups := strings.Split(s, ".")
	if len(groups) < 2 {
		return false
	}
	if g := groups[0]; len(g) == 0 || len(g) > 3 || g[0] == '0' {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// parsePlain reads the value of an XLSX cell stored as a number: the file
// format's own notation, a dot before decimals and no grouping.
func parsePlain(s string) (float64, error) {
	v, err := strconv.ParseFloat(trimCell(s), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("not a number")
	}
	return v, nil
}

// FormatNumber writes v the way Write does and Read reads back exactly:
// without thousands separators, with a decimal comma, and with a trailing
// zero where the decimals would otherwise look like a thousands group
// (1,2340 rather than the ambiguous 1,234).
func FormatNumber(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	w, f, ok := strings.Cut(s, ".")
	if !ok {
		return s
	}
	digits := strings.TrimPrefix(w, "-")
	if len(f) == 3 && len(digits) <= 3 && digits[0] != '0' {
		f += "0"
	}
	return w + "," + f
}
