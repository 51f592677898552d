package eval

import (
	"context"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/world"
)

const ortScenario = `
name: ort-small
seed: 11
tasks:
  - name: day
    label: shape
    shapes: [circle, square, triangle, star]
    train: 24
    test: 24
    seed: 1
  - name: spanish
    kind: new_language
    label: shape
    language: es
    shapes: [circle, square, triangle, star]
    train: 24
    test: 24
    seed: 2
zero_shot:
  - name: shapes-day
    label: shape
    shapes: [circle, square, triangle, star]
    n: 24
`

// End to end with the real tiny CLIP on ONNX Runtime: the text encoder
// knows English shape names (zero-shot well above chance), not Spanish
// ones, and NCM learns the Spanish labels.
func TestEndToEndTinyCLIP(t *testing.T) {
	if lib, tried := onnx.ResolveLibrary(""); lib == "" {
		testutil.Missing(t, "ONNX Runtime library (tried %v); run `make deps`", tried)
	}
	cfg := accel.DefaultConfig()
	cfg.ModelDir = testutil.RepoPath(t, "models", "tinyclip")
	enc, err := accel.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	sc, err := world.ParseScenario([]byte(ortScenario))
	if err != nil {
		t.Fatal(err)
	}
	ecfg := DefaultConfig()
	ecfg.CacheDir = t.TempDir()
	h, err := New(enc, nil, ecfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, status, st, err := h.Dataset(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if status != CacheMiss || st.ImageCalls != 24*5 || len(ds.Text) != 8 {
		t.Fatalf("status %s, %d image calls, %d text embeddings", status, st.ImageCalls, len(ds.Text))
	}
	res, err := h.Run(context.Background(), ds, "ncm")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("initial %v zero-shot %v matrix %v", res.Initial, res.ZeroShotInitial, res.Matrix)
	if res.Initial[0] < 50 || res.ZeroShotInitial[0] < 50 {
		t.Errorf("zero-shot on English shapes %.1f%% / %.1f%%, want well above the 25%% chance", res.Initial[0], res.ZeroShotInitial[0])
	}
	if res.Matrix[1][1] <= res.Initial[1] {
		t.Errorf("spanish: %.1f%% after learning, %.1f%% before", res.Matrix[1][1], res.Initial[1])
	}
}
