package acceltest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/preprocess"
)

func ExampleNew() {
	f := acceltest.New(acceltest.Config{Dim: 16})
	spec := f.Info().Image
	img := &preprocess.Tensor{Spec: spec, F32: make([]float32, spec.Elements())}
	img.F32[0] = 1
	emb := make([]float32, 16)
	fmt.Println(f.EncodeImage(context.Background(), img, emb), f.ImageCalls())

	f.Fail(errors.New("npu reset"))
	fmt.Println(f.EncodeImage(context.Background(), img, emb), f.ImageCalls())
	// Output:
	// <nil> 1
	// npu reset 2
}
