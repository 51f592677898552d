package tokenizer

import (
	"encoding/json"
	"os"
	"testing"
)

// fileVocab reads a tokenizer.json's vocabulary with encoding/json alone,
// so expected ids come from the file rather than from the code under test.
func fileVocab(t *testing.T, path string) map[string]int32 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Model struct {
			Vocab map[string]int32 `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Model.Vocab
}

func idsOf(t *testing.T, vocab map[string]int32, words ...string) []int32 {
	t.Helper()
	ids := make([]int32, 0, len(words))
	for _, w := range words {
		id, ok := vocab[w]
		if !ok {
			t.Fatalf("test vocabulary has no %q", w)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestWordLevel(t *testing.T) {
	const path = "testdata/wordlevel.json"
	tok := wordLevelTokenizer(t)
	v := fileVocab(t, path)
	if got, want := tok.VocabSize(), len(v); got != want {
		t.Errorf("VocabSize = %d, want %d", got, want)
	}
	tests := []struct {
		text  string
		words []string
	}{
		{"", nil},
		{"a photo of the cat", []string{"a", "photo", "of", "the", "cat"}},
		{"  A  ROBOT\tnear\u3000the WALL.  ", []string{"a", "robot", "near", "the", "wall", "."}},
		{"forklift at dock-3 (night shift)!", []string{"forklift", "at", "dock", "-", "<unk>", "(", "night", "shift", "<unk>"}}, // ")!" is one run
		{"red,blue", []string{"red", ",", "blue"}},
		{"the cat...", []string{"the", "cat", "<unk>"}}, // "..." is one punctuation run, not in the vocab
		{"giraffe zebra", []string{"<unk>", "<unk>"}},
		{"a<|endoftext|>cat", []string{"a", "<|endoftext|>", "cat"}}, // added tokens cut out before cleaning
		{"<|ENDOFTEXT|>", []string{"<unk>", "<unk>", "<unk>"}},       // but only literally: "<|", "endoftext", "|>"
		{"\xff cat", []string{"<unk>", "cat"}},
	}
	for _, tt := range tests {
		checkIDs(t, "Encode("+tt.text+")", tok.Encode(tt.text), idsOf(t, v, tt.words...))
	}
	// No post_processor: the start/end pair is found in the vocabulary; no
	// padding section: pad with 0.
	got := tok.EncodeContext("a red box near the wall", 6)
	want := append(idsOf(t, v, "<|startoftext|>", "a", "red", "box", "near"), v["<|endoftext|>"])
	checkIDs(t, "EncodeContext truncated", got, want)
	got = tok.EncodeContext("a cat", 6)
	want = append(idsOf(t, v, "<|startoftext|>", "a", "cat", "<|endoftext|>"), 0, 0)
	checkIDs(t, "EncodeContext padded", got, want)
}

func TestWordLevelBert(t *testing.T) {
	const path = "testdata/wordlevel_bert.json"
	tok, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	v := fileVocab(t, path)
	// BertPreTokenizer isolates every punctuation character.
	checkIDs(t, "Encode", tok.Encode("A robot's dock-3..."), idsOf(t, v, "a", "robot", "'", "s", "dock", "-", "3", ".", ".", "."))
	// Template [CLS] $A [SEP], padding.pad_id from the file.
	got := tok.EncodeContext("a cat photo", 8)
	want := append(idsOf(t, v, "[CLS]", "a", "cat", "photo", "[SEP]"), v["[PAD]"], v["[PAD]"], v["[PAD]"])
	checkIDs(t, "EncodeContext", got, want)
	checkIDs(t, "EncodeContext n=1", tok.EncodeContext("a cat", 1), idsOf(t, v, "[SEP]"))
}
