// Package onnx is the accel backend on ONNX Runtime (through
// github.com/yalue/onnxruntime_go), registered as "onnx".
//
// The shared library is found as described at ResolveLibrary; ONNX
// Runtime's environment is process-global, so it is initialised once and
// kept, and a second, different library path in the same process is an
// error. Execution providers (cpu, cuda, tensorrt with device id, fp16/int8
// and an engine cache for Jetson) are appended in the configured order; one
// that cannot be appended is skipped with a logged warning and the encoder
// runs on what remains, always ending with the CPU.
//
// Before any session is built, each model file's declared inputs and
// outputs are compared with the manifest, so a wrong or corrupt model fails
// at load with the file name and what was expected versus found, e.g.
//
//	accel/onnx: models/x/image.onnx: input "pixel_values" not found; model has inputs [input.1 float32 [1 3 224 224]]
//
// Each encoder then gets one trial run on a blank input.
//
// The thread pools' busy-waiting follows onnx.spinning (on by default,
// as in ONNX Runtime; see accel.ONNXConfig.Spinning for when to turn it
// off).
//
// The image encoder runs batch 1 on an AdvancedSession bound to
// preallocated tensors: EncodeImage copies the frame in and allocates
// nothing. The text encoder runs on a DynamicAdvancedSession over
// preallocated buffers, in batches of 16 when the model's batch dimension
// is dynamic and one at a time when it is fixed at 1. Embeddings are
// L2-normalised; NaN, infinite or all-zero outputs are errors
// (accel.ErrBadOutput).
package onnx
