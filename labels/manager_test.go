package labels

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel/acceltest"
)

func noEnv(string) string { return "" }

func testManager(t *testing.T, cfg Config, enc *acceltest.Fake, logs *logBuffer) *Manager {
	t.Helper()
	m, err := NewManager(cfg, ManagerOptions{Encoder: enc, TopK: 2, Log: logs.logger(), Getenv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestManagerReloadsChangedFile(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Tokenizer, cfg.Default = t.TempDir(), wordLevelPath(t), []string{"cat", "dog"}
	cfg.ReloadInterval = 5 * time.Millisecond
	enc := acceltest.New(acceltest.Config{Dim: 16})
	var logs logBuffer
	m := testManager(t, cfg, enc, &logs)
	if _, err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	clf := m.Classifier()
	if got := clf.Current(); got.Len() != 2 || got.Name(0) != "cat" {
		t.Fatalf("default vocabulary not loaded: %d labels", got.Len())
	}
	if !strings.Contains(logs.String(), "labels ready") || !strings.Contains(logs.String(), "vocabulary=labels.default") {
		t.Fatalf("log:\n%s", logs.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Watch(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	v, _, _ := m.Vocabulary()
	v.Add("robot", nil)
	if err := m.SaveVocabulary(v); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return clf.Current().Index("robot") >= 0 }, "the watcher to load robot")
	if st := m.Statuses(); len(st) != 3 || st[2].Source != SourceEncoded || st[0].Source != SourceCache {
		t.Fatalf("statuses after reload: %s", sources(st))
	}

	// A broken edit is reported and the previous labels stay.
	if err := writeFile(m.VocabularyPath(), "version: 1\nlabels: [{name: cat}, {nme: dog}]\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "label reload failed") }, "the failed reload to be logged")
	if clf.Current().Len() != 3 || !strings.Contains(logs.String(), "labels[1].nme: unknown key") {
		t.Fatalf("after a broken edit: %d labels\n%s", clf.Current().Len(), logs.String())
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestManagerNoTokenizerLogsOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir = t.TempDir()
	enc := acceltest.New(acceltest.Config{Dim: 16, ID: "testclip-random-v1"})
	var logs logBuffer
	m := testManager(t, cfg, enc, &logs)
	for i := 0; i < 3; i++ {
		if _, err := m.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	if m.Classifier().Current().Len() != 0 || strings.Count(out, "no labels: events carry none") != 1 ||
		!strings.Contains(out, "labels need a tokenizer: model testclip-random-v1's manifest names none") {
		t.Fatalf("log:\n%s", out)
	}
	if _, from := m.Tokenizer(); !strings.Contains(from, "labels.tokenizer") {
		t.Fatalf("Tokenizer() reason %q does not say how to fix it", from)
	}
}

func TestManagerTokenizerFromEnvironment(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Default = t.TempDir(), []string{"box"}
	env := map[string]string{"CLIPFLEET_VOCAB": wordLevelPath(t)}
	m, err := NewManager(cfg, ManagerOptions{Encoder: acceltest.New(acceltest.Config{}), TopK: 1, Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Reload(context.Background()); err != nil || m.Classifier().Current().Len() != 1 {
		t.Fatalf("reload: %v", err)
	}
	if _, from := m.Tokenizer(); from != "$CLIPFLEET_VOCAB" {
		t.Fatalf("tokenizer from %q", from)
	}
	cfg.Tokenizer = filepath.Join(t.TempDir(), "missing.txt.gz")
	if _, err := NewManager(cfg, ManagerOptions{Encoder: acceltest.New(acceltest.Config{}), Getenv: noEnv}); err == nil ||
		!strings.Contains(err.Error(), "labels.tokenizer") {
		t.Fatalf("unreadable configured tokenizer: %v", err)
	}
}

func TestManagerEmbeddingsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "labels.emb")
	if err := WriteEmbeddingsFile(path, sampleEmbeddings(), FormatBinary); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Dir, cfg.EmbeddingsFile, cfg.Default = dir, path, []string{"circle", "三角形"}
	coral := acceltest.New(acceltest.Config{Dim: 3, NoText: true, ID: "testclip-random-v1"})
	var logs logBuffer
	m := testManager(t, cfg, coral, &logs)
	if _, err := m.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Classifier().Classify([]float32{0.6, 0, 0.8}, nil)
	if len(got) != 2 || got[0].Name != "circle" || m.Classifier().Current().Source(0) != SourceFile {
		t.Fatalf("classified %+v", got)
	}

	other := acceltest.New(acceltest.Config{Dim: 3, NoText: true, ID: "clip-vit-b32"})
	_, err := NewManager(cfg, ManagerOptions{Encoder: other, Getenv: noEnv})
	if !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "clip-vit-b32") {
		t.Fatalf("mismatched embeddings file: %v", err)
	}
}

func TestManagerEmptyVocabulary(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Dir, cfg.Tokenizer, cfg.Default = t.TempDir(), wordLevelPath(t), nil
	var logs logBuffer
	m := testManager(t, cfg, acceltest.New(acceltest.Config{}), &logs)
	m.Reload(context.Background())
	m.Reload(context.Background())
	if n := strings.Count(logs.String(), "no labels: events carry none"); n != 1 || !strings.Contains(logs.String(), "edge labels add") {
		t.Fatalf("logged %d times:\n%s", n, logs.String())
	}
}
