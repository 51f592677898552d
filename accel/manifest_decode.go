package accel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxManifestBytes bounds what ParseManifest reads: a manifest is a few
// hundred bytes, and model directories come from the network.
const maxManifestBytes = 64 << 10

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
	if len(data) > maxManifestBytes {
		return nil, fieldErr("", 0, "larger than %d bytes", maxManifestBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fieldErr("", 0, "empty document")
		}
		return nil, fieldErr("", 0, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fieldErr("", extra.Line, "more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fieldErr("", 0, "empty document")
	}
	var m Manifest
	if err := decodeStrict(doc.Content[0], reflect.ValueOf(&m).Elem(), ""); err != nil {
		return nil, err
	}
	if len(m.Variants) == 0 {
		m.Variants = nil // "variants: {}" means none, and round-trips as absent
	}
	return &m, nil
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

// decodeStrict decodes n into v following v's yaml tags. It is written out
// rather than using yaml's KnownFields so that every error carries the
// dotted path of the field, which is what a person editing a manifest on a
// robot needs.
func decodeStrict(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		// Aliases are never needed in a manifest and allow expansion bombs.
		return fieldErr(path, n.Line, "YAML anchors and aliases are not allowed")
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // absent value: leave the zero value for Validate to judge
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeStrict(n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return fieldErr(path, n.Line, "want a mapping, found %s", describe(n))
		}
		fields := yamlFields(v.Type())
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			name, err := keyName(k, path)
			if err != nil {
				return err
			}
			p := join(path, name)
			idx, ok := fields[name]
			if !ok {
				return fieldErr(p, k.Line, "unknown key")
			}
			if seen[name] {
				return fieldErr(p, k.Line, "duplicate key")
			}
			seen[name] = true
			if err := decodeStrict(val, v.Field(idx), p); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fieldErr(path, n.Line, "want a mapping, found %s", describe(n))
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			name, err := keyName(k, path)
			if err != nil {
				return err
			}
			p := join(path, name)
			if seen[name] {
				return fieldErr(p, k.Line, "duplicate key")
			}
			seen[name] = true
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := decodeStrict(val, elem, p); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(name).Convert(v.Type().Key()), elem)
		}
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fieldErr(path, n.Line, "want a list, found %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := decodeStrict(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	default:
		if n.Kind != yaml.ScalarNode {
			return fieldErr(path, n.Line, "want %s, found %s", kindWord(v.Kind()), describe(n))
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			return fieldErr(path, n.Line, "want %s, found %q", kindWord(v.Kind()), n.Value)
		}
		return nil
	}
}

func keyName(k *yaml.Node, path string) (string, error) {
	if k.Kind != yaml.ScalarNode || k.Anchor != "" {
		return "", fieldErr(path, k.Line, "keys must be plain strings")
	}
	if k.Value == "<<" && k.ShortTag() == "!!merge" {
		return "", fieldErr(path, k.Line, "YAML merge keys are not allowed")
	}
	return k.Value, nil
}

// yamlFields maps yaml key names to struct field indexes.
func yamlFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = i
	}
	return m
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported node"
}

func kindWord(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return k.String()
}
