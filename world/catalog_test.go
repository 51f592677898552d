package world

import (
	"slices"
	"testing"
)

func TestHeldOutPairsLatinSquare(t *testing.T) {
	byColour, byShape := map[Colour]int{}, map[Shape]int{}
	for _, p := range HeldOutPairs() {
		if !p.Shape.Named() {
			t.Errorf("held-out pair %v uses an unnamed shape", p)
		}
		if !p.HeldOut() || p.Captioned() {
			t.Errorf("%v: HeldOut=%v Captioned=%v", p, p.HeldOut(), p.Captioned())
		}
		byColour[p.Colour]++
		byShape[p.Shape]++
	}
	for _, c := range Colours() {
		if byColour[c] != 1 {
			t.Errorf("colour %v held out in %d pairs, want 1", c, byColour[c])
		}
	}
	for _, s := range NamedShapes() {
		if byShape[s] != 1 {
			t.Errorf("shape %v held out in %d pairs, want 1", s, byShape[s])
		}
	}
}

func TestCatalogueParsing(t *testing.T) {
	for _, s := range Shapes() {
		if got, err := ParseShape(s.String()); err != nil || got != s {
			t.Errorf("ParseShape(%q) = %v, %v", s, got, err)
		}
	}
	for _, c := range Colours() {
		if got, err := ParseColour(c.String()); err != nil || got != c {
			t.Errorf("ParseColour(%q) = %v, %v", c, got, err)
		}
	}
	for _, d := range Domains() {
		if got, err := ParseDomain(d.String()); err != nil || got != d {
			t.Errorf("ParseDomain(%q) = %v, %v", d, got, err)
		}
	}
	for _, bad := range []string{"", "Circle", "hexgon"} {
		if _, err := ParseShape(bad); err == nil {
			t.Errorf("ParseShape(%q) accepted", bad)
		}
	}
	named, unnamed, pre := len(NamedShapes()), len(UnnamedShapes()), len(PretrainingShapes())
	if named < 8 || unnamed < 2 || pre < 1 || named+unnamed+pre != len(Shapes()) {
		t.Errorf("named %d + unnamed %d + pre-training %d != %d shapes", named, unnamed, pre, len(Shapes()))
	}
	if got := len(TaskShapes()); got != named+unnamed {
		t.Errorf("TaskShapes has %d shapes, want %d", got, named+unnamed)
	}
}

// Pre-training-only shapes are named (captions may say them) but no task,
// translation or evaluation uses them.
func TestPretrainingShapes(t *testing.T) {
	vocab := map[string]bool{}
	for _, w := range Vocabulary() {
		vocab[w] = true
	}
	for _, s := range PretrainingShapes() {
		if !s.Named() || !vocab[s.String()] {
			t.Errorf("%v: named %v, in vocabulary %v", s, s.Named(), vocab[s.String()])
		}
		if slices.Contains(TaskShapes(), s) {
			t.Errorf("%v is a task shape", s)
		}
		for _, lang := range []Language{Spanish, Chinese} {
			if l, ok := s.Label(lang); ok {
				t.Errorf("%v has a %s label %q", s, lang, l)
			}
		}
		if p := (Pair{Red, s}); !p.Captioned() {
			t.Errorf("%v is not captioned", s)
		}
	}
	for _, it := range EvalItems(1, 1, []int{0}) {
		if s, _ := ParseShape(it.Shape); s.PretrainingOnly() {
			t.Fatalf("evaluation item shows pre-training-only %v", s)
		}
	}
}

func TestTranslations(t *testing.T) {
	for _, lang := range []Language{Spanish, Chinese} {
		seen := map[string]bool{}
		for _, s := range NamedShapes() {
			l, ok := s.Label(lang)
			if !ok || l == "" {
				t.Errorf("%v has no %s label", s, lang)
			}
			if seen[l] {
				t.Errorf("%s label %q used twice", lang, l)
			}
			seen[l] = true
		}
		for _, s := range UnnamedShapes() {
			if _, ok := s.Label(lang); ok {
				t.Errorf("unnamed %v has a %s label", s, lang)
			}
		}
	}
}

// Fog never appears in training and night rarely: the domain-shift tasks
// must be real shifts.
func TestTrainingDistributionGaps(t *testing.T) {
	counts := map[Domain]int{}
	const n = 4000
	for i := 0; i < n; i++ {
		s := TrainingScene(1, i)
		counts[s.Domain]++
		if s.Day < TrainDays.From || s.Day > TrainDays.To {
			t.Fatalf("training picture %d on day %d, outside %v", i, s.Day, TrainDays)
		}
		if len(s.Objects) < 1 || len(s.Objects) > 3 {
			t.Fatalf("training picture %d has %d objects", i, len(s.Objects))
		}
		for _, o := range s.Objects {
			if !o.Shape.Named() || o.Pair().HeldOut() {
				t.Fatalf("training picture %d shows %v", i, o.Pair())
			}
		}
	}
	if counts[Fog] != 0 {
		t.Errorf("%d fog pictures in training", counts[Fog])
	}
	if f := float64(counts[Night]) / n; f == 0 || f > 0.05 {
		t.Errorf("night share %.3f, want rare but present", f)
	}
	if f := float64(counts[Day]) / n; f < 0.7 {
		t.Errorf("day share %.3f, want the bulk", f)
	}
}

func TestRNG(t *testing.T) {
	r := newRNG(1, 2, 3)
	hist := make([]int, 7)
	for i := 0; i < 7000; i++ {
		v := r.intn(7)
		if v < 0 || v >= 7 {
			t.Fatalf("intn(7) = %d", v)
		}
		hist[v]++
	}
	for v, c := range hist {
		if c < 850 || c > 1150 {
			t.Errorf("value %d drawn %d times of 7000", v, c)
		}
	}
	p := newRNG(5).perm(10)
	seen := map[int]bool{}
	for _, v := range p {
		seen[v] = true
	}
	if len(seen) != 10 {
		t.Errorf("perm(10) = %v is not a permutation", p)
	}
	if newRNG(1, 2).uint64() == newRNG(2, 1).uint64() {
		t.Error("newRNG ignores the order of its parts")
	}
}
