package onnx

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
)

func TestFloatAndInt8Variants(t *testing.T) {
	dir := testModelDir(t)
	fl := openTest(t, dir, accel.BaseVariant)
	q := openTest(t, dir, "int8")
	def := openTest(t, dir, "") // manifest default_variant: int8

	for _, tc := range []struct {
		e       *Encoder
		variant string
	}{{fl, ""}, {q, "int8"}, {def, "int8"}} {
		info := tc.e.Info()
		if info.Variant != tc.variant || info.ID != "testclip-random-v1" || info.Backend != "onnx" ||
			info.EmbeddingDim != 64 || !info.HasText || info.ContextLength != 77 || info.LogitScale != 100 {
			t.Errorf("Info() = %+v, want variant %q of testclip-random-v1, dim 64, text ctx 77", info, tc.variant)
		}
		if !strings.HasPrefix(info.Runtime, "onnxruntime 1.") || !strings.HasSuffix(info.Runtime, "[cpu]") {
			t.Errorf("Runtime = %q, want onnxruntime version and [cpu]", info.Runtime)
		}
		if len(info.PreprocessHash) != 16 || info.PreprocessHash != accel.PreprocessHash(info.Image) {
			t.Errorf("PreprocessHash = %q, want 16 hex of the image spec's hash", info.PreprocessHash)
		}
	}

	var prev []float32
	for seed := 0; seed < 6; seed++ { // 4 and 5 were not among the calibration images
		img := refImage(seed)
		a, b := encodeImage(t, fl, img), encodeImage(t, q, img)
		for name, v := range map[string][]float32{"float": a, "int8": b} {
			if n := norm(v); math.Abs(n-1) > 1e-5 {
				t.Errorf("seed %d %s: norm %v, want 1", seed, name, n)
			}
		}
		cos := accel.Cosine(a, b)
		t.Logf("seed %d: cosine(float, int8) = %.6f", seed, cos)
		if cos < 0.9 {
			t.Errorf("seed %d: int8 embedding drifted from float: cosine %.4f < 0.9", seed, cos)
		}
		if prev != nil && accel.Cosine(prev, a) > 0.99999 {
			t.Errorf("seed %d: embedding identical to the previous image's", seed)
		}
		prev = a
	}
}

