package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"
)

// Options make decoding stricter than the default, which rejects only
// unknown and duplicate keys and values of the wrong shape.
type Options struct {
	// NoAliases rejects anchors, aliases and merge keys: files that come
	// from the network or are written by hand never need them, and aliases
	// let a small file expand into a huge one.
	NoAliases bool
	// StrictScalars requires a scalar's YAML type to match the field's: a
	// string field takes only a string (so `3` or `yes` must be quoted), an
	// integer field only an integer, a bool field only true or false.
	// Durations and types with their own unmarshaler are exempt.
	StrictScalars bool
	// MaxBytes, if positive, makes DecodeWith reject longer input.
	MaxBytes int
}

// Decode parses data into out (a pointer), rejecting unknown keys anywhere
// in the tree and more than one document. An empty document leaves out
// unchanged, so callers can pre-fill defaults; so do keys that are absent.
func Decode(data []byte, out any) error {
	err := DecodeWith(data, out, Options{})
	if errors.Is(err, ErrEmpty) {
		return nil
	}
	return err
}

// DecodeWith is Decode with options, and returns ErrEmpty for input with no
// document. Errors about a value are *FieldError; syntax errors are
// yaml.v3's.
func DecodeWith(data []byte, out any, o Options) error {
	if o.MaxBytes > 0 && len(data) > o.MaxBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), o.MaxBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return ErrEmpty
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if extra.Line > 0 {
			return fmt.Errorf("more than one YAML document (line %d)", extra.Line)
		}
		return errors.New("more than one YAML document")
	}
	return DecodeNode(&doc, out, o)
}

// DecodeNode decodes an already parsed document or value into out (a
// non-nil pointer). A document node without content is ErrEmpty.
func DecodeNode(n *yaml.Node, out any, o Options) error {
	rv := reflect.ValueOf(out)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("yamlstrict: want a non-nil pointer to decode into, got %T", out)
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return ErrEmpty
		}
		n = n.Content[0]
	}
	d := &decoder{o: o}
	return d.value(n, rv.Elem(), "")
}
