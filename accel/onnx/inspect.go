package onnx

import (
	"fmt"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	ort "github.com/yalue/onnxruntime_go"
)

// ioInfo is what a model file declares, as read by GetInputOutputInfo.
type ioInfo struct {
	inputs, outputs []ort.InputOutputInfo
}

// inspect loads file's input and output declarations. GetInputOutputInfo
// builds a throwaway session, so graph optimisation is turned off for it:
// only the declarations are wanted.
func inspect(file string) (*ioInfo, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
		return nil, err
	}
	in, out, err := ort.GetInputOutputInfoWithOptions(file, opts)
	if err != nil {
		return nil, err
	}
	return &ioInfo{inputs: in, outputs: out}, nil
}

func find(list []ort.InputOutputInfo, name string) (ort.InputOutputInfo, bool) {
	for _, io := range list {
		if io.Name == name {
			return io, true
		}
	}
	return ort.InputOutputInfo{}, false
}

// describeIO formats declarations as `[name dtype [dims], ...]`, the form
// error messages use (-1 is a dynamic dimension).
func describeIO(list []ort.InputOutputInfo) string {
	parts := make([]string, len(list))
	for i, io := range list {
		parts[i] = fmt.Sprintf("%s %s %v", io.Name, dtypeName(io.DataType), []int64(io.Dimensions))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func dtypeName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeFloat16:
		return "float16"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeUint8:
		return "uint8"
	case ort.TensorElementDataTypeInt8:
		return "int8"
	case ort.TensorElementDataTypeInt32:
		return "int32"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeBool:
		return "bool"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

// dimOK accepts a declared dimension that is dynamic (<0) or equal to want.
func dimOK(got, want int64) bool { return got < 0 || got == want }

// batchOf reports whether a declared batch dimension is dynamic; a fixed
// batch other than 1 is refused because frames arrive one at a time.
func batchOf(d int64) (dynamic bool, ok bool) {
	switch {
	case d < 0:
		return true, true
	case d == 1:
		return false, true
	}
	return false, false
}

// modelError builds the load error for file, wrapping accel.ErrBadModel.
func modelError(file, format string, args ...any) error {
	return accel.WithKind(accel.ErrBadModel, "accel/onnx: %s: %s", file, fmt.Sprintf(format, args...))
}

// checkOnlyInputs refuses a model that has inputs the manifest does not
// feed: ONNX Runtime would fail at the first Run with a less helpful error.
func checkOnlyInputs(file string, info *ioInfo, fed ...string) error {
	for _, in := range info.inputs {
		found := false
		for _, f := range fed {
			found = found || in.Name == f
		}
		if !found {
			return modelError(file, "model has inputs %s but the manifest feeds only %q", describeIO(info.inputs), fed)
		}
	}
	return nil
}

func tensorCheck(file, what string, io ort.InputOutputInfo) error {
	if io.OrtValueType != ort.ONNXTypeTensor {
		return modelError(file, "%s %q is a %v, not a tensor", what, io.Name, io.OrtValueType)
	}
	return nil
}
