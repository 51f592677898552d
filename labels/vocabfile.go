package labels

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"gopkg.in/yaml.v3"
)

// vocabFileVersion is the only label file version this package reads.
const vocabFileVersion = 1

// maxVocabFileBytes bounds what LoadVocabulary reads: 10,000 labels with
// overrides fit in well under this.
const maxVocabFileBytes = 8 << 20

// vocabFile is the on-disk form; the field order is the written order.
type vocabFile struct {
	Version   int      `yaml:"version"`
	Templates []string `yaml:"templates,omitempty"`
	Labels    []Label  `yaml:"labels"`
}

const vocabHeader = "# clipfleet label vocabulary. Edit with `edge labels add|rm|templates`, or by hand:\n" +
	"# the daemon reloads it. Names are in any language; \"{}\" in a template is the name.\n"

// ParseVocabulary parses a label file strictly: an unknown key, a second
// YAML document, a bad name or template, or a repeated name is an
// ErrInvalidFile naming the path inside the file.
func ParseVocabulary(data []byte) (*Vocabulary, error) {
	var f vocabFile
	if err := yamlstrict.Decode(data, &f); err != nil {
		return nil, errorf(ErrInvalidFile, "%w", err)
	}
	switch f.Version {
	case vocabFileVersion:
	case 0:
		if len(bytes.TrimSpace(data)) > 0 {
			return nil, errorf(ErrInvalidFile, "version: missing (want %d)", vocabFileVersion)
		}
	default:
		return nil, errorf(ErrInvalidFile, "version: %d is not supported (want %d)", f.Version, vocabFileVersion)
	}
	v := &Vocabulary{Templates: f.Templates, Labels: f.Labels}
	if err := v.normalize(); err != nil {
		return nil, errorf(ErrInvalidFile, "%w", err)
	}
	return v, nil
}

// Marshal returns the label file form of v.
func (v *Vocabulary) Marshal() ([]byte, error) {
	c := v.Clone()
	if err := c.normalize(); err != nil {
		return nil, errorf(ErrInvalidFile, "labels: %w", err)
	}
	f := vocabFile{Version: vocabFileVersion, Templates: c.Templates, Labels: c.Labels}
	if f.Labels == nil {
		f.Labels = []Label{} // "labels: []" says "none" more plainly than a missing key
	}
	var b bytes.Buffer
	b.WriteString(vocabHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, fmt.Errorf("labels: encoding label file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("labels: encoding label file: %w", err)
	}
	return b.Bytes(), nil
}

// LoadVocabulary reads a label file. A missing file is an error matching
// fs.ErrNotExist, so callers can fall back to the configured default.
func LoadVocabulary(path string) (*Vocabulary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	data, err := readAtMost(f, maxVocabFileBytes)
	if err != nil {
		return nil, errorf(ErrInvalidFile, "labels: %s: %w", path, err)
	}
	v, err := ParseVocabulary(data)
	if err != nil {
		return nil, errorf(ErrInvalidFile, "labels: %s: %w", path, err)
	}
	return v, nil
}

// SaveVocabulary writes v to path crash-safely (temp file, fsync, rename,
// fsync of the directory), creating the directory if needed.
func SaveVocabulary(path string, v *Vocabulary) error {
	data, err := v.Marshal()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("labels: %w", err)
	}
	return nil
}

// LoadOrDefault reads the label file at path, or builds the vocabulary
// from defaults when there is none; fromFile says which.
func LoadOrDefault(path string, defaults []string) (v *Vocabulary, fromFile bool, err error) {
	v, err = LoadVocabulary(path)
	switch {
	case err == nil:
		return v, true, nil
	case errors.Is(err, fs.ErrNotExist):
		v, err = NewVocabulary(defaults)
		return v, false, err
	}
	return nil, false, err
}
