package accel

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const hfConfigJSON = `{"projection_dim": 512, "logit_scale_init_value": 2.6592, "text_config": {"max_position_embeddings": 77}}`

func TestHuggingFaceManifest(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "clip-vit-base-patch32")
	writeFiles(t, dir, map[string]string{
		"config.json": hfConfigJSON,
		"preprocessor_config.json": `{"crop_size": {"height": 336, "width": 336}, "image_mean": [0.5, 0.5, 0.5],
			"image_std": [0.25, 0.25, 0.25]}`,
		"tokenizer.json":                   "{}",
		"onnx/vision_model.onnx":           "v",
		"onnx/vision_model_quantized.onnx": "vq",
		"onnx/vision_model_uint8.onnx":     "vu",
		"onnx/vision_model_fp16.onnx":      "vf",
		"onnx/text_model.onnx":             "t",
		"onnx/text_model_quantized.onnx":   "tq",
	})
	m, err := LoadModel(dir, "quantized")
	if err != nil {
		t.Fatal(err)
	}
	man := m.Manifest
	if m.Source != SourceHuggingFace || man.EmbeddingDim != 512 || man.Image.Size != 336 || man.Image.Mean[0] != 0.5 ||
		man.Image.Std[2] != 0.25 || man.Text == nil || man.Text.ContextLength != 77 || man.LogitScale != 100 {
		t.Errorf("manifest %+v", man)
	}
	if len(man.Variants) != 2 || man.Variants["uint8"].Text != "" || man.Variants["quantized"].Text != "onnx/text_model_quantized.onnx" {
		t.Errorf("variants %+v (fp16 must be left out, uint8 has no text file)", man.Variants)
	}
	if filepath.Base(m.ImageFile) != "vision_model_quantized.onnx" || filepath.Base(m.TextFile) != "text_model_quantized.onnx" ||
		filepath.Base(m.Tokenizer) != "tokenizer.json" {
		t.Errorf("files %s %s %s", m.ImageFile, m.TextFile, m.Tokenizer)
	}
	if !strings.HasPrefix(man.ID, "hf-clip-vit-base-patch32-") || len(man.ID) != len("hf-clip-vit-base-patch32-")+8 {
		t.Errorf("id %q", man.ID)
	}
	// uint8 keeps the float text model.
	m8, err := LoadModel(dir, "uint8")
	if err != nil || filepath.Base(m8.TextFile) != "text_model.onnx" {
		t.Errorf("uint8 variant: %v, text %s", err, m8.TextFile)
	}
	// The id follows the export: a different file means a different id.
	writeFiles(t, dir, map[string]string{"onnx/vision_model.onnx": "v2-longer"})
	again, err := LoadModel(dir, "")
	if err != nil || again.Manifest.ID == man.ID {
		t.Errorf("id did not change with the vision model: %v %q", err, again.Manifest.ID)
	}
}

func TestHuggingFaceManifestDefaultsAndErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"config.json":              `{"projection_dim": 256, "logit_scale_init_value": 3.0, "vision_config": {"image_size": 256}}`,
		"preprocessor_config.json": `{}`,
		"vision_model.onnx":        "v", // top-level layout, no text model
	})
	m, err := LoadModel(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if m.TextFile != "" || m.Manifest.Text != nil || m.Manifest.Image.Size != 256 || m.Manifest.Image.Mean[0] != clipMean[0] ||
		math.Abs(float64(m.Manifest.LogitScale)-math.Exp(3)) > 1e-4 || m.Info().HasText {
		t.Errorf("model %+v", m.Manifest)
	}

	for name, files := range map[string]map[string]string{
		"no projection_dim": {"config.json": `{}`, "preprocessor_config.json": `{}`},
		"no config":         {"preprocessor_config.json": `{}`},
		"bad crop":          {"config.json": hfConfigJSON, "preprocessor_config.json": `{"crop_size": {"height": 224, "width": 200}}`},
		"bad json":          {"config.json": `{"projection_dim": `, "preprocessor_config.json": `{}`},
	} {
		d := t.TempDir()
		files["onnx/vision_model.onnx"] = "v"
		writeFiles(t, d, files)
		if _, err := LoadModel(d, ""); !errors.Is(err, ErrBadModel) {
			t.Errorf("%s: err = %v, want ErrBadModel", name, err)
		}
	}
	if _, err := LoadModel(t.TempDir(), ""); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), "no manifest.yaml") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := LoadModel(filepath.Join(t.TempDir(), "nope"), ""); !errors.Is(err, ErrBadModel) {
		t.Errorf("missing dir: %v", err)
	}
}

func TestLoadModelManifestErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"manifest.yaml": "format: clipfleet-model/v1\nidd: x\n"})
	_, err := LoadModel(dir, "")
	if !errors.Is(err, ErrInvalidManifest) || !strings.Contains(err.Error(), filepath.Join(dir, "manifest.yaml")+": idd: unknown key (line 2)") {
		t.Errorf("err = %v", err)
	}
}
