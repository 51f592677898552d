package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestVectors(t *testing.T) {
	tok := clipTokenizer(t)
	for i, v := range readVectors(t) {
		name := fmt.Sprintf("line%d", i+1)
		checkIDs(t, name+" ids of "+fmt.Sprintf("%q", v.Text), tok.Encode(v.Text), v.IDs)
		checkIDs(t, name+" context77 of "+fmt.Sprintf("%q", v.Text), tok.EncodeContext(v.Text, CLIPContextLength), v.Context77)
	}
}

// TestVectorsTokenizerJSON converts the merge list into a Hugging Face
// tokenizer.json the way CLIP exports look and checks it encodes the
// vectors identically, so the two loaders cannot drift apart.
func TestVectorsTokenizerJSON(t *testing.T) {
	ref := clipTokenizer(t)
	data := clipTokenizerJSON(t, sharedFile(t, "bpe_simple_vocab_16e6.txt.gz"), false)
	tok, err := LoadReader("clip-tokenizer.json", strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != ref.VocabSize() {
		t.Errorf("VocabSize = %d, merge list gives %d", tok.VocabSize(), ref.VocabSize())
	}
	for i, v := range readVectors(t) {
		name := fmt.Sprintf("line%d", i+1)
		checkIDs(t, name+" ids", tok.Encode(v.Text), v.IDs)
		checkIDs(t, name+" context77", tok.EncodeContext(v.Text, CLIPContextLength), v.Context77)
	}
}

func TestVocabSizeCLIP(t *testing.T) {
	tok := clipTokenizer(t)
	if got := tok.VocabSize(); got != 49408 {
		t.Errorf("VocabSize = %d, want 49408 (512 byte symbols + 48894 merges + 2 specials)", got)
	}
}

func TestEncodeContextRule(t *testing.T) {
	tok := clipTokenizer(t)
	const text = "a photo of a cat"
	ids := tok.Encode(text) // 5 ids
	if len(ids) != 5 {
		t.Fatalf("Encode(%q) = %v, want 5 ids", text, ids)
	}
	const sot, eot = 49406, 49407
	framed := append(append([]int32{sot}, ids...), eot)
	tests := []struct {
		n    int
		want []int32
	}{
		{0, nil},
		{-3, nil},
		{1, []int32{eot}},
		{2, []int32{sot, eot}},
		{3, []int32{sot, ids[0], eot}},
		{6, append(append([]int32{sot}, ids[:4]...), eot)},
		{7, framed},
		{9, append(framed[:7:7], 0, 0)},
	}
	for _, tt := range tests {
		checkIDs(t, fmt.Sprintf("EncodeContext(%q, %d)", text, tt.n), tok.EncodeContext(text, tt.n), tt.want)
	}
}

// TestEncodeContextLongText checks truncation on text far longer than the
// context, which takes the early-exit path in encode.
func TestEncodeContextLongText(t *testing.T) {
	tok := clipTokenizer(t)
	text := strings.Repeat("forklift near the loading dock, ", 500)
	all := tok.Encode(text)
	got := tok.EncodeContext(text, CLIPContextLength)
	want := append(append([]int32{49406}, all[:75]...), 49407)
	checkIDs(t, "context77 of long text", got, want)
}

func TestEncodeTable(t *testing.T) {
	tok := clipTokenizer(t)
	// Expected ids come from testdata/reference.py (OpenAI's
	// simple_tokenizer.py with NFC in place of ftfy.fix_text, as the
	// vectors file was made) under Python 3.11 and regex 2026.5.9.
	tests := []struct {
		name string
		text string
		want []int32
	}{
		{"special tokens in text", "<|startoftext|>hi<|endoftext|>", []int32{49406, 1883, 49407}},
		{"special token escaped", "&lt;|endoftext|&gt;", []int32{49407}},
		{"special token upper case", "<|ENDOFTEXT|>", []int32{49407}},
		{"special token matched by folding only", "<|ſtartoftext|>", []int32{27, 91, 129, 123, 2002, 6659, 18169, 91, 285}},
		{"long s contraction", "it'ſ", []int32{585, 6, 129, 379}},
		{"ypogegrammeni dropped", "x\u0345y", []int32{343, 344}},
		{"dotted capital I", "İstanbul", []int32{328, 16384, 11231}},
		{"final sigma", "ΟΔΟΣ ΟΔΟΣ.", []int32{138, 123, 138, 112, 138, 123, 139, 480, 138, 123, 138, 112, 138, 123, 139, 480, 269}},
		{"information separator is whitespace", "a\x1cb", []int32{320, 321}},
		{"entities without semicolon", "&ampx &notit; &#65;&#x42 &#1;z", []int32{261, 343, 126, 361, 585, 282, 3937, 345}},
		{"huge numeric reference", "&#99999999999999999999;", []int32{39802}},
		{"windows-1252 reference", "&#150;", []int32{1224}},
		{"reference to a combining mark stays decomposed", "e&#769;", []int32{324, 136, 479}},
		{"invalid utf-8 truncated sequence", "a\xe2\x82b", []int32{320, 39802, 321}},
		{"invalid utf-8 surrogate", "\xed\xa0\x80", []int32{47356, 47356, 39802}},
		{"combining mark after non-composable letter", "q\u0301", []int32{336, 136, 479}},
		{"digits split", "2024", []int32{273, 271, 273, 275}},
		{"emoji", "🐱", []int32{22979}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkIDs(t, fmt.Sprintf("Encode(%+q)", tt.text), tok.Encode(tt.text), tt.want)
		})
	}
}

// TestEncodeEquivalences states cleaning rules as pairs of texts that must
// encode alike (or differently), independent of particular ids.
func TestEncodeEquivalences(t *testing.T) {
	tok := clipTokenizer(t)
	tests := []struct {
		a, b string
		same bool
	}{
		{"A PHOTO OF A CAT", "a photo of a cat", true},
		{"\t a\u00a0photo \u3000 ", "a photo", true},
		{"a\u200bphoto", "a photo", false}, // ZERO WIDTH SPACE is not whitespace
		{"caf\u00e9", "cafe\u0301", true},  // NFC
		{"caf&eacute;", "café", true},
		{"&amp;lt;", "<", true},
		{"&amp;amp;lt;", "&amp;lt;", false}, // unescaped twice, not three times
		{"İ", "i\u0307", true},
		{"İ", "i", false},
		{"ΟΔΟΣ", "οδος", true},
		{"ΟΔΟΣ", "οδοσ", false},
		{"\xff", "\ufffd", true},
		{"a\xe2\x82b", "a\ufffd\ufffdb", false}, // one U+FFFD per maximal subpart
	}
	for _, tt := range tests {
		a, b := tok.Encode(tt.a), tok.Encode(tt.b)
		if same := slices.Equal(a, b); same != tt.same {
			t.Errorf("Encode(%+q) = %v, Encode(%+q) = %v; want equal: %v", tt.a, a, tt.b, b, tt.same)
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := clipTokenizer(t)
	vs := readVectors(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range vs {
				v := vs[(k+g*17)%len(vs)]
				if got := tok.Encode(v.Text); !slices.Equal(got, v.IDs) {
					t.Errorf("goroutine %d: Encode(%q) = %v, want %v", g, v.Text, got, v.IDs)
					return
				}
			}
		}()
	}
	wg.Wait()
}
