package labels_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	_ "github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/preprocess"
)

// openTestCLIP opens models/testclip on ONNX Runtime's CPU provider.
func openTestCLIP(t testing.TB) accel.Encoder {
	t.Helper()
	lib := os.Getenv("CLIPFLEET_ORT_LIB")
	if lib == "" {
		lib = testutil.RepoPath(t, "third_party", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		testutil.Missing(t, "ONNX Runtime library %s (run `make deps`): %v", lib, err)
	}
	cfg := accel.DefaultConfig()
	cfg.ModelDir = testutil.RepoPath(t, "models", "testclip")
	cfg.ONNX.Library = lib
	cfg.ONNX.IntraOpThreads = 1 // the machine is shared
	enc, err := accel.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc
}

// bpeVocab is OpenAI's CLIP merge list from the shared test data.
func bpeVocab(t testing.TB) string {
	t.Helper()
	p := testutil.SharedPath(t, "testdata", "clip-bpe", "bpe_simple_vocab_16e6.txt.gz")
	if _, err := os.Stat(p); err != nil {
		testutil.Missing(t, "shared CLIP BPE vocabulary: %v", err)
	}
	return p
}

func ortManager(t testing.TB, enc accel.Encoder, dir string, names []string) *labels.Manager {
	t.Helper()
	cfg := labels.DefaultConfig()
	cfg.Dir, cfg.Tokenizer, cfg.Default = dir, bpeVocab(t), names
	m, err := labels.NewManager(cfg, labels.ManagerOptions{Encoder: enc, TopK: 3, Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTestCLIPEndToEnd(t *testing.T) {
	enc := openTestCLIP(t)
	dir := t.TempDir()
	names := append(labels.DefaultConfig().Default, "triángulo", "三角形", "mug")
	m := ortManager(t, enc, dir, names)
	st, err := m.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	set := m.Classifier().Current()
	if set.Len() != len(names) || st.Encoded != len(names) || st.Prompts != len(names)*len(labels.DefaultTemplates()) {
		t.Fatalf("first build: %d labels, %+v", set.Len(), st)
	}
	distinct := map[string]bool{}
	for i := 0; i < set.Len(); i++ {
		v := set.Vector(i)
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if math.Abs(n-1) > 1e-5 {
			t.Fatalf("%s: norm² %v", set.Name(i), n)
		}
		distinct[fmt.Sprint(v[:4])] = true
	}
	if len(distinct) != set.Len() {
		t.Fatalf("only %d distinct embeddings for %d labels", len(distinct), set.Len())
	}

	// A second manager (a restart) hits the cache: identical vectors, no
	// prompts encoded.
	m2 := ortManager(t, enc, dir, names)
	st2, err := m2.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st2.Cached != len(names) || st2.Prompts != 0 {
		t.Fatalf("restart: %+v", st2)
	}
	set2 := m2.Classifier().Current()
	for i := 0; i < set.Len(); i++ {
		for d, x := range set.Vector(i) {
			if set2.Vector(i)[d] != x {
				t.Fatalf("cached %s differs", set.Name(i))
			}
		}
	}

	// Deterministic: recomputed without the cache, the vectors agree.
	m3 := ortManager(t, enc, t.TempDir(), names)
	if _, err := m3.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < set.Len(); i++ {
		if c := accel.Cosine(set.Vector(i), m3.Classifier().Current().Vector(i)); c < 1-1e-6 {
			t.Fatalf("%s recomputed with cosine %v", set.Name(i), c)
		}
	}

	// A real image through the real encoder gets top-3 labels.
	spec := enc.Info().Image
	rgb := make([]byte, 320*240*3)
	for i := range rgb {
		rgb[i] = byte(i * 7 % 251)
	}
	var tensor preprocess.Tensor
	if err := preprocess.Image(&tensor, rgb, 320, 240, spec); err != nil {
		t.Fatal(err)
	}
	emb := make([]float32, enc.Info().EmbeddingDim)
	if err := enc.EncodeImage(context.Background(), &tensor, emb); err != nil {
		t.Fatal(err)
	}
	top, err := m.Classifier().Classify(emb, nil)
	if err != nil || len(top) != 3 {
		t.Fatalf("classify: %v %v", top, err)
	}
	var sum float32
	for i, s := range top {
		sum += s.Prob
		if i > 0 && s.Prob > top[i-1].Prob || s.Prob <= 0 {
			t.Fatalf("not sorted or zero: %+v", top)
		}
	}
	if sum > 1+1e-6 {
		t.Fatalf("top-3 probabilities sum to %v", sum)
	}
	t.Logf("top-3 of a random-weight model: %+v", top)
}
