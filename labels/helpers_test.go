package labels

import (
	"bytes"
	"log/slog"
	"math"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/tokenizer"
)

// wordLevelPath is the repository's small WordLevel tokenizer: it knows
// "a photo of the cat dog robot forklift person box red blue ...".
func wordLevelPath(t testing.TB) string {
	return testutil.RepoPath(t, "tokenizer", "testdata", "wordlevel.json")
}

func wordLevel(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(wordLevelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func mustVocab(t testing.TB, names ...string) *Vocabulary {
	t.Helper()
	v, err := NewVocabulary(names)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// appendChecksum re-seals a hand-modified container body.
func appendChecksum(body []byte) []byte {
	out := append([]byte(nil), body...)
	var sum [4]byte
	c := crc32Checksum(out)
	sum[0], sum[1], sum[2], sum[3] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
	return append(out, sum[:]...)
}

func writeFile(path, content string) error {
	return atomicfile.WriteFile(path, []byte(content), 0o644)
}
