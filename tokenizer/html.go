package tokenizer

//go:generate sh -c "python3 gen_entities.py && gofmt -w entities_table.go"

import (
	"strings"
	"unicode/utf8"
)

// htmlUnescape resolves character references exactly as Python's
// html.unescape does, which differs from Go's html.UnescapeString in ways
// CLIP's cleaning exposes: names may contain any character but
// "\t\n\f <&#;" and are cut at 32 characters, the longest legacy entity that
// prefixes an unknown name is replaced ("&notit;" gives "¬it;"), numeric
// references to control and non-characters are dropped rather than kept,
// and numbers of any length are accepted (too large gives U+FFFD rather than
// an overflowed code point).
func htmlUnescape(s string) string {
	i := strings.IndexByte(s, '&')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	done := 0 // s[:done] has been written
	for i >= 0 {
		from := i + 1
		if repl, end, ok := charRef(s, i); ok {
			b.WriteString(s[done:i])
			b.WriteString(repl)
			done, from = end, end
		}
		i = strings.IndexByte(s[from:], '&')
		if i >= 0 {
			i += from
		}
	}
	b.WriteString(s[done:])
	return b.String()
}

// maxEntityName is the longest name Python's pattern
// `[^\t\n\f <&#;]{1,32}` captures, in characters.
const maxEntityName = 32

// charRef matches Python's _charref pattern at s[i] == '&' and returns the
// replacement and the end of the matched text.
func charRef(s string, i int) (repl string, end int, ok bool) {
	p := i + 1
	if p >= len(s) {
		return "", 0, false
	}
	if s[p] == '#' {
		return numericRef(s, p+1)
	}
	// Named reference: up to 32 characters outside the excluded set, then an
	// optional ';'. offs[k] is the byte offset after k characters.
	var offs [maxEntityName + 1]int
	offs[0] = p
	n := 0
	q := p
	for n < maxEntityName && q < len(s) {
		c := s[q]
		if c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';' {
			break
		}
		_, size := utf8.DecodeRuneInString(s[q:])
		q += size
		n++
		offs[n] = q
	}
	if n == 0 {
		return "", 0, false
	}
	if q < len(s) && s[q] == ';' {
		q++
	}
	name := s[p:q]
	if v, found := htmlEntities[name]; found {
		return v, q, true
	}
	// Python tries prefixes of len(name)-1 down to 2 characters, where
	// len(name) counts the ';' if there is one.
	total := n
	if q > offs[n] {
		total++
	}
	for x := total - 1; x >= 2; x-- {
		if v, found := htmlEntities[s[p:offs[x]]]; found {
			return v + s[offs[x]:q], q, true
		}
	}
	return s[i:q], q, true
}

// numericRef handles "&#" followed, from s[p], by decimal digits or by
// x/X and hex digits, each with an optional ';'.
func numericRef(s string, p int) (string, int, bool) {
	base := 10
	q := p
	if q < len(s) && (s[q] == 'x' || s[q] == 'X') {
		// Python tries the decimal alternative first, but it cannot match
		// an 'x', so the order does not matter.
		base = 16
		q++
	}
	start := q
	num := 0
	for q < len(s) {
		d := digitVal(s[q], base)
		if d < 0 {
			break
		}
		// Saturate: anything above U+10FFFF is replaced the same way.
		if num <= utf8.MaxRune {
			num = num*base + d
		}
		q++
	}
	if q == start {
		return "", 0, false
	}
	if q < len(s) && s[q] == ';' {
		q++
	}
	return charRefValue(num), q, true
}

func digitVal(c byte, base int) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case base == 16 && 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// charRefValue maps a numeric reference to text as Python's
// html._replace_charref does, following the HTML5 parsing rules.
func charRefValue(num int) string {
	if num == 0 {
		return "\uFFFD"
	}
	if num == 0x0D {
		return "\r"
	}
	if 0x80 <= num && num <= 0x9F {
		return string(windows1252[num-0x80])
	}
	if (0xD800 <= num && num <= 0xDFFF) || num > utf8.MaxRune {
		return "\uFFFD"
	}
	if invalidCodePoint(num) {
		return ""
	}
	return string(rune(num))
}

// windows1252 is Python's _invalid_charrefs for 0x80..0x9F: the
// Windows-1252 meaning, or the C1 control itself where that code page has a
// hole.
var windows1252 = [32]rune{
	0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
	0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
}

// invalidCodePoint is Python's _invalid_codepoints, minus 0x80..0x9F which
// windows1252 handles first.
func invalidCodePoint(num int) bool {
	switch {
	case 0x01 <= num && num <= 0x08, num == 0x0B, 0x0E <= num && num <= 0x1F, num == 0x7F:
		return true
	case 0xFDD0 <= num && num <= 0xFDEF:
		return true
	case num&0xFFFE == 0xFFFE: // U+xFFFE and U+xFFFF on every plane
		return true
	}
	return false
}
