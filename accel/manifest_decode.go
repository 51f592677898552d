package accel

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"gopkg.in/yaml.v3"
)

// manifestYAML is how strictly manifests are read. The size bound is because
// a manifest is a few hundred bytes and model directories come from the
// network; aliases are never needed in a manifest and allow expansion bombs.
var manifestYAML = yamlstrict.Options{NoAliases: true, MaxBytes: 64 << 10}

// ParseManifest decodes and validates a manifest strictly: unknown keys,
// duplicate keys, wrong value kinds, anchors/aliases and trailing documents
// are rejected with the path of the offending field, e.g.
// "accel: manifest.yaml: image.sizee: unknown key (line 7)".
func ParseManifest(data []byte) (*Manifest, error) {
	return parseManifest(data, ManifestFile)
}

// parseManifest is ParseManifest with the file name to put in errors.
func parseManifest(data []byte, name string) (*Manifest, error) {
	m, err := decodeManifest(data)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("accel: %s: %w", name, err)
	}
	return m, nil
}

func decodeManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := yamlstrict.DecodeWith(data, &m, manifestYAML); err != nil {
		return nil, asFieldError(err)
	}
	if len(m.Variants) == 0 {
		m.Variants = nil // "variants: {}" means none, and round-trips as absent
	}
	return &m, nil
}

// asFieldError turns a decoding error into a *FieldError, so that every
// manifest error matches ErrInvalidManifest and reads the same way.
func asFieldError(err error) error {
	var fe *yamlstrict.FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: fe.Path, Line: fe.Line, Msg: fe.Msg}
	}
	return fieldErr("", 0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
}

// MarshalManifest writes m in canonical form; ParseManifest reads it back
// to an equal value.
func MarshalManifest(m *Manifest) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("accel: encoding manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("accel: encoding manifest: %w", err)
	}
	return b.Bytes(), nil
}
