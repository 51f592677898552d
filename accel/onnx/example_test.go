package onnx_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/clipfleet/clipfleet/accel"
	_ "github.com/clipfleet/clipfleet/accel/onnx" // registers backend "onnx"
	"github.com/clipfleet/clipfleet/preprocess"
)

// Opening the committed test model on ONNX Runtime and embedding one
// (already preprocessed) frame. Not run as a test: it needs the ONNX
// Runtime library, which the package's tests locate themselves.
func Example() {
	cfg := accel.DefaultConfig() // backend onnx, models/testclip, CPU
	enc, err := accel.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer enc.Close()
	info := enc.Info()
	img := &preprocess.Tensor{Spec: info.Image, F32: make([]float32, info.Image.Elements())}
	emb := make([]float32, info.EmbeddingDim)
	if err := enc.EncodeImage(context.Background(), img, emb); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.ID, len(emb))
}
