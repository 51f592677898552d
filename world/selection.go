package world

import (
	"fmt"
	"regexp"
)

// LabelKind is what a class of a task is.
type LabelKind string

const (
	LabelShape       LabelKind = "shape"
	LabelColour      LabelKind = "colour"
	LabelColourShape LabelKind = "colour_shape"
)

// Pair filters for Selection.Pairs.
const (
	PairsAll       = "all"
	PairsCaptioned = "captioned"
	PairsHeldOut   = "heldout"
)

// Task kinds.
var taskKinds = map[string]bool{"base": true, "domain_shift": true, "new_classes": true, "new_language": true, "drift": true}

// Class is one label of a task. Shape or Colour is -1 when the label does
// not involve it.
type Class struct {
	Label  string
	Shape  int
	Colour int
}

// resolved is a Selection checked and expanded into classes and the pairs
// each class may show.
type resolved struct {
	domain  Domain
	label   LabelKind
	lang    Language
	objects int
	days    DayRange
	shapes  []Shape
	colours []Colour
	classes []Class
	shown   [][]Pair // per class
	showing []int    // classes with at least one shown pair
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// resolve validates the selection (errors name fields under path) and
// expands its defaults.
func (sel Selection) resolve(path string) (*resolved, error) {
	r := &resolved{domain: Day, label: LabelShape, lang: English, objects: 1, days: TrainDays}
	var err error
	if sel.Domain != "" {
		if r.domain, err = ParseDomain(sel.Domain); err != nil {
			return nil, fmt.Errorf("%s.domain: unknown domain %q", path, sel.Domain)
		}
	}
	switch LabelKind(sel.Label) {
	case "":
	case LabelShape, LabelColour, LabelColourShape:
		r.label = LabelKind(sel.Label)
	default:
		return nil, fmt.Errorf("%s.label: %q (want shape, colour or colour_shape)", path, sel.Label)
	}
	switch Language(sel.Language) {
	case "":
	case English, Spanish, Chinese:
		r.lang = Language(sel.Language)
	default:
		return nil, fmt.Errorf("%s.language: %q (want en, es or zh)", path, sel.Language)
	}
	if r.lang != English && r.label != LabelShape {
		return nil, fmt.Errorf("%s.language: %s labels exist for shapes only, label is %s", path, r.lang, r.label)
	}
	if sel.Objects < 0 || sel.Objects > 3 {
		return nil, fmt.Errorf("%s.objects: %d outside [1,3]", path, sel.Objects)
	}
	if sel.Objects > 0 {
		r.objects = sel.Objects
	}
	if sel.Days != nil {
		d := *sel.Days
		if d.From < 0 || d.To > MaxDay || d.From > d.To {
			return nil, fmt.Errorf("%s.days: [%d,%d] must satisfy 0 <= from <= to <= %d", path, d.From, d.To, MaxDay)
		}
		r.days = d
	}
	r.shapes = NamedShapes()
	if len(sel.Shapes) > 0 {
		r.shapes = nil
		seen := map[Shape]bool{}
		for i, name := range sel.Shapes {
			s, err := ParseShape(name)
			if err != nil {
				return nil, fmt.Errorf("%s.shapes[%d]: unknown shape %q", path, i, name)
			}
			if s.PretrainingOnly() {
				// Zero-shot would know it: a task about it would measure nothing.
				return nil, fmt.Errorf("%s.shapes[%d]: %q is a pre-training-only shape, not a task shape", path, i, name)
			}
			if seen[s] {
				return nil, fmt.Errorf("%s.shapes[%d]: %q listed twice", path, i, name)
			}
			if _, ok := s.Label(r.lang); !ok {
				return nil, fmt.Errorf("%s.shapes[%d]: %q has no %s label", path, i, name, r.lang)
			}
			seen[s] = true
			r.shapes = append(r.shapes, s)
		}
	}
	r.colours = Colours()
	if len(sel.Colours) > 0 {
		r.colours = nil
		seen := map[Colour]bool{}
		for i, name := range sel.Colours {
			c, err := ParseColour(name)
			if err != nil {
				return nil, fmt.Errorf("%s.colours[%d]: unknown colour %q", path, i, name)
			}
			if seen[c] {
				return nil, fmt.Errorf("%s.colours[%d]: %q listed twice", path, i, name)
			}
			seen[c] = true
			r.colours = append(r.colours, c)
		}
	}
	show := func(p Pair) bool { return true }
	switch sel.Pairs {
	case "", PairsAll:
	case PairsCaptioned:
		show = Pair.Captioned
	case PairsHeldOut:
		show = Pair.HeldOut
	default:
		return nil, fmt.Errorf("%s.pairs: %q (want all, captioned or heldout)", path, sel.Pairs)
	}
	r.expand(show)
	if len(r.classes) < 2 {
		return nil, fmt.Errorf("%s: %d class(es); a task needs at least 2", path, len(r.classes))
	}
	if len(r.showing) == 0 {
		return nil, fmt.Errorf("%s.pairs: no colour–shape pair of the selection is %s", path, sel.Pairs)
	}
	return r, nil
}

func (r *resolved) expand(show func(Pair) bool) {
	add := func(c Class, pairs []Pair) {
		var shown []Pair
		for _, p := range pairs {
			if show(p) {
				shown = append(shown, p)
			}
		}
		if len(shown) > 0 {
			r.showing = append(r.showing, len(r.classes))
		}
		r.classes = append(r.classes, c)
		r.shown = append(r.shown, shown)
	}
	switch r.label {
	case LabelShape:
		for _, s := range r.shapes {
			label, _ := s.Label(r.lang)
			var pairs []Pair
			for _, c := range r.colours {
				pairs = append(pairs, Pair{c, s})
			}
			add(Class{Label: label, Shape: int(s), Colour: -1}, pairs)
		}
	case LabelColour:
		for _, c := range r.colours {
			var pairs []Pair
			for _, s := range r.shapes {
				pairs = append(pairs, Pair{c, s})
			}
			add(Class{Label: c.String(), Shape: -1, Colour: int(c)}, pairs)
		}
	case LabelColourShape:
		for _, s := range r.shapes {
			for _, c := range r.colours {
				p := Pair{c, s}
				add(Class{Label: p.String(), Shape: int(s), Colour: int(c)}, []Pair{p})
			}
		}
	}
}

// sameClass reports whether a distractor pair would carry the subject's
// label, which would make the picture ambiguous.
func (r *resolved) sameClass(a, b Pair) bool {
	switch r.label {
	case LabelShape:
		return a.Shape == b.Shape
	case LabelColour:
		return a.Colour == b.Colour
	}
	return a == b
}

const maxSplit = 1_000_000

// Validate checks the scenario without side effects; errors name the
// offending field by path.
func (s *Scenario) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidScenario}, args...)...)
	}
	if !nameRE.MatchString(s.Name) {
		return bad("name: %q must be 1-64 lowercase letters, digits, '-', '_' or '.'", s.Name)
	}
	if len(s.Tasks) == 0 {
		return bad("tasks: at least one task is required")
	}
	names := map[string]string{}
	unique := func(name, path string) error {
		if !nameRE.MatchString(name) {
			return bad("%s.name: %q must be 1-64 lowercase letters, digits, '-', '_' or '.'", path, name)
		}
		if prev, dup := names[name]; dup {
			return bad("%s.name: %q already used by %s", path, name, prev)
		}
		names[name] = path
		return nil
	}
	for i, t := range s.Tasks {
		p := fmt.Sprintf("tasks[%d]", i)
		if err := unique(t.Name, p); err != nil {
			return err
		}
		if t.Kind != "" && !taskKinds[t.Kind] {
			return bad("%s.kind: %q (want base, domain_shift, new_classes, new_language or drift)", p, t.Kind)
		}
		if t.Train < 1 || t.Train > maxSplit {
			return bad("%s.train: %d outside [1,%d]", p, t.Train, maxSplit)
		}
		if t.Test < 1 || t.Test > maxSplit {
			return bad("%s.test: %d outside [1,%d]", p, t.Test, maxSplit)
		}
		if _, err := t.resolve(p); err != nil {
			return bad("%v", err)
		}
	}
	for i, z := range s.ZeroShot {
		p := fmt.Sprintf("zero_shot[%d]", i)
		if err := unique(z.Name, p); err != nil {
			return err
		}
		if z.N < 1 || z.N > maxSplit {
			return bad("%s.n: %d outside [1,%d]", p, z.N, maxSplit)
		}
		if _, err := z.resolve(p); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}
