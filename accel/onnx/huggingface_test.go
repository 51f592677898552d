package onnx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

// hfExport lays the test model out as a Hugging Face / Xenova CLIP ONNX
// export: onnx/{vision,text}_model[_quantized].onnx plus the JSON configs.
func hfExport(t *testing.T) string {
	t.Helper()
	src := testModelDir(t)
	dir := filepath.Join(t.TempDir(), "clip-tiny")
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{
		"image.onnx": "vision_model.onnx", "image_int8.onnx": "vision_model_quantized.onnx",
		"text.onnx": "text_model.onnx", "text_int8.onnx": "text_model_quantized.onnx",
	} {
		copyFile(t, filepath.Join(src, from), filepath.Join(dir, "onnx", to))
	}
	files := map[string]string{
		"config.json": `{"architectures": ["CLIPModel"], "projection_dim": 64, "logit_scale_init_value": 2.6592,
			"text_config": {"max_position_embeddings": 77}, "vision_config": {"image_size": 224}}`,
		"preprocessor_config.json": `{"crop_size": {"height": 224, "width": 224}, "do_center_crop": true,
			"image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
			"size": {"shortest_edge": 224}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestHuggingFaceExport(t *testing.T) {
	hf := hfExport(t)
	ref := openTest(t, testModelDir(t), accel.BaseVariant)
	refQ := openTest(t, testModelDir(t), "int8")
	for _, tc := range []struct {
		variant string
		same    *Encoder
	}{{"", ref}, {"quantized", refQ}} {
		e := openTest(t, hf, tc.variant)
		info := e.Info()
		if !strings.HasPrefix(info.ID, "hf-clip-tiny-") || info.EmbeddingDim != 64 || !info.HasText ||
			info.ContextLength != 77 || info.Image != ref.Info().Image || info.Variant != tc.variant {
			t.Errorf("variant %q: Info() = %+v", tc.variant, info)
		}
		img := refImage(1)
		if cos := accel.Cosine(encodeImage(t, e, img), encodeImage(t, tc.same, img)); cos < 0.999999 {
			t.Errorf("variant %q: image embedding differs from the same file loaded by manifest (cosine %.7f)", tc.variant, cos)
		}
		ids := [][]int32{sequence(320, 1125)}
		a, err := e.EncodeText(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tc.same.EncodeText(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		if cos := accel.Cosine(a[0], b[0]); cos < 0.999999 {
			t.Errorf("variant %q: text embedding differs (cosine %.7f)", tc.variant, cos)
		}
	}
}
