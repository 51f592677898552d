package world

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"A photo of a RED star.", []string{"a", "photo", "of", "a", "red", "star", "."}},
		{"two shapes: a, b", []string{"two", "shapes", ":", "a", ",", "b"}},
		{"  spaced\tout\n", []string{"spaced", "out"}},
		{"un triángulo", []string{"un", "triángulo"}},
		{"三角形", []string{"三角形"}},
		{"...!?", []string{"...!?"}},
		{"", nil},
	} {
		if got := Tokenize(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPrompt(t *testing.T) {
	for label, want := range map[string]string{
		"red star":      "a photo of a red star.",
		"orange circle": "a photo of an orange circle.",
		"arrow":         "a photo of an arrow.",
	} {
		if got := Prompt(label); got != want {
			t.Errorf("Prompt(%q) = %q, want %q", label, got, want)
		}
	}
	if got := ClassPrompt(Class{Label: "blue", Shape: -1, Colour: int(Blue)}); got != "a photo of a blue shape." {
		t.Errorf("colour prompt %q", got)
	}
}

// Captions name every object's colour and (named) shape and the domain,
// and nothing else from the catalogue.
func TestCaptionsMatchScene(t *testing.T) {
	colourful := 0
	defer func() {
		if colourful < 350 || colourful > 550 {
			t.Errorf("%d of 600 captions name colours, want about %.0f", colourful, 600*(1-colourlessShare))
		}
	}()
	for i := 0; i < 600; i++ {
		d := Domain(i % int(numDomains))
		var pairs []Pair
		for k := 0; k <= i%3; k++ {
			pairs = append(pairs, Pair{Colour((i + 3*k) % int(numColours)), Shape((i/3 + 4*k) % int(numShapes))})
		}
		s := NewScene(uint64(i), SceneSpec{Domain: d, Pairs: pairs})
		desc := Describe(&s, uint64(i))
		c := desc.Text
		if c != Caption(&s, uint64(i)) {
			t.Fatalf("Caption and Describe disagree")
		}
		toks := Tokenize(c)
		if desc.Colours {
			colourful++
		}
		if desc.Domain != (d != Day || strings.Contains(c, "day")) {
			t.Fatalf("caption %q: Domain=%v", c, desc.Domain)
		}
		for _, o := range s.Objects {
			if slices.Contains(toks, o.Colour.String()) != desc.Colours {
				t.Fatalf("caption %q: colour %v mentioned=%v, Colours=%v", c, o.Colour, !desc.Colours, desc.Colours)
			}
			if o.Shape.Named() && !slices.Contains(toks, o.Shape.String()) {
				t.Fatalf("caption %q omits shape %v", c, o.Shape)
			}
		}
		for _, col := range Colours() {
			if slices.Contains(toks, col.String()) && !hasColour(s.Objects, col) {
				t.Fatalf("caption %q mentions %v, which is not in the scene", c, col)
			}
		}
		for _, sh := range Shapes() {
			if slices.Contains(toks, sh.String()) && (!sh.Named() || !hasShape(s.Objects, sh)) {
				t.Fatalf("caption %q mentions %v", c, sh)
			}
		}
		if d != Day && !strings.Contains(c, strings.TrimSpace(captionDomainPhrase(c, d))) {
			t.Fatalf("caption %q lacks a %v phrase", c, d)
		}
	}
}

func captionDomainPhrase(c string, d Domain) string {
	for _, p := range domains[d].phrases {
		if p != "" && strings.Contains(c, p) {
			return p
		}
	}
	return "<none of " + strings.Join(domains[d].phrases, "|") + ">"
}

func hasColour(os []Object, c Colour) bool {
	return slices.ContainsFunc(os, func(o Object) bool { return o.Colour == c })
}

func hasShape(os []Object, s Shape) bool {
	return slices.ContainsFunc(os, func(o Object) bool { return o.Shape == s })
}

// Every training caption and prompt is made of vocabulary words, and the
// vocabulary lacks the words that must stay unknown.
func TestVocabularyGaps(t *testing.T) {
	vocab := map[string]bool{}
	for _, w := range Vocabulary() {
		vocab[w] = true
	}
	for i := 0; i < 3000; i++ {
		s := TrainingScene(7, i)
		for _, d := range TrainingCaptions(&s, 7, i, 3) {
			c := d.Text
			for _, tok := range Tokenize(c) {
				if !vocab[tok] {
					t.Fatalf("caption %q: token %q not in the vocabulary", c, tok)
				}
			}
		}
	}
	// Prompts of named labels are fully known; an unnamed shape's prompt
	// has exactly one unknown word, its name.
	for label, prompt := range CatalogJSON().Prompts {
		unknown := 0
		for _, tok := range Tokenize(prompt) {
			if !vocab[tok] {
				unknown++
			}
		}
		want := 0
		if sh, err := ParseShape(label[strings.LastIndex(label, " ")+1:]); err == nil && !sh.Named() {
			want = 1
		}
		if unknown != want {
			t.Errorf("prompt %q has %d unknown tokens, want %d", prompt, unknown, want)
		}
	}
	for _, s := range UnnamedShapes() {
		if vocab[s.String()] {
			t.Errorf("unnamed shape %q is in the vocabulary", s)
		}
	}
	for _, s := range NamedShapes() {
		if !vocab[s.String()] {
			t.Errorf("named shape %q is missing from the vocabulary", s)
		}
		for _, lang := range []Language{Spanish, Chinese} {
			l, _ := s.Label(lang)
			for _, tok := range Tokenize(l) {
				if vocab[tok] {
					t.Errorf("%s label %q token %q is in the vocabulary", lang, l, tok)
				}
			}
		}
	}
	if !slices.IsSorted(Vocabulary()) {
		t.Error("vocabulary is not sorted")
	}
}

func TestCaptionVariantsDiffer(t *testing.T) {
	s := NewScene(3, SceneSpec{Domain: Night, Pairs: []Pair{{Red, Star}, {Blue, Ring}}})
	seen := map[string]bool{}
	for v := uint64(0); v < 40; v++ {
		seen[Caption(&s, v)] = true
	}
	if len(seen) < 8 {
		t.Errorf("40 variants gave only %d distinct captions", len(seen))
	}
}
