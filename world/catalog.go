package world

import (
	"fmt"
	"math"
)

// This file is the single definition of what exists in the world and of the
// deliberate gaps in what the tiny CLIP is trained on. The training export,
// the caption vocabulary and the scenarios all read it; change a gap here and
// the next `make model` trains without (or with) it.

// Shape is an object's outline.
type Shape uint8

const (
	Circle Shape = iota
	Square
	Triangle
	Star
	Cross
	Ring
	Hexagon
	Heart
	// The shapes below are never named: their words are absent from captions
	// and from the tokenizer vocabulary, and they are never rendered in the
	// training export. Zero-shot cannot know them; only on-device learning can.
	Crescent
	Arrow
	Bolt
	// The shapes below are named in training captions but belong to no task,
	// label set or evaluation: they widen the tiny CLIP's pre-training
	// vocabulary, as a real CLIP has seen and named far more things than any
	// deployment asks about, so that its image features describe shapes in
	// general rather than only the eight a task names. None was drawn to
	// resemble a never-named shape.
	Pentagon
	Octagon
	Diamond
	Oval
	Trapezoid
	Parallelogram
	Kite
	Frame
	Rectangle
	Drop
	Bowtie
	Clover
	Capsule
	House
	Cloud
	numShapes
)

// Language is the language of task labels.
type Language string

const (
	English Language = "en"
	Spanish Language = "es"
	Chinese Language = "zh"
)

type shapeInfo struct {
	name  string
	named bool
	// pretraining marks a named shape that only the training export shows.
	pretraining bool
	// maxRot bounds the random rotation, in radians, so that a heart stays
	// recognisably upright and rotation-symmetric shapes do not waste samples.
	maxRot float64
	// Labels in other languages, for the new-language task. Only named
	// shapes have them: that task is about new words for known things.
	es, zh string
}

var shapes = [numShapes]shapeInfo{
	Circle:   {name: "circle", named: true, maxRot: 0, es: "círculo", zh: "圆形"},
	Square:   {name: "square", named: true, maxRot: math.Pi / 4, es: "cuadrado", zh: "正方形"},
	Triangle: {name: "triangle", named: true, maxRot: math.Pi / 3, es: "triángulo", zh: "三角形"},
	Star:     {name: "star", named: true, maxRot: math.Pi / 5, es: "estrella", zh: "星形"},
	Cross:    {name: "cross", named: true, maxRot: math.Pi / 4, es: "cruz", zh: "十字"},
	Ring:     {name: "ring", named: true, maxRot: 0, es: "anillo", zh: "圆环"},
	Hexagon:  {name: "hexagon", named: true, maxRot: math.Pi / 6, es: "hexágono", zh: "六边形"},
	Heart:    {name: "heart", named: true, maxRot: 0.45, es: "corazón", zh: "心形"},
	Crescent: {name: "crescent", maxRot: math.Pi},
	Arrow:    {name: "arrow", maxRot: math.Pi},
	Bolt:     {name: "bolt", maxRot: 0.35},

	Pentagon:      {name: "pentagon", named: true, pretraining: true, maxRot: math.Pi / 5},
	Octagon:       {name: "octagon", named: true, pretraining: true, maxRot: math.Pi / 8},
	Diamond:       {name: "diamond", named: true, pretraining: true, maxRot: 0.3},
	Oval:          {name: "oval", named: true, pretraining: true, maxRot: math.Pi},
	Trapezoid:     {name: "trapezoid", named: true, pretraining: true, maxRot: 0.4},
	Parallelogram: {name: "parallelogram", named: true, pretraining: true, maxRot: 0.4},
	Kite:          {name: "kite", named: true, pretraining: true, maxRot: 0.4},
	Frame:         {name: "frame", named: true, pretraining: true, maxRot: math.Pi / 4},
	Rectangle:     {name: "rectangle", named: true, pretraining: true, maxRot: math.Pi},
	Drop:          {name: "drop", named: true, pretraining: true, maxRot: 0.4},
	Bowtie:        {name: "bowtie", named: true, pretraining: true, maxRot: 0.4},
	Clover:        {name: "clover", named: true, pretraining: true, maxRot: math.Pi / 3},
	Capsule:       {name: "capsule", named: true, pretraining: true, maxRot: math.Pi},
	House:         {name: "house", named: true, pretraining: true, maxRot: 0.3},
	Cloud:         {name: "cloud", named: true, pretraining: true, maxRot: 0.3},
}

func (s Shape) String() string {
	if s < numShapes {
		return shapes[s].name
	}
	return fmt.Sprintf("shape(%d)", uint8(s))
}

// Named reports whether the shape's word is in the caption vocabulary.
func (s Shape) Named() bool { return s < numShapes && shapes[s].named }

// PretrainingOnly reports whether the shape is named in training captions
// but belongs to no task: the training export draws it, nothing else does.
func (s Shape) PretrainingOnly() bool { return s < numShapes && shapes[s].pretraining }

// Label returns the shape's name in a language; ok is false when the
// catalogue has no such label (unnamed shapes have English labels only).
func (s Shape) Label(lang Language) (label string, ok bool) {
	if s >= numShapes {
		return "", false
	}
	switch lang {
	case English, "":
		return shapes[s].name, true
	case Spanish:
		return shapes[s].es, shapes[s].es != ""
	case Chinese:
		return shapes[s].zh, shapes[s].zh != ""
	}
	return "", false
}

// Shapes returns every shape: the task shapes (named first, then unnamed),
// then the pre-training-only shapes.
func Shapes() []Shape {
	out := make([]Shape, numShapes)
	for i := range out {
		out[i] = Shape(i)
	}
	return out
}

// NamedShapes returns the task shapes whose words the text model knows:
// what scenarios, label sets and evaluations name.
func NamedShapes() []Shape { return filterShapes(true, false) }

