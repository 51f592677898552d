package augment_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/preprocess"
)

// A teach event: the taught frame is encoded as it is, then each of its
// views (the same views for the same seed, on any device).
func Example() {
	w, h := 64, 48
	frame := make([]byte, w*h*3) // a capture.Frame's RGB
	for i := range frame {
		frame[i] = byte(i)
	}
	cfg := augment.DefaultConfig()
	var view []byte
	for i := 0; i < cfg.Views; i++ {
		var err error
		if view, err = cfg.View(view, frame, w, h, 7, i); err != nil {
			fmt.Println(err)
			return
		}
		// encode view with the preprocessor and encoder, teach its embedding
	}
	fmt.Println(len(view) == len(frame), cfg.Views)
	// Output: true 16
}

// The daemon's teach path: views of the preprocessor's centre-cropped
// square (a view of a 224×224 square costs a tenth of one of a 640×480
// frame), each normalised into the encoder's tensor.
func ExampleConfig_View() {
	spec := preprocess.Spec{Size: 32, Layout: preprocess.NCHW, DType: preprocess.Float32,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
	pre, err := preprocess.NewPreprocessor(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, h := 64, 48
	frame := make([]byte, w*h*3) // a taught capture.Frame's RGB
	square, err := pre.ResizeCrop(nil, frame, w, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := augment.ShapeConfig() // only for labels that name a shape
	var view []byte
	var tensor preprocess.Tensor
	encoded := 0
	for i := 0; i < cfg.Views; i++ {
		if view, err = cfg.View(view, square, spec.Size, spec.Size, 1234, i); err != nil {
			fmt.Println(err)
			return
		}
		if err := pre.Normalize(&tensor, view); err != nil {
			fmt.Println(err)
			return
		}
		encoded++ // enc.EncodeImage(ctx, &tensor, emb); teach emb with the frame's label
	}
	fmt.Println(encoded, "views of", len(square)/3, "pixels")
	// Output: 32 views of 1024 pixels
}
