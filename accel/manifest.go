package accel

import (
	"fmt"
	"math"
	"path"
	"path/filepath"
	"strings"

	"github.com/clipfleet/clipfleet/preprocess"
)

// ManifestFormat is the only manifest format this version reads.
const ManifestFormat = "clipfleet-model/v1"

// ManifestFile is the manifest's file name inside a model directory.
const ManifestFile = "manifest.yaml"

// BaseVariant selects the manifest's base files even when it names a
// default_variant; it cannot be used as a variant name.
const BaseVariant = "base"

// Manifest describes a model directory; see the package documentation for
// the schema. Field order and yaml tags define the canonical form that
// MarshalManifest writes.
type Manifest struct {
	Format         string             `yaml:"format"`
	ID             string             `yaml:"id"`
	EmbeddingDim   int                `yaml:"embedding_dim"`
	LogitScale     float32            `yaml:"logit_scale"`
	Tokenizer      string             `yaml:"tokenizer,omitempty"`
	Image          ImageModel         `yaml:"image"`
	Text           *TextModel         `yaml:"text,omitempty"`
	Variants       map[string]Variant `yaml:"variants,omitempty"`
	DefaultVariant string             `yaml:"default_variant,omitempty"`
}

// ImageModel is the image encoder: its file, tensor names and the input
// preprocessing.
type ImageModel struct {
	File   string            `yaml:"file"`
	Input  string            `yaml:"input"`
	Output string            `yaml:"output"`
	Size   int               `yaml:"size"`
	Layout preprocess.Layout `yaml:"layout"`
	DType  preprocess.DType  `yaml:"dtype"`
	Quant  *Quant            `yaml:"quant,omitempty"`
	Mean   []float32         `yaml:"mean,flow"`
	Std    []float32         `yaml:"std,flow"`
}

// Quant is an affine quantization: real = (q - ZeroPoint) * Scale.
type Quant struct {
	Scale     float32 `yaml:"scale"`
	ZeroPoint int32   `yaml:"zero_point"`
}

// TextModel is the optional text encoder.
type TextModel struct {
	File          string `yaml:"file"`
	Input         string `yaml:"input"`
	Output        string `yaml:"output"`
	ContextLength int    `yaml:"context_length"`
	IDsDType      string `yaml:"ids_dtype"`                // int64 | int32
	AttentionMask string `yaml:"attention_mask,omitempty"` // input name, "" if none
}

// Variant names alternative files (e.g. quantized) for the same model.
// An empty field keeps the base file.
type Variant struct {
	Image string `yaml:"image,omitempty"`
	Text  string `yaml:"text,omitempty"`
}

// Spec is the preprocessing the image encoder requires.
func (im ImageModel) Spec() preprocess.Spec {
	s := preprocess.Spec{Size: im.Size, Layout: im.Layout, DType: im.DType}
	copy(s.Mean[:], im.Mean)
	copy(s.Std[:], im.Std)
	if im.Quant != nil {
		s.Scale, s.ZeroPoint = im.Quant.Scale, im.Quant.ZeroPoint
	}
	return s
}

