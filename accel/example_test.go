package accel_test

import (
	"fmt"

	"github.com/clipfleet/clipfleet/accel"
)

func ExampleParseManifest() {
	m, err := accel.ParseManifest([]byte(`
format: clipfleet-model/v1
id: demo
embedding_dim: 512
logit_scale: 100
image:
  file: image.onnx
  input: pixel_values
  output: image_embeds
  size: 224
  layout: NCHW
  dtype: float32
  mean: [0.48145466, 0.4578275, 0.40821073]
  std: [0.26862954, 0.26130258, 0.27577711]
`))
	fmt.Println(m.ID, m.EmbeddingDim, m.Image.Spec().Elements(), err)

	_, err = accel.ParseManifest([]byte("format: clipfleet-model/v1\nimage:\n  sizee: 224\n"))
	fmt.Println(err)
	// Output:
	// demo 512 150528 <nil>
	// accel: manifest.yaml: image.sizee: unknown key (line 3)
}

func ExampleConfig_Validate() {
	cfg := accel.DefaultConfig()
	cfg.ONNX.Providers = []accel.Provider{{Name: "tensorrt", FP16: true}, {Name: "cude"}}
	fmt.Println(cfg.Validate())
	// Output:
	// accel: invalid config: onnx.providers[1].name: unknown provider "cude" (want cpu, cuda or tensorrt)
}
