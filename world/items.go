package world

import (
	"fmt"
	"hash/fnv"
)

// Split names a task's training or test half.
type Split string

const (
	TrainSplit Split = "train"
	TestSplit  Split = "test"
)

// Sample is one labelled picture of a task or zero-shot set.
type Sample struct {
	Set   string // task or zero-shot set name
	Split Split
	Index int
	Class int    // index into the set's Classes
	Label string // the class label, in the set's language
	Scene Scene
}

// Items is one split of a task or zero-shot set, resolved and ready to
// sample. Sample(i) is a pure function of the scenario and i, so a camera can
// seek to any frame.
type Items struct {
	Name  string
	Kind  string // the task's kind, or "zero_shot"
	Split Split
	N     int
	res   *resolved
	seed  uint64
}

// Items returns split of the task or zero-shot set called name. Zero-shot
// sets only have a test split.
func (s *Scenario) Items(name string, split Split) (*Items, error) {
	if split != TrainSplit && split != TestSplit {
		return nil, fmt.Errorf("world: split %q (want train or test)", split)
	}
	nameHash, splitHash := fnvHash(name), fnvHash(string(split))
	for i, t := range s.Tasks {
		if t.Name != name {
			continue
		}
		res, err := t.resolve(fmt.Sprintf("tasks[%d]", i))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidScenario, err)
		}
		n := t.Train
		if split == TestSplit {
			n = t.Test
		}
		kind := t.Kind
		if kind == "" {
			kind = "base"
		}
		return &Items{Name: name, Kind: kind, Split: split, N: n, res: res,
			seed: mix64(s.Seed ^ mix64(t.Seed^nameHash) ^ mix64(splitHash))}, nil
	}
	for i, z := range s.ZeroShot {
		if z.Name != name {
			continue
		}
		if split != TestSplit {
			return nil, fmt.Errorf("world: zero-shot set %q has only a test split", name)
		}
		res, err := z.resolve(fmt.Sprintf("zero_shot[%d]", i))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidScenario, err)
		}
		return &Items{Name: name, Kind: "zero_shot", Split: split, N: z.N, res: res,
			seed: mix64(s.Seed ^ mix64(z.Seed^nameHash) ^ mix64(splitHash^0x2e80))}, nil
	}
	return nil, fmt.Errorf("world: scenario %s has no task or zero-shot set %q", s.Name, name)
}

// Classes returns the labels of the set, in class-index order.
func (it *Items) Classes() []Class { return append([]Class(nil), it.res.classes...) }

// Domain is the viewing condition of every picture in the set.
func (it *Items) Domain() Domain { return it.res.domain }

// Language is the language of the labels.
func (it *Items) Language() Language { return it.res.lang }

// Sample returns item i (any i >= 0; items past N continue the same
// sequence, which a looping camera uses). Classes come in shuffled rounds,
// so every run of len(showing) items shows each shown class once.
func (it *Items) Sample(i int) Sample {
	r := it.res
	k := len(r.showing)
	perm := newRNG(it.seed, 0x9e7, uint64(i/k)).perm(k)
	class := r.showing[perm[i%k]]
	g := newRNG(it.seed, 0x17e, uint64(i))
	subject := r.shown[class][g.intn(len(r.shown[class]))]
	pairs := []Pair{subject}
	extra := g.intn(r.objects)
	for tries := 0; len(pairs) < 1+extra && tries < 20; tries++ {
		p := Pair{r.colours[g.intn(len(r.colours))], r.shapes[g.intn(len(r.shapes))]}
		ok := !r.sameClass(p, subject)
		for _, q := range pairs[1:] {
			ok = ok && q != p
		}
		if ok {
			pairs = append(pairs, p)
		}
	}
	day := r.days.From
	if span := r.days.To - r.days.From; span > 0 && it.N > 1 {
		day += int(int64(span) * int64(i%it.N) / int64(it.N-1))
	}
	return Sample{
		Set: it.Name, Split: it.Split, Index: i, Class: class, Label: r.classes[class].Label,
		Scene: NewScene(g.uint64(), SceneSpec{Domain: r.domain, Day: day, Pairs: pairs, Layout: Subject}),
	}
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
