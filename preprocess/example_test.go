package preprocess_test

import (
	"fmt"
	"log"

	"github.com/clipfleet/clipfleet/preprocess"
)

func Example() {
	// A 640x480 mid-grey camera frame, packed RGB.
	const w, h = 640, 480
	frame := make([]byte, w*h*3)
	for i := range frame {
		frame[i] = 128
	}

	// One Preprocessor per goroutine; reuse the tensor across frames.
	p, err := preprocess.NewPreprocessor(preprocess.CLIPSpec(224))
	if err != nil {
		log.Fatal(err)
	}
	var t preprocess.Tensor
	if err := p.Image(&t, frame, w, h); err != nil {
		log.Fatal(err)
	}
	rw, rh := preprocess.ResizedSize(w, h, 224)
	left, top := preprocess.CenterCropOffset(rw, rh, 224)
	fmt.Printf("resized to %dx%d, cropped at (%d,%d)\n", rw, rh, left, top)
	fmt.Printf("%d float32 values, R G B planes start with %.4f %.4f %.4f\n",
		len(t.F32), t.F32[0], t.F32[224*224], t.F32[2*224*224])
	// Output:
	// resized to 298x224, cropped at (37,0)
	// 150528 float32 values, R G B planes start with 0.0763 0.1689 0.3399
}

func ExampleImage() {
	// A quantized NHWC model, e.g. a TFLite export: uint8 input with
	// real = (q - 114) * 0.0186.
	spec := preprocess.CLIPSpec(224)
	spec.Layout, spec.DType = preprocess.NHWC, preprocess.Uint8
	spec.Scale, spec.ZeroPoint = 0.0186, 114

	frame := make([]byte, 320*240*3) // black
	var t preprocess.Tensor
	if err := preprocess.Image(&t, frame, 320, 240, spec); err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(t.U8), t.U8[0], t.U8[1], t.U8[2])
	// Output:
	// 150528 18 20 34
}

func ExampleResizeCrop() {
	frame := make([]byte, 50*30*3) // a tiny frame is enlarged, then cropped
	square, err := preprocess.ResizeCrop(nil, frame, 50, 30, 64)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(square))
	// Output:
	// 12288
}

func ExamplePreprocessor_SetWorkers() {
	// A frame with a horizontal gradient, preprocessed by one goroutine and
	// by two, each resampling half of the crop's rows: same tensor.
	const w, h = 640, 480
	frame := make([]byte, w*h*3)
	for i := range frame {
		frame[i] = byte(i / 3 % w * 255 / (w - 1))
	}
	one, err := preprocess.NewPreprocessor(preprocess.CLIPSpec(224))
	if err != nil {
		log.Fatal(err)
	}
	two, err := preprocess.NewPreprocessor(preprocess.CLIPSpec(224))
	if err != nil {
		log.Fatal(err)
	}
	two.SetWorkers(2)
	var a, b preprocess.Tensor
	if err := one.Image(&a, frame, w, h); err != nil {
		log.Fatal(err)
	}
	if err := two.Image(&b, frame, w, h); err != nil {
		log.Fatal(err)
	}
	same := len(a.F32) == len(b.F32)
	for i := range a.F32 {
		same = same && a.F32[i] == b.F32[i]
	}
	fmt.Println("identical:", same)
	// Output:
	// identical: true
}
