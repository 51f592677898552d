package labels

import (
	"errors"
	"fmt"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
)

// Label is one entry of a vocabulary.
type Label struct {
	Name      string   `yaml:"name" json:"name"`
	Templates []string `yaml:"templates,omitempty" json:"templates,omitempty"` // override; empty: the set's
}

// Vocabulary is the label set a device knows by name, in display order.
// Names are kept in canonical form. It is a plain value: the Manager turns
// it into a Set.
type Vocabulary struct {
	// Templates are the set's prompt templates; empty: the config's.
	Templates []string
	Labels    []Label
}

// NewVocabulary builds a vocabulary from names (e.g. labels.default).
func NewVocabulary(names []string) (*Vocabulary, error) {
	v := &Vocabulary{Labels: make([]Label, 0, len(names))}
	for _, n := range names {
		v.Labels = append(v.Labels, Label{Name: n})
	}
	if err := v.normalize(); err != nil {
		return nil, errorf(ErrInvalidName, "labels: %w", err)
	}
	return v, nil
}

// Clone returns a deep copy.
func (v *Vocabulary) Clone() *Vocabulary {
	c := &Vocabulary{Templates: slices.Clone(v.Templates), Labels: make([]Label, len(v.Labels))}
	for i, l := range v.Labels {
		c.Labels[i] = Label{Name: l.Name, Templates: slices.Clone(l.Templates)}
	}
	return c
}

// normalize canonicalises names in place and checks every rule; errors
// name the offending path ("labels[3].name: ...").
func (v *Vocabulary) normalize() error {
	if len(v.Labels) > MaxLabels {
		return errorf(ErrInvalidFile, "labels: %d entries (max %d)", len(v.Labels), MaxLabels)
	}
	if err := checkTemplates(v.Templates, "templates"); err != nil {
		return err
	}
	// Empty and missing lists mean the same; keep one form so that values
	// compare equal whichever way they were written.
	if len(v.Templates) == 0 {
		v.Templates = nil
	}
	if len(v.Labels) == 0 {
		v.Labels = nil
	}
	byName := make(map[string]int, len(v.Labels))
	byID := make(map[learner.ID]int, len(v.Labels))
	for i := range v.Labels {
		l := &v.Labels[i]
		c, err := checkName(l.Name)
		if err != nil {
			return fmt.Errorf("labels[%d].name: %w", i, err)
		}
		if j, dup := byName[c]; dup {
			return errorf(ErrInvalidName, "labels[%d].name: %q repeats labels[%d] (names compare in lower case with spaces collapsed)", i, c, j)
		}
		id := learner.IDFor(c)
		if j, dup := byID[id]; dup {
			return errorf(ErrInvalidName, "labels[%d].name: %q has the same id %v as labels[%d] %q", i, c, id, j, v.Labels[j].Name)
		}
		if err := checkTemplates(l.Templates, fmt.Sprintf("labels[%d].templates", i)); err != nil {
			return err
		}
		l.Name = c
		if len(l.Templates) == 0 {
			l.Templates = nil
		}
		byName[c], byID[id] = i, i
	}
	return nil
}

// Validate checks the vocabulary as normalize does, without changing it.
func (v *Vocabulary) Validate() error {
	if err := v.Clone().normalize(); err != nil {
		return errorf(ErrInvalidFile, "labels: %w", err)
	}
	return nil
}

// Index returns the position of name (any spelling with the same canonical
// form), or -1.
func (v *Vocabulary) Index(name string) int {
	c := learner.CanonicalName(name)
	for i, l := range v.Labels {
		if l.Name == c {
			return i
		}
	}
	return -1
}

// Names returns the label names in order.
func (v *Vocabulary) Names() []string {
	out := make([]string, len(v.Labels))
	for i, l := range v.Labels {
		out[i] = l.Name
	}
	return out
}

// Add appends name with its template override (nil: the set's templates).
// Adding a name already present replaces its override when templates is
// non-nil and is otherwise a no-op; added reports whether name was new.
func (v *Vocabulary) Add(name string, templates []string) (added bool, err error) {
	c, err := CheckName(name)
	if err != nil {
		return false, err
	}
	if err := CheckTemplates(templates); err != nil {
		return false, err
	}
	if i := v.Index(c); i >= 0 {
		if templates != nil {
			v.Labels[i].Templates = slices.Clone(templates)
		}
		return false, nil
	}
	n := v.Clone()
	n.Labels = append(n.Labels, Label{Name: c, Templates: slices.Clone(templates)})
	if err := n.normalize(); err != nil { // id collision, size limit
		return false, errorf(ErrInvalidName, "labels: %w", err)
	}
	*v = *n
	return true, nil
}

// Remove deletes every name, or none: an unknown name is an
// ErrUnknownLabel listing all of them.
func (v *Vocabulary) Remove(names ...string) error {
	drop := map[int]bool{}
	var unknown []error
	for _, n := range names {
		i := v.Index(n)
		if i < 0 {
			unknown = append(unknown, errorf(ErrUnknownLabel, "labels: no label %q", learner.CanonicalName(n)))
			continue
		}
		drop[i] = true
	}
	if len(unknown) > 0 {
		return errors.Join(unknown...)
	}
	kept := v.Labels[:0:0]
	for i, l := range v.Labels {
		if !drop[i] {
			kept = append(kept, l)
		}
	}
	v.Labels = kept
	return nil
}

// Where a label's templates come from, as Status reports it.
const (
	TemplatesLabel  = "label"  // the label's own override
	TemplatesSet    = "set"    // the label file's templates
	TemplatesConfig = "config" // labels.templates
)

// TemplatesFor returns the templates of label i: its override, else the
// set's, else fallback (the config's).
func (v *Vocabulary) TemplatesFor(i int, fallback []string) (templates []string, from string) {
	switch {
	case len(v.Labels[i].Templates) > 0:
		return v.Labels[i].Templates, TemplatesLabel
	case len(v.Templates) > 0:
		return v.Templates, TemplatesSet
	}
	return fallback, TemplatesConfig
}
