package yamlstrict

import (
	"errors"
	"strings"
	"testing"
	"time"
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
		{name: "top-level typo", in: "prot: 8\n", wantErr: "prot: unknown key (line 1)", unknown: true},
		{name: "nested typo", in: "inner:\n  timout: 3s\n", wantErr: "inner.timout: unknown key (line 2)", unknown: true},
		{name: "pointer struct typo", in: "ptr: {nme: 1}\n", wantErr: "ptr.nme: unknown key", unknown: true},
		{name: "slice element typo", in: "items:\n  - name: a\n  - nam: b\n", wantErr: "items[1].nam: unknown key (line 3)", unknown: true},
		{name: "map value typo", in: "by_name: {k: {nme: b}}\n", wantErr: "by_name.k.nme: unknown key", unknown: true},
		{name: "skipped field is unknown", in: "skip: 1\n", wantErr: "skip: unknown key", unknown: true},
		{name: "mapping expected", in: "inner: 5\n", wantErr: "inner: want a mapping, found a scalar"},
		{name: "bad type", in: "port: abc\n", wantErr: "cannot unmarshal"},
		{name: "bad duration", in: "inner: {timeout: soon}\n", wantErr: "soon"},
		{name: "two documents", in: "port: 1\n---\nport: 2\n", wantErr: "more than one YAML document"},
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
	c := cfg{Port: 7, Inner: inner{Timeout: time.Second}}
	if err := Decode([]byte("inner: {names: [a, b]}\n"), &c); err != nil {
		t.Fatal(err)
	}
	if c.Port != 7 || c.Inner.Timeout != time.Second || len(c.Inner.Names) != 2 {
		t.Fatalf("defaults not kept or values not decoded: %+v", c)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("port: 8\ninner: {timeout: 3s}\n"))
	f.Add([]byte("items: [{name: x}, {nam: y}]"))
	f.Add([]byte("a: &x {b: *x}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c cfg
		_ = Decode(data, &c) // must not panic
	})
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
