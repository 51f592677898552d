// Package augment makes teach-time views of a camera frame: the label a
// user teaches is attached to a handful of plausible variants of each
// taught frame (a horizontal flip, a random resized crop, a small rotation
// and shift, mild brightness/contrast/saturation jitter), so a few-shot
// head sees more of the class than the exact pixels of the few frames it
// was shown. It is the data-side half of Tip-Adapter-F / CoOp practice on
// frozen CLIP features.
//
// Only teaching is augmented. Inference encodes each camera frame once:
// several encodes per frame would multiply the encoder's cost on every
// frame, which a real-time daemon cannot afford, while teach events are
// rare and a burst of extra encodes there costs little.
//
// Everything is pure Go on packed 8-bit RGB (capture.Frame's layout),
// views have the input's size, and a view is a pure function of the
// frame, the Config and a seed (Params.Sample with a seeded source), so
// the same teach event produces the same views on every device and run.
// eval/README.md has the measurement that chose the defaults.
package augment
