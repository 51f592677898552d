package accel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/clipfleet/clipfleet/preprocess"
)

// PreprocessHash identifies a preprocessing spec: the first 16 hex digits
// of the SHA-256 of its canonical text form. Deltas and cached embeddings
// carry it so that a model whose input pipeline changed refuses them rather
// than silently mixing incompatible embeddings.
func PreprocessHash(s preprocess.Spec) string {
	sum := sha256.Sum256([]byte(CanonicalSpec(s)))
	return hex.EncodeToString(sum[:])[:16]
}

// CanonicalSpec is the text PreprocessHash hashes. Its form is frozen:
// changing it changes every model's hash.
func CanonicalSpec(s preprocess.Spec) string {
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	var b strings.Builder
	fmt.Fprintf(&b, "clipfleet-preprocess/v1;size=%d;layout=%s;dtype=%s;", s.Size, s.Layout, s.DType)
	fmt.Fprintf(&b, "mean=%s,%s,%s;std=%s,%s,%s", f(s.Mean[0]), f(s.Mean[1]), f(s.Mean[2]), f(s.Std[0]), f(s.Std[1]), f(s.Std[2]))
	if s.DType != preprocess.Float32 {
		fmt.Fprintf(&b, ";scale=%s;zero_point=%d", f(s.Scale), s.ZeroPoint)
	}
	return b.String()
}
