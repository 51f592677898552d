package onnx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/preprocess"
)

// ortLibrary finds the ONNX Runtime library for tests, or reports it missing.
func ortLibrary(t testing.TB) string {
	t.Helper()
	p := os.Getenv("CLIPFLEET_ORT_LIB")
	if p == "" {
		p = testutil.RepoPath(t, "third_party", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(p); err != nil {
		testutil.Missing(t, "ONNX Runtime library %s (run `make deps`): %v", p, err)
	}
	return p
}

func testModelDir(t testing.TB) string {
	return testutil.RepoPath(t, "models", "testclip")
}

func testConfig(t testing.TB, dir, variant string) accel.Config {
	cfg := accel.DefaultConfig()
	cfg.ModelDir = dir
	cfg.Variant = variant
	cfg.ONNX.Library = ortLibrary(t)
	cfg.ONNX.IntraOpThreads = 1 // the test machine is shared; keep runs light
	return cfg
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func openTest(t testing.TB, dir, variant string) *Encoder {
	t.Helper()
	var logs syncBuffer
	enc, err := accel.Open(context.Background(), testConfig(t, dir, variant), testLogger(&logs))
	if err != nil {
		t.Fatalf("Open(%s, variant %q): %v", dir, variant, err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc.(*Encoder)
}

// refImage recomputes scripts/make_testclip.py's reference_image(seed):
// an already-normalised smooth pattern, NCHW 3x224x224.
func refImage(seed int) *preprocess.Tensor {
	const size = 224
	spec := preprocess.Spec{Size: size, Layout: preprocess.NCHW, DType: preprocess.Float32,
		Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711}}
	t := &preprocess.Tensor{Spec: spec, F32: make([]float32, spec.Elements())}
	i := 0
	for c := 0; c < 3; c++ {
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				fx, fy, fs := float64(x), float64(y), float64(seed)
				v := 1.5*math.Sin(0.05*float64(c+1)*fx+0.07*fy+0.3*fs) + 0.25*math.Cos(0.011*(fx+2*fy)*(fs+1))
				t.F32[i] = float32(v)
				i++
			}
		}
	}
	return t
}

type reference struct {
	ImageSeeds  []int       `json:"image_seeds"`
	ImageEmbeds [][]float32 `json:"image_embeds"`
	InputIDs    [][]int32   `json:"input_ids"`
	TextEmbeds  [][]float32 `json:"text_embeds"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	data, err := os.ReadFile("testdata/testclip_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.ImageSeeds) == 0 || len(r.ImageSeeds) != len(r.ImageEmbeds) || len(r.InputIDs) != len(r.TextEmbeds) {
		t.Fatalf("malformed reference file: %d seeds, %d image embeds, %d id rows, %d text embeds",
			len(r.ImageSeeds), len(r.ImageEmbeds), len(r.InputIDs), len(r.TextEmbeds))
	}
	return r
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func encodeImage(t testing.TB, e accel.Encoder, img *preprocess.Tensor) []float32 {
	t.Helper()
	dst := make([]float32, e.Info().EmbeddingDim)
	if err := e.EncodeImage(context.Background(), img, dst); err != nil {
		t.Fatalf("EncodeImage: %v", err)
	}
	return dst
}
