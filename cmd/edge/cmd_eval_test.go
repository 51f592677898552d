package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/clipfleet/clipfleet/accel/acceltest" // the "fake" backend
	"github.com/clipfleet/clipfleet/eval"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

func TestEvalCLIWritesReports(t *testing.T) {
	dir := t.TempDir()
	scenario := testutil.RepoPath(t, "eval", "testdata", "tiny.yaml")
	jsonOut, mdOut, plotOut := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.png")
	args := []string{"eval", "--scenario", scenario, "--method", "ncm,zeroshot,finetune,joint", "--epochs", "2",
		"--set", "accel.backend=fake", "--set", "accel.model_dir=" + testutil.RepoPath(t, "models", "testclip"),
		"--cache", filepath.Join(dir, "cache"), "--json", jsonOut, "--markdown", mdOut, "--plot", plotOut}
	code, stdout, stderr := runEdge(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, m := range []string{"| ncm |", "| zeroshot |", "| joint |"} {
		if !strings.Contains(stdout, m) {
			t.Errorf("table lacks %q:\n%s", m, stdout)
		}
	}
	if !strings.Contains(stderr, "embeddings miss") {
		t.Errorf("first run did not build the cache: %s", stderr)
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var results []map[string]any
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 4 {
		t.Fatalf("%d results", len(results))
	}
	for _, r := range results {
		for _, k := range []string{"method", "avg", "last", "bwt", "transfer", "matrix", "never_named_10shot", "update_us_per_example", "epochs"} {
			if _, ok := r[k]; !ok {
				t.Errorf("result %v lacks %q", r["method"], k)
			}
		}
		// --epochs is the budget of gradient-trained methods; ncm counts
		// each example once.
		if want := map[any]float64{"finetune": 2, "ncm": 1}[r["method"]]; want != 0 && r["epochs"] != want {
			t.Errorf("%v: epochs %v, want %v", r["method"], r["epochs"], want)
		}
		if m, _ := r["matrix"].([]any); len(m) != 3 {
			t.Errorf("%v: matrix %v", r["method"], r["matrix"])
		}
	}
	f, err := os.Open(plotOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if w, h := eval.PlotSize(4, 3); img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("plot %v, want %dx%d", img.Bounds(), w, h)
	}
	if md, _ := os.ReadFile(mdOut); !strings.Contains(string(md), "after learning task i") || !strings.Contains(string(md), "never-named 10-shot") {
		t.Errorf("markdown lacks the matrices:\n%s", md)
	}
	// The second run reads the cache: nothing is encoded.
	code, _, stderr = runEdge(t, nil, args...)
	if code != 0 || !strings.Contains(stderr, "embeddings hit (0 images encoded") {
		t.Errorf("second run: exit %d\n%s", code, stderr)
	}
}

func TestEvalCLIRejectsBadBudget(t *testing.T) {
	for _, tc := range []struct{ flag, value, want string }{
		{"--epochs", "0", "epochs 0 < 1"},
		{"--few-shot", "-1", "few_shot -1 < 0"},
		{"--few-shot-draws", "0", "few_shot_draws 0 < 1"},
		{"--teach-views", "-1", "views -1 outside"},
		{"--teach-augment", "fancy", `unknown preset "fancy"`},
	} {
		code, _, stderr := runEdge(t, nil, "eval", tc.flag, tc.value)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s %s: exit %d: %s", tc.flag, tc.value, code, stderr)
		}
	}
}

func TestEvalCLIRejectsUnknownMethod(t *testing.T) {
	code, _, stderr := runEdge(t, nil, "eval", "--method", "nope")
	if code != 2 || !strings.Contains(stderr, `unknown method "nope"`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// --teach-views teaches augmented views with the never-named pictures and
// says so in the table header and the JSON, with per-class accuracies.
func TestEvalCLITeachViews(t *testing.T) {
	dir := t.TempDir()
	jsonOut, mdOut := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.md")
	code, stdout, stderr := runEdge(t, nil, "eval", "--scenario", testutil.RepoPath(t, "eval", "testdata", "newshapes.yaml"),
		"--method", "ncm", "--few-shot", "3", "--few-shot-draws", "1", "--teach-views", "2", "--teach-augment", "shape",
		"--set", "accel.backend=fake", "--set", "accel.model_dir="+testutil.RepoPath(t, "models", "testclip"),
		"--cache", filepath.Join(dir, "cache"), "--json", jsonOut, "--markdown", mdOut)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// 28 pictures, and 2 views of 3 pictures of each of 3 classes.
	if !strings.Contains(stderr, "(46 images encoded") {
		t.Errorf("encoder calls: %s", stderr)
	}
	if !strings.Contains(stdout, "never-named 3-shot (+2 views)") {
		t.Errorf("table header: %s", stdout)
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var results []struct {
		TeachViews   int                `json:"teach_views"`
		TeachAugment map[string]float64 `json:"teach_augment"`
		Classes      []string           `json:"never_named_classes"`
		PerClass     []float64          `json:"never_named_per_class"`
	}
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatal(err)
	}
	r := results[0]
	if r.TeachViews != 2 || r.TeachAugment["hue"] != 0.5 || len(r.Classes) != 3 || len(r.PerClass) != 3 {
		t.Errorf("JSON: %+v", r)
	}
	if md, _ := os.ReadFile(mdOut); !strings.Contains(string(md), "classes above 80%") {
		t.Errorf("markdown lacks the per-class table:\n%s", md)
	}
}
