package acceltest

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
)

func pattern(spec preprocess.Spec, phase, noise float64) *preprocess.Tensor {
	t := &preprocess.Tensor{Spec: spec, F32: make([]float32, spec.Elements())}
	for i := range t.F32 {
		t.F32[i] = float32(math.Sin(float64(i)*0.0007+phase) + noise*math.Sin(float64(i)*1.7))
	}
	return t
}

func embed(t *testing.T, f *Fake, img *preprocess.Tensor) []float32 {
	t.Helper()
	dst := make([]float32, f.Info().EmbeddingDim)
	if err := f.EncodeImage(context.Background(), img, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestFakeImageEmbeddings(t *testing.T) {
	f := New(Config{Dim: 32})
	spec := f.Info().Image
	a := embed(t, f, pattern(spec, 0, 0))
	again := embed(t, New(Config{Dim: 32}), pattern(spec, 0, 0))
	near := embed(t, f, pattern(spec, 0, 0.05))
	far := embed(t, f, pattern(spec, 2.5, 0))
	for i := range a {
		if a[i] != again[i] {
			t.Fatal("same input and seed gave different embeddings")
		}
	}
	var n float64
	for _, v := range a {
		n += float64(v) * float64(v)
	}
	if math.Abs(n-1) > 1e-5 {
		t.Errorf("norm² %v", n)
	}
	cNear, cFar := accel.Cosine(a, near), accel.Cosine(a, far)
	t.Logf("cosine: near %.4f, far %.4f", cNear, cFar)
	if cNear < 0.95 || cNear <= cFar {
		t.Errorf("similar images not closer: near %.4f far %.4f", cNear, cFar)
	}
	other := embed(t, New(Config{Dim: 32, Seed: 7}), pattern(spec, 0, 0))
	if accel.Cosine(a, other) > 0.9 {
		t.Error("seed does not change the projection")
	}
	if got := f.ImageCalls(); got != 3 { // "again" and "other" used their own fakes
		t.Errorf("ImageCalls = %d, want 3", got)
	}
}

func TestFakeQuantizedNHWC(t *testing.T) {
	spec := preprocess.Spec{Size: 32, Layout: preprocess.NHWC, DType: preprocess.Uint8, Scale: 0.02, ZeroPoint: 128,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
	f := New(Config{Image: spec, Dim: 16, NoText: true})
	img := &preprocess.Tensor{Spec: spec, U8: make([]uint8, spec.Elements())}
	for i := range img.U8 {
		img.U8[i] = uint8(i * 7)
	}
	embed(t, f, img)
	if _, err := f.EncodeText(context.Background(), nil); !errors.Is(err, accel.ErrNoTextModel) {
		t.Errorf("NoText: %v", err)
	}
	wrong := &preprocess.Tensor{Spec: New(Config{}).Info().Image, F32: make([]float32, 3*224*224)}
	if err := f.EncodeImage(context.Background(), wrong, make([]float32, 16)); !errors.Is(err, accel.ErrSpecMismatch) {
		t.Errorf("spec mismatch: %v", err)
	}
}

func seq(ids ...int32) []int32 {
	s := make([]int32, 77)
	copy(s, ids)
	return s
}

func TestFakeText(t *testing.T) {
	f := New(Config{})
	out, err := f.EncodeText(context.Background(), [][]int32{
		seq(49406, 320, 1125, 539, 49407), seq(49406, 320, 1125, 539, 2368, 49407), seq(49406, 9000, 9001, 49407),
	})
	if err != nil {
		t.Fatal(err)
	}
	shared, disjoint := accel.Cosine(out[0], out[1]), accel.Cosine(out[0], out[2])
	t.Logf("cosine: shared words %.3f, disjoint %.3f", shared, disjoint)
	if shared <= disjoint {
		t.Errorf("sequences sharing words not closer: %.3f vs %.3f", shared, disjoint)
	}
	if _, err := f.EncodeText(context.Background(), [][]int32{{1, 2}}); err == nil {
		t.Error("short sequence accepted")
	}
	if _, err := f.EncodeText(context.Background(), [][]int32{seq()}); !errors.Is(err, accel.ErrBadOutput) {
		t.Errorf("all-padding sequence: %v", err)
	}
	if f.TextCalls() != 3 {
		t.Errorf("TextCalls = %d", f.TextCalls())
	}
}

func TestFakeFailures(t *testing.T) {
	f := New(Config{})
	img := pattern(f.Info().Image, 0, 0)
	boom := errors.New("boom")
	f.FailAfter(2, boom)
	for i := 0; i < 4; i++ {
		err := f.EncodeImage(context.Background(), img, make([]float32, 64))
		if (i < 2) != (err == nil) || (err != nil && !errors.Is(err, boom)) {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
	if _, err := f.EncodeText(context.Background(), [][]int32{seq(5)}); !errors.Is(err, boom) {
		t.Errorf("text while failing: %v", err)
	}
	f.Fail(nil)
	if err := f.EncodeImage(context.Background(), img, make([]float32, 64)); err != nil {
		t.Errorf("after Fail(nil): %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.EncodeImage(ctx, img, make([]float32, 64)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	f.Close()
	if err := f.EncodeImage(context.Background(), img, make([]float32, 64)); !errors.Is(err, accel.ErrClosed) || !f.Closed() {
		t.Errorf("after Close: %v", err)
	}
}

func TestFakeBackendFromManifest(t *testing.T) {
	cfg := accel.DefaultConfig()
	cfg.Backend = BackendName
	cfg.ModelDir = "../../models/testclip"
	enc, err := accel.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	info := enc.Info()
	if info.ID != "testclip-random-v1" || info.EmbeddingDim != 64 || info.ContextLength != 77 || info.Variant != "int8" ||
		info.Backend != "fake" || info.PreprocessHash != accel.PreprocessHash(info.Image) {
		t.Errorf("Info() = %+v", info)
	}
}
