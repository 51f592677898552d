package world

// The training distribution of the tiny CLIP, drawn from the catalogue's
// gaps: named shapes only (task and pre-training-only), held-out pairs excluded, domains by their
// training weights, days within TrainDays.

// objectCountWeights: one object half the time, then two, then three.
var objectCountWeights = []float64{0.5, 0.3, 0.2}

// TrainingScene returns training picture i of the export with this seed.
func TrainingScene(seed uint64, i int) Scene {
	r := newRNG(seed, 0x7a1, uint64(i))
	weights := make([]float64, numDomains)
	for d := range weights {
		weights[d] = Domain(d).TrainWeight()
	}
	d := Domain(r.pick(weights))
	day := TrainDays.From + r.intn(TrainDays.To-TrainDays.From+1)
	n := 1 + r.pick(objectCountWeights)
	named := append(NamedShapes(), PretrainingShapes()...)
	var pairs []Pair
	for len(pairs) < n {
		p := Pair{Colour(r.intn(int(numColours))), named[r.intn(len(named))]}
		if p.HeldOut() || containsPair(pairs, p) {
			continue
		}
		pairs = append(pairs, p)
	}
	return NewScene(r.uint64(), SceneSpec{Domain: d, Day: day, Pairs: pairs, Layout: Even})
}

// TrainingCaptions returns n differently phrased captions of training
// picture i; the trainer picks one per epoch.
func TrainingCaptions(s *Scene, seed uint64, i, n int) []Description {
	out := make([]Description, n)
	for k := range out {
		out[k] = Describe(s, mix64(seed^mix64(uint64(i)))+uint64(k))
	}
	return out
}

func containsPair(ps []Pair, p Pair) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// EvalItem is one picture of the evaluation export: a single object of a
// known colour and shape, in a domain, on a day.
type EvalItem struct {
	Group  string `json:"group"` // "domain" (training days) or "drift" (day domain, later days)
	Domain string `json:"domain"`
	Day    int    `json:"day"`
	Shape  string `json:"shape"`
	Colour string `json:"colour"`
	Pair   string `json:"pair"` // captioned, heldout or unnamed
	scene  Scene
}

// EvalItems lists the evaluation pictures: every domain × colour × task
// shape (unnamed shapes included, pre-training-only shapes not) perPair times on training days, and every
// colour × named shape perPair times in daylight on each of driftDays.
func EvalItems(seed uint64, perPair int, driftDays []int) []EvalItem {
	var out []EvalItem
	add := func(group string, d Domain, day int, p Pair) {
		i := len(out)
		r := newRNG(seed, 0xe7a1, uint64(i))
		if day < 0 {
			day = TrainDays.From + r.intn(TrainDays.To-TrainDays.From+1)
		}
		kind := "unnamed"
		switch {
		case p.Captioned():
			kind = "captioned"
		case p.HeldOut():
			kind = "heldout"
		}
		out = append(out, EvalItem{Group: group, Domain: d.String(), Day: day, Shape: p.Shape.String(),
			Colour: p.Colour.String(), Pair: kind,
			scene: NewScene(r.uint64(), SceneSpec{Domain: d, Day: day, Pairs: []Pair{p}, Layout: Subject})})
	}
	for _, d := range Domains() {
		for _, s := range TaskShapes() {
			for _, c := range Colours() {
				for k := 0; k < perPair; k++ {
					add("domain", d, -1, Pair{c, s})
				}
			}
		}
	}
	for _, day := range driftDays {
		for _, s := range NamedShapes() {
			for _, c := range Colours() {
				for k := 0; k < perPair; k++ {
					add("drift", Day, day, Pair{c, s})
				}
			}
		}
	}
	return out
}

// Scene is the picture the item describes.
func (e *EvalItem) Scene() *Scene { return &e.scene }
