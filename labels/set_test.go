package labels

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
)

func mustSet(t testing.TB, dim int, entries ...Entry) *Set {
	t.Helper()
	s, err := NewSet("m", dim, entries)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TopK against a softmax worked out by hand: with unit label vectors and
// an image along x, the cosines are 1, 0, 0.6, -1.
func TestTopKHandComputed(t *testing.T) {
	s := mustSet(t, 2,
		Entry{Name: "a", Vector: []float32{1, 0}},
		Entry{Name: "b", Vector: []float32{0, 5}}, // normalised by NewSet
		Entry{Name: "c", Vector: []float32{0.6, 0.8}},
		Entry{Name: "d", Vector: []float32{-1, 0}},
	)
	img := []float32{3, 0} // not unit: TopK divides by its norm
	const scale = 10
	z := math.Exp(10) + math.Exp(0) + math.Exp(6) + math.Exp(-10)
	want := []struct {
		name string
		p    float64
	}{{"a", math.Exp(10) / z}, {"c", math.Exp(6) / z}, {"b", 1 / z}, {"d", math.Exp(-10) / z}}

	got := s.TopK(img, scale, 3, nil)
	if len(got) != 3 {
		t.Fatalf("%d results", len(got))
	}
	for i, g := range got {
		if g.Name != want[i].name || math.Abs(float64(g.Prob)-want[i].p) > 1e-6 || g.ID != ID(want[i].name) || s.Name(g.Index) != g.Name {
			t.Errorf("rank %d: %+v, want %s p=%.7f", i, g, want[i].name, want[i].p)
		}
	}
	all := s.TopK(img, scale, 10, make([]Scored, 0, 4))
	var sum float64
	for _, g := range all {
		sum += float64(g.Prob)
	}
	if len(all) != 4 || math.Abs(sum-1) > 1e-6 {
		t.Errorf("k > n: %d results summing to %v", len(all), sum)
	}
	if got := s.TopK([]float32{0, 0}, scale, 3, nil); len(got) != 0 {
		t.Errorf("zero image embedding scored %v", got)
	}
	if got := s.TopK([]float32{1, 0, 0}, scale, 3, nil); len(got) != 0 {
		t.Errorf("wrong-length image embedding scored %v", got)
	}
	if got := (&Set{dim: 2}).TopK(img, scale, 3, nil); len(got) != 0 {
		t.Errorf("empty set scored %v", got)
	}
}

// Ties keep vocabulary order, so output is stable frame to frame.
func TestTopKTies(t *testing.T) {
	s := mustSet(t, 2,
		Entry{Name: "x", Vector: []float32{0, 1}},
		Entry{Name: "first", Vector: []float32{1, 1}},
		Entry{Name: "second", Vector: []float32{1, 1}},
	)
	got := s.TopK([]float32{1, 0}, 100, 2, nil)
	if got[0].Name != "first" || got[1].Name != "second" || got[0].Prob != got[1].Prob {
		t.Fatalf("ties: %+v", got)
	}
}

// TopK matches a brute-force float64 softmax and sort on random sets.
func TestTopKMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 20; trial++ {
		dim, n, k := 1+rng.IntN(40), 1+rng.IntN(150), 1+rng.IntN(8)
		entries := make([]Entry, n)
		for i := range entries {
			v := make([]float32, dim)
			for d := range v {
				v[d] = float32(rng.NormFloat64())
			}
			entries[i] = Entry{Name: "label " + string(rune('a'+i%26)) + string(rune('a'+i/26)), Vector: v}
		}
		s := mustSet(t, dim, entries...)
		img := make([]float32, dim)
		for d := range img {
			img[d] = float32(rng.NormFloat64())
		}
		scale := float32(1 + rng.Float64()*99)
		logits := make([]float64, n)
		maxL := math.Inf(-1)
		for i := range logits {
			logits[i] = float64(scale) * cosine64(img, s.Vector(i))
			maxL = math.Max(maxL, logits[i])
		}
		var z float64
		for _, l := range logits {
			z += math.Exp(l - maxL)
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool { return logits[order[a]] > logits[order[b]] })
		got := s.TopK(img, scale, k, nil)
		if len(got) != min(k, n) {
			t.Fatalf("trial %d: %d results, want %d", trial, len(got), min(k, n))
		}
		for r, g := range got {
			p := math.Exp(logits[g.Index]-maxL) / z
			if math.Abs(float64(g.Prob)-p) > 1e-5 {
				t.Fatalf("trial %d rank %d: prob %v, brute force %v", trial, r, g.Prob, p)
			}
			// Rank by brute-force logit, allowing float32 near-ties.
			if math.Abs(logits[g.Index]-logits[order[r]]) > 1e-3 {
				t.Fatalf("trial %d rank %d: got label %d (logit %v), brute force %d (logit %v)",
					trial, r, g.Index, logits[g.Index], order[r], logits[order[r]])
			}
		}
	}
}

