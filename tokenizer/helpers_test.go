package tokenizer

import (
	"bufio"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// vector is one line of the shared vectors.jsonl, produced by OpenAI's
// reference tokenizer.
type vector struct {
	Text      string  `json:"text"`
	IDs       []int32 `json:"ids"`
	Context77 []int32 `json:"context77"`
}

func sharedFile(t testing.TB, name string) string {
	t.Helper()
	p := testutil.SharedPath(t, "testdata", "clip-bpe", name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		testutil.Missing(t, "shared CLIP test data %s", p)
	}
	return p
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(sharedFile(t, "vectors.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var v vector
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("vectors.jsonl line %d: %v", line, err)
		}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("vectors.jsonl is empty")
	}
	return vs
}

var clipOnce struct {
	sync.Once
	tok *Tokenizer
	err error
}

// clipTokenizer loads the shared merge list once per test binary: it is
// read-only and the tokenizer is safe for concurrent use.
func clipTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	path := sharedFile(t, "bpe_simple_vocab_16e6.txt.gz")
	clipOnce.Do(func() { clipOnce.tok, clipOnce.err = Load(path) })
	if clipOnce.err != nil {
		t.Fatal(clipOnce.err)
	}
	return clipOnce.tok
}

func wordLevelTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := Load("testdata/wordlevel.json")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func checkIDs(t *testing.T, what string, got, want []int32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}
