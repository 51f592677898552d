package preprocess

import (
	"errors"
	"fmt"
	"math"
)

// Layout is the tensor layout a model declares for its image input.
type Layout string

const (
	NCHW Layout = "NCHW" // planar, as PyTorch/ONNX CLIP exports use
	NHWC Layout = "NHWC" // interleaved, as TFLite / Edge TPU models use
)

// DType is the element type of the image input tensor.
type DType string

const (
	Float32 DType = "float32"
	Uint8   DType = "uint8"
	Int8    DType = "int8"
)

// Spec says how an RGB frame becomes the model's input tensor. It is filled
// from the model manifest (accel.Manifest) so the daemon never guesses.
type Spec struct {
	Size   int        // square side after resize + centre crop (224 for CLIP)
	Mean   [3]float32 // per-channel mean in [0,1] units, RGB order
	Std    [3]float32 // per-channel std in [0,1] units, RGB order
	Layout Layout
	DType  DType
	// Scale and ZeroPoint describe a quantized input: real = (q - ZeroPoint) * Scale,
	// where real is the mean/std-normalised value. Ignored for Float32.
	Scale     float32
	ZeroPoint int32
}

// ErrInvalidSpec is wrapped by every Spec validation error.
var ErrInvalidSpec = errors.New("preprocess: invalid spec")

// Validate checks the spec without side effects.
func (s Spec) Validate() error {
	if s.Size < 1 || s.Size > 4096 {
		return fmt.Errorf("%w: size %d outside [1,4096]", ErrInvalidSpec, s.Size)
	}
	for c := 0; c < 3; c++ {
		if !(s.Std[c] > 0) || math.IsInf(float64(s.Std[c]), 0) {
			return fmt.Errorf("%w: std[%d]=%v must be positive and finite", ErrInvalidSpec, c, s.Std[c])
		}
		if math.IsNaN(float64(s.Mean[c])) || math.IsInf(float64(s.Mean[c]), 0) {
			return fmt.Errorf("%w: mean[%d]=%v must be finite", ErrInvalidSpec, c, s.Mean[c])
		}
	}
	switch s.Layout {
	case NCHW, NHWC:
	default:
		return fmt.Errorf("%w: layout %q (want NCHW or NHWC)", ErrInvalidSpec, s.Layout)
	}
	switch s.DType {
	case Float32:
	case Uint8, Int8:
		if !(s.Scale > 0) || math.IsInf(float64(s.Scale), 0) {
			return fmt.Errorf("%w: dtype %s needs a positive quantization scale, got %v", ErrInvalidSpec, s.DType, s.Scale)
		}
		lo, hi := int32(0), int32(255)
		if s.DType == Int8 {
			lo, hi = -128, 127
		}
		if s.ZeroPoint < lo || s.ZeroPoint > hi {
			return fmt.Errorf("%w: zero point %d outside [%d,%d] for %s", ErrInvalidSpec, s.ZeroPoint, lo, hi, s.DType)
		}
	default:
		return fmt.Errorf("%w: dtype %q (want float32, uint8 or int8)", ErrInvalidSpec, s.DType)
	}
	return nil
}

// Elements is the number of values in one image tensor (3*Size*Size).
func (s Spec) Elements() int { return 3 * s.Size * s.Size }

// Tensor is one preprocessed image. Exactly one of the slices is in use,
// chosen by Spec.DType; buffers are reused across frames to avoid garbage.
type Tensor struct {
	Spec Spec
	F32  []float32
	U8   []uint8
	I8   []int8
}

// CLIPSpec is OpenAI CLIP's own preprocessing at the given size: its
// published mean/std (clip/clip.py, _transform), NCHW float32, as the
// PyTorch/ONNX exports take it.
func CLIPSpec(size int) Spec {
	return Spec{
		Size:   size,
		Mean:   [3]float32{0.48145466, 0.4578275, 0.40821073},
		Std:    [3]float32{0.26862954, 0.26130258, 0.27577711},
		Layout: NCHW,
		DType:  Float32,
	}
}
