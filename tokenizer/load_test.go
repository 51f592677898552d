package tokenizer

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadMalformed(t *testing.T) {
	// Each file in testdata/malformed and a fragment of the error it must
	// give; the error must also name the file and wrap ErrFormat.
	want := map[string]string{
		"added_token_without_id.json":         "added_tokens[0]",
		"bpe_byte_fallback.json":              "byte_fallback",
		"bpe_merge_not_in_vocab.json":         `merges[0] "a" "b"`,
		"bpe_merge_one_symbol.json":           `merges[0] = "a"`,
		"bpe_missing_byte_symbols.json":       "byte symbol",
		"bpe_no_merges.json":                  `no "merges"`,
		"empty.json":                          "neither a merge list",
		"fractional_id.json":                  "integer ids",
		"gzip_magic_only.gz":                  "corrupt gzip data",
		"gzip_of_text.gz":                     "neither a merge list",
		"huge_id.json":                        "outside [0,",
		"merges_blank_line.txt":               "line 3",
		"merges_header_only.txt":              "no merges",
		"merges_invalid_utf8.txt":             "not valid UTF-8",
		"merges_three_symbols.txt":            "line 3",
		"merges_truncated.txt.gz":             "decompressing",
		"negative_id.json":                    "id -1",
		"no_model.json":                       `no "model"`,
		"no_unk.json":                         `unk_token "[UNK]"`,
		"pad_id_out_of_range.json":            "pad_id id 99",
		"plain_text.txt":                      "neither a merge list",
		"post_processor_id_out_of_range.json": "cls [CLS] id 7",
		"template_undefined_token.json":       `"[CLS]"`,
		"truncated.json":                      "unexpected end of JSON",
		"unigram.json":                        `"Unigram" not supported`,
		"unsupported_pre_tokenizer.json":      `"Metaspace" not supported`,
		"vocab_empty.json":                    "vocab is empty",
		"vocab_list.json":                     "integer ids",
	}
	files, err := filepath.Glob("testdata/malformed/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		if _, ok := want[filepath.Base(path)]; !ok {
			t.Errorf("%s has no expected error in this test", path)
		}
	}
	for name, fragment := range want {
		path := filepath.Join("testdata", "malformed", name)
		tok, err := Load(path)
		if err == nil {
			t.Errorf("Load(%s) succeeded (vocab size %d)", path, tok.VocabSize())
			continue
		}
		msg := err.Error()
		prefix := "tokenizer: invalid vocabulary file " + path + ": "
		if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, fragment) || !errors.Is(err, ErrFormat) {
			t.Errorf("Load(%s) error %q: want prefix %q, fragment %q, wrapping ErrFormat", path, msg, prefix, fragment)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.txt.gz"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "tokenizer: ") || errors.Is(err, ErrFormat) {
		t.Errorf("err = %v, want a tokenizer: error wrapping fs.ErrNotExist and not ErrFormat", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestLoadReaderError(t *testing.T) {
	_, err := LoadReader("stream", failingReader{})
	if err == nil || !strings.Contains(err.Error(), "tokenizer: reading stream: disk on fire") || errors.Is(err, ErrFormat) {
		t.Errorf("err = %v", err)
	}
}

func TestReadLimited(t *testing.T) {
	if _, err := readLimited(strings.NewReader("12345"), 4); err == nil {
		t.Error("5 bytes accepted with limit 4")
	}
	if b, err := readLimited(strings.NewReader("1234"), 4); err != nil || string(b) != "1234" {
		t.Errorf("4 bytes with limit 4: %q, %v", b, err)
	}
}

// TestLoadDetectsFormatByContent stores each format under a misleading
// name, compressed and not, and checks they all tokenize like the shared
// merge list.
func TestLoadDetectsFormatByContent(t *testing.T) {
	ref := clipTokenizer(t)
	mergesGz, err := os.ReadFile(sharedFile(t, "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(mergesGz))
	if err != nil {
		t.Fatal(err)
	}
	mergesTxt, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	jsonArrays := clipTokenizerJSON(t, sharedFile(t, "bpe_simple_vocab_16e6.txt.gz"), true)
	var jsonGz bytes.Buffer
	zw := gzip.NewWriter(&jsonGz)
	zw.Write(jsonArrays)
	zw.Close()
	dir := t.TempDir()
	files := map[string][]byte{
		"merges-plain.json":     mergesTxt,
		"tokenizer.txt.gz":      jsonArrays, // merges as [a, b] arrays
		"tokenizer-gz.txt":      jsonGz.Bytes(),
		"with-bom-and-space.gz": append([]byte("\ufeff \n"), jsonArrays...),
	}
	vs := readVectors(t)
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := Load(path)
		if err != nil {
			t.Errorf("Load(%s): %v", name, err)
			continue
		}
		if tok.VocabSize() != ref.VocabSize() {
			t.Errorf("%s: VocabSize %d, want %d", name, tok.VocabSize(), ref.VocabSize())
		}
		for _, v := range vs {
			if got := tok.EncodeContext(v.Text, CLIPContextLength); !slices.Equal(got, v.Context77) {
				t.Errorf("%s: EncodeContext(%q) = %v, want %v", name, v.Text, got, v.Context77)
				break
			}
		}
	}
}

// TestLoadShortMergeList checks that a merge list with fewer merges than
// CLIP's gets a correspondingly smaller vocabulary with the special tokens
// right after the merges.
func TestLoadShortMergeList(t *testing.T) {
	tok, err := LoadReader("short", strings.NewReader("#version: 0.2\nh e\nl l\nhe ll\nhell o</w>\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.VocabSize(), 512+4+2; got != want {
		t.Errorf("VocabSize = %d, want %d", got, want)
	}
	// "hello" merges all the way: rank 3, id 512+3.
	checkIDs(t, "Encode(hello)", tok.Encode("Hello"), []int32{515})
	checkIDs(t, "EncodeContext", tok.EncodeContext("hello", 4), []int32{516, 515, 517, 0})
}
