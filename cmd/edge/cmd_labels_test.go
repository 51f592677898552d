package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/labels"
)

// bpeVocab is OpenAI's CLIP merge list from the shared test data; the
// default test model names no tokenizer of its own.
func bpeVocab(t *testing.T) string {
	t.Helper()
	p := testutil.SharedPath(t, "testdata", "clip-bpe", "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(p); err != nil {
		testutil.Missing(t, "shared CLIP BPE vocabulary: %v", err)
	}
	return p
}

// labelSets are the --set flags that point a command at a private state
// directory and the testclip model, whatever the working directory.
func labelSets(t *testing.T, dir string, extra ...string) []string {
	args := []string{"--set", "labels.dir=" + dir, "--set", "accel.model_dir=" + testutil.RepoPath(t, "models", "testclip")}
	for _, e := range extra {
		args = append(args, "--set", e)
	}
	return args
}

func listJSON(t *testing.T, args ...string) map[string]labels.Status {
	t.Helper()
	code, stdout, stderr := runEdge(t, nil, append([]string{"labels", "list", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("labels list: exit %d\n%s", code, stderr)
	}
	out := map[string]labels.Status{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var s labels.Status
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("list line %q: %v", sc.Text(), err)
		}
		out[s.Name] = s
	}
	return out
}

func source(s labels.Status) string { return s.Source.String() }

func TestLabelsAddRmList(t *testing.T) {
	t.Setenv("CLIPFLEET_VOCAB", "")
	dir := t.TempDir()
	vocab := bpeVocab(t)
	file := filepath.Join(dir, labels.VocabularyFile)

	// Before any edit: the configured default, not yet embedded.
	code, stdout, stderr := runEdge(t, nil, append([]string{"labels", "list"}, labelSets(t, dir)...)...)
	if code != 0 || !strings.Contains(stdout, "labels.default") || !strings.Contains(stdout, "labels need a tokenizer") ||
		!strings.Contains(stdout, "unavailable") {
		t.Fatalf("list without tokenizer: exit %d\n%s%s", code, stdout, stderr)
	}
	st := listJSON(t, labelSets(t, dir, "labels.tokenizer="+vocab)...)
	if len(st) != len(daemon.DefaultConfig().Labels.Default) || source(st["circle"]) != "pending" {
		t.Fatalf("default vocabulary: %v", st)
	}

	code, stdout, stderr = runEdge(t, nil, append(append([]string{"labels", "add"}, labelSets(t, dir)...),
		"--templates", "una foto de un {}.", "--templates", "un {} pequeño", "Triángulo", "三角形")...)
	if code != 0 || !strings.Contains(stdout, "added triángulo") || !strings.Contains(stdout, "from labels.default") {
		t.Fatalf("add: exit %d\n%s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(data), "triángulo") || !strings.Contains(string(data), "un {} pequeño") {
		t.Fatalf("label file after add (%v):\n%s", err, data)
	}

	for _, bad := range [][]string{{"mug", "background"}, {"mug", "  "}, {"--templates", "no placeholder", "mug"}} {
		code, _, stderr = runEdge(t, nil, append(append([]string{"labels", "add"}, labelSets(t, dir)...), bad...)...)
		if code != 1 || !strings.Contains(stderr, "edge labels add:") {
			t.Fatalf("add %q: exit %d, %s", bad, code, stderr)
		}
	}
	code, _, stderr = runEdge(t, nil, append(append([]string{"labels", "rm"}, labelSets(t, dir)...), "circle", "unicorn")...)
	if code != 1 || !strings.Contains(stderr, `no label "unicorn"`) {
		t.Fatalf("rm with an unknown name: exit %d, %s", code, stderr)
	}
	if again, _ := os.ReadFile(file); string(again) != string(data) {
		t.Fatal("a failed edit changed the label file")
	}
	code, stdout, stderr = runEdge(t, nil, append(append([]string{"labels", "rm"}, labelSets(t, dir)...), "Circle", "square")...)
	if code != 0 || !strings.Contains(stdout, "removed 2 labels") {
		t.Fatalf("rm: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, stderr = runEdge(t, nil, append(append([]string{"labels", "templates"}, labelSets(t, dir)...), "itap of a {}.")...)
	if code != 0 {
		t.Fatalf("templates: exit %d\n%s", code, stderr)
	}
	st = listJSON(t, labelSets(t, dir, "labels.tokenizer="+vocab)...)
	if _, ok := st["circle"]; ok || len(st) != len(daemon.DefaultConfig().Labels.Default) {
		t.Fatalf("after rm circle, square and adding two: %d labels", len(st))
	}
	tri, star := st["triángulo"], st["star"]
	if tri.TemplatesFrom != labels.TemplatesLabel || len(tri.Templates) != 2 || tri.ID != labels.ID("triángulo") ||
		star.TemplatesFrom != labels.TemplatesSet || star.Templates[0] != "itap of a {}." {
		t.Fatalf("templates: triángulo %+v, star %+v", tri, star)
	}
	code, stdout, _ = runEdge(t, nil, append(append([]string{"labels", "templates"}, labelSets(t, dir)...), "--reset")...)
	if code != 0 || listJSON(t, labelSets(t, dir, "labels.tokenizer="+vocab)...)["star"].TemplatesFrom != labels.TemplatesConfig {
		t.Fatalf("templates --reset: exit %d %s", code, stdout)
	}

	for _, bad := range [][]string{{}, {"frobnicate"}, {"rm"}, {"export"}} {
		if code, _, _ := runEdge(t, nil, append([]string{"labels"}, bad...)...); code != 2 {
			t.Errorf("labels %q: exit %d, want 2", bad, code)
		}
	}
}

func TestLabelsEncodeExportFromFile(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	vocab := bpeVocab(t)
	sets := labelSets(t, dir, "labels.tokenizer="+vocab, `labels.default=["cube", "sphere", "三角形"]`)

	st := listJSON(t, append([]string{"--encode"}, sets...)...)
	if source(st["cube"]) != "fresh" || source(st["三角形"]) != "fresh" {
		t.Fatalf("list --encode: %v", st)
	}
	if st := listJSON(t, sets...); source(st["sphere"]) != "cached" {
		t.Fatalf("list after --encode: %v", st)
	}

	for _, format := range []string{"json", "binary"} {
		out := filepath.Join(t.TempDir(), "labels."+format)
		code, stdout, stderr := runEdge(t, nil, append(append([]string{"labels", "export", "--format", format}, sets...), out)...)
		if code != 0 || !strings.Contains(stdout, "wrote 3 label embeddings of model testclip-random-v1 (dim 64)") {
			t.Fatalf("export %s: exit %d\n%s%s", format, code, stdout, stderr)
		}
		e, err := labels.ReadEmbeddingsFile(out)
		if err != nil || e.Check("testclip-random-v1", 64) != nil || len(e.Labels) != 3 {
			t.Fatalf("exported %s: %+v %v", format, e, err)
		}
		// A device without a tokenizer (here: none configured) uses the file.
		st := listJSON(t, labelSets(t, t.TempDir(), "labels.embeddings_file="+out, `labels.default=["cube", "mug"]`)...)
		if source(st["cube"]) != "from-file" || source(st["mug"]) != "unavailable" {
			t.Fatalf("with embeddings file: %v", st)
		}
	}
}

func decodeLabeledEvents(t *testing.T, stdout string) []daemon.Event {
	t.Helper()
	evs := decodeEvents(t, stdout)
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	return evs
}

func TestRunWithLabels(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	code, stdout, stderr := runEdge(t, nil, append([]string{"run", "--max-frames", "3", "--listen", "off"},
		labelSets(t, dir, "labels.tokenizer="+bpeVocab(t))...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	known := map[string]bool{}
	for _, n := range daemon.DefaultConfig().Labels.Default {
		known[n] = true
	}
	evs := decodeLabeledEvents(t, stdout)
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	for _, e := range evs {
		if len(e.Labels) != daemon.DefaultConfig().Pipeline.TopK {
			t.Fatalf("event %d has %d labels: %+v", e.FrameSeq, len(e.Labels), e.Labels)
		}
		var sum float32
		for i, l := range e.Labels {
			if !known[l.Name] || l.Prob <= 0 || i > 0 && l.Prob > e.Labels[i-1].Prob {
				t.Fatalf("event %d labels %+v: unknown name, zero or unsorted", e.FrameSeq, e.Labels)
			}
			sum += l.Prob
		}
		if sum > 1+1e-5 {
			t.Fatalf("event %d: top-k probabilities sum to %v", e.FrameSeq, sum)
		}
	}
	nDefault := len(daemon.DefaultConfig().Labels.Default)
	if !strings.Contains(stderr, "labels ready") || !strings.Contains(stderr, fmt.Sprintf(" encoded=%d ", nDefault)) {
		t.Fatalf("log lacks the label summary:\n%s", stderr)
	}
	// A restart reuses the cache.
	code, _, stderr = runEdge(t, nil, append([]string{"run", "--max-frames", "1", "--listen", "off"},
		labelSets(t, dir, "labels.tokenizer="+bpeVocab(t))...)...)
	if code != 0 || !strings.Contains(stderr, fmt.Sprintf("cached=%d encoded=0", nDefault)) {
		t.Fatalf("restart: exit %d\n%s", code, stderr)
	}
}

func TestRunWithoutTokenizerSaysSo(t *testing.T) {
	needORT(t)
	t.Setenv("CLIPFLEET_VOCAB", "")
	code, stdout, stderr := runEdge(t, nil, append([]string{"run", "--max-frames", "2", "--listen", "off"}, labelSets(t, t.TempDir())...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, e := range decodeLabeledEvents(t, stdout) {
		if len(e.Labels) != 0 {
			t.Fatalf("labels without a tokenizer: %+v", e.Labels)
		}
	}
	if strings.Count(stderr, "labels need a tokenizer") != 1 || !strings.Contains(stderr, "no labels: events carry none") {
		t.Fatalf("log must say once that labels need a tokenizer:\n%s", stderr)
	}
}

func TestRunRejectsForeignEmbeddings(t *testing.T) {
	needORT(t)
	path := filepath.Join(t.TempDir(), "coral.json")
	vec := make([]float32, 512)
	vec[0] = 1
	e := &labels.Embeddings{ModelID: "clip-vit-b32-edgetpu", Dim: 512, Labels: []labels.Embedding{{Name: "mug", Vector: vec}}}
	if err := labels.WriteEmbeddingsFile(path, e, labels.FormatJSON); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runEdge(t, nil, append([]string{"run", "--max-frames", "1", "--listen", "off"},
		labelSets(t, t.TempDir(), "labels.embeddings_file="+path)...)...)
	if code != 1 || !strings.Contains(stderr, `embeddings are for model \"clip-vit-b32-edgetpu\" (dim 512)`) ||
		!strings.Contains(stderr, "testclip-random-v1") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
