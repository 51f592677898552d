package tokenizer

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// clipTokenizerJSON builds, from OpenAI's merge list, a tokenizer.json shaped
// like Hugging Face's CLIP exports (openai/clip-vit-base-patch32): BPE with
// "</w>", the byte symbols, merges as "a b" strings (or [a, b] arrays when
// arrays is set), the two special tokens as added tokens and a
// RobertaProcessing post-processor.
func clipTokenizerJSON(t testing.TB, mergesPath string, arrays bool) []byte {
	t.Helper()
	f, err := os.Open(mergesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")[1 : 1+clipMerges]
	order, char := bytesToUnicode()
	vocab := map[string]int{}
	add := func(s string) { vocab[s] = len(vocab) }
	for _, b := range order {
		add(string(char[b]))
	}
	for _, b := range order {
		add(string(char[b]) + "</w>")
	}
	var merges []any
	for _, l := range lines {
		a, b, _ := strings.Cut(l, " ")
		add(a + b)
		if arrays {
			merges = append(merges, []string{a, b})
		} else {
			merges = append(merges, l)
		}
	}
	add("<|startoftext|>")
	add("<|endoftext|>")
	doc := map[string]any{
		"version": "1.0",
		"added_tokens": []any{
			map[string]any{"id": 49406, "content": "<|startoftext|>", "special": true},
			map[string]any{"id": 49407, "content": "<|endoftext|>", "special": true},
		},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "NFC"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": `\s+`}, "content": " "},
			map[string]any{"type": "Lowercase"},
		}},
		"post_processor": map[string]any{
			"type": "RobertaProcessing",
			"sep":  []any{"<|endoftext|>", 49407},
			"cls":  []any{"<|startoftext|>", 49406},
		},
		"model": map[string]any{
			"type":                      "BPE",
			"dropout":                   nil,
			"unk_token":                 "<|endoftext|>",
			"continuing_subword_prefix": "",
			"end_of_word_suffix":        "</w>",
			"fuse_unk":                  false,
			"byte_fallback":             false,
			"vocab":                     vocab,
			"merges":                    merges,
		},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
