package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// cleanText appends to dst the text as CLIP's reference tokenizer sees it
// before pre-tokenisation: valid UTF-8, NFC, HTML character references
// resolved twice (when unescape is set), runs of whitespace collapsed to one
// space, trimmed, and lower-cased the way Python's str.lower() does.
func cleanText(dst []byte, s string, unescape bool) []byte {
	ascii := isASCII(s)
	if !ascii {
		s = toValidUTF8(s)
		s = norm.NFC.String(s)
	}
	if unescape && strings.IndexByte(s, '&') >= 0 {
		// Twice, because CLIP's basic_clean does so: captions scraped from the
		// web are often escaped twice ("&amp;amp;").
		s = htmlUnescape(htmlUnescape(s))
		ascii = isASCII(s)
	}
	if ascii {
		return collapseLowerASCII(dst, s)
	}
	return collapseLower(dst, s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// collapseLowerASCII is collapseLower for pure ASCII, which is most captions;
// it avoids rune decoding and the Unicode tables.
func collapseLowerASCII(dst []byte, s string) []byte {
	pendingSpace := false
	start := len(dst)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if asciiPySpace[c] {
			pendingSpace = true
			continue
		}
		if pendingSpace && len(dst) > start {
			dst = append(dst, ' ')
		}
		pendingSpace = false
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// collapseLower collapses whitespace runs, trims and lower-cases s, which
// must be valid UTF-8.
func collapseLower(dst []byte, s string) []byte {
	pendingSpace := false
	start := len(dst)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isPySpace(r) {
			pendingSpace = true
			i += size
			continue
		}
		if pendingSpace && len(dst) > start {
			dst = append(dst, ' ')
		}
		pendingSpace = false
		switch r {
		case 'İ':
			// The one unconditional multi-rune lower-case mapping in
			// SpecialCasing.txt, which Python applies and unicode.ToLower
			// (a simple mapping) does not.
			dst = append(dst, "i\u0307"...)
		case 'Σ':
			if isFinalSigma(s, i, size) {
				dst = utf8.AppendRune(dst, 'ς')
			} else {
				dst = utf8.AppendRune(dst, 'σ')
			}
		default:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += size
	}
	return dst
}

// asciiPySpace marks the ASCII characters Python's str.isspace() accepts.
// Python counts the information separators U+001C..U+001F as whitespace and
// Go's unicode.IsSpace does not.
var asciiPySpace = [256]bool{
	'\t': true, '\n': true, '\v': true, '\f': true, '\r': true,
	0x1c: true, 0x1d: true, 0x1e: true, 0x1f: true, ' ': true,
}

// isPySpace reports whether Python's `\s` (for str patterns) and
// str.isspace() match r.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiPySpace[r]
	}
	return unicode.IsSpace(r)
}

// isFinalSigma implements the Final_Sigma condition of Unicode's
// SpecialCasing.txt, as Python's str.lower() does: the capital sigma at
// s[i:i+size] is preceded by a cased letter and not followed by one, ignoring
// case-ignorable characters on both sides.
func isFinalSigma(s string, i, size int) bool {
	j := i
	before := false
	for j > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:j])
		j -= n
		if !isCaseIgnorable(r) {
			before = isCased(r)
			break
		}
	}
	if !before {
		return false
	}
	for j = i + size; j < len(s); {
		r, n := utf8.DecodeRuneInString(s[j:])
		j += n
		if !isCaseIgnorable(r) {
			return !isCased(r)
		}
	}
	return true
}

// isCased is Unicode's derived property Cased.
func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// isCaseIgnorable is Unicode's derived property Case_Ignorable: marks,
// format characters, modifiers, and the Word_Break MidLetter, MidNumLet and
// Single_Quote characters (listed literally, Go has no Word_Break table).
func isCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '·', 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024,
		0x2027, 0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// toValidUTF8 replaces every maximal ill-formed subsequence of s with one
// U+FFFD, the Unicode-recommended practice that Python's
// bytes.decode("utf-8", "replace") follows. Go's utf8.DecodeRune instead
// reports each stray byte separately, so "\xe2\x82" would become two U+FFFD
// here and one in Python.
func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size != 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += illFormedLen(s[i:])
	}
	return b.String()
}

// illFormedLen returns the length of the maximal ill-formed subsequence at
// the start of s, which does not begin with a valid UTF-8 sequence: a valid
// lead byte followed by as many valid continuation bytes as fit before the
// sequence breaks off (Unicode 15, table 3-7), else one byte.
func illFormedLen(s string) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := s[0]; {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case 0xE1 <= c && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case 0xF1 <= c && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}
