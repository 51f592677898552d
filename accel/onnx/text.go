package onnx

import (
	"context"
	"fmt"

	"github.com/clipfleet/clipfleet/accel"
	ort "github.com/yalue/onnxruntime_go"
)

// textBatch is how many sequences one run takes on a dynamic-batch text
// model: label sets are tens to hundreds of prompts, and 16 keeps the
// preallocated buffers small (16*77 ids) while amortising the per-run cost.
const textBatch = 16

// textSession runs the text encoder. Its input and output buffers are
// allocated once for textBatch sequences; ONNX Runtime tensors over them
// are created once per batch size seen and then reused.
type textSession struct {
	sess     *ort.DynamicAdvancedSession
	ctxLen   int
	dim      int
	maxBatch int
	ids64    []int64
	ids32    []int32
	hasMask  bool
	mask64   []int64
	mask32   []int32
	out      []float32
	byBatch  map[int]*batchTensors
}

type batchTensors struct{ in, out []ort.Value }

type textIO struct {
	mask    string // attention-mask input name, "" if none
	mask64  bool   // mask dtype is int64 (else int32)
	dynamic bool   // the batch dimension is dynamic
}

// checkTextIO compares the text model's declarations with the manifest.
// acceptHFMask lets a synthesised Hugging Face manifest pick up an
// "attention_mask" input that some exports add.
func checkTextIO(file string, info *ioInfo, tm *accel.TextModel, dim int, acceptHFMask bool) (textIO, error) {
	var r textIO
	in, ok := find(info.inputs, tm.Input)
	if !ok {
		return r, modelError(file, "input %q not found; model has inputs %s", tm.Input, describeIO(info.inputs))
	}
	if err := tensorCheck(file, "input", in); err != nil {
		return r, err
	}
	wantIDs := ort.TensorElementDataType(ort.TensorElementDataTypeInt64)
	if tm.IDsDType == "int32" {
		wantIDs = ort.TensorElementDataTypeInt32
	}
	if in.DataType != wantIDs {
		return r, modelError(file, "input %q is %s but the manifest says text.ids_dtype %s", tm.Input, dtypeName(in.DataType), tm.IDsDType)
	}
	seqShape := func(io ort.InputOutputInfo) error {
		d := io.Dimensions
		if len(d) != 2 || !dimOK(d[1], int64(tm.ContextLength)) {
			return modelError(file, "input %q has shape %v; text.context_length %d needs [N %d]", io.Name, []int64(d), tm.ContextLength, tm.ContextLength)
		}
		if _, ok := batchOf(d[0]); !ok {
			return modelError(file, "input %q has fixed batch %d; re-export with batch 1 or a dynamic batch", io.Name, d[0])
		}
		return nil
	}
	if err := seqShape(in); err != nil {
		return r, err
	}
	r.dynamic, _ = batchOf(in.Dimensions[0])
	r.mask = tm.AttentionMask
	if r.mask == "" && acceptHFMask {
		if _, ok := find(info.inputs, "attention_mask"); ok {
			r.mask = "attention_mask"
		}
	}
	fed := []string{tm.Input}
	if r.mask != "" {
		m, ok := find(info.inputs, r.mask)
		if !ok {
			return r, modelError(file, "attention-mask input %q not found; model has inputs %s", r.mask, describeIO(info.inputs))
		}
		switch m.DataType {
		case ort.TensorElementDataTypeInt64:
			r.mask64 = true
		case ort.TensorElementDataTypeInt32:
		default:
			return r, modelError(file, "attention-mask input %q is %s, want int64 or int32", r.mask, dtypeName(m.DataType))
		}
		if err := seqShape(m); err != nil {
			return r, err
		}
		fed = append(fed, r.mask)
	}
	if err := checkOnlyInputs(file, info, fed...); err != nil {
		return r, err
	}
	if err := checkEmbeddingOutput(file, info, tm.Output, dim); err != nil {
		return r, err
	}
	if out, _ := find(info.outputs, tm.Output); out.Dimensions[0] == 1 {
		r.dynamic = false
	}
	return r, nil
}

func newTextSession(file string, tm *accel.TextModel, tio textIO, dim int, opts *ort.SessionOptions) (*textSession, error) {
	names := []string{tm.Input}
	if tio.mask != "" {
		names = append(names, tio.mask)
	}
	sess, err := ort.NewDynamicAdvancedSession(file, names, []string{tm.Output}, opts)
	if err != nil {
		return nil, modelError(file, "creating session: %v", err)
	}
	s := &textSession{sess: sess, ctxLen: tm.ContextLength, dim: dim, maxBatch: 1,
		hasMask: tio.mask != "", byBatch: map[int]*batchTensors{}}
	if tio.dynamic {
		s.maxBatch = textBatch
	}
	n := s.maxBatch * s.ctxLen
	if tm.IDsDType == "int32" {
		s.ids32 = make([]int32, n)
	} else {
		s.ids64 = make([]int64, n)
	}
	if s.hasMask {
		if tio.mask64 {
			s.mask64 = make([]int64, n)
		} else {
			s.mask32 = make([]int32, n)
		}
	}
	s.out = make([]float32, s.maxBatch*dim)
	// Trial run on one blank sequence, for the same reasons as the image
	// encoder's.
	t, err := s.tensorsFor(1)
	if err == nil {
		err = s.sess.Run(t.in, t.out)
	}
	if err != nil {
		s.close()
		return nil, modelError(file, "trial run on a blank sequence failed: %v", err)
	}
	return s, nil
}

