package learner

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestInformativeText(t *testing.T) {
	const dim = 8
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c := randUnit(rng, dim), randUnit(rng, dim), randUnit(rng, dim)
	// near is a at cosine ≈ 0.9995: a rounding-level difference.
	near := make([]float32, dim)
	for i := range near {
		near[i] = a[i] + 0.03*b[i]
	}
	tests := []struct {
		name  string
		texts [][]float32 // nil: no text
		dup   float32
		want  []bool // informative, per label (Background excluded)
	}{
		{"distinct texts", [][]float32{a, b, c}, DefaultTextDuplicate, []bool{true, true, true}},
		{"two identical", [][]float32{a, a, c}, DefaultTextDuplicate, []bool{false, false, true}},
		{"three identical", [][]float32{a, a, a}, DefaultTextDuplicate, []bool{false, false, false}},
		{"rounding-level twin", [][]float32{a, near, c}, DefaultTextDuplicate, []bool{false, false, true}},
		{"rounding-level twin, strict", [][]float32{a, near, c}, 0.99999, []bool{true, true, true}},
		{"rule off", [][]float32{a, a, c}, 1.5, []bool{true, true, true}},
		{"no text", [][]float32{a, nil, c}, DefaultTextDuplicate, []bool{true, false, true}},
		{"alone", [][]float32{a}, DefaultTextDuplicate, []bool{true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLabels(dim)
			for k, v := range tc.texts {
				id, err := l.Add("label " + strconv.Itoa(k))
				if err != nil {
					t.Fatal(err)
				}
				if v != nil {
					if err := l.SetText(id, v); err != nil {
						t.Fatal(err)
					}
				}
			}
			s := l.Current()
			if got := s.InformativeText(0, tc.dup); got != nil {
				t.Errorf("Background has informative text %v", got)
			}
			for k, want := range tc.want {
				i := k + 1
				got := s.InformativeText(i, tc.dup)
				if (got != nil) != want {
					t.Errorf("label %d: informative %v, want %v (overlap %v)", k, got != nil, want, s.TextOverlap(i))
				}
				if got != nil && &got[0] != &s.Text(i)[0] {
					t.Errorf("label %d: informative text is not Text", k)
				}
				if tc.texts[k] != nil && s.Text(i) == nil {
					t.Errorf("label %d: Text dropped", k)
				}
			}
		})
	}
}

// A later label can make an earlier one's text uninformative, and giving it
// a distinct text makes it informative again: every LabelSet judges its own
// classes.
func TestInformativeTextFollowsGenerations(t *testing.T) {
	const dim = 8
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randUnit(rng, dim), randUnit(rng, dim)
	l := NewLabels(dim)
	x, _ := l.Add("x")
	if err := l.SetText(x, a); err != nil {
		t.Fatal(err)
	}
	first := l.Current()
	y, _ := l.Add("y")
	if err := l.SetText(y, a); err != nil {
		t.Fatal(err)
	}
	twins := l.Current()
	if err := l.SetText(y, b); err != nil {
		t.Fatal(err)
	}
	apart := l.Current()
	ix, _ := first.Index(x)
	if first.InformativeText(ix, DefaultTextDuplicate) == nil {
		t.Errorf("x alone: uninformative")
	}
	if twins.InformativeText(ix, DefaultTextDuplicate) != nil {
		t.Errorf("x with an identical twin: informative")
	}
	if apart.InformativeText(ix, DefaultTextDuplicate) == nil {
		t.Errorf("x after the twin got its own text: uninformative")
	}
	if first.InformativeText(ix, DefaultTextDuplicate) == nil {
		t.Errorf("the old view changed")
	}
}

// learnedClasses returns the IDs a gradient-trained head keeps a learnable
// class vector for.
func learnedClasses(t *testing.T, m Method) map[ID]bool {
	t.Helper()
	out := map[ID]bool{}
	switch h := m.(type) {
	case *Finetune:
		for id := range h.class {
			out[id] = true
		}
	case *Head:
		for id := range h.f.class {
			out[id] = true
		}
	case *MoE:
		for id := range h.class {
			out[id] = true
		}
	default:
		t.Fatalf("%T is not a gradient-trained head", m)
	}
	return out
}

// Labels whose texts coincide (what a tokenizer's <unk> makes of unknown
// names) get learnable class vectors in every gradient-trained head, so the
// head can tell them apart; labels with distinct texts keep the text as
// their fixed class vector.
func TestHeadsLearnUninformativeLabels(t *testing.T) {
	const dim, classes, perClass = 16, 3, 20
	tests := []struct {
		name        string
		sameText    bool
		dup         float32
		wantLearned bool
		minAcc      float64 // test accuracy after learning (chance 1/3)
	}{
		{"identical texts", true, DefaultTextDuplicate, true, 0.9},
		{"distinct texts", false, DefaultTextDuplicate, false, 0.9},
		{"identical texts, rule off", true, 1.5, false, 0},
	}
	for _, method := range []string{"finetune", "zscl", "modx", "sit", "moe"} {
		for _, tc := range tests {
			t.Run(method+"/"+tc.name, func(t *testing.T) {
				w := newWorld(t, 11, dim, classes, perClass, true)
				if tc.sameText {
					unk := randUnit(rand.New(rand.NewPCG(12, 13)), dim)
					for _, id := range w.ids {
						if err := w.labels.SetText(id, unk); err != nil {
							t.Fatal(err)
						}
					}
				}
				cfg := testCfg(method, dim)
				cfg.TextDuplicate = tc.dup
				m := mustNew(t, cfg, w.labels)
				before := accuracy(t, m, w.labels, w.test, w.testY)
				for range 5 {
					if err := m.Learn(w.batch()); err != nil {
						t.Fatal(err)
					}
				}
				learned := learnedClasses(t, m)
				for _, id := range w.ids {
					if learned[id] != tc.wantLearned {
						t.Errorf("class %v learnable %v, want %v", id, learned[id], tc.wantLearned)
					}
				}
				acc := accuracy(t, m, w.labels, w.test, w.testY)
				if acc < tc.minAcc {
					t.Errorf("accuracy %.2f after learning (%.2f before), want ≥ %.2f", acc, before, tc.minAcc)
				}
				if tc.sameText && !tc.wantLearned && math.Abs(acc-1.0/classes) > 0.01 {
					t.Errorf("identical fixed texts: accuracy %.2f, want chance %.2f", acc, 1.0/classes)
				}
			})
		}
	}
}
