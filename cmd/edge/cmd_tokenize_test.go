package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

type tokenizeVector struct {
	Text      string  `json:"text"`
	IDs       []int32 `json:"ids"`
	Context77 []int32 `json:"context77"`
}

func tokenizeShared(t *testing.T, name string) string {
	t.Helper()
	p := testutil.SharedPath(t, "testdata", "clip-bpe", name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		testutil.Missing(t, "shared CLIP test data %s", p)
	}
	return p
}

func tokenizeVectors(t *testing.T) []tokenizeVector {
	t.Helper()
	data, err := os.ReadFile(tokenizeShared(t, "vectors.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []tokenizeVector
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v tokenizeVector
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("vectors.jsonl line %d: %v", i+1, err)
		}
		if strings.ContainsAny(v.Text, "\r\n") {
			t.Fatalf("vectors.jsonl line %d: text spans lines, cannot be fed line by line", i+1)
		}
		vs = append(vs, v)
	}
	return vs
}

// runTokenizeCLI runs `edge tokenize args...` in-process.
func runTokenizeCLI(t *testing.T, stdin string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &cliEnv{
		stdin:  strings.NewReader(stdin),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return env[k] },
	}
	code = runCLI(context.Background(), e, append([]string{"tokenize"}, args...))
	return code, out.String(), errOut.String()
}

// parseIDLines decodes one JSON array per output line.
func parseIDLines(t *testing.T, out string) [][]int32 {
	t.Helper()
	var rows [][]int32
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var ids []int32
		if err := json.Unmarshal(sc.Bytes(), &ids); err != nil || ids == nil {
			t.Fatalf("output line %q is not a JSON array of ids: %v", sc.Text(), err)
		}
		rows = append(rows, ids)
	}
	return rows
}

func TestTokenizeMatchesVectors(t *testing.T) {
	vs := tokenizeVectors(t)
	vocab := tokenizeShared(t, "bpe_simple_vocab_16e6.txt.gz")
	var in strings.Builder
	for _, v := range vs {
		in.WriteString(v.Text + "\n")
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(tokenizeVector) []int32
	}{
		{"raw ids", []string{"--vocab", vocab}, nil, func(v tokenizeVector) []int32 { return v.IDs }},
		{"context 77", []string{"--vocab", vocab, "--context", "77"}, nil, func(v tokenizeVector) []int32 { return v.Context77 }},
		{"vocab from environment", []string{"--context=77"}, map[string]string{"CLIPFLEET_VOCAB": vocab}, func(v tokenizeVector) []int32 { return v.Context77 }},
		{"flag beats environment", []string{"-vocab", vocab}, map[string]string{"CLIPFLEET_VOCAB": "/nonexistent"}, func(v tokenizeVector) []int32 { return v.IDs }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTokenizeCLI(t, in.String(), tt.env, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			rows := parseIDLines(t, out)
			if len(rows) != len(vs) {
				t.Fatalf("%d output lines for %d input lines", len(rows), len(vs))
			}
			for i, v := range vs {
				if want := tt.want(v); !slices.Equal(rows[i], want) {
					t.Errorf("line %d %q: got %v, want %v", i+1, v.Text, rows[i], want)
				}
			}
		})
	}
}

// TestTokenizeLines checks line handling with the small WordLevel file
// from the tokenizer package: CRLF endings, a last line without newline,
// empty lines giving [], and a context shorter than the text.
func TestTokenizeLines(t *testing.T) {
	vocab := testutil.RepoPath(t, "tokenizer", "testdata", "wordlevel.json")
	code, out, errOut := runTokenizeCLI(t, "a cat\r\n\nthe robot\xff", nil, "--vocab", vocab)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// a=3 cat=7 the=6 robot=9 <unk>=0, from testdata/wordlevel.json; the
	// invalid byte becomes U+FFFD, a word of its own and unknown.
	if want := "[3,7]\n[]\n[6,9,0]\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	code, out, _ = runTokenizeCLI(t, "a cat near the wall\n", nil, "--vocab", vocab, "--context", "4")
	if want := "[1,3,7,2]\n"; code != 0 || out != want {
		t.Errorf("--context 4: exit %d, stdout %q, want %q", code, out, want)
	}
}

func TestTokenizeErrors(t *testing.T) {
	wl := testutil.RepoPath(t, "tokenizer", "testdata", "wordlevel.json")
	bad := testutil.RepoPath(t, "tokenizer", "testdata", "malformed", "truncated.json")
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
	}{
		{"no vocabulary", nil, nil, 2, "pass --vocab"},
		{"missing file", []string{"--vocab", "/nonexistent/vocab.txt.gz"}, nil, 1, "no such file"},
		{"missing file from environment", nil, map[string]string{"CLIPFLEET_VOCAB": "/nonexistent/v.json"}, 1, "/nonexistent/v.json"},
		{"corrupt file", []string{"--vocab", bad}, nil, 1, "invalid vocabulary file " + bad + ": parsing JSON"},
		{"context zero", []string{"--vocab", wl, "--context", "0"}, nil, 2, "at least 1"},
		{"context not a number", []string{"--vocab", wl, "--context", "x"}, nil, 2, "invalid value"},
		{"unknown flag", []string{"--vocab", wl, "--bogus"}, nil, 2, "bogus"},
		{"positional text", []string{"--vocab", wl, "a cat"}, nil, 2, "stdin"},
		{"help", []string{"-h"}, nil, 0, "--context N"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runTokenizeCLI(t, "a cat\n", tt.env, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d, stderr containing %q", code, errOut, tt.code, tt.stderr)
			}
			if tt.code != 0 && out != "" {
				t.Errorf("stdout %q on failure", out)
			}
		})
	}
}
