package onnx

import (
	"fmt"
	"math"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
	ort "github.com/yalue/onnxruntime_go"
)

// imageSession runs the image encoder one frame at a time on an
// AdvancedSession bound to preallocated tensors, so EncodeImage allocates
// nothing: it copies the frame in, runs, and normalises the output.
type imageSession struct {
	sess *ort.AdvancedSession
	in   ort.Value
	out  *ort.Tensor[float32]
	f32  []float32 // the input tensor's memory, one of these per dtype
	u8   []uint8
	i8   []int8
}

// imageShape is the batch-1 input shape the manifest implies.
func imageShape(spec preprocess.Spec) ort.Shape {
	s := int64(spec.Size)
	if spec.Layout == preprocess.NHWC {
		return ort.NewShape(1, s, s, 3)
	}
	return ort.NewShape(1, 3, s, s)
}

func elementType(d preprocess.DType) ort.TensorElementDataType {
	switch d {
	case preprocess.Uint8:
		return ort.TensorElementDataTypeUint8
	case preprocess.Int8:
		return ort.TensorElementDataTypeInt8
	}
	return ort.TensorElementDataTypeFloat
}

// checkImageIO compares the image model's declarations with the manifest.
func checkImageIO(file string, info *ioInfo, im accel.ImageModel, dim int) error {
	in, ok := find(info.inputs, im.Input)
	if !ok {
		return modelError(file, "input %q not found; model has inputs %s", im.Input, describeIO(info.inputs))
	}
	if err := tensorCheck(file, "input", in); err != nil {
		return err
	}
	if err := checkOnlyInputs(file, info, im.Input); err != nil {
		return err
	}
	spec := im.Spec()
	if want := elementType(spec.DType); in.DataType != want {
		return modelError(file, "input %q is %s but the manifest says image.dtype %s; model has inputs %s",
			im.Input, dtypeName(in.DataType), spec.DType, describeIO(info.inputs))
	}
	want := imageShape(spec)
	d := in.Dimensions
	shapeOK := len(d) == 4
	if shapeOK {
		_, batchOK := batchOf(d[0])
		shapeOK = batchOK
		for i := 1; i < 4; i++ {
			shapeOK = shapeOK && dimOK(d[i], want[i])
		}
	}
	if !shapeOK {
		return modelError(file, "input %q has shape %v; the manifest (image.size %d, layout %s) needs [N %s] with N 1 or dynamic",
			im.Input, []int64(d), spec.Size, spec.Layout, strings.Trim(fmt.Sprint([]int64(want[1:])), "[]"))
	}
	return checkEmbeddingOutput(file, info, im.Output, dim)
}

// checkEmbeddingOutput checks an output is float32 [batch, dim].
func checkEmbeddingOutput(file string, info *ioInfo, name string, dim int) error {
	out, ok := find(info.outputs, name)
	if !ok {
		return modelError(file, "output %q not found; model has outputs %s", name, describeIO(info.outputs))
	}
	if err := tensorCheck(file, "output", out); err != nil {
		return err
	}
	if out.DataType != ort.TensorElementDataTypeFloat {
		return modelError(file, "output %q is %s, want float32", name, dtypeName(out.DataType))
	}
	d := out.Dimensions
	if len(d) != 2 || !dimOK(d[1], int64(dim)) {
		return modelError(file, "output %q has shape %v; the manifest's embedding_dim %d needs [N %d]", name, []int64(d), dim, dim)
	}
	if _, ok := batchOf(d[0]); !ok {
		return modelError(file, "output %q has fixed batch %d; re-export with batch 1 or a dynamic batch", name, d[0])
	}
	return nil
}

func newImageSession(file string, im accel.ImageModel, dim int, opts *ort.SessionOptions) (*imageSession, error) {
	spec := im.Spec()
	s := &imageSession{}
	var err error
	switch spec.DType {
	case preprocess.Uint8:
		var t *ort.Tensor[uint8]
		if t, err = ort.NewEmptyTensor[uint8](imageShape(spec)); err == nil {
			s.in, s.u8 = t, t.GetData()
		}
	case preprocess.Int8:
		var t *ort.Tensor[int8]
		if t, err = ort.NewEmptyTensor[int8](imageShape(spec)); err == nil {
			s.in, s.i8 = t, t.GetData()
		}
	default:
		var t *ort.Tensor[float32]
		if t, err = ort.NewEmptyTensor[float32](imageShape(spec)); err == nil {
			s.in, s.f32 = t, t.GetData()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("accel/onnx: allocating image input: %w", err)
	}
	if s.out, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(dim))); err != nil {
		s.close()
		return nil, fmt.Errorf("accel/onnx: allocating image output: %w", err)
	}
	s.sess, err = ort.NewAdvancedSession(file, []string{im.Input}, []string{im.Output},
		[]ort.Value{s.in}, []ort.Value{s.out}, opts)
	if err != nil {
		s.close()
		return nil, modelError(file, "creating session: %v", err)
	}
	// A first run at load surfaces shape errors that the declarations left
	// open (dynamic dims) now instead of on the first frame, and pays
	// ONNX Runtime's first-run cost before the camera starts.
	if err := s.sess.Run(); err != nil {
		s.close()
		return nil, modelError(file, "trial run on a blank image failed: %v", err)
	}
	for i, v := range s.out.GetData() {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			s.close()
			return nil, modelError(file, "trial run on a blank image produced %v at output %d", v, i)
		}
	}
	return s, nil
}

func (s *imageSession) encode(img *preprocess.Tensor, dst []float32) error {
	switch {
	case s.f32 != nil:
		copy(s.f32, img.F32)
	case s.u8 != nil:
		copy(s.u8, img.U8)
	default:
		copy(s.i8, img.I8)
	}
	if err := s.sess.Run(); err != nil {
		return fmt.Errorf("accel/onnx: image encoder: %w", err)
	}
	if err := accel.Normalize(dst, s.out.GetData()); err != nil {
		return fmt.Errorf("accel/onnx: image encoder: %w", err)
	}
	return nil
}

func (s *imageSession) close() {
	if s.sess != nil {
		s.sess.Destroy()
		s.sess = nil
	}
	if s.in != nil {
		s.in.Destroy()
		s.in = nil
	}
	if s.out != nil {
		s.out.Destroy()
		s.out = nil
	}
}
