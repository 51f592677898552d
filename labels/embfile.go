package labels

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
)

// EmbeddingsFormat is the "format" value of a JSON embeddings file.
const EmbeddingsFormat = "clipfleet-label-embeddings/v1"

// maxEmbeddingsFileBytes bounds what ReadEmbeddingsFile reads (10,000
// labels of dimension 1024 in JSON fit).
const maxEmbeddingsFileBytes = 256 << 20

// Embeddings are label embeddings computed by some model, e.g. exported by
// `edge labels export` on a machine with a text encoder for a Coral that
// has none.
type Embeddings struct {
	ModelID string      `json:"model_id"`
	Dim     int         `json:"dim"`
	Labels  []Embedding `json:"labels"`
}

// Embedding is one label's text embedding.
type Embedding struct {
	Name   string    `json:"name"`
	Vector []float32 `json:"embedding"`
}

// jsonEmbeddings is the JSON file: Embeddings plus its format tag.
type jsonEmbeddings struct {
	Format string `json:"format"`
	Embeddings
}

// Validate checks the model id, dimension, names (canonicalising them) and
// vectors (normalising them to unit length); errors name the entry.
func (e *Embeddings) Validate() error {
	if e.ModelID == "" || len(e.ModelID) > maxModelID {
		return errorf(ErrInvalidEmbeddings, "model_id: %q must be 1..%d bytes", e.ModelID, maxModelID)
	}
	if e.Dim < 1 || e.Dim > maxDim {
		return errorf(ErrInvalidEmbeddings, "dim: %d outside [1,%d]", e.Dim, maxDim)
	}
	if len(e.Labels) > MaxLabels {
		return errorf(ErrInvalidEmbeddings, "labels: %d entries (max %d)", len(e.Labels), MaxLabels)
	}
	seen := make(map[string]int, len(e.Labels))
	for i := range e.Labels {
		l := &e.Labels[i]
		c, err := checkName(l.Name)
		if err != nil {
			return errorf(ErrInvalidEmbeddings, "labels[%d].name: %w", i, err)
		}
		if j, dup := seen[c]; dup {
			return errorf(ErrInvalidEmbeddings, "labels[%d].name: %q repeats labels[%d]", i, c, j)
		}
		seen[c] = i
		l.Name = c
		if len(l.Vector) != e.Dim {
			return errorf(ErrInvalidEmbeddings, "labels[%d] %q: embedding has %d values, dim is %d", i, c, len(l.Vector), e.Dim)
		}
		if err := normalize(l.Vector); err != nil {
			return errorf(ErrInvalidEmbeddings, "labels[%d] %q: %w", i, c, err)
		}
	}
	return nil
}

// Check rejects embeddings made by another model or of another dimension
// than the loaded model's: cosine similarity between vectors from two
// different models is meaningless.
func (e *Embeddings) Check(modelID string, dim int) error {
	if e.ModelID != modelID || e.Dim != dim {
		return errorf(ErrModelMismatch, "embeddings are for model %q (dim %d), but the loaded model is %q (dim %d); export them again with that model",
			e.ModelID, e.Dim, modelID, dim)
	}
	return nil
}

// Lookup returns the embedding of a canonical name.
func (e *Embeddings) Lookup(name string) ([]float32, bool) {
	for _, l := range e.Labels {
		if l.Name == name {
			return l.Vector, true
		}
	}
	return nil, false
}

// DecodeEmbeddings parses an embeddings file, JSON or binary (told apart by
// content), and validates it.
func DecodeEmbeddings(data []byte) (*Embeddings, error) {
	var e *Embeddings
	switch trimmed := bytes.TrimLeft(data, " \t\r\n"); {
	case isBinary(data):
		id, dim, entries, err := decodeBinary(data, kindEmbeddings)
		if err != nil {
			return nil, err
		}
		e = &Embeddings{ModelID: id, Dim: dim, Labels: make([]Embedding, len(entries))}
		for i, en := range entries {
			e.Labels[i] = Embedding{Name: en.name, Vector: en.vec}
		}
	case len(trimmed) > 0 && trimmed[0] == '{':
		var j jsonEmbeddings
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return nil, errorf(ErrInvalidEmbeddings, "JSON: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errorf(ErrInvalidEmbeddings, "JSON: data after the top-level object")
		}
		if j.Format != EmbeddingsFormat {
			return nil, errorf(ErrInvalidEmbeddings, "format: %q (want %q)", j.Format, EmbeddingsFormat)
		}
		e = &j.Embeddings
	default:
		return nil, errorf(ErrInvalidEmbeddings, "neither JSON (%s) nor the binary format", EmbeddingsFormat)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// ReadEmbeddingsFile reads and validates an embeddings file.
func ReadEmbeddingsFile(path string) (*Embeddings, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: embeddings file: %w", err)
	}
	defer f.Close()
	data, err := readAtMost(f, maxEmbeddingsFileBytes)
	if err != nil {
		return nil, errorf(ErrInvalidEmbeddings, "labels: embeddings file %s: %w", path, err)
	}
	e, err := DecodeEmbeddings(data)
	if err != nil {
		return nil, errorf(ErrInvalidEmbeddings, "labels: embeddings file %s: %w", path, err)
	}
	return e, nil
}

// Embeddings file encodings accepted by Encode and `edge labels export`.
const (
	FormatJSON   = "json"
	FormatBinary = "binary"
)

// Encode returns the file form of e in format (FormatJSON or FormatBinary).
func (e *Embeddings) Encode(format string) ([]byte, error) {
	c := &Embeddings{ModelID: e.ModelID, Dim: e.Dim, Labels: make([]Embedding, len(e.Labels))}
	for i, l := range e.Labels {
		c.Labels[i] = Embedding{Name: l.Name, Vector: append([]float32(nil), l.Vector...)}
	}
	if err := c.Validate(); err != nil {
		return nil, errorf(ErrInvalidEmbeddings, "labels: %w", err)
	}
	switch format {
	case FormatJSON:
		b, err := json.Marshal(jsonEmbeddings{Format: EmbeddingsFormat, Embeddings: *c})
		if err != nil {
			return nil, fmt.Errorf("labels: %w", err)
		}
		return append(b, '\n'), nil
	case FormatBinary:
		entries := make([]binEntry, len(c.Labels))
		for i, l := range c.Labels {
			entries[i] = binEntry{name: l.Name, vec: l.Vector}
		}
		return encodeBinary(kindEmbeddings, c.ModelID, c.Dim, entries), nil
	}
	return nil, fmt.Errorf("labels: embeddings format %q (want %s or %s)", format, FormatJSON, FormatBinary)
}

// WriteEmbeddingsFile writes e to path crash-safely.
func WriteEmbeddingsFile(path string, e *Embeddings, format string) error {
	data, err := e.Encode(format)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("labels: %w", err)
		}
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}

// normalize scales v to unit length in place; NaN, infinite or all-zero
// vectors are refused, as accel refuses such embeddings.
func normalize(v []float32) error {
	var ss float64
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("value %d is %v", i, x)
		}
		ss += f * f
	}
	if ss == 0 || math.IsInf(ss, 0) {
		return fmt.Errorf("vector has zero or overflowing length")
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		v[i] = float32(float64(x) * inv)
	}
	return nil
}
