package labels

import (
	"errors"
	"path/filepath"
	"time"
)

// Config is the `labels:` section of the daemon's configuration.
type Config struct {
	// Dir is the device's state directory, holding labels.yaml and the
	// embedding cache. Empty: $CLIPFLEET_STATE_DIR, else
	// $XDG_STATE_HOME/clipfleet, else ~/.local/state/clipfleet.
	Dir string `yaml:"dir"`
	// Default is the vocabulary used while Dir holds no labels.yaml; the
	// first `edge labels add|rm` writes it there and edits from then on.
	Default []string `yaml:"default"`
	// Templates are the prompt templates of a label set whose file names
	// none; "{}" is replaced by the label name.
	Templates []string `yaml:"templates"`
	// Tokenizer is the vocabulary file (OpenAI bpe_simple_vocab_16e6.txt.gz
	// or a tokenizer.json) used when the model's manifest names none.
	// Empty: $CLIPFLEET_VOCAB. The manifest's tokenizer always wins: it is
	// the one the text encoder was trained with.
	Tokenizer string `yaml:"tokenizer"`
	// EmbeddingsFile supplies label embeddings computed elsewhere (JSON or
	// binary, see the package documentation), for devices without a text
	// encoder such as a Coral. Labels it has are taken from it.
	EmbeddingsFile string `yaml:"embeddings_file"`
	// ReloadInterval is how often the daemon checks the label and
	// embeddings files for changes; 0 disables reloading.
	ReloadInterval time.Duration `yaml:"reload_interval"`
}

// File names inside Config.Dir.
const (
	VocabularyFile = "labels.yaml"
	CacheFile      = "label-embeddings.cache"
)

// DefaultTemplates are CLIP-style prompt templates. They are taken from
// CLIP's ImageNet ensemble, preferring the ones whose words the testbed's
// tiny CLIP also knows, so one default serves both.
func DefaultTemplates() []string {
	return []string{
		"a photo of a {}.",
		"a picture of a {}.",
		"a rendering of a {}.",
		"a photo of the small {}.",
		"a photo of the large {}.",
	}
}

// DefaultConfig names the shapes and colours of the synthetic testbed, so
// `make run` shows labels as soon as a text encoder and tokenizer exist.
func DefaultConfig() Config {
	return Config{
		Default: []string{
			"circle", "square", "triangle", "star", "cross", "ring", "hexagon", "heart",
			"red shape", "green shape", "blue shape", "yellow shape",
			"purple shape", "orange shape", "white shape", "black shape",
		},
		Templates:      DefaultTemplates(),
		ReloadInterval: 2 * time.Second,
	}
}

// Validate checks names, templates and the interval without touching the
// file system.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]int{}
	for i, n := range c.Default {
		cn, err := checkName(n)
		if err != nil {
			errs = append(errs, errorf(ErrInvalidConfig, "labels: default[%d]: %w", i, err))
			continue
		}
		if j, dup := seen[cn]; dup {
			errs = append(errs, errorf(ErrInvalidConfig, "labels: default[%d]: %q repeats default[%d]", i, cn, j))
		}
		seen[cn] = i
	}
	if len(c.Templates) == 0 {
		errs = append(errs, errorf(ErrInvalidConfig, "labels: templates: empty (want at least one, e.g. %q)", DefaultTemplates()[0]))
	}
	if err := checkTemplates(c.Templates, "templates"); err != nil {
		errs = append(errs, errorf(ErrInvalidConfig, "labels: %w", err))
	}
	if c.ReloadInterval < 0 {
		errs = append(errs, errorf(ErrInvalidConfig, "labels: reload_interval: %v is negative (0 disables reloading)", c.ReloadInterval))
	}
	return errors.Join(errs...)
}

// ResolveDir returns the state directory: Dir, else the environment's
// choice (see Config.Dir). getenv is os.Getenv outside tests.
func (c Config) ResolveDir(getenv func(string) string) (string, error) {
	if c.Dir != "" {
		return c.Dir, nil
	}
	if d := getenv("CLIPFLEET_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "clipfleet"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state", "clipfleet"), nil
	}
	return "", errorf(ErrInvalidConfig, "labels: dir: empty, and none of CLIPFLEET_STATE_DIR, XDG_STATE_HOME, HOME is set")
}

// ResolveTokenizer returns the tokenizer path to use with a model whose
// manifest names manifestTok ("" if none), and where it came from. An empty
// path means there is none.
func (c Config) ResolveTokenizer(manifestTok string, getenv func(string) string) (path, from string) {
	switch {
	case manifestTok != "":
		return manifestTok, "model manifest"
	case c.Tokenizer != "":
		return c.Tokenizer, "labels.tokenizer"
	case getenv("CLIPFLEET_VOCAB") != "":
		return getenv("CLIPFLEET_VOCAB"), "$CLIPFLEET_VOCAB"
	}
	return "", ""
}
