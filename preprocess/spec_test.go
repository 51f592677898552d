package preprocess

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	ok := CLIPSpec(224)
	quant := func(dt DType, scale float32, zp int32) Spec {
		s := ok
		s.Layout, s.DType, s.Scale, s.ZeroPoint = NHWC, dt, scale, zp
		return s
	}
	with := func(f func(*Spec)) Spec { s := ok; f(&s); return s }
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))

	tests := []struct {
		name string
		spec Spec
		want string // substring of the error; "" means valid
	}{
		{"clip", ok, ""},
		{"size 1", with(func(s *Spec) { s.Size = 1 }), ""},
		{"size 4096", with(func(s *Spec) { s.Size = 4096 }), ""},
		{"size 0", with(func(s *Spec) { s.Size = 0 }), "size 0"},
		{"size negative", with(func(s *Spec) { s.Size = -3 }), "size -3"},
		{"size too big", with(func(s *Spec) { s.Size = 4097 }), "size 4097"},
		{"zero std", with(func(s *Spec) { s.Std[1] = 0 }), "std[1]"},
		{"negative std", with(func(s *Spec) { s.Std[2] = -0.2 }), "std[2]"},
		{"NaN std", with(func(s *Spec) { s.Std[0] = nan }), "std[0]"},
		{"Inf std", with(func(s *Spec) { s.Std[0] = inf }), "std[0]"},
		{"NaN mean", with(func(s *Spec) { s.Mean[2] = nan }), "mean[2]"},
		{"Inf mean", with(func(s *Spec) { s.Mean[1] = -inf }), "mean[1]"},
		{"negative mean is fine", with(func(s *Spec) { s.Mean[1] = -1 }), ""},
		{"empty layout", with(func(s *Spec) { s.Layout = "" }), "layout"},
		{"bad layout", with(func(s *Spec) { s.Layout = "CHW" }), `layout "CHW"`},
		{"empty dtype", with(func(s *Spec) { s.DType = "" }), "dtype"},
		{"bad dtype", with(func(s *Spec) { s.DType = "float16" }), `dtype "float16"`},
		{"float ignores quant fields", with(func(s *Spec) { s.Scale, s.ZeroPoint = -1, 9999 }), ""},
		{"uint8 ok", quant(Uint8, 0.02, 128), ""},
		{"uint8 zp 0", quant(Uint8, 0.02, 0), ""},
		{"uint8 zp 255", quant(Uint8, 0.02, 255), ""},
		{"uint8 zp -1", quant(Uint8, 0.02, -1), "zero point -1"},
		{"uint8 zp 256", quant(Uint8, 0.02, 256), "zero point 256"},
		{"int8 ok", quant(Int8, 0.02, -128), ""},
		{"int8 zp 127", quant(Int8, 0.02, 127), ""},
		{"int8 zp 128", quant(Int8, 0.02, 128), "zero point 128"},
		{"int8 zp -129", quant(Int8, 0.02, -129), "zero point -129"},
		{"zero scale", quant(Uint8, 0, 0), "scale"},
		{"negative scale", quant(Int8, -0.1, 0), "scale"},
		{"NaN scale", quant(Int8, nan, 0), "scale"},
		{"Inf scale", quant(Uint8, inf, 0), "scale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Validate() = %v, want an ErrInvalidSpec", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %q, want it to mention %q", err, tt.want)
			}
			if _, perr := NewPreprocessor(tt.spec); !errors.Is(perr, ErrInvalidSpec) {
				t.Fatalf("NewPreprocessor accepted an invalid spec: %v", perr)
			}
			var dst Tensor
			if ierr := Image(&dst, make([]byte, 12), 2, 2, tt.spec); !errors.Is(ierr, ErrInvalidSpec) {
				t.Fatalf("Image accepted an invalid spec: %v", ierr)
			}
		})
	}
}

func TestSpecElements(t *testing.T) {
	for _, n := range []int{1, 7, 224} {
		if got := CLIPSpec(n).Elements(); got != 3*n*n {
			t.Errorf("Elements() for size %d = %d, want %d", n, got, 3*n*n)
		}
	}
}
