package labels

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVocabularyFileRoundTrip(t *testing.T) {
	v := &Vocabulary{
		Templates: []string{"a photo of a {}.", "{} in a video game"},
		Labels: []Label{
			{Name: "  Red   Circle "},
			{Name: "Triángulo", Templates: []string{"una foto de un {}."}},
			{Name: "三角形"},
			{Name: "mug: \"quoted\" #1"},
		},
	}
	path := filepath.Join(t.TempDir(), "state", VocabularyFile)
	if err := SaveVocabulary(path, v); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"version: 1", "triángulo", "三角形", "red circle"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("file lacks %q (names must stay readable UTF-8):\n%s", want, data)
		}
	}
	got, err := LoadVocabulary(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &Vocabulary{
		Templates: v.Templates,
		Labels: []Label{
			{Name: "red circle"},
			{Name: "triángulo", Templates: []string{"una foto de un {}."}},
			{Name: "三角形"},
			{Name: "mug: \"quoted\" #1"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the label file (no temp files left)", len(entries))
	}
}

func TestParseVocabularyStrict(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // substring of the error
		is       error  // besides ErrInvalidFile
	}{
		{"unknown top key", "version: 1\nlables: []\n", "lables: unknown key (line 2)", nil},
		{"unknown label key", "version: 1\nlabels:\n  - name: cat\n  - name: dog\n    templtes: [\"a {}\"]\n", "labels[1].templtes: unknown key (line 5)", nil},
		{"missing version", "labels: [{name: cat}]\n", "version: missing", nil},
		{"future version", "version: 2\nlabels: []\n", "version: 2 is not supported", nil},
		{"empty name", "version: 1\nlabels: [{name: cat}, {name: '  '}]\n", "labels[1].name: invalid label name: empty", ErrInvalidName},
		{"duplicate name", "version: 1\nlabels: [{name: Cat}, {name: dog}, {name: ' cat'}]\n", `labels[2].name: "cat" repeats labels[0]`, ErrInvalidName},
		{"reserved name", "version: 1\nlabels: [{name: Background}]\n", "reserved", ErrInvalidName},
		{"control character", "version: 1\nlabels: [{name: \"a\\u0007b\"}]\n", "control character", ErrInvalidName},
		{"template without placeholder", "version: 1\nlabels: [{name: cat, templates: [a photo]}]\n", `labels[0].templates[0]: invalid template "a photo": no {}`, ErrInvalidTemplate},
		{"duplicate set template", "version: 1\ntemplates: [\"a {}\", \"a {}\"]\nlabels: []\n", "templates[1]: template \"a {}\" repeats [0]", ErrInvalidTemplate},
		{"name not a string", "version: 1\nlabels: [{name: [a]}]\n", "labels[0].name: want a string, found a list (line 2)", nil},
		{"labels not a list", "version: 1\nlabels: {name: cat}\n", "labels: want a list, found a mapping (line 2)", nil},
		{"two documents", "version: 1\n---\nversion: 1\n", "more than one YAML document", nil},
		{"syntax", "version: [\n", "yaml", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseVocabulary([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !errors.Is(err, ErrInvalidFile) || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v does not match ErrInvalidFile / %v", err, tc.is)
			}
		})
	}
	// The path of the file leads the message when loading.
	path := filepath.Join(t.TempDir(), VocabularyFile)
	os.WriteFile(path, []byte("version: 1\nlabels: [{nme: cat}]\n"), 0o644)
	if _, err := LoadVocabulary(path); err == nil || !strings.Contains(err.Error(), path+": labels[0].nme: unknown key") {
		t.Fatalf("LoadVocabulary error %v lacks the file path and key path", err)
	}
	if v, err := ParseVocabulary(nil); err != nil || len(v.Labels) != 0 {
		t.Fatalf("empty file: %v, %v", v, err)
	}
}

func TestLoadOrDefault(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, VocabularyFile)
	v, fromFile, err := LoadOrDefault(path, []string{"Cat", "dog"})
	if err != nil || fromFile || !reflect.DeepEqual(v.Names(), []string{"cat", "dog"}) {
		t.Fatalf("no file: %v %v %v", v, fromFile, err)
	}
	if _, err := LoadVocabulary(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file error %v does not match fs.ErrNotExist", err)
	}
	if err := SaveVocabulary(path, mustVocab(t, "robot")); err != nil {
		t.Fatal(err)
	}
	v, fromFile, err = LoadOrDefault(path, []string{"cat"})
	if err != nil || !fromFile || !reflect.DeepEqual(v.Names(), []string{"robot"}) {
		t.Fatalf("with file: %v %v %v", v.Names(), fromFile, err)
	}
	if _, _, err := LoadOrDefault(path, []string{"background"}); err != nil {
		t.Fatalf("defaults must not be checked while a file exists: %v", err)
	}
	os.WriteFile(path, []byte("version: 1\nlabels: [{name: x}, {name: X}]\n"), 0o644)
	if _, _, err := LoadOrDefault(path, []string{"cat"}); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("broken file must be an error, not the default: %v", err)
	}
}

