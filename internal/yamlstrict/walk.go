package yamlstrict

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxAliasExpansion bounds the values decoded through aliases, so a few
// lines of nested aliases cannot make decoding run for minutes.
const maxAliasExpansion = 100_000

var (
	durationType        = reflect.TypeOf(time.Duration(0))
	nodeType            = reflect.TypeOf(yaml.Node{})
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// decoder walks the node tree itself rather than leaving containers to
// yaml.v3, so that each error knows the path of the value it is about.
// Scalars and custom unmarshalers are handed to yaml.v3, so a value means
// what yaml.v3 makes of it.
type decoder struct {
	o        Options
	expanded int                 // values decoded through aliases
	active   map[*yaml.Node]bool // alias targets being decoded, to stop cycles
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) error {
	if len(d.active) > 0 {
		if d.expanded++; d.expanded > maxAliasExpansion {
			return fail(n, path, nil, "aliases expand to more than %d values", maxAliasExpansion)
		}
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		if d.o.NoAliases {
			return fail(n, path, ErrAlias, "%s", ErrAlias)
		}
		if n.Kind == yaml.AliasNode {
			return d.alias(n, v, path)
		}
	}
	if isNull(n) {
		// As yaml.v3: null empties a pointer, map, slice or interface and
		// leaves anything else (and so a pre-filled default) as it was.
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	if v.Type() == nodeType || reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		return d.delegate(n, v, path)
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode && reflect.PointerTo(v.Type()).Implements(textUnmarshalerType) {
			return d.scalar(n, v, path)
		}
		return d.structure(n, v, path)
	case reflect.Map:
		return d.mapping(n, v, path)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.Uint8 {
			return d.scalar(n, v, path) // []byte from a (!!binary) string
		}
		return d.sequence(n, v, path)
	case reflect.Array:
		return d.sequence(n, v, path)
	case reflect.Interface:
		return d.delegate(n, v, path)
	}
	return d.scalar(n, v, path)
}

func (d *decoder) alias(n *yaml.Node, v reflect.Value, path string) error {
	if d.active[n.Alias] {
		return fail(n, path, nil, "alias *%s contains itself", n.Value)
	}
	if d.active == nil {
		d.active = map[*yaml.Node]bool{}
	}
	d.active[n.Alias] = true
	defer delete(d.active, n.Alias)
	return d.value(n.Alias, v, path)
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) error {
	si := fieldsOf(v.Type())
	return d.pairs(n, path, func(k, val *yaml.Node, p string) error {
		if f, ok := si.fields[k.Value]; ok {
			return d.value(val, fieldByIndex(v, f.index), p)
		}
		e := &FieldError{Path: p, Line: k.Line, Msg: "unknown key", Err: ErrUnknownKey}
		if len(si.names) > 0 {
			e.Hint = "known keys: " + strings.Join(si.names, ", ")
		}
		return e
	})
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.MappingNode && v.IsNil() {
		v.Set(reflect.MakeMap(v.Type())) // "{}" is an empty map, not none
	}
	return d.pairs(n, path, func(k, val *yaml.Node, p string) error {
		return d.mapEntry(k, val, v, p)
	})
}

// pairs checks that n is a mapping and calls fn with each key, its value and
// its path, after checking the key.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(k, val *yaml.Node, path string) error) error {
	if n.Kind != yaml.MappingNode {
		return fail(n, path, nil, "want a mapping, found %s", describe(n))
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if err := d.key(k, path, seen); err != nil {
			return err
		}
		if err := fn(k, val, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// mapEntry decodes one key and value into the map m; entries already in m
// stay, as with yaml.v3.
func (d *decoder) mapEntry(k, val *yaml.Node, m reflect.Value, path string) error {
	key := reflect.New(m.Type().Key()).Elem()
	if key.Kind() == reflect.String && !hasUnmarshaler(key.Type()) {
		key.SetString(k.Value) // any scalar names a string key, as in yaml.v3
	} else if err := d.value(k, key, path); err != nil {
		return err
	}
	elem := reflect.New(m.Type().Elem()).Elem()
	if err := d.value(val, elem, path); err != nil {
		return err
	}
	m.SetMapIndex(key, elem)
	return nil
}

// key checks a mapping key; seen maps the keys so far to their lines.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) error {
	if k.Kind != yaml.ScalarNode {
		return fail(k, path, nil, "keys must be plain strings")
	}
	if k.Anchor != "" && d.o.NoAliases {
		return fail(k, path, ErrAlias, "%s", ErrAlias)
	}
	if k.ShortTag() == "!!merge" {
		return fail(k, path, ErrAlias, "YAML merge keys are not allowed")
	}
	if first, dup := seen[k.Value]; dup {
		return &FieldError{Path: join(path, k.Value), Line: k.Line, Msg: "duplicate key",
			Hint: fmt.Sprintf("first at line %d", first), Err: ErrDuplicateKey}
	}
	seen[k.Value] = k.Line
	return nil
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.SequenceNode {
		return fail(n, path, nil, "want a list, found %s", describe(n))
	}
	elems := v
	if v.Kind() == reflect.Array {
		if len(n.Content) != v.Len() {
			return fail(n, path, nil, "want a list of %d values, found %d", v.Len(), len(n.Content))
		}
	} else {
		elems = reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	}
	for i, c := range n.Content {
		if err := d.value(c, elems.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	if v.Kind() == reflect.Slice {
		v.Set(elems)
	}
	return nil
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) error {
	want := describeType(v.Type())
	if n.Kind != yaml.ScalarNode {
		return fail(n, path, nil, "want %s, found %s", want, describe(n))
	}
	if d.o.StrictScalars && !hasUnmarshaler(v.Type()) && v.Type() != durationType {
		if err := strictTag(n, v, path, want); err != nil {
			return err
		}
	}
	err := n.Decode(v.Addr().Interface())
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	switch {
	case !errors.As(err, &te):
		// A TextUnmarshaler's own words say best what is wrong.
		return fail(n, path, err, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	case n.ShortTag() == "!!int" && isInteger(v.Kind()) && !(isUnsigned(v.Kind()) && strings.HasPrefix(n.Value, "-")):
		return fail(n, path, nil, "integer %s out of range for %s", quote(n.Value), v.Type())
	}
	return fail(n, path, nil, "want %s, found %s", want, quote(n.Value))
}

// strictTag enforces Options.StrictScalars.
func strictTag(n *yaml.Node, v reflect.Value, path, want string) error {
	tag := n.ShortTag()
	ok := true
	switch v.Kind() {
	case reflect.String:
		if tag != "!!str" {
			e := fail(n, path, nil, "want a string, found %s %s", strings.TrimPrefix(tag, "!!"), quote(n.Value))
			e.Hint = "quote it to make it a string"
			return e
		}
	case reflect.Bool:
		ok = tag == "!!bool"
	case reflect.Float32, reflect.Float64:
		ok = tag == "!!float" || tag == "!!int"
	default:
		ok = !isInteger(v.Kind()) || tag == "!!int"
	}
	if !ok {
		return fail(n, path, nil, "want %s, found %s", want, quote(n.Value))
	}
	return nil
}

// delegate hands n to yaml.v3 whole: for custom unmarshalers, interfaces
// and yaml.Node fields, whose shape this package cannot know.
func (d *decoder) delegate(n *yaml.Node, v reflect.Value, path string) error {
	if d.o.NoAliases {
		if a := findAlias(n); a != nil {
			return fail(a, path, ErrAlias, "%s", ErrAlias)
		}
	}
	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(n).Elem())
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		return fail(n, path, err, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// findAlias returns the first anchor, alias or merge key under n, or nil.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode || n.Anchor != "" || n.ShortTag() == "!!merge" {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

func fail(n *yaml.Node, path string, cause error, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...), Err: cause}
}

func hasUnmarshaler(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType)
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func isInteger(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

func isUnsigned(k reflect.Kind) bool {
	return k >= reflect.Uint && k <= reflect.Uintptr
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names what a node is, for "found ..." in errors.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// describeType names what a field takes, for "want ..." in errors.
func describeType(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 1m30s"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value of type " + t.String()
}

// quote quotes a scalar for an error, shortening long ones: the line number
// says where the rest is.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
