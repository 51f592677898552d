// Package acceltest provides a deterministic fake accel.Encoder for tests
// of the daemon and the learner, which need embeddings that behave like
// CLIP's (similar inputs give similar unit vectors) without ONNX Runtime.
//
// Importing the package also registers the fake as backend "fake", which
// builds a Fake from the model directory's manifest (dimension, image spec,
// text context length), so a daemon config can point at models/testclip
// and run without any native library.
package acceltest
