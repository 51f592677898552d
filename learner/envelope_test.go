package learner

import (
	"errors"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	e := &Envelope{Kind: "method", Method: "x", Dim: 3, Version: 2, Meta: []byte(`{"a":1}`),
		Tensors:   []Tensor{{"w", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}}, {"empty", []int{0, 3}, []float32{}}},
		Tensors64: []Tensor64{{"s", []int{2}, []float64{1e300, -0.5}}}}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != "method" || got.Method != "x" || got.Dim != 3 || got.Version != 2 || string(got.Meta) != `{"a":1}` {
		t.Fatalf("header = %+v", got)
	}
	w, ok := got.F32("w")
	if !ok || len(w.Data) != 6 || w.Data[5] != 6 || w.Shape[0] != 2 {
		t.Fatalf("tensor w = %+v", w)
	}
	s, ok := got.F64("s")
	if !ok || s.Data[0] != 1e300 || s.Data[1] != -0.5 {
		t.Fatalf("tensor s = %+v", s)
	}
	if err := got.check("method", "x", 3, 2); err != nil {
		t.Errorf("check: %v", err)
	}
	if err := got.check("method", "y", 3, 2); !errors.Is(err, ErrIncompatible) {
		t.Errorf("check other method: %v", err)
	}
	if err := got.check("method", "x", 3, 3); !errors.Is(err, ErrIncompatible) {
		t.Errorf("check other version: %v", err)
	}
	// Every truncation and a trailing byte must be refused, never panic.
	for cut := range b {
		if _, err := DecodeEnvelope(b[:cut]); err == nil {
			t.Fatalf("truncated to %d/%d bytes accepted", cut, len(b))
		}
	}
	if _, err := DecodeEnvelope(append(b, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestEnvelopeShapeMismatch(t *testing.T) {
	e := &Envelope{Kind: "k", Tensors: []Tensor{{"w", []int{2, 2}, []float32{1, 2, 3}}}}
	if _, err := e.MarshalBinary(); err == nil {
		t.Fatal("shape [2 2] holding 3 values was encoded")
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	e := &Envelope{Kind: "method", Method: "ncm", Dim: 2, Tensors: []Tensor{{"a", []int{2}, []float32{1, 2}}}}
	b, _ := e.MarshalBinary()
	f.Add(b)
	f.Add([]byte("CFLN\x01\x00\x00\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEnvelope(data)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode to something that decodes the same.
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded envelope does not re-encode: %v", err)
		}
		if _, err := DecodeEnvelope(b); err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
	})
}
