package world

import (
	"sort"
	"strings"
	"unicode"
)

// Captions are built from templates. The templates, the colour and named
// shape words, the size words and the domain phrases are the whole text
// vocabulary: an unnamed shape is only ever called "shape".

// singleTemplates describe one object; {o} is the object phrase with its
// article ("a small red star" or, in colourless captions, "a small star"),
// {as} the shape word with its article, {c} and {s} the colour and shape
// words, {d} the domain phrase.
var singleTemplates = []string{
	"a photo of {o}{d}.",
	"{o}{d}.",
	"a picture of {o}{d}.",
	"a rendering of {o}{d}.",
	"there is {o}{d}.",
	"a photo of the {c} {s}{d}.",
	"{as} that is {c}{d}.",
}

// colourlessTemplates name only the shape, so that zero-shot prompts for
// shape labels ("a photo of a star.") are in the training distribution.
var colourlessTemplates = []string{
	"a photo of {o}{d}.",
	"{o}{d}.",
	"a picture of {o}{d}.",
	"there is {o}{d}.",
}

// colourlessShare is the fraction of captions that do not name colours.
const colourlessShare = 0.25

// multiTemplates describe two or three objects; {list} joins the object
// phrases ("a red star and a blue circle"), {n} is "two" or "three".
var multiTemplates = []string{
	"a photo of {list}{d}.",
	"{list}{d}.",
	"a picture of {n} shapes: {list}{d}.",
	"there are {n} shapes, {list}{d}.",
}

var counts = []string{2: "two", 3: "three"}

// PromptTemplate is the zero-shot prompt: the label replaces {}, with its
// article.
const PromptTemplate = "a photo of {}."

// Prompt returns the zero-shot prompt for a label ("a photo of an orange
// circle.").
func Prompt(label string) string {
	return strings.Replace(PromptTemplate, "{}", article(label), 1)
}

// ClassPrompt is the zero-shot prompt for a class. Colour-only classes
// become "a photo of a red shape." since a bare colour is not a thing.
func ClassPrompt(c Class) string {
	if c.Shape < 0 && c.Colour >= 0 {
		return Prompt(c.Label + " shape")
	}
	return Prompt(c.Label)
}

// article prefixes "a" or "an" by the first letter, as the captions do.
func article(phrase string) string {
	if phrase == "" {
		return phrase
	}
	switch phrase[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + phrase
	}
	return "a " + phrase
}

// shapeWord is the word captions use for a shape: its name if named,
// "shape" otherwise, so unnamed words can never leak into training text.
func shapeWord(s Shape) string {
	if s.Named() {
		return s.String()
	}
	return "shape"
}

func objectPhrase(o Object, withSize, withColour bool) string {
	words := make([]string, 0, 3)
	if w := o.SizeWord(); withSize && w != "" {
		words = append(words, w)
	}
	if withColour {
		words = append(words, o.Colour.String())
	}
	words = append(words, shapeWord(o.Shape))
	return strings.Join(words, " ")
}

// Description is a caption and what it commits to, so that a trainer can
// tell which other pictures it is also true of.
type Description struct {
	Text string `json:"text"`
	// Colours says the caption names each object's colour; otherwise it
	// names shapes only. Every caption names every object's shape.
	Colours bool `json:"colours"`
	// Domain says the caption names the viewing condition.
	Domain bool `json:"domain"`
}

// Caption describes the scene from a template chosen by variant; different
// variants give different phrasings of the same content.
func Caption(s *Scene, variant uint64) string { return Describe(s, variant).Text }

// Describe is Caption with what the caption commits to.
func Describe(s *Scene, variant uint64) Description {
	r := newRNG(variant, 0xca9)
	phrases := domains[s.Domain].phrases
	d := phrases[r.intn(len(phrases))]
	withSize := r.float() < 0.35
	withColour := r.float() >= colourlessShare
	desc := Description{Colours: withColour, Domain: d != ""}
	if len(s.Objects) == 0 {
		desc.Text = "an empty scene" + d + "."
		return desc
	}
	if len(s.Objects) == 1 {
		o := s.Objects[0]
		templates := singleTemplates
		if !withColour {
			templates = colourlessTemplates
		}
		desc.Text = strings.NewReplacer(
			"{o}", article(objectPhrase(o, withSize, withColour)),
			"{as}", article(shapeWord(o.Shape)),
			"{c}", o.Colour.String(),
			"{s}", shapeWord(o.Shape),
			"{d}", d,
		).Replace(templates[r.intn(len(templates))])
		return desc
	}
	// Mention objects in a random order so that position in the caption
	// says nothing about size or position in the picture.
	order := r.perm(len(s.Objects))
	items := make([]string, len(order))
	for i, k := range order {
		items[i] = article(objectPhrase(s.Objects[k], withSize, withColour))
	}
	list := strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
	t := multiTemplates[r.intn(len(multiTemplates))]
	desc.Text = strings.NewReplacer("{list}", list, "{n}", counts[min(len(items), 3)], "{d}", d).Replace(t)
	return desc
}

// Tokenize splits text as the tokenizer's pre-tokenizer does (lowercase,
// then runs of word characters or of other non-space characters), so Go can
// check captions against the vocabulary without the tokenizer package.
func Tokenize(text string) []string {
	text = strings.ToLower(text)
	var out []string
	start, kind := -1, 0 // kind: 1 word run, 2 punctuation run
	for i, r := range text {
		k := 2
		switch {
		case unicode.IsSpace(r):
			k = 0
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_':
			k = 1
		}
		if k != kind {
			if kind != 0 {
				out = append(out, text[start:i])
			}
			start, kind = i, k
		}
	}
	if kind != 0 {
		out = append(out, text[start:])
	}
	return out
}

// Vocabulary returns every token captions and prompts can contain, sorted.
// It is what the tiny CLIP's WordLevel tokenizer knows; unnamed shape words
// and foreign labels are absent by construction.
func Vocabulary() []string {
	set := map[string]bool{}
	add := func(text string) {
		for _, t := range Tokenize(text) {
			set[t] = true
		}
	}
	strip := strings.NewReplacer("{o}", " ", "{as}", " ", "{c}", " ", "{s}", " ", "{d}", " ", "{list}", " ", "{n}", " ", "{}", " ")
	var templates []string
	templates = append(templates, singleTemplates...)
	templates = append(templates, colourlessTemplates...)
	templates = append(templates, multiTemplates...)
	for _, t := range append(templates, PromptTemplate) {
		add(strip.Replace(t))
	}
	add("a an shape , and small large empty scene")
	for _, c := range counts {
		add(c)
	}
	for _, c := range Colours() {
		add(c.String())
	}
	for _, s := range append(NamedShapes(), PretrainingShapes()...) {
		add(s.String())
	}
	for _, d := range domains {
		for _, p := range d.phrases {
			add(p)
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
