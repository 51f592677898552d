package accel

import (
	"fmt"

	"github.com/clipfleet/clipfleet/preprocess"
)

// CheckTensor reports whether t was preprocessed for want and holds exactly
// one image in the slice its dtype selects. Backends call it before copying
// t into the runtime, so a frame prepared for another model is refused
// instead of producing a plausible but wrong embedding.
func CheckTensor(t *preprocess.Tensor, want preprocess.Spec) error {
	if t == nil {
		return fmt.Errorf("%w: nil tensor", ErrSpecMismatch)
	}
	if t.Spec != want {
		return fmt.Errorf("%w: tensor spec %+v, model wants %+v", ErrSpecMismatch, t.Spec, want)
	}
	n, got := want.Elements(), 0
	switch want.DType {
	case preprocess.Float32:
		got = len(t.F32)
	case preprocess.Uint8:
		got = len(t.U8)
	case preprocess.Int8:
		got = len(t.I8)
	}
	if got != n {
		return fmt.Errorf("%w: %s tensor has %d values, want %d", ErrSpecMismatch, want.DType, got, n)
	}
	return nil
}
