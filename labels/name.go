package labels

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clipfleet/clipfleet/learner"
)

// Limits keep a hand-edited or received file from blowing up memory; CLIP's
// 77-token context cuts long prompts anyway.
const (
	MaxNameBytes     = 256
	MaxTemplateBytes = 512
	MaxTemplates     = 64
	MaxLabels        = 10000
)

// Placeholder is replaced by the label name in a template.
const Placeholder = "{}"

// CheckName validates a label name and returns its canonical form (see
// learner.CanonicalName), the form stored, compared and shown.
func CheckName(name string) (string, error) {
	c, err := checkName(name)
	if err != nil {
		return "", errorf(ErrInvalidName, "labels: %w", err)
	}
	return c, nil
}

// checkName is CheckName with errors that leave the "labels:" prefix to
// the caller, which adds where the name was found.
func checkName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", errorf(ErrInvalidName, "invalid label name %q: not valid UTF-8", name)
	}
	c := learner.CanonicalName(name)
	switch {
	case c == "":
		return "", errorf(ErrInvalidName, "invalid label name: empty")
	case len(c) > MaxNameBytes:
		return "", errorf(ErrInvalidName, "invalid label name %.20q…: %d bytes (max %d)", c, len(c), MaxNameBytes)
	case strings.IndexFunc(c, unicode.IsControl) >= 0:
		return "", errorf(ErrInvalidName, "invalid label name %q: contains a control character", c)
	case c == learner.BackgroundName:
		// The learner reserves it for its "none of the above" class.
		return "", errorf(ErrInvalidName, "invalid label name %q: reserved for the learner's none-of-the-above class", c)
	}
	return c, nil
}

// ID is the fleet-wide id of a label name, as the learner and fleet sync
// derive it.
func ID(name string) learner.ID { return learner.IDFor(name) }

// CheckTemplate validates one prompt template.
func CheckTemplate(t string) error {
	if err := checkTemplate(t); err != nil {
		return errorf(ErrInvalidTemplate, "labels: %w", err)
	}
	return nil
}

func checkTemplate(t string) error {
	switch {
	case !utf8.ValidString(t):
		return errorf(ErrInvalidTemplate, "invalid template %q: not valid UTF-8", t)
	case strings.TrimSpace(t) == "":
		return errorf(ErrInvalidTemplate, "invalid template: empty")
	case len(t) > MaxTemplateBytes:
		return errorf(ErrInvalidTemplate, "invalid template %.20q…: %d bytes (max %d)", t, len(t), MaxTemplateBytes)
	case !strings.Contains(t, Placeholder):
		return errorf(ErrInvalidTemplate, "invalid template %q: no %s for the label name", t, Placeholder)
	case strings.IndexFunc(t, unicode.IsControl) >= 0:
		return errorf(ErrInvalidTemplate, "invalid template %q: contains a control character", t)
	}
	return nil
}

// CheckTemplates validates a template list (which may be empty: "inherit").
func CheckTemplates(ts []string) error {
	if err := checkTemplates(ts, "templates"); err != nil {
		return errorf(ErrInvalidTemplate, "labels: %w", err)
	}
	return nil
}

// checkTemplates names a bad template by path, e.g. "templates[2]: ...".
func checkTemplates(ts []string, path string) error {
	if len(ts) > MaxTemplates {
		return errorf(ErrInvalidTemplate, "%s: %d templates (max %d)", path, len(ts), MaxTemplates)
	}
	seen := make(map[string]int, len(ts))
	for i, t := range ts {
		if err := checkTemplate(t); err != nil {
			return fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		if j, dup := seen[t]; dup {
			return errorf(ErrInvalidTemplate, "%s[%d]: template %q repeats [%d]", path, i, t, j)
		}
		seen[t] = i
	}
	return nil
}

// Prompt puts name into template.
func Prompt(template, name string) string { return strings.ReplaceAll(template, Placeholder, name) }
