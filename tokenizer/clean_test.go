package tokenizer

import (
	"html"
	"slices"
	"testing"
)

// Expected values in this file come from Python 3.11: CLIP's cleaning
// (testdata/reference.py --clean), html.unescape, bytes.decode("utf-8",
// "replace"), and regex.findall with CLIP's pattern.

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  A  Photo\tOF\u3000a\u00a0CAT  ", "a photo of a cat"},
		{"a\x1cb\x1fc", "a b c"},               // Python's \s has the information separators, unicode.IsSpace not
		{"x\u0085y\u2028z", "x y z"},           // NEL and LINE SEPARATOR are whitespace too
		{"a\u200bb", "a\u200bb"},               // ZERO WIDTH SPACE is not
		{"ΟΔΟΣ ΟΔΟΣ. ΣΑ Σ", "οδος οδος. σα σ"}, // final sigma only after a cased letter, word-finally
		{"İstanbul", "i\u0307stanbul"},         // full lower-case mapping, not unicode.ToLower's "i"
		{"ǅ ﬁ Straße", "ǆ ﬁ straße"},           // title case lowers; no case folding of ligatures or ß
		{"e\u0301", "é"},                       // NFC composes
		{"e&#769;", "e\u0301"},                 // NFC runs before unescaping, so this stays decomposed
		{"&amp;amp; &lt;b&gt;", "& <b>"},
		{"&notit; &ampx &#65;&#x42 &#1;z", "¬it; &x ab z"},
		{"&#150;&#0;&#13;x", "–\ufffd x"}, // windows-1252, NUL → U+FFFD, CR is whitespace
		{"a\xe2\x82b\xffc", "a\ufffdb\ufffdc"},
	}
	for _, tt := range tests {
		if got := string(cleanText(nil, tt.in, true)); got != tt.want {
			t.Errorf("cleanText(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

func TestToValidUTF8(t *testing.T) {
	// Python: bytes.decode("utf-8", "replace").
	tests := []struct{ in, want string }{
		{"ok", "ok"},
		{"\xe2\x82", "\ufffd"},                           // truncated 3-byte sequence: one subpart
		{"\xe2\x82\xe2\x82\xac", "\ufffd€"},              // a truncated sequence, then a valid one
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"},           // surrogate: ED A0 is ill-formed at A0
		{"\xc0\xaf", "\ufffd\ufffd"},                     // overlong lead byte
		{"\xf0\x9f\x90", "\ufffd"},                       // truncated emoji
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"}, // above U+10FFFF
		{"\x80\x80a", "\ufffd\ufffda"},
		{"a\xc3", "a\ufffd"},
		{"\ufffd", "\ufffd"}, // a literal U+FFFD is valid and kept as one
	}
	for _, tt := range tests {
		if got := toValidUTF8(tt.in); got != tt.want {
			t.Errorf("toValidUTF8(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

func TestHTMLUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no refs", "no refs"},
		{"&amp;", "&"},
		{"&amp", "&"},          // legacy name without ';'
		{"&ampx", "&x"},        // longest legacy prefix
		{"&notit;", "¬it;"},    // longest legacy prefix of an unknown name
		{"&notin;", "∉"},       // but a known name wins
		{"&hellip", "&hellip"}, // not a legacy name: needs its ';'
		{"&hellip;", "…"},
		{"&#65;&#x42;&#X43&#68", "ABCD"},
		{"&#;&#x;&;&", "&#;&#x;&;&"},
		{"&&amp;", "&&"},
		{"&#0;", "\ufffd"},
		{"&#13;", "\r"},
		{"&#128;&#129;&#150;", "€\u0081–"},
		{"&#1;&#11;&#127;&#xFDD0;&#xFFFE;&#x10FFFF;", ""},
		{"&#xD800;&#x110000;&#99999999999999999999;", "\ufffd\ufffd\ufffd"},
		{"&#x1F431;", "🐱"},
		{"&CounterClockwiseContourIntegral;", "∳"}, // the longest name
		{"&" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
		{"&amp;amp;", "&amp;"}, // one pass only here; cleanText runs two
		{"&ampé", "&é"},
		{"&lt\t", "<\t"},
		{"&éa;", "&éa;"},
	}
	for _, tt := range tests {
		if got := htmlUnescape(tt.in); got != tt.want {
			t.Errorf("htmlUnescape(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
	// Go's html.UnescapeString disagrees with Python on some of these; make
	// sure the table exercises at least one such difference, or it would
	// not show why htmlUnescape exists.
	differ := 0
	for _, tt := range tests {
		if html.UnescapeString(tt.in) != tt.want {
			differ++
		}
	}
	if differ == 0 {
		t.Error("no case distinguishes htmlUnescape from html.UnescapeString")
	}
}

func TestCLIPPreTokenize(t *testing.T) {
	tests := []struct {
		in   string // already cleaned (lower-case)
		want []string
	}{
		{"", nil},
		{"it's they're we've i'm you'll he'd don't", []string{"it", "'s", "they", "'re", "we", "'ve", "i", "'m", "you", "'ll", "he", "'d", "don", "'t"}},
		{"it'ſ ',s ''s", []string{"it", "'ſ", "',", "s", "''", "s"}}, // ſ folds to s under IGNORECASE
		{"x\u0345y", []string{"x", "y"}}, // U+0345 matches no alternative
		{"<|startoftext|>a<|endoftext|> <|ſtartoftext|> <|end", []string{"<|startoftext|>", "a", "<|endoftext|>", "<|ſtartoftext|>", "<|", "end"}},
		{"forklift #7 at dock-3 (night shift)", []string{"forklift", "#", "7", "at", "dock", "-", "3", "(", "night", "shift", ")"}},
		{"2024 ½ ² ٣", []string{"2", "0", "2", "4", "½", "²", "٣"}},
		{"猫🐱🐶 صورة", []string{"猫", "🐱🐶", "صورة"}},
		{"q\u0301", []string{"q", "\u0301"}},
		{"ai\u0307", []string{"ai", "\u0307"}},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		var got []string
		for i := 0; ; {
			s, e := nextCLIPToken(b, i)
			if s == e {
				break
			}
			got = append(got, string(b[s:e]))
			i = e
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("pre-tokens of %+q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
