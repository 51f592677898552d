package yamlstrict

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

type inner struct {
	Timeout time.Duration `yaml:"timeout"`
	Names   []string      `yaml:"names"`
}

type item struct {
	Name string `yaml:"name"`
}

type cfg struct {
	Port   int             `yaml:"port"`
	Inner  inner           `yaml:"inner"`
	Ptr    *inner          `yaml:"ptr"`
	Items  []item          `yaml:"items"`
	ByName map[string]item `yaml:"by_name"`
	Embed  `yaml:",inline"`
	Skip   int `yaml:"-"`
}

type Embed struct {
	Flat bool `yaml:"flat"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string // substring; "" means success
		unknown  bool   // error must wrap ErrUnknownKey
	}{
		{name: "valid", in: "port: 8\ninner: {timeout: 3s, names: [a]}\nitems: [{name: x}]\nflat: true\nby_name: {a: {name: b}}\n"},
		{name: "empty", in: ""},
		{name: "comments only", in: "# nothing yet\n"},
		{name: "null struct keeps defaults", in: "inner:\nptr: ~\n"},
		{name: "top-level typo", in: "prot: 8\n", wantErr: "prot: unknown key (line 1); known keys: by_name, flat, inner, items, port, ptr", unknown: true},
		{name: "nested typo", in: "inner:\n  timout: 3s\n", wantErr: "inner.timout: unknown key (line 2); known keys: names, timeout", unknown: true},
		{name: "pointer struct typo", in: "ptr: {nme: 1}\n", wantErr: "ptr.nme: unknown key", unknown: true},
		{name: "slice element typo", in: "items:\n  - name: a\n  - nam: b\n", wantErr: "items[1].nam: unknown key (line 3)", unknown: true},
		{name: "map value typo", in: "by_name: {k: {nme: b}}\n", wantErr: "by_name.k.nme: unknown key", unknown: true},
		{name: "skipped field is unknown", in: "skip: 1\n", wantErr: "skip: unknown key", unknown: true},
		{name: "mapping expected", in: "inner: 5\n", wantErr: `inner: want a mapping, found "5" (line 1)`},
		{name: "list expected", in: "inner: {names: a}\n", wantErr: `inner.names: want a list, found "a" (line 1)`},
		{name: "scalar expected", in: "port: [1]\n", wantErr: "port: want an integer, found a list (line 1)"},
		{name: "bad type", in: "port: abc\n", wantErr: `port: want an integer, found "abc" (line 1)`},
		{name: "bad duration", in: "inner: {timeout: soon}\n", wantErr: `inner.timeout: want a duration such as 1m30s, found "soon"`},
		{name: "duplicate key", in: "port: 1\nflat: true\nport: 2\n", wantErr: "port: duplicate key (line 3); first at line 1"},
		{name: "duplicate map key", in: "by_name:\n  a: {}\n  a: {}\n", wantErr: "by_name.a: duplicate key (line 3)"},
		{name: "merge key", in: "inner:\n  <<: {names: [a]}\n", wantErr: "inner: YAML merge keys are not allowed (line 2)"},
		{name: "sequence as key", in: "? [a]\n: 1\n", wantErr: "keys must be plain strings"},
		{name: "two documents", in: "port: 1\n---\nport: 2\n", wantErr: "more than one YAML document (line 2)"},
		{name: "syntax", in: "port: [\n", wantErr: "yaml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c cfg
			err := Decode([]byte(tc.in), &c)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
			}
			if errors.Is(err, ErrUnknownKey) != tc.unknown {
				t.Fatalf("errors.Is(ErrUnknownKey) = %v, want %v", !tc.unknown, tc.unknown)
			}
		})
	}
}

func TestDecodeKeepsDefaults(t *testing.T) {
	c := cfg{Port: 7, Inner: inner{Timeout: time.Second}, ByName: map[string]item{"old": {Name: "o"}}}
	if err := Decode([]byte("inner: {names: [a, b]}\nby_name: {new: {name: n}}\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Port != 7 || c.Inner.Timeout != time.Second || len(c.Inner.Names) != 2 {
		t.Fatalf("defaults not kept or values not decoded: %+v", c)
	}
	if len(c.ByName) != 2 || c.ByName["old"].Name != "o" || c.ByName["new"].Name != "n" {
		t.Fatalf("a map must gain entries and keep the old ones, as with yaml.v3: %v", c.ByName)
	}
}

func TestDecodeNullClears(t *testing.T) {
	c := cfg{Port: 7, Ptr: &inner{}, Items: []item{{}}, ByName: map[string]item{}}
	if err := Decode([]byte("port: ~\nptr: null\nitems:\nby_name: ~\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Port != 7 || c.Ptr != nil || c.Items != nil || c.ByName != nil {
		t.Fatalf("null must clear pointers, slices and maps and leave the rest: %+v", c)
	}
}

func TestInlinePointer(t *testing.T) {
	var v struct {
		*Embed `yaml:",inline"`
		N      int `yaml:"n"`
	}
	if err := Decode([]byte("n: 1\nflat: true\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Embed == nil || !v.Flat || v.N != 1 {
		t.Fatalf("inline pointer not filled: %+v", v)
	}
	if _, ok := Paths(&v)["flat"]; !ok {
		t.Fatalf("Paths misses the inlined key: %v", Paths(&v))
	}
}

func TestFieldError(t *testing.T) {
	var c cfg
	err := Decode([]byte("port: 1\nitems:\n  - name: a\n  - {name: [x]}\n"), &c)
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FieldError, got %T: %v", err, err)
	}
	if fe.Path != "items[1].name" || fe.Line != 4 || fe.Msg != "want a string, found a list" {
		t.Fatalf("FieldError = %+v", fe)
	}
}

// level has its own text form, like an enum.
type level int

var errBadLevel = errors.New("no such level")

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("%w %q", errBadLevel, b)
	}
	return nil
}

// pair is "a/b" in YAML.
type pair struct{ A, B string }

func (p *pair) UnmarshalYAML(n *yaml.Node) error {
	a, b, ok := strings.Cut(n.Value, "/")
	if !ok {
		return fmt.Errorf("want a/b, found %q", n.Value)
	}
	p.A, p.B = a, b
	return nil
}

type kinds struct {
	Level  level            `yaml:"level"`
	Pair   pair             `yaml:"pair"`
	Any    any              `yaml:"any"`
	Node   yaml.Node        `yaml:"node"`
	Arr    [2]int           `yaml:"arr"`
	U      uint8            `yaml:"u"`
	I8     int8             `yaml:"i8"`
	F      float64          `yaml:"f"`
	S      string           `yaml:"s"`
	B      bool             `yaml:"b"`
	Tree   *tree            `yaml:"tree"`
	Counts map[int][]string `yaml:"counts"`
}

type tree struct {
	Name string  `yaml:"name"`
	Kids []*tree `yaml:"kids"`
}

func TestDecodeKinds(t *testing.T) {
	in := "level: high\npair: x/y\nany: {a: [1, 2]}\nnode: [q]\narr: [3, 4]\nu: 200\nf: 2\ns: 12\nb: yes\n" +
		"tree: {name: r, kids: [{name: k}]}\ncounts: {1: [a], 2: [b, c]}\n"
	var k kinds
	if err := Decode([]byte(in), &k); err != nil {
		t.Fatal(err)
	}
	var want kinds
	if err := yaml.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if k.Level != 2 || k.Pair != (pair{"x", "y"}) || k.Arr != [2]int{3, 4} || k.S != "12" || !k.B ||
		len(k.Tree.Kids) != 1 || k.Tree.Kids[0].Name != "k" || len(k.Counts[2]) != 2 || k.Node.Kind != yaml.SequenceNode {
		t.Fatalf("decoded %+v", k)
	}
	k.Node, want.Node = yaml.Node{}, yaml.Node{} // line/column bookkeeping differs
	if !reflect.DeepEqual(k, want) {
		t.Fatalf("differs from yaml.v3:\n%+v\n%+v", k, want)
	}
}

func TestDecodeKindErrors(t *testing.T) {
	tests := []struct {
		in, want string
		is       error
	}{
		{"level: medium\n", `level: no such level "medium" (line 1)`, errBadLevel},
		{"pair: xy\n", `pair: want a/b, found "xy" (line 1)`, nil},
		{"arr: [1]\n", "arr: want a list of 2 values, found 1 (line 1)", nil},
		{"u: 300\n", `u: integer "300" out of range for uint8 (line 1)`, nil},
		{"u: -1\n", `u: want a non-negative integer, found "-1" (line 1)`, nil},
		{"i8: -300\n", `i8: integer "-300" out of range for int8 (line 1)`, nil},
		{"counts: {x: [a]}\n", `counts.x: want an integer, found "x" (line 1)`, nil},
		{"tree: &t {kids: [*t]}\n", "alias *t contains itself (line 1)", nil},
		{"arr: " + strings.Repeat("ab", 100) + "\n", `arr: want a list, found "` + strings.Repeat("ab", 30) + `"… (line 1)`, nil},
	}
	for _, tc := range tests {
		var k kinds
		err := Decode([]byte(tc.in), &k)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%q: error %v does not wrap %v", tc.in, err, tc.is)
		}
	}
}

func TestDecodeWithOptions(t *testing.T) {
	strict := Options{NoAliases: true, StrictScalars: true, MaxBytes: 100}
	tests := []struct {
		name, in string
		o        Options
		want     string // error substring; "" means success
		is       error
	}{
		{name: "alias allowed by default", in: "inner: &i {names: [a]}\nptr: *i\n"},
		{name: "alias", in: "inner: &i {names: [a]}\nptr: *i\n", o: strict, want: "inner: YAML anchors and aliases are not allowed (line 1)", is: ErrAlias},
		{name: "anchor on a scalar", in: "port: &p 3\n", o: strict, want: "port: YAML anchors", is: ErrAlias},
		{name: "alias under a custom unmarshaler", in: "any: [&a 1, *a]\n", o: strict, want: "any: YAML anchors", is: ErrAlias},
		{name: "merge key", in: "inner:\n  <<: {names: [a]}\n", o: strict, want: "YAML merge keys are not allowed", is: ErrAlias},
		{name: "string from int", in: "s: 3\n", o: strict, want: `s: want a string, found int "3" (line 1); quote it`},
		{name: "string from bool", in: "s: yes\n", o: Options{StrictScalars: true}},
		{name: "string from true", in: "s: true\n", o: strict, want: `s: want a string, found bool "true"`},
		{name: "quoted string", in: "s: \"3\"\n", o: strict},
		{name: "int from string", in: "port: \"3\"\n", o: strict, want: `port: want an integer, found "3"`},
		{name: "bool from yes", in: "b: yes\n", o: strict, want: `b: want true or false, found "yes"`},
		{name: "float from int", in: "f: 3\n", o: strict},
		{name: "duration exempt", in: "inner: {timeout: 2s}\n", o: strict},
		{name: "text unmarshaler exempt", in: "level: low\n", o: strict},
		{name: "too large", in: strings.Repeat("#", 101), o: strict, want: "document too large: 101 bytes, limit 100", is: ErrTooLarge},
		{name: "empty", in: "\n", o: strict, want: "empty document", is: ErrEmpty},
		{name: "duplicate", in: "s: a\ns: b\n", want: "s: duplicate key", is: ErrDuplicateKey},
		{name: "unknown", in: "nope: 1\n", o: strict, want: "nope: unknown key", is: ErrUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				S     string `yaml:"s"`
				B     bool   `yaml:"b"`
				F     float64
				Port  int    `yaml:"port"`
				Level level  `yaml:"level"`
				Any   any    `yaml:"any"`
				Inner inner  `yaml:"inner"`
				Ptr   *inner `yaml:"ptr"`
			}
			err := DecodeWith([]byte(tc.in), &v, tc.o)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not wrap %v", err, tc.is)
			}
		})
	}
}

// nested is lists of lists, to any depth.
type nested []nested

func TestAliasExpansionBounded(t *testing.T) {
	// Ten levels of ten aliases each would be 10^10 values.
	var b strings.Builder
	b.WriteString("l0: &l0 [[], [], [], [], [], [], [], [], [], []]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [", i, i)
		for j := 0; j < 10; j++ {
			fmt.Fprintf(&b, "*l%d, ", i-1)
		}
		b.WriteString("]\n")
	}
	var v map[string]any
	_ = Decode([]byte(b.String()), &v) // delegated to yaml.v3, which bounds it
	var deep map[string]nested
	err := Decode([]byte(b.String()), &deep)
	if err == nil || !strings.Contains(err.Error(), "aliases expand to more than") {
		t.Fatalf("error = %v, want the expansion bound", err)
	}
}

func TestDecodeNode(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("port: 4\n"), &doc); err != nil {
		t.Fatal(err)
	}
	var c cfg
	if err := DecodeNode(&doc, &c, Options{}); err != nil || c.Port != 4 {
		t.Fatalf("DecodeNode: %v, port %d", err, c.Port)
	}
	if err := DecodeNode(&yaml.Node{Kind: yaml.DocumentNode}, &c, Options{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty document node: %v", err)
	}
	if err := DecodeNode(&doc, c, Options{}); err == nil || !strings.Contains(err.Error(), "non-nil pointer") {
		t.Fatalf("non-pointer target: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("port: 8\ninner: {timeout: 3s}\n"))
	f.Add([]byte("items: [{name: x}, {nam: y}]"))
	f.Add([]byte("a: &x {b: *x}"))
	f.Add([]byte("inner: &i {names: [a, b]}\nptr: *i\nby_name: {k: {name: ~}}\nflat: yes\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c cfg
		if err := Decode(data, &c); err != nil {
			return
		}
		// What Decode accepts means what it means to yaml.v3.
		var want cfg
		if err := yaml.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted, but yaml.v3 says %v", err)
		}
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("decoded\n%+v\nyaml.v3 decodes\n%+v", c, want)
		}
		var s cfg
		_ = DecodeWith(data, &s, Options{NoAliases: true, StrictScalars: true}) // must not panic
	})
}

func ExampleDecodeWith() {
	type config struct {
		Name  string `yaml:"name"`
		Sizes []int  `yaml:"sizes"`
	}
	var c config
	err := DecodeWith([]byte("name: a\nsizes: [1, two]\n"), &c, Options{StrictScalars: true})
	fmt.Println(err)
	err = DecodeWith([]byte("name: 7\n"), &c, Options{StrictScalars: true})
	fmt.Println(err)
	var fe *FieldError
	if errors.As(DecodeWith([]byte("name: a\nsize: 1\n"), &c, Options{}), &fe) {
		fmt.Println(fe.Path, fe.Line, errors.Is(fe, ErrUnknownKey))
	}
	// Output:
	// sizes[1]: want an integer, found "two" (line 2)
	// name: want a string, found int "7" (line 1); quote it to make it a string
	// size 2 true
}

func TestOverrides(t *testing.T) {
	base := []byte("port: 1\ninner: {timeout: 1s}\n")
	env := []string{"EDGE_INNER_TIMEOUT=5s", "EDGE_PORT=9", "PATH=/bin", "EDGE_IGNORED=x"}
	ovs, err := EnvOverrides("EDGE_", env, &cfg{}, "EDGE_IGNORED")
	if err != nil {
		t.Fatal(err)
	}
	ovs = append(ovs, Override{Path: "inner.names", Value: "[a, b, c]", From: "--set"}, Override{Path: "ptr.timeout", Value: "2m", From: "--set"})
	var c cfg
	if err := DecodeWithOverrides(base, &c, ovs); err != nil {
		t.Fatal(err)
	}
	if c.Port != 9 || c.Inner.Timeout != 5*time.Second || len(c.Inner.Names) != 3 || c.Ptr == nil || c.Ptr.Timeout != 2*time.Minute {
		t.Fatalf("overrides not applied: %+v ptr=%+v", c, c.Ptr)
	}

	_, err = EnvOverrides("EDGE_", []string{"EDGE_PROT=1"}, &cfg{})
	if !errors.Is(err, ErrUnknownOverride) || !strings.Contains(err.Error(), "EDGE_PROT") {
		t.Fatalf("unknown env var: err = %v", err)
	}
	err = DecodeWithOverrides(base, &c, []Override{{Path: "inner.nope", Value: "1", From: "--set"}})
	if !errors.Is(err, ErrUnknownOverride) || !strings.Contains(err.Error(), "--set") {
		t.Fatalf("unknown --set path: err = %v", err)
	}
	err = DecodeWithOverrides(base, &c, []Override{{Path: "port", Value: "x", From: "--set"}})
	if err == nil {
		t.Fatal("a non-integer port must fail to decode")
	}
}
