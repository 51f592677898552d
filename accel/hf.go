package accel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/clipfleet/clipfleet/preprocess"
)

// Hugging Face CLIP exports (optimum, and the Xenova/transformers.js
// repositories) keep the separate encoders as onnx/vision_model.onnx and
// onnx/text_model.onnx, with quantized copies beside them named by suffix.
const (
	hfVision = "vision_model"
	hfText   = "text_model"
)

// hfVariantSuffixes are the quantized copies recognised as variants, keyed
// by the variant name they get. fp16 and 4-bit exports are left out: their
// inputs or kernels are not what the CPU and Jetson int8 paths expect.
var hfVariantSuffixes = []string{"quantized", "int8", "uint8"}

// openAI CLIP's normalisation, the default of CLIPImageProcessor.
var (
	clipMean = []float32{0.48145466, 0.4578275, 0.40821073}
	clipStd  = []float32{0.26862954, 0.26130258, 0.27577711}
)

type hfConfig struct {
	ProjectionDim       int      `json:"projection_dim"`
	LogitScaleInitValue *float64 `json:"logit_scale_init_value"`
	TextConfig          struct {
		MaxPositionEmbeddings int `json:"max_position_embeddings"`
	} `json:"text_config"`
	VisionConfig struct {
		ImageSize int `json:"image_size"`
	} `json:"vision_config"`
}

type hfPreprocessor struct {
	CropSize  json.RawMessage `json:"crop_size"` // 224 or {"height":224,"width":224}
	ImageMean []float32       `json:"image_mean"`
	ImageStd  []float32       `json:"image_std"`
}

// huggingFaceManifest synthesises a manifest for a Hugging Face CLIP ONNX
// export in dir (files under onnx/ or at the top level), or explains why dir
// is not one.
func huggingFaceManifest(dir string) (*Manifest, error) {
	sub := ""
	switch {
	case exists(filepath.Join(dir, "onnx", hfVision+".onnx")):
		sub = "onnx"
	case exists(filepath.Join(dir, hfVision+".onnx")):
	default:
		return nil, fmt.Errorf("%w: %s: no %s and no Hugging Face CLIP export (onnx/%s.onnx)",
			ErrBadModel, dir, ManifestFile, hfVision)
	}
	rel := func(name string) string { return path.Join(sub, name) }

	var cfg hfConfig
	cfgData, err := readJSON(filepath.Join(dir, "config.json"), &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.ProjectionDim <= 0 {
		return nil, fmt.Errorf("%w: %s: projection_dim missing or not positive", ErrBadModel, filepath.Join(dir, "config.json"))
	}
	var pre hfPreprocessor
	preData, err := readJSON(filepath.Join(dir, "preprocessor_config.json"), &pre)
	if err != nil {
		return nil, err
	}
	size, err := hfCropSize(pre.CropSize, cfg.VisionConfig.ImageSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModel, filepath.Join(dir, "preprocessor_config.json"), err)
	}
	mean, std := pre.ImageMean, pre.ImageStd
	if mean == nil {
		mean = clipMean
	}
	if std == nil {
		std = clipStd
	}
	// config.json only carries the *initial* logit scale; the trained value
	// is a weight that the separate encoders do not export. Transformers'
	// default init, ln(1/0.07), says nothing about the trained model, and
	// OpenAI CLIP trains up to the clamp, 100, so that is used; any other
	// init value was set on purpose and is taken as exp(value). A
	// manifest.yaml written beside the export states it exactly.
	scale := float32(100)
	if v := cfg.LogitScaleInitValue; v != nil && math.Abs(*v-math.Log(1/0.07)) > 1e-3 {
		scale = float32(math.Exp(*v))
	}

	m := &Manifest{
		Format:       ManifestFormat,
		EmbeddingDim: cfg.ProjectionDim,
		LogitScale:   scale,
		Image: ImageModel{
			File: rel(hfVision + ".onnx"), Input: "pixel_values", Output: "image_embeds",
			Size: size, Layout: preprocess.NCHW, DType: preprocess.Float32,
			Mean: mean, Std: std,
		},
	}
	if exists(filepath.Join(dir, "tokenizer.json")) {
		m.Tokenizer = "tokenizer.json"
	}
	hasText := exists(filepath.Join(dir, filepath.FromSlash(rel(hfText+".onnx"))))
	if hasText {
		ctx := cfg.TextConfig.MaxPositionEmbeddings
		if ctx <= 0 {
			ctx = 77
		}
		m.Text = &TextModel{
			File: rel(hfText + ".onnx"), Input: "input_ids", Output: "text_embeds",
			ContextLength: ctx, IDsDType: "int64",
		}
	}
	for _, suffix := range hfVariantSuffixes {
		var v Variant
		if f := rel(hfVision + "_" + suffix + ".onnx"); exists(filepath.Join(dir, filepath.FromSlash(f))) {
			v.Image = f
		}
		if f := rel(hfText + "_" + suffix + ".onnx"); hasText && exists(filepath.Join(dir, filepath.FromSlash(f))) {
			v.Text = f
		}
		if v.Image != "" || v.Text != "" {
			if m.Variants == nil {
				m.Variants = map[string]Variant{}
			}
			m.Variants[suffix] = v
		}
	}
	// The id keys caches and deltas, so it must change when the export
	// does: hash the configs and the encoder file sizes (hashing hundreds of
	// megabytes of weights at every start would cost seconds on a Pi).
	h := sha256.New()
	h.Write(cfgData)
	h.Write(preData)
	for _, f := range []string{m.Image.File, rel(hfText + ".onnx")} {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
			fmt.Fprintf(h, "%s=%d;", f, st.Size())
		}
	}
	m.ID = "hf-" + sanitizeID(filepath.Base(dir)) + "-" + hex.EncodeToString(h.Sum(nil))[:8]
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("accel: %s (Hugging Face export): %w", dir, err)
	}
	return m, nil
}

func hfCropSize(raw json.RawMessage, fallback int) (int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if fallback > 0 {
			return fallback, nil
		}
		return 224, nil
	}
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return n, nil
	}
	var hw struct{ Height, Width int }
	if err := json.Unmarshal(raw, &hw); err != nil {
		return 0, fmt.Errorf("crop_size %s: want an integer or {height, width}", raw)
	}
	if hw.Height != hw.Width {
		return 0, fmt.Errorf("crop_size %dx%d is not square", hw.Height, hw.Width)
	}
	return hw.Height, nil
}

func readJSON(p string, v any) ([]byte, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%w: Hugging Face export: %v", ErrBadModel, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModel, p, err)
	}
	return data, nil
}

func exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func sanitizeID(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, s)
	s = strings.Trim(s, ".-")
	if s == "" {
		s = "model"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