// Validate checks the manifest's values (not the files) and names the first
// bad field by its path.
func (m *Manifest) Validate() error {
	if m.Format != ManifestFormat {
		return fieldErr("format", 0, "%q is not supported (want %s)", m.Format, ManifestFormat)
	}
	if !validName(m.ID) {
		return fieldErr("id", 0, "%q must be 1-128 letters, digits, '_', '-' or '.'", m.ID)
	}
	if m.EmbeddingDim < 1 || m.EmbeddingDim > 65536 {
		return fieldErr("embedding_dim", 0, "%d outside [1,65536]", m.EmbeddingDim)
	}
	if !(m.LogitScale > 0) || math.IsInf(float64(m.LogitScale), 0) {
		return fieldErr("logit_scale", 0, "%v must be positive and finite", m.LogitScale)
	}
	if m.Tokenizer != "" {
		if err := checkRelPath("tokenizer", m.Tokenizer); err != nil {
			return err
		}
	}
	if err := m.Image.validate(); err != nil {
		return err
	}
	if m.Text != nil {
		if err := m.Text.validate(); err != nil {
			return err
		}
	}
	for name, v := range m.Variants {
		p := "variants." + name
		if !validName(name) || name == BaseVariant {
			return fieldErr(p, 0, "%q is not a usable variant name", name)
		}
		if v.Image == "" && v.Text == "" {
			return fieldErr(p, 0, "names neither image nor text")
		}
		if v.Image != "" {
			if err := checkRelPath(p+".image", v.Image); err != nil {
				return err
			}
		}
		if v.Text != "" {
			if m.Text == nil {
				return fieldErr(p+".text", 0, "the manifest has no text model")
			}
			if err := checkRelPath(p+".text", v.Text); err != nil {
				return err
			}
		}
	}
	if m.DefaultVariant != "" {
		if _, ok := m.Variants[m.DefaultVariant]; !ok {
			return fieldErr("default_variant", 0, "%q is not in variants", m.DefaultVariant)
		}
	}
	return nil
}

func (im *ImageModel) validate() error {
	if err := checkRelPath("image.file", im.File); err != nil {
		return err
	}
	if im.Input == "" {
		return fieldErr("image.input", 0, "missing")
	}
	if im.Output == "" {
		return fieldErr("image.output", 0, "missing")
	}
	if len(im.Mean) != 3 {
		return fieldErr("image.mean", 0, "want 3 values (RGB), got %d", len(im.Mean))
	}
	if len(im.Std) != 3 {
		return fieldErr("image.std", 0, "want 3 values (RGB), got %d", len(im.Std))
	}
	switch im.DType {
	case preprocess.Float32:
		if im.Quant != nil {
			return fieldErr("image.quant", 0, "not allowed with dtype float32")
		}
	case preprocess.Uint8, preprocess.Int8:
		if im.Quant == nil {
			return fieldErr("image.quant", 0, "required with dtype %s", im.DType)
		}
	}
	if err := im.Spec().Validate(); err != nil {
		return fieldErr("image", 0, "%v", err)
	}
	return nil
}

func (t *TextModel) validate() error {
	if err := checkRelPath("text.file", t.File); err != nil {
		return err
	}
	if t.Input == "" {
		return fieldErr("text.input", 0, "missing")
	}
	if t.Output == "" {
		return fieldErr("text.output", 0, "missing")
	}
	if t.ContextLength < 1 || t.ContextLength > 4096 {
		return fieldErr("text.context_length", 0, "%d outside [1,4096]", t.ContextLength)
	}
	switch t.IDsDType {
	case "int64", "int32":
	default:
		return fieldErr("text.ids_dtype", 0, "%q (want int64 or int32)", t.IDsDType)
	}
	if t.AttentionMask != "" && (t.AttentionMask == t.Input) {
		return fieldErr("text.attention_mask", 0, "same name as text.input")
	}
	return nil
}

// checkRelPath refuses paths that could leave the model directory: model
// directories arrive from the fleet hub and are not trusted.
func checkRelPath(field, p string) error {
	if p == "" {
		return fieldErr(field, 0, "missing")
	}
	if strings.Contains(p, `\`) || path.IsAbs(p) || filepath.IsAbs(p) {
		return fieldErr(field, 0, "%q must be a relative path with '/' separators", p)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") || clean == "." {
		return fieldErr(field, 0, "%q leaves the model directory", p)
	}
	return nil
}

// FieldError is a manifest error at a field path such as "image.size".
type FieldError struct {
	Field string // dotted path; "" for the document itself
	Line  int    // 1-based line in the YAML, 0 if unknown (semantic checks)
	Msg   string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

// Unwrap makes every FieldError match ErrInvalidManifest.
func (e *FieldError) Unwrap() error { return ErrInvalidManifest }

func fieldErr(field string, line int, format string, args ...any) error {
	return &FieldError{Field: field, Line: line, Msg: fmt.Sprintf(format, args...)}
}
