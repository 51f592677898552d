package tokenizer

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// contextRule restates EncodeContext from the raw ids, to check that the
// early exit in EncodeContext never changes the result.
func contextRule(tok *Tokenizer, ids []int32, n int) []int32 {
	if n < 1 {
		return nil
	}
	seq := slices.Concat(tok.prefix, ids, tok.suffix)
	if len(seq) > n {
		seq = seq[:n]
		k := min(len(tok.suffix), n)
		copy(seq[n-k:], tok.suffix[len(tok.suffix)-k:])
	}
	for len(seq) < n {
		seq = append(seq, tok.pad)
	}
	return seq
}

// checkEncoding checks the invariants of encoding any text: ids inside the
// vocabulary, and EncodeContext consistent with Encode. EncodeContext runs
// second, on a warm word cache, so a cache returning other ids than BPE
// would show as a mismatch.
func checkEncoding(t *testing.T, name string, tok *Tokenizer, text string, n int) {
	ids := tok.Encode(text)
	for _, id := range ids {
		if id < 0 || int(id) >= tok.VocabSize() {
			t.Fatalf("%s: Encode(%+q) gave id %d outside [0, %d)", name, text, id, tok.VocabSize())
		}
	}
	ctx := tok.EncodeContext(text, n)
	if want := contextRule(tok, ids, n); !slices.Equal(ctx, want) {
		t.Fatalf("%s: EncodeContext(%+q, %d) = %v, want %v", name, text, n, ctx, want)
	}
}

// FuzzEncode checks that any text, valid UTF-8 or not, encodes without
// panicking and consistently. Long letter runs make each call cost
// milliseconds, and Go's minimiser is quadratic in the input length, so
// for short runs keep minimisation bounded:
//
//	go test -run '^$' -fuzz '^FuzzEncode$' -fuzztime 20s -fuzzminimizetime 5s ./tokenizer/
func FuzzEncode(f *testing.F) {
	clip := clipTokenizer(f)
	words := wordLevelTokenizer(f)
	for _, v := range readVectors(f) {
		f.Add(v.Text, uint8(CLIPContextLength))
	}
	for _, s := range []string{"", "\xff\xfe", "a\xe2\x82b", "<|endoftext|>", "it'ſ", "x\u0345y", "&#99999999;&amp", "ΟΔΟΣ", "İ", strings.Repeat("ab", 300)} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, text string, n uint8) {
		// Start from an empty word cache: otherwise whether a word takes
		// the BPE path depends on earlier inputs, coverage is not
		// reproducible, and minimising an input never settles.
		clip.bpe.cache.reset()
		checkEncoding(t, "clip", clip, text, int(n))
		checkEncoding(t, "wordlevel", words, text, int(n))
	})
}

// FuzzLoad feeds arbitrary bytes to the loader: it must return a
// tokenizer that works or an ErrFormat error, and never panic.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/malformed/*")
	files = append(files, "testdata/wordlevel.json", "testdata/wordlevel_bert.json")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	merges := []byte("bpe_simple_vocab_16e6.txt#version: 0.2\ni n\nt h\nth e</w>\n")
	f.Add(merges)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(merges)
	zw.Close()
	f.Add(gz.Bytes())
	f.Add([]byte(`{"model":{"type":"BPE","unk_token":"<unk>","end_of_word_suffix":"</w>",` +
		`"vocab":{"<unk>":0,"a":1,"b":2,"ab":3,"b</w>":4,"ab</w>":5},"merges":["a b","a b</w>"]},` +
		`"post_processor":{"type":"Sequence","processors":[{"type":"ByteLevel"},{"type":"RobertaProcessing","cls":["<unk>",0],"sep":["ab",3]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := LoadReader("fuzz", bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "tokenizer: invalid vocabulary file fuzz: ") {
				t.Fatalf("error %q: want ErrFormat and the file name", err)
			}
			return
		}
		if tok.VocabSize() < 1 {
			t.Fatalf("loaded with VocabSize %d", tok.VocabSize())
		}
		for _, s := range []string{"a photo of a cat", "ab ba <|endoftext|> 42", "\xff"} {
			checkEncoding(t, "loaded", tok, s, 5)
		}
	})
}
