package world

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decodeStrict decodes a YAML node into v (a pointer to a struct) by walking
// the node tree, so that every error names the offending path
// ("tasks[2].domian: unknown key") instead of only a line number. Unknown
// keys, duplicate keys, aliases and values of the wrong shape are errors.
func decodeStrict(n *yaml.Node, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("decodeStrict needs a non-nil pointer")
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return errors.New("empty document")
		}
		n = n.Content[0]
	}
	return decodeValue(n, rv.Elem(), "")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func at(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func decodeValue(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		// Aliases are no use in a scenario and let a small file expand
		// into a huge one.
		return fmt.Errorf("%s: anchors and aliases are not supported", at(path))
	}
	if isNull(n) {
		v.SetZero()
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := decodeValue(n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s: want a list, got %s", at(path), kindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := decodeValue(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: want a %s value, got %s", at(path), v.Kind(), kindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		if n.Tag != "!!str" {
			return fmt.Errorf("%s: want a string, got %s %q (quote it)", at(path), strings.TrimPrefix(n.Tag, "!!"), n.Value)
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Tag != "!!int" {
			return fmt.Errorf("%s: want an integer, got %q", at(path), n.Value)
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s: integer %q out of range", at(path), n.Value)
		}
		v.SetInt(i)
	case reflect.Uint64, reflect.Uint32, reflect.Uint:
		if n.Tag != "!!int" {
			return fmt.Errorf("%s: want a non-negative integer, got %q", at(path), n.Value)
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%s: want a non-negative integer, got %q", at(path), n.Value)
		}
		v.SetUint(u)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return fmt.Errorf("%s: want true or false, got %q", at(path), n.Value)
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("%s: %w", at(path), err)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("%s: unsupported field type %s", at(path), v.Type())
	}
	return nil
}

func decodeStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping, got %s", at(path), kindName(n))
	}
	fields := map[string]reflect.Value{}
	collectFields(v, fields)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: keys must be plain strings", at(path))
		}
		key := k.Value
		if seen[key] {
			return fmt.Errorf("%s: duplicate key", join(path, key))
		}
		seen[key] = true
		f, ok := fields[key]
		if !ok {
			return fmt.Errorf("%s: unknown key", join(path, key))
		}
		if err := decodeValue(val, f, join(path, key)); err != nil {
			return err
		}
	}
	return nil
}

// collectFields maps yaml keys to settable fields, descending into
// `yaml:",inline"` structs.
func collectFields(v reflect.Value, out map[string]reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			collectFields(v.Field(i), out)
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		out[name] = v.Field(i)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}
