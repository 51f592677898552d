package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runWorldCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runCLI(context.Background(), env, append([]string{"world"}, args...))
	return code, out.String(), errb.String()
}

func TestWorldRenderWritesFiles(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runWorldCLI(t, "render", "--scenario", "default", "--out", dir, "--n", "1", "--size", "32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	labels, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(labels)), "\n")
	pngs, _ := filepath.Glob(filepath.Join(dir, "*", "*.png"))
	// One picture per task and zero-shot set of the default scenario.
	if len(lines) != 11 || len(pngs) != 11 {
		t.Errorf("%d label lines and %d PNGs, want 11 each", len(lines), len(pngs))
	}
}

func TestWorldRejectsBadFlags(t *testing.T) {
	code, _, stderr := runWorldCLI(t, "render", "--nope")
	if code != 2 || !strings.Contains(stderr, "flag provided but not defined") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runWorldCLI(t, "check", "--scenario", "missing.yaml")
	if code != 1 || !strings.Contains(stderr, "unknown scenario") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
