package accel

import (
	"errors"
	"math"
	"testing"

	"github.com/clipfleet/clipfleet/preprocess"
)

func clipSpec() preprocess.Spec {
	return preprocess.Spec{Size: 224, Layout: preprocess.NCHW, DType: preprocess.Float32,
		Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711}}
}

func TestPreprocessHash(t *testing.T) {
	base := clipSpec()
	h := PreprocessHash(base)
	if len(h) != 16 || h != PreprocessHash(clipSpec()) {
		t.Fatalf("hash %q not 16 hex digits or not stable", h)
	}
	// Every field that changes the tensor must change the hash.
	edits := map[string]func(*preprocess.Spec){
		"size":   func(s *preprocess.Spec) { s.Size = 256 },
		"mean":   func(s *preprocess.Spec) { s.Mean[1] += 1e-6 },
		"std":    func(s *preprocess.Spec) { s.Std[2] = 0.5 },
		"layout": func(s *preprocess.Spec) { s.Layout = preprocess.NHWC },
		"dtype":  func(s *preprocess.Spec) { s.DType = preprocess.Uint8; s.Scale = 0.02 },
	}
	seen := map[string]string{h: "base"}
	for name, edit := range edits {
		s := clipSpec()
		edit(&s)
		got := PreprocessHash(s)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: hash %s collides with %s", name, got, prev)
		}
		seen[got] = name
	}
	q := clipSpec()
	q.DType, q.Scale, q.ZeroPoint = preprocess.Uint8, 0.02, 128
	q2 := q
	q2.ZeroPoint = 127
	if PreprocessHash(q) == PreprocessHash(q2) {
		t.Error("zero point not hashed")
	}
	// Scale is ignored for float32 (preprocess ignores it), so it must not split hashes.
	f := clipSpec()
	f.Scale = 3
	if PreprocessHash(f) != h {
		t.Error("float32 hash depends on the unused quantization scale")
	}
}

func TestNormalize(t *testing.T) {
	src := []float32{3, 0, -4}
	dst := make([]float32, 3)
	if err := Normalize(dst, src); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 0.6 || dst[2] != -0.8 || src[0] != 3 {
		t.Errorf("Normalize = %v (src %v)", dst, src)
	}
	if err := Normalize(src, src); err != nil || src[0] != 0.6 {
		t.Errorf("in place: %v %v", src, err)
	}
	for name, bad := range map[string][]float32{
		"nan": {1, float32(math.NaN())}, "inf": {float32(math.Inf(1)), 1}, "zero": {0, 0},
	} {
		if err := Normalize(make([]float32, 2), bad); !errors.Is(err, ErrBadOutput) {
			t.Errorf("%s: err = %v, want ErrBadOutput", name, err)
		}
	}
	if err := Normalize(make([]float32, 1), []float32{1, 2}); err == nil {
		t.Error("length mismatch accepted")
	}
	if c := Cosine([]float32{1, 0}, []float32{1, 1}); math.Abs(c-math.Sqrt(0.5)) > 1e-12 {
		t.Errorf("Cosine = %v", c)
	}
}

func TestCheckTensor(t *testing.T) {
	s := clipSpec()
	ok := &preprocess.Tensor{Spec: s, F32: make([]float32, s.Elements())}
	if err := CheckTensor(ok, s); err != nil {
		t.Fatal(err)
	}
	wrongSlice := &preprocess.Tensor{Spec: s, U8: make([]uint8, s.Elements())}
	other := s
	other.Mean[0] = 0.5
	for name, tc := range map[string]*preprocess.Tensor{
		"nil": nil, "wrong slice": wrongSlice, "other spec": {Spec: other, F32: ok.F32},
	} {
		if err := CheckTensor(tc, s); !errors.Is(err, ErrSpecMismatch) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
