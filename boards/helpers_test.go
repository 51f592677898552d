package boards

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"testing"
	"testing/fstest"
)

// fixture loads boards/testdata/<name> into a MapFS, so a test can add,
// change or remove files without touching the tree on disk.
func fixture(t testing.TB, name string) fstest.MapFS {
	t.Helper()
	src := os.DirFS("testdata/" + name)
	m := fstest.MapFS{}
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		m[p] = &fstest.MapFile{Data: b, Mode: 0o444}
		return nil
	})
	if err != nil {
		t.Fatalf("loading fixture %s: %v", name, err)
	}
	if len(m) == 0 {
		t.Fatalf("fixture %s is empty", name)
	}
	return m
}

// file returns a read-only MapFS file with data.
func file(data string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(data), Mode: 0o444} }

// logBuffer is a concurrency-safe log sink for asserting on log lines.
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

func newTestLogger(level slog.Level) (*slog.Logger, *logBuffer) {
	var buf logBuffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})), &buf
}
