package accel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Where a Model's manifest came from.
const (
	SourceManifest    = "manifest"    // manifest.yaml in the directory
	SourceHuggingFace = "huggingface" // synthesised from a Hugging Face ONNX export
)

// Model is a model directory resolved for one variant: the manifest plus
// the absolute paths of the files a backend must load.
type Model struct {
	Dir       string   // absolute model directory
	Manifest  Manifest // as read (or synthesised); file fields are relative to Dir
	Source    string   // SourceManifest or SourceHuggingFace
	Variant   string   // variant chosen, "" for the base files
	ImageFile string   // absolute path of the image encoder
	TextFile  string   // absolute path of the text encoder, "" if none
	Tokenizer string   // absolute path of the tokenizer, "" if none
}

// LoadModel reads dir's manifest.yaml, or recognises a Hugging Face CLIP
// ONNX export when there is none, and selects variant: "" means the
// manifest's default_variant, BaseVariant the base files. Every file the
// chosen variant needs must exist.
func LoadModel(dir, variant string) (*Model, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("accel: model_dir %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, fmt.Errorf("%w: model_dir %s: %v", ErrBadModel, dir, err)
	}
	m := &Model{Dir: abs}
	manPath := filepath.Join(abs, ManifestFile)
	data, err := os.ReadFile(manPath)
	switch {
	case err == nil:
		man, err := parseManifest(data, filepath.Join(dir, ManifestFile))
		if err != nil {
			return nil, err
		}
		m.Manifest, m.Source = *man, SourceManifest
	case errors.Is(err, fs.ErrNotExist):
		man, err := huggingFaceManifest(abs)
		if err != nil {
			return nil, err
		}
		m.Manifest, m.Source = *man, SourceHuggingFace
	default:
		return nil, fmt.Errorf("accel: %s: %w", manPath, err)
	}
	if err := m.selectVariant(variant); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) selectVariant(variant string) error {
	man := &m.Manifest
	if variant == "" {
		variant = man.DefaultVariant
	}
	if variant == BaseVariant {
		variant = ""
	}
	image, text := man.Image.File, ""
	if man.Text != nil {
		text = man.Text.File
	}
	if variant != "" {
		v, ok := man.Variants[variant]
		if !ok {
			have := make([]string, 0, len(man.Variants)+1)
			have = append(have, BaseVariant)
			for name := range man.Variants {
				have = append(have, name)
			}
			sort.Strings(have)
			return fmt.Errorf("%w: variant: %q is not in %s (have %s)", ErrInvalidConfig, variant,
				filepath.Join(m.Dir, ManifestFile), strings.Join(have, ", "))
		}
		if v.Image != "" {
			image = v.Image
		}
		if v.Text != "" {
			text = v.Text
		}
	}
	m.Variant = variant
	m.ImageFile = filepath.Join(m.Dir, filepath.FromSlash(image))
	if text != "" {
		m.TextFile = filepath.Join(m.Dir, filepath.FromSlash(text))
	}
	if man.Tokenizer != "" {
		m.Tokenizer = filepath.Join(m.Dir, filepath.FromSlash(man.Tokenizer))
	}
	for _, f := range []string{m.ImageFile, m.TextFile, m.Tokenizer} {
		if f == "" {
			continue
		}
		if st, err := os.Stat(f); err != nil || !st.Mode().IsRegular() {
			if err == nil {
				err = errors.New("not a regular file")
			}
			return fmt.Errorf("%w: %s: %v", ErrBadModel, f, err)
		}
	}
	return nil
}

// Info is the ModelInfo the manifest implies; backends fill Backend and
// Runtime.
func (m *Model) Info() ModelInfo {
	spec := m.Manifest.Image.Spec()
	info := ModelInfo{
		ID:             m.Manifest.ID,
		EmbeddingDim:   m.Manifest.EmbeddingDim,
		LogitScale:     m.Manifest.LogitScale,
		Image:          spec,
		HasText:        m.TextFile != "",
		Tokenizer:      m.Tokenizer,
		PreprocessHash: PreprocessHash(spec),
		Variant:        m.Variant,
	}
	if m.Manifest.Text != nil && m.TextFile != "" {
		info.ContextLength = m.Manifest.Text.ContextLength
	}
	return info
}

// Rel returns path relative to the model directory's parent, for error
// messages that stay short but still say which model is meant.
func (m *Model) Rel(path string) string {
	if r, err := filepath.Rel(filepath.Dir(m.Dir), path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}