// UnnamedShapes returns the shapes never named in training.
func UnnamedShapes() []Shape { return filterShapes(false, false) }

// PretrainingShapes returns the shapes named in training that no task uses.
func PretrainingShapes() []Shape { return filterShapes(true, true) }

// TaskShapes returns the named and then the unnamed shapes: every shape a
// scenario or evaluation draws.
func TaskShapes() []Shape { return append(NamedShapes(), UnnamedShapes()...) }

func filterShapes(named, pretraining bool) []Shape {
	var out []Shape
	for _, s := range Shapes() {
		if s.Named() == named && s.PretrainingOnly() == pretraining {
			out = append(out, s)
		}
	}
	return out
}

// ParseShape maps a shape name to its Shape.
func ParseShape(name string) (Shape, error) {
	for _, s := range Shapes() {
		if s.String() == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("world: unknown shape %q", name)
}

// Colour is an object's paint.
type Colour uint8

const (
	Red Colour = iota
	Green
	Blue
	Yellow
	Purple
	Orange
	White
	Black
	numColours
)

type colourInfo struct {
	name string
	rgb  [3]float64 // in [0,1], display space
}

var colours = [numColours]colourInfo{
	Red:    {"red", [3]float64{0.86, 0.12, 0.10}},
	Green:  {"green", [3]float64{0.13, 0.64, 0.20}},
	Blue:   {"blue", [3]float64{0.12, 0.26, 0.88}},
	Yellow: {"yellow", [3]float64{0.96, 0.86, 0.10}},
	Purple: {"purple", [3]float64{0.55, 0.17, 0.72}},
	Orange: {"orange", [3]float64{0.98, 0.54, 0.06}},
	White:  {"white", [3]float64{0.95, 0.95, 0.94}},
	Black:  {"black", [3]float64{0.06, 0.06, 0.07}},
}

func (c Colour) String() string {
	if c < numColours {
		return colours[c].name
	}
	return fmt.Sprintf("colour(%d)", uint8(c))
}

// Colours returns every colour.
func Colours() []Colour {
	out := make([]Colour, numColours)
	for i := range out {
		out[i] = Colour(i)
	}
	return out
}

// ParseColour maps a colour name to its Colour.
func ParseColour(name string) (Colour, error) {
	for _, c := range Colours() {
		if c.String() == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("world: unknown colour %q", name)
}

// Pair is a colour–shape combination.
type Pair struct {
	Colour Colour
	Shape  Shape
}

func (p Pair) String() string { return p.Colour.String() + " " + p.Shape.String() }

// heldOut lists the colour–shape pairs never captioned (nor rendered) in
// training. It is a Latin square — one per colour and one per shape — so that
// every colour and every named shape is still seen with seven partners, and
// zero-shot on these pairs measures composition, not missing words.
var heldOut = [...]Pair{
	{Red, Star}, {Green, Heart}, {Blue, Triangle}, {Yellow, Ring},
	{Purple, Square}, {Orange, Circle}, {White, Hexagon}, {Black, Cross},
}

// HeldOutPairs returns the colour–shape pairs withheld from training.
func HeldOutPairs() []Pair { return append([]Pair(nil), heldOut[:]...) }

// HeldOut reports whether the pair is withheld from training captions.
func (p Pair) HeldOut() bool {
	for _, h := range heldOut {
		if h == p {
			return true
		}
	}
	return false
}

// Captioned reports whether the pair appears in training captions: a named
// shape in a pair that is not held out.
func (p Pair) Captioned() bool { return p.Shape.Named() && !p.HeldOut() }

// Domain is the viewing condition that changes a scene's appearance.
type Domain uint8

const (
	Day   Domain = iota // plain daylight
	Night               // low light, a lamp, sensor noise
	Fog                 // washed-out contrast, blur
	Rain                // darker, desaturated, streaks
	Glare               // overexposed, clipped highlights
	numDomains
)

type domainInfo struct {
	name string
	// trainWeight is the domain's share of the training export. Night is
	// rare and fog absent, so adapting to them is real work.
	trainWeight float64
	// phrases are appended to captions; the first is used in prompts.
	phrases []string
}

var domains = [numDomains]domainInfo{
	Day:   {"day", 0.80, []string{"", " in daylight", " during the day"}},
	Night: {"night", 0.02, []string{" at night", " in the dark"}},
	Fog:   {"fog", 0, []string{" in fog", " on a foggy day"}},
	Rain:  {"rain", 0.10, []string{" in the rain", " on a rainy day"}},
	Glare: {"glare", 0.08, []string{" in bright light", " overexposed"}},
}

func (d Domain) String() string {
	if d < numDomains {
		return domains[d].name
	}
	return fmt.Sprintf("domain(%d)", uint8(d))
}

// TrainWeight is the domain's share of the training export.
func (d Domain) TrainWeight() float64 {
	if d < numDomains {
		return domains[d].trainWeight
	}
	return 0
}

// Domains returns every domain.
func Domains() []Domain {
	out := make([]Domain, numDomains)
	for i := range out {
		out[i] = Domain(i)
	}
	return out
}

// ParseDomain maps a domain name to its Domain.
func ParseDomain(name string) (Domain, error) {
	for _, d := range Domains() {
		if d.String() == name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("world: unknown domain %q", name)
}

// DayRange is an inclusive range of day indices.
type DayRange struct {
	From int `yaml:"from"`
	To   int `yaml:"to"`
}

// TrainDays is the range of day indices in the training export; the drift
// that builds up after it is what time-continual evaluation measures.
var TrainDays = DayRange{From: 0, To: 30}

// MaxDay bounds day indices; drift saturates at twice the yearly cycle.
const MaxDay = 730