func TestVocabularyEdit(t *testing.T) {
	v := mustVocab(t, "cat", "dog")
	added, err := v.Add(" Robot ", nil)
	if err != nil || !added {
		t.Fatalf("Add robot: %v %v", added, err)
	}
	added, err = v.Add("CAT", []string{"a drawing of a {}."})
	if err != nil || added || !reflect.DeepEqual(v.Labels[0].Templates, []string{"a drawing of a {}."}) {
		t.Fatalf("re-adding cat with templates: added=%v err=%v %+v", added, err, v.Labels[0])
	}
	if _, err := v.Add("box", []string{"no placeholder"}); !errors.Is(err, ErrInvalidTemplate) {
		t.Fatalf("bad template accepted: %v", err)
	}
	if _, err := v.Add("background", nil); !errors.Is(err, ErrInvalidName) {
		t.Fatalf("reserved name accepted: %v", err)
	}
	if err := v.Remove("dog", "unicorn", "yeti"); !errors.Is(err, ErrUnknownLabel) ||
		!strings.Contains(err.Error(), "unicorn") || !strings.Contains(err.Error(), "yeti") {
		t.Fatalf("Remove with unknown names: %v", err)
	}
	if !reflect.DeepEqual(v.Names(), []string{"cat", "dog", "robot"}) {
		t.Fatalf("a failed Remove changed the vocabulary: %v", v.Names())
	}
	if err := v.Remove("Dog"); err != nil || !reflect.DeepEqual(v.Names(), []string{"cat", "robot"}) {
		t.Fatalf("Remove dog: %v %v", err, v.Names())
	}
	tpl, from := v.TemplatesFor(0, DefaultTemplates())
	if from != TemplatesLabel || len(tpl) != 1 {
		t.Fatalf("cat's templates %v from %s", tpl, from)
	}
	if tpl, from := v.TemplatesFor(1, DefaultTemplates()); from != TemplatesConfig || !reflect.DeepEqual(tpl, DefaultTemplates()) {
		t.Fatalf("robot's templates %v from %s", tpl, from)
	}
	v.Templates = []string{"itap of a {}."}
	if tpl, from := v.TemplatesFor(1, DefaultTemplates()); from != TemplatesSet || tpl[0] != "itap of a {}." {
		t.Fatalf("robot's templates %v from %s", tpl, from)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"empty default name", func(c *Config) { c.Default = []string{"cat", ""} }, "default[1]: invalid label name: empty"},
		{"duplicate default", func(c *Config) { c.Default = []string{"cat", "Cat"} }, `default[1]: "cat" repeats default[0]`},
		{"no templates", func(c *Config) { c.Templates = nil }, "templates: empty"},
		{"bad template", func(c *Config) { c.Templates = []string{"{}", "oops"} }, "templates[1]: invalid template"},
		{"negative interval", func(c *Config) { c.ReloadInterval = -1 }, "reload_interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestResolveDirAndTokenizer(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		dir  string
		env  map[string]string
		want string
	}{
		{"/var/lib/edge", map[string]string{"CLIPFLEET_STATE_DIR": "/x"}, "/var/lib/edge"},
		{"", map[string]string{"CLIPFLEET_STATE_DIR": "/x", "HOME": "/home/r"}, "/x"},
		{"", map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/home/r"}, "/s/clipfleet"},
		{"", map[string]string{"HOME": "/home/r"}, "/home/r/.local/state/clipfleet"},
	}
	for _, tc := range tests {
		got, err := Config{Dir: tc.dir}.ResolveDir(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("ResolveDir(%q, %v) = %q, %v; want %q", tc.dir, tc.env, got, err, tc.want)
		}
	}
	if _, err := (Config{}).ResolveDir(env(nil)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("no dir and no environment: %v", err)
	}
	c := Config{Tokenizer: "/cfg.txt.gz"}
	vocab := env(map[string]string{"CLIPFLEET_VOCAB": "/env.txt.gz"})
	if p, from := c.ResolveTokenizer("/model/tok.json", vocab); p != "/model/tok.json" || from != "model manifest" {
		t.Errorf("manifest tokenizer must win: %q %q", p, from)
	}
	if p, _ := c.ResolveTokenizer("", vocab); p != "/cfg.txt.gz" {
		t.Errorf("config before environment: %q", p)
	}
	if p, _ := (Config{}).ResolveTokenizer("", vocab); p != "/env.txt.gz" {
		t.Errorf("environment fallback: %q", p)
	}
	if p, _ := (Config{}).ResolveTokenizer("", env(nil)); p != "" {
		t.Errorf("none: %q", p)
	}
}