func newTensorOver[T ort.TensorData](shape ort.Shape, buf []T) (ort.Value, error) {
	return ort.NewTensor(shape, buf)
}

// tensorsFor returns ONNX Runtime tensors over the first n rows of the
// buffers, creating them on first use.
func (s *textSession) tensorsFor(n int) (*batchTensors, error) {
	if t, ok := s.byBatch[n]; ok {
		return t, nil
	}
	seq := ort.NewShape(int64(n), int64(s.ctxLen))
	t := &batchTensors{}
	var inputs []func() (ort.Value, error)
	if s.ids32 != nil {
		inputs = append(inputs, func() (ort.Value, error) { return newTensorOver(seq, s.ids32) })
	} else {
		inputs = append(inputs, func() (ort.Value, error) { return newTensorOver(seq, s.ids64) })
	}
	if s.mask32 != nil {
		inputs = append(inputs, func() (ort.Value, error) { return newTensorOver(seq, s.mask32) })
	}
	if s.mask64 != nil {
		inputs = append(inputs, func() (ort.Value, error) { return newTensorOver(seq, s.mask64) })
	}
	for _, mk := range inputs {
		v, err := mk()
		if err != nil {
			t.destroy()
			return nil, fmt.Errorf("accel/onnx: allocating text tensors: %w", err)
		}
		t.in = append(t.in, v)
	}
	out, err := newTensorOver(ort.NewShape(int64(n), int64(s.dim)), s.out)
	if err != nil {
		t.destroy()
		return nil, fmt.Errorf("accel/onnx: allocating text tensors: %w", err)
	}
	t.out = append(t.out, out)
	s.byBatch[n] = t
	return t, nil
}

func (t *batchTensors) destroy() {
	for _, v := range append(t.in, t.out...) {
		v.Destroy()
	}
	t.in, t.out = nil, nil
}

// encode embeds each sequence. Sequences must be zero-padded after the
// end-of-text token: the attention mask, when the model takes one, covers
// everything up to the last non-zero id.
func (s *textSession) encode(ctx context.Context, ids [][]int32) ([][]float32, error) {
	for i, row := range ids {
		if len(row) != s.ctxLen {
			return nil, fmt.Errorf("accel/onnx: text: sequence %d has %d ids, want context length %d", i, len(row), s.ctxLen)
		}
		for j, v := range row {
			if v < 0 {
				return nil, fmt.Errorf("accel/onnx: text: sequence %d has negative id %d at %d", i, v, j)
			}
		}
	}
	res := make([][]float32, len(ids))
	flat := make([]float32, len(ids)*s.dim)
	for start := 0; start < len(ids); start += s.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(s.maxBatch, len(ids)-start)
		for i := 0; i < n; i++ {
			s.fill(i, ids[start+i])
		}
		t, err := s.tensorsFor(n)
		if err != nil {
			return nil, err
		}
		if err := s.sess.Run(t.in, t.out); err != nil {
			return nil, fmt.Errorf("accel/onnx: text encoder: %w", err)
		}
		for i := 0; i < n; i++ {
			k := start + i
			res[k] = flat[k*s.dim : (k+1)*s.dim : (k+1)*s.dim]
			if err := accel.Normalize(res[k], s.out[i*s.dim:(i+1)*s.dim]); err != nil {
				return nil, fmt.Errorf("accel/onnx: text encoder, sequence %d: %w", k, err)
			}
		}
	}
	return res, nil
}

// fill writes one sequence (and its mask) into row r of the buffers.
func (s *textSession) fill(r int, row []int32) {
	off := r * s.ctxLen
	if s.ids32 != nil {
		copy(s.ids32[off:off+s.ctxLen], row)
	} else {
		for j, v := range row {
			s.ids64[off+j] = int64(v)
		}
	}
	if !s.hasMask {
		return
	}
	last := -1
	for j, v := range row {
		if v != 0 {
			last = j
		}
	}
	for j := 0; j < s.ctxLen; j++ {
		var m int32
		if j <= last {
			m = 1
		}
		if s.mask32 != nil {
			s.mask32[off+j] = m
		} else {
			s.mask64[off+j] = int64(m)
		}
	}
}

func (s *textSession) close() {
	for _, t := range s.byBatch {
		t.destroy()
	}
	s.byBatch = nil
	if s.sess != nil {
		s.sess.Destroy()
		s.sess = nil
	}
}