func cosine64(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func TestNewSetRejects(t *testing.T) {
	cases := map[string][]Entry{
		"duplicate": {{Name: "a", Vector: []float32{1}}, {Name: "A ", Vector: []float32{1}}},
		"dimension": {{Name: "a", Vector: []float32{1, 2}}},
		"zero":      {{Name: "a", Vector: []float32{0}}},
		"nan":       {{Name: "a", Vector: []float32{float32(math.NaN())}}},
		"bad name":  {{Name: "", Vector: []float32{1}}},
	}
	for name, entries := range cases {
		if _, err := NewSet("m", 1, entries); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestClassifier(t *testing.T) {
	c := NewClassifier(2, 0, 2)
	if c.LogitScale() != DefaultLogitScale || c.TopK() != 2 || c.Current().Len() != 0 {
		t.Fatalf("new classifier: scale %v k %d len %d", c.LogitScale(), c.TopK(), c.Current().Len())
	}
	if got, err := c.Classify([]float32{1, 0}, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty set: %v %v", got, err)
	}
	if err := c.Store(mustSet(t, 3, Entry{Name: "a", Vector: []float32{1, 0, 0}})); err == nil {
		t.Fatal("stored a set of another dimension")
	}
	if _, err := c.Classify([]float32{1, 0, 0}, nil); err == nil {
		t.Fatal("classified an embedding of another dimension")
	}
}

// Readers classify while a writer swaps sets; every result must come from
// one set entirely (run with -race).
func TestClassifierConcurrentSwap(t *testing.T) {
	setA := mustSet(t, 2, Entry{Name: "a1", Vector: []float32{1, 0}}, Entry{Name: "a2", Vector: []float32{0, 1}})
	setB := mustSet(t, 2, Entry{Name: "b1", Vector: []float32{1, 0}}, Entry{Name: "b2", Vector: []float32{0, 1}}, Entry{Name: "b3", Vector: []float32{1, 1}})
	c := NewClassifier(2, 100, 3)
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]Scored, 0, 3)
			for !stop.Load() {
				got, err := c.Classify([]float32{0.9, 0.1}, buf)
				if err != nil {
					errs <- err.Error()
					return
				}
				if len(got) == 0 {
					continue
				}
				prefix, want := got[0].Name[0], map[byte]int{'a': 2, 'b': 3}[got[0].Name[0]]
				if len(got) != want {
					errs <- "result size does not match its set"
					return
				}
				for _, g := range got {
					if g.Name[0] != prefix {
						errs <- "result mixes two sets"
						return
					}
				}
			}
		}()
	}
	for i := 0; i < 2000; i++ {
		s := setA
		if i%2 == 1 {
			s = setB
		}
		if err := c.Store(s); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestSourceText(t *testing.T) {
	for s := SourceUnavailable; s <= SourceEncoded; s++ {
		b, _ := s.MarshalText()
		var got Source
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("%v: round trip gave %v, %v", s, got, err)
		}
	}
	var s Source
	if err := s.UnmarshalText([]byte("stale")); err == nil {
		t.Error("unknown source accepted")
	}
}
