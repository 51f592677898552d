package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Character classes of CLIP's pre-tokenisation pattern
//
//	<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//
// compiled by Python's regex module with IGNORECASE.
type charClass uint8

const (
	classNone   charClass = iota // matched by no alternative: skipped like whitespace
	classSpace                   // \s
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classOther                   // [^\s\p{L}\p{N}]
)

var asciiClass = func() (t [utf8.RuneSelf]charClass) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		t[r] = classOfRune(r)
	}
	return t
}()

func classOf(r rune) charClass {
	if r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return classOfRune(r)
}

func classOfRune(r rune) charClass {
	switch {
	case unicode.IsSpace(r): // the regex module's \s: White_Space, unlike re's it excludes U+001C..U+001F
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	}
	// Under IGNORECASE the regex module tests a negated set against every
	// case variant of the character, so U+0345 COMBINING GREEK
	// YPOGEGRAMMENI, which folds to the letter iota, is outside
	// [^\s\p{L}\p{N}] although it is not a letter itself: no alternative
	// matches it and findall skips it.
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if unicode.IsSpace(f) || unicode.IsLetter(f) || unicode.IsNumber(f) {
			return classNone
		}
	}
	return classOther
}

const (
	startOfText = "<|startoftext|>"
	endOfText   = "<|endoftext|>"
)

// contractions are the pattern's 's|'t|'re|'ve|'m|'ll|'d without the
// apostrophe.
var contractions = [...]string{"s", "t", "re", "ve", "m", "ll", "d"}

// nextCLIPToken returns the bounds of the first pre-token of b at or after
// i, or start == len(b) when there is none. b is cleaned text: valid UTF-8.
func nextCLIPToken(b []byte, i int) (start, end int) {
	for i < len(b) {
		c := b[i]
		if c == '<' {
			if n := matchFold(b[i:], startOfText); n > 0 {
				return i, i + n
			}
			if n := matchFold(b[i:], endOfText); n > 0 {
				return i, i + n
			}
		} else if c == '\'' {
			for _, s := range contractions {
				if n := matchFold(b[i+1:], s); n > 0 {
					return i, i + 1 + n
				}
			}
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(b[i:])
		}
		switch cl := classOf(r); cl {
		case classLetter, classOther:
			// Both are greedy runs of their own class.
			j := i + size
			for j < len(b) {
				r, size := rune(b[j]), 1
				if r >= utf8.RuneSelf {
					r, size = utf8.DecodeRune(b[j:])
				}
				if classOf(r) != cl {
					break
				}
				j += size
			}
			return i, j
		case classNumber:
			return i, i + size
		default:
			i += size
		}
	}
	return len(b), len(b)
}

// matchFold reports the length of the prefix of b that equals the ASCII
// string lit under simple case folding, as IGNORECASE matches literals (so
// "'ſ" matches 's), or 0.
func matchFold(b []byte, lit string) int {
	n := 0
	for k := 0; k < len(lit); k++ {
		if n >= len(b) {
			return 0
		}
		if b[n] == lit[k] {
			n++
			continue
		}
		r, size := utf8.DecodeRune(b[n:])
		if !foldsTo(r, rune(lit[k])) {
			return 0
		}
		n += size
	}
	return n
}

// foldsTo reports whether r is in the simple case-folding orbit of c.
func foldsTo(r, c rune) bool {
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// wordPreTokenizer splits a cleaned word (no whitespace) for WordLevel
// models; it appends the pieces' bounds within w to dst.
type wordPreTokenizer func(dst [][2]int, w []byte, off int) [][2]int

// splitWords splits cleaned text on spaces, applies the pipeline of
// pre-tokenizers in order, each to every piece the previous one produced,
// and appends the bounds of the final pieces to dst. tmp is scratch space.
func splitWords(dst [][2]int, b []byte, steps []wordPreTokenizer, tmp *[2][][2]int) [][2]int {
	cur, next := tmp[0][:0], tmp[1][:0]
	for i := 0; i < len(b); {
		for i < len(b) && b[i] == ' ' {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' {
			j++
		}
		if j == i {
			break
		}
		cur = append(cur[:0], [2]int{i, j})
		for _, step := range steps {
			next = next[:0]
			for _, p := range cur {
				next = step(next, b[p[0]:p[1]], p[0])
			}
			cur, next = next, cur
		}
		dst = append(dst, cur...)
		i = j
	}
	tmp[0], tmp[1] = cur, next
	return dst
}

// splitWordPunct is Hugging Face's Whitespace pre-tokenizer, `\w+|[^\w\s]+`:
// runs of word characters and runs of everything else.
func splitWordPunct(dst [][2]int, w []byte, off int) [][2]int {
	return splitRuns(dst, w, off, func(r rune) int {
		if isWordChar(r) {
			return 1
		}
		return 2
	})
}

// splitPunct is Hugging Face's Punctuation pre-tokenizer (behaviour
// "isolated"): every punctuation character is a piece of its own.
func splitPunct(dst [][2]int, w []byte, off int) [][2]int {
	id := 0
	return splitRuns(dst, w, off, func(r rune) int {
		if isPunct(r) {
			id++ // a fresh class per character keeps it alone
			return -id
		}
		return 1
	})
}

// splitRuns cuts w wherever the class of consecutive characters changes.
func splitRuns(dst [][2]int, w []byte, off int, class func(rune) int) [][2]int {
	start, prev := 0, 0
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRune(w[i:])
		c := class(r)
		if i > 0 && c != prev {
			dst = append(dst, [2]int{off + start, off + i})
			start = i
		}
		prev = c
		i += size
	}
	if len(w) > 0 {
		dst = append(dst, [2]int{off + start, off + len(w)})
	}
	return dst
}

// isWordChar is Oniguruma's Unicode \w, which Hugging Face's regexes use:
// alphabetic, marks, decimal digits, connector punctuation, joiners.
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) ||
		unicode.In(r, unicode.Nd, unicode.Nl, unicode.Pc, unicode.Other_Alphabetic, unicode.Join_Control)
}

// isPunct is Hugging Face's is_punc: ASCII punctuation (which includes
// symbols such as '$' and '+') or a Unicode P* character.
func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return '!' <= r && r <= '/' || ':' <= r && r <= '@' || '[' <= r && r <= '`' || '{' <= r && r <= '~'
	}
	return unicode.IsPunct(r)
}
