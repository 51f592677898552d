package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Override sets one dotted key path ("capture.source") to a YAML scalar or
// flow value ("file", "3s", "[a, b]") on top of a document.
type Override struct {
	Path  string
	Value string
	From  string // where it came from, for errors: "--set", "EDGE_CAPTURE_SOURCE"
}

// ErrUnknownOverride is wrapped when an override names no key of the target.
var ErrUnknownOverride = errors.New("names no config key")

// DecodeWithOverrides decodes data into out like Decode, after applying the
// overrides in order. Each override path must name a key that out declares.
func DecodeWithOverrides(data []byte, out any, overrides []Override) error {
	if len(overrides) == 0 {
		return Decode(data, out)
	}
	paths := Paths(out)
	var doc yaml.Node
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return err
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	for _, o := range overrides {
		if _, ok := paths[o.Path]; !ok {
			return fmt.Errorf("%s: %q %w", o.From, o.Path, ErrUnknownOverride)
		}
		var val yaml.Node
		if err := yaml.Unmarshal([]byte(o.Value), &val); err != nil {
			return fmt.Errorf("%s: value for %s: %w", o.From, o.Path, err)
		}
		v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
		if len(val.Content) > 0 {
			v = val.Content[0]
		}
		if err := set(doc.Content[0], strings.Split(o.Path, "."), v); err != nil {
			return fmt.Errorf("%s: %s: %w", o.From, o.Path, err)
		}
	}
	merged, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return Decode(merged, out)
}

func set(m *yaml.Node, path []string, v *yaml.Node) error {
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("cannot set a key inside a non-mapping value")
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == path[0] {
			if len(path) == 1 {
				m.Content[i+1] = v
				return nil
			}
			return set(m.Content[i+1], path[1:], v)
		}
	}
	child := v
	if len(path) > 1 {
		child = &yaml.Node{Kind: yaml.MappingNode}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: path[0]}, child)
	if len(path) > 1 {
		return set(child, path[1:], v)
	}
	return nil
}

// Paths lists every settable key path of out's type (struct fields, nested
// structs; slices, maps and custom unmarshalers are leaves).
func Paths(out any) map[string]struct{} {
	res := map[string]struct{}{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if prefix != "" {
			res[prefix] = struct{}{}
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
			return
		}
		for name, f := range fieldsOf(t).fields {
			walk(f.typ, join(prefix, name))
		}
	}
	walk(reflect.TypeOf(out), "")
	return res
}

// EnvOverrides maps environment variables named prefix + the upper-cased key
// path with dots as underscores (EDGE_CAPTURE_STALL_TIMEOUT for
// capture.stall_timeout) to overrides. A variable with the prefix that names
// no key is an error, so a typo is never silently ignored.
func EnvOverrides(prefix string, environ []string, out any, ignore ...string) ([]Override, error) {
	byEnv := map[string]string{}
	for p := range Paths(out) {
		byEnv[prefix+strings.ToUpper(strings.ReplaceAll(p, ".", "_"))] = p
	}
	skip := map[string]bool{}
	for _, s := range ignore {
		skip[s] = true
	}
	var res []Override
	var unknown []string
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, prefix) || skip[name] {
			continue
		}
		p, known := byEnv[name]
		if !known {
			unknown = append(unknown, name)
			continue
		}
		res = append(res, Override{Path: p, Value: val, From: name})
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("environment %s %w", strings.Join(unknown, ", "), ErrUnknownOverride)
	}
	// Deeper paths last, so EDGE_CAPTURE (a whole mapping) cannot clobber a
	// more specific variable set beside it.
	sort.SliceStable(res, func(i, j int) bool { return strings.Count(res[i].Path, ".") < strings.Count(res[j].Path, ".") })
	return res, nil
}
