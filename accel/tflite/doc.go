// Package tflite is the accel backend for TensorFlow Lite, for Raspberry Pi
// CPUs (XNNPACK delegate) and Coral Edge TPUs (edgetpu delegate).
//
// The TFLite C library is not installed on most build machines, so the real
// backend is behind build tags:
//
//	go build -tags tflite                 # TFLite CPU; needs libtensorflowlite_c
//	go build -tags tflite,xnnpack         # + XNNPACK delegate (libtensorflowlite-delegate_xnnpack, libXNNPACK)
//	go build -tags tflite,edgetpu         # + Edge TPU delegate (libedgetpu)
//
// Each delegate is a separate tag because each links its own native library,
// and a Pi without a Coral must still be able to build the TFLite backend.
// Without the tflite tag the package still registers backend "tflite", whose
// Open explains how to rebuild, so a config that names it fails with a
// useful message instead of "unknown backend".
//
// Models: the manifest's image file is a .tflite with one input, NHWC,
// uint8/int8 with the manifest's quant parameters (checked against the
// tensor's own) or float32; one float32 or quantized [1, embedding_dim]
// output. An optional text model takes int32 or int64 ids [1, context_length].
package tflite

// BackendName is the name this package registers with accel.
const BackendName = "tflite"
