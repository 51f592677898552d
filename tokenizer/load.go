package tokenizer

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// ErrFormat is wrapped by every error about the content of a vocabulary
// file, as opposed to failing to read it.
var ErrFormat = errors.New("tokenizer: invalid vocabulary file")

// maxFileSize bounds what a vocabulary file may expand to, so that a
// corrupt or hostile file (a gzip bomb) fails instead of exhausting memory.
// CLIP's files are 1.7 MB (merges) and 3.6 MB (tokenizer.json).
const maxFileSize = 64 << 20

// clipMerges is how many lines of OpenAI's merge file CLIP uses:
// 49152 - 256 - 2, the vocabulary size minus the byte symbols and the
// two special tokens.
const clipMerges = 49152 - 256 - 2

// Load reads a vocabulary file: OpenAI's merge list
// (bpe_simple_vocab_16e6.txt.gz, gzip-compressed or not) or a Hugging Face
// tokenizer.json (also optionally gzip-compressed). The format is detected
// from the content, not the name.
func Load(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	return LoadReader(path, f)
}

// LoadReader is Load for an open stream; name identifies it in errors.
func LoadReader(name string, r io.Reader) (*Tokenizer, error) {
	data, err := readLimited(r, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: reading %s: %w", name, err)
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%w %s: corrupt gzip data: %w", ErrFormat, name, err)
		}
		data, err = readLimited(zr, maxFileSize)
		if err != nil {
			return nil, fmt.Errorf("%w %s: decompressing: %w", ErrFormat, name, err)
		}
	}
	var t *Tokenizer
	switch trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n"); {
	case bytes.HasPrefix(trimmed, []byte("{")):
		t, err = parseHFJSON(trimmed)
	case isMergeListHeader(data):
		t, err = parseMerges(data)
	default:
		err = errors.New("neither a merge list (first line a \"#version\" header) nor a tokenizer.json (a JSON object)")
	}
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrFormat, name, err)
	}
	return t, nil
}

// isMergeListHeader recognises the first line of OpenAI's merge list,
// "bpe_simple_vocab_16e6.txt#version: 0.2": the file name it was written
// under, then the version.
func isMergeListHeader(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return bytes.Contains(line, []byte("#version"))
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return data, nil
}

// bytesToUnicode is GPT-2's reversible map from bytes to printable
// characters, in the order CLIP lists them as vocabulary entries 0..255:
// the bytes that are printable Latin-1 themselves first, then the rest
// shifted to U+0100 and up.
func bytesToUnicode() (order [256]byte, char [256]rune) {
	k := 0
	for b := 0; b < 256; b++ {
		if '!' <= b && b <= '~' || '¡' <= b && b <= '¬' || '®' <= b && b <= 'ÿ' {
			order[k] = byte(b)
			char[b] = rune(b)
			k++
		}
	}
	n := 0
	for b := 0; b < 256; b++ {
		if char[b] == 0 {
			order[k] = byte(b)
			char[b] = rune(256 + n)
			k++
			n++
		}
	}
	return order, char
}

const endOfWord = "</w>"

// parseMerges builds CLIP's tokenizer from OpenAI's merge list the way
// simple_tokenizer.py does: vocabulary = byte symbols, byte symbols with
// "</w>", one concatenation per merge, then the two special tokens.
func parseMerges(data []byte) (*Tokenizer, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("merge list is not valid UTF-8")
	}
	lines := strings.Split(string(data), "\n")
	lines = lines[1:] // version header
	if n := len(lines); n > 0 && strings.TrimSpace(lines[n-1]) == "" {
		lines = lines[:n-1] // final newline
	}
	if len(lines) > clipMerges {
		lines = lines[:clipMerges]
	}
	if len(lines) == 0 {
		return nil, errors.New("merge list has a header but no merges")
	}
	type pair struct{ a, b string }
	merges := make([]pair, len(lines))
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want two symbols separated by a space, got %q", i+2, line)
		}
		merges[i] = pair{f[0], f[1]}
	}

	order, char := bytesToUnicode()
	vocab := make([]string, 0, 512+len(merges)+2)
	for _, b := range order {
		vocab = append(vocab, string(char[b]))
	}
	for _, b := range order {
		vocab = append(vocab, string(char[b])+endOfWord)
	}
	for _, m := range merges {
		vocab = append(vocab, m.a+m.b)
	}
	vocab = append(vocab, startOfText, endOfText)
	// Later entries win, as in Python's dict(zip(vocab, range(...))).
	enc := make(map[string]int32, len(vocab))
	for i, s := range vocab {
		enc[s] = int32(i)
	}

	bm := &bpeModel{merges: make(map[uint64]mergeRule, len(merges))}
	for b := 0; b < 256; b++ {
		bm.byteID[b] = enc[string(char[b])]
		bm.byteEndID[b] = enc[string(char[b])+endOfWord]
	}
	for rank, m := range merges {
		a, okA := enc[m.a]
		b, okB := enc[m.b]
		if !okA || !okB {
			// No word can ever contain a symbol outside the vocabulary, so
			// the reference keeps this merge but never applies it.
			continue
		}
		bm.merges[pairKey(a, b)] = mergeRule{rank: int32(rank), merged: enc[m.a+m.b]}
	}
	start, end := enc[startOfText], enc[endOfText]
	return &Tokenizer{
		vocabSize: len(vocab),
		bpe:       bm,
		specials:  map[string]int32{startOfText: start, endOfText: end},
		prefix:    []int32{start},
		suffix:    []int32{end},
		pad:       0,
	}, nil
}