func TestMatchesPyTorch(t *testing.T) {
	ref := loadReference(t)
	e := openTest(t, testModelDir(t), accel.BaseVariant)
	for i, seed := range ref.ImageSeeds {
		got := encodeImage(t, e, refImage(seed))
		cos := accel.Cosine(got, ref.ImageEmbeds[i])
		t.Logf("image seed %d: cosine(ORT, PyTorch) = %.8f", seed, cos)
		if cos < 0.9999 {
			t.Errorf("image seed %d: ORT and PyTorch disagree: cosine %.6f", seed, cos)
		}
	}
	got, err := e.EncodeText(context.Background(), ref.InputIDs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref.InputIDs {
		cos := accel.Cosine(got[i], ref.TextEmbeds[i])
		t.Logf("text %d: cosine(ORT, PyTorch) = %.8f", i, cos)
		if cos < 0.9999 {
			t.Errorf("text %d: ORT and PyTorch disagree: cosine %.6f", i, cos)
		}
	}
}

// sequence builds a zero-padded CLIP-style id sequence.
func sequence(words ...int32) []int32 {
	ids := make([]int32, 77)
	ids[0] = 49406
	copy(ids[1:], words)
	ids[1+len(words)] = 49407
	return ids
}

func TestTextBatchesMatchSingles(t *testing.T) {
	for _, variant := range []string{accel.BaseVariant, "int8"} {
		t.Run(variant, func(t *testing.T) {
			e := openTest(t, testModelDir(t), variant)
			if e.text.maxBatch != textBatch {
				t.Fatalf("dynamic-batch text model runs %d per batch, want %d", e.text.maxBatch, textBatch)
			}
			// 2 full batches and a remainder, so every path runs.
			n := 2*textBatch + 5
			ids := make([][]int32, n)
			for i := range ids {
				ids[i] = sequence(int32(100+i), int32(7*i+3), int32(40000-i))
			}
			batch, err := e.EncodeText(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			if len(batch) != n {
				t.Fatalf("got %d embeddings for %d sequences", len(batch), n)
			}
			for i := range ids {
				one, err := e.EncodeText(context.Background(), ids[i:i+1])
				if err != nil {
					t.Fatal(err)
				}
				if cos := accel.Cosine(one[0], batch[i]); cos < 0.999999 {
					t.Errorf("sequence %d: batched and single embeddings differ (cosine %.7f)", i, cos)
				}
				if nv := norm(batch[i]); math.Abs(nv-1) > 1e-5 {
					t.Errorf("sequence %d: norm %v", i, nv)
				}
				if len(batch[i]) != 64 || cap(batch[i]) != 64 {
					t.Errorf("sequence %d: len %d cap %d, want 64/64 so appends cannot clobber a neighbour", i, len(batch[i]), cap(batch[i]))
				}
			}
			if accel.Cosine(batch[0], batch[1]) > 0.99999 {
				t.Error("different sequences gave the same embedding")
			}
		})
	}
}

func TestEncodeTextErrors(t *testing.T) {
	e := openTest(t, testModelDir(t), accel.BaseVariant)
	ctx := context.Background()
	if _, err := e.EncodeText(ctx, [][]int32{make([]int32, 76)}); err == nil || !strings.Contains(err.Error(), "context length 77") {
		t.Errorf("short sequence: err = %v, want context length error", err)
	}
	bad := sequence(5)
	bad[3] = -1
	if _, err := e.EncodeText(ctx, [][]int32{bad}); err == nil || !strings.Contains(err.Error(), "negative id") {
		t.Errorf("negative id: err = %v", err)
	}
	if got, err := e.EncodeText(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("no sequences: got %d, %v", len(got), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.EncodeText(cctx, [][]int32{sequence(1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestEncodeImageErrors(t *testing.T) {
	e := openTest(t, testModelDir(t), accel.BaseVariant)
	ctx := context.Background()
	img := refImage(0)
	if err := e.EncodeImage(ctx, img, make([]float32, 63)); err == nil {
		t.Error("short dst accepted")
	}
	other := *img
	other.Spec.Size = 112
	if err := e.EncodeImage(ctx, &other, make([]float32, 64)); !errors.Is(err, accel.ErrSpecMismatch) {
		t.Errorf("wrong spec: err = %v, want ErrSpecMismatch", err)
	}
	short := *img
	short.F32 = short.F32[:100]
	if err := e.EncodeImage(ctx, &short, make([]float32, 64)); !errors.Is(err, accel.ErrSpecMismatch) {
		t.Errorf("short tensor: err = %v, want ErrSpecMismatch", err)
	}
	nan := &preprocess.Tensor{Spec: img.Spec, F32: make([]float32, len(img.F32))}
	copy(nan.F32, img.F32)
	nan.F32[1000] = float32(math.NaN())
	if err := e.EncodeImage(ctx, nan, make([]float32, 64)); !errors.Is(err, accel.ErrBadOutput) {
		t.Errorf("NaN input: err = %v, want ErrBadOutput from the NaN check", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := e.EncodeImage(cctx, img, make([]float32, 64)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestDeterministicAndConcurrent(t *testing.T) {
	e := openTest(t, testModelDir(t), "int8")
	imgs := []*preprocess.Tensor{refImage(0), refImage(1)}
	want := [][]float32{encodeImage(t, e, imgs[0]), encodeImage(t, e, imgs[1])}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			dst := make([]float32, 64)
			for i := 0; i < 5; i++ {
				k := (g + i) % 2
				if err := e.EncodeImage(context.Background(), imgs[k], dst); err != nil {
					errs <- err.Error()
					return
				}
				for j := range dst {
					if dst[j] != want[k][j] {
						errs <- "concurrent result differs from the serial one"
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	e := openTest(t, testModelDir(t), accel.BaseVariant)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := e.EncodeImage(context.Background(), refImage(0), make([]float32, 64)); !errors.Is(err, accel.ErrClosed) {
		t.Errorf("EncodeImage after Close: %v, want ErrClosed", err)
	}
	if _, err := e.EncodeText(context.Background(), [][]int32{sequence(1)}); !errors.Is(err, accel.ErrClosed) {
		t.Errorf("EncodeText after Close: %v, want ErrClosed", err)
	}
}
