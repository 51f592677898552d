// Package preprocess turns an RGB frame into a CLIP model's input tensor
// exactly as CLIP's reference pipeline does: the shorter side resized to the
// model size with bicubic resampling (PIL's filter, with its antialiasing when
// shrinking), a centre crop, per-channel mean/std normalisation, then the
// layout (NCHW or NHWC) and dtype (float32, or uint8/int8 with the model's
// quantization scale and zero point) the model declares.
//
// It is pure Go so that capture, accel and tests share one implementation
// whose output is checked against values computed independently with PIL and
// numpy (testdata/reference.py).
//
// # Fidelity
//
// The reference is OpenAI CLIP's _transform: torchvision Resize(n, BICUBIC)
// on a PIL image, CenterCrop(n), ToTensor, Normalize(mean, std).
//   - Geometry follows torchvision: ResizedSize truncates the long side,
//     CenterCropOffset rounds halves to even (see those functions for the
//     one-pixel differences of other torchvision versions and Hugging Face).
//   - Resampling reproduces Pillow's 8-bit Resample.c: the a = -0.5 cubic
//     kernel with support widened by the shrink factor, Pillow's pixel-centre
//     convention and tap bounds, weights in 22-bit fixed point, horizontal
//     pass first, rounding and clipping to 8 bits after each pass. Output
//     bytes equal Pillow's (tested bit-exact against Pillow 9.4); only the
//     pixels the crop keeps are computed.
//   - Normalisation is (float32(v)/255 - mean) / std in float32, as
//     torchvision computes it, via a per-channel table of the 256 values.
//   - Quantized inputs are clamp(round(x/scale) + zero_point), x/scale in
//     float32 and halves away from zero (TensorFlow Lite's reference
//     quantizer).
//
// # Performance and concurrency
//
// A Preprocessor caches the resize plan for the last frame size and owns its
// scratch memory; with a reused Tensor, a steady stream of same-sized frames
// allocates nothing. A Preprocessor is not safe for concurrent use. The
// package-level Image, ResizeCrop and Resize are, drawing Preprocessors from
// a pool; kernel tables are immutable and shared through a small cache.
// Both resampling passes multiply two pixels at once: Pillow's int32
// accumulators never overflow, so two of them share a uint64 and are
// separated exactly afterwards (see resampler). The passes are interleaved
// row by row so the rows a vertical tap reads are still in cache.
// BenchmarkImage tracks the cost per frame (about 1.5-2 ms for 640x480 to
// 224 on one core; cpu-ns/op is the figure to compare on a busy machine).
package preprocess
