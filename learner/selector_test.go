package learner

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

func TestSelectorConfigValidate(t *testing.T) {
	if err := DefaultSelectorConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*SelectorConfig)
	}{
		{"negative shrinkage", func(c *SelectorConfig) { c.Shrinkage = -0.1 }},
		{"shrinkage above 1", func(c *SelectorConfig) { c.Shrinkage = 1.5 }},
		{"median percentile", func(c *SelectorConfig) { c.Percentile = 0.5 }},
		{"percentile 1", func(c *SelectorConfig) { c.Percentile = 1 }},
		{"margin below 1", func(c *SelectorConfig) { c.Margin = 0.9 }},
		{"nan margin", func(c *SelectorConfig) { c.Margin = math.NaN() }},
		{"one example", func(c *SelectorConfig) { c.MinExamples = 1 }},
		{"no window", func(c *SelectorConfig) { c.Window = 0 }},
	} {
		c := DefaultSelectorConfig()
		tc.mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

func addAll(t testing.TB, s *Selector, task int, xs [][]float32) {
	t.Helper()
	for _, x := range xs {
		if err := s.Add(task, x, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSelectorRoutesTasks: held-out inputs of learned tasks go to their own
// task; inputs of a task never learned are unseen.
func TestSelectorRoutesTasks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dim, per  int
		shrinkage float64
	}{
		{"d32 few examples", 32, 8, 0},
		{"d64", 64, 20, 0},
		{"d128 fixed shrinkage", 128, 20, 0.3},
		{"d256 fewer examples than dims", 256, 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCLWorld(t, 11, tc.dim, 3, 5, tc.per, defaultCL)
			cfg := DefaultSelectorConfig()
			cfg.Shrinkage = tc.shrinkage
			s, err := NewSelector(cfg, tc.dim, 1)
			if err != nil {
				t.Fatal(err)
			}
			if r := s.Route(w.tasks[0].test[0]); r.Seen || r.Task != -1 || !math.IsInf(r.Score, 1) {
				t.Fatalf("empty selector routed to %+v", r)
			}
			addAll(t, s, 0, w.tasks[0].train)
			addAll(t, s, 7, w.tasks[1].train)
			for _, c := range []struct {
				task, want int
			}{{0, 0}, {1, 7}, {2, -1}} {
				right := 0
				for _, x := range w.tasks[c.task].test {
					r := s.Route(x)
					if r.Seen == (c.want >= 0) && (!r.Seen || r.Task == c.want) {
						right++
					}
				}
				if rate := float64(right) / float64(len(w.tasks[c.task].test)); rate < 0.95 {
					t.Errorf("inputs of task %d routed right %.2f of the time, want >= 0.95", c.task, rate)
				}
			}
			if got := s.Tasks(); len(got) != 2 || got[0] != 0 || got[1] != 7 {
				t.Errorf("Tasks = %v", got)
			}
			if n := s.Examples(7); n != int64(len(w.tasks[1].train)) {
				t.Errorf("Examples(7) = %d", n)
			}
		})
	}
}

// TestSelectorOrderAndDeviceInvariant: the model depends only on which
// examples were learned — not their order, nor whether two devices split
// them and merged.
func TestSelectorOrderAndDeviceInvariant(t *testing.T) {
	const dim = 24
	w := newCLWorld(t, 12, dim, 2, 4, 10, defaultCL)
	data := w.tasks[0].train
	ref, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	addAll(t, ref, 0, data)
	rev, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	for i := len(data) - 1; i >= 0; i-- {
		_ = rev.Add(0, data[i], 1)
	}
	a, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	b, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	addAll(t, a, 0, data[:13])
	addAll(t, b, 0, data[13:])
	var da, db Delta
	a.appendDelta(&da)
	b.appendDelta(&db)
	merged, err := MergeDeltas(1, &Delta{Method: "x", Dim: dim, Classes: da.Classes}, &Delta{Method: "x", Dim: dim, Classes: db.Classes})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := newChunkSet(merged.Classes, dim)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.decodeMerged(cs)
	if err != nil {
		t.Fatal(err)
	}
	a.applyMerged(m, true)
	for _, x := range append(append([][]float32{}, w.tasks[0].test...), w.tasks[1].test...) {
		want, ok := ref.Score(0, x)
		if !ok {
			t.Fatal("reference task not ready")
		}
		for name, s := range map[string]*Selector{"reversed": rev, "merged": a} {
			got, ok := s.Score(0, x)
			if !ok || math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Fatalf("%s score %v, one-device reference %v", name, got, want)
			}
		}
	}
	if len(a.local) != 0 {
		t.Errorf("after a merge including everything, local statistics remain: %v", a.Tasks())
	}
}

func TestSelectorRemoveExact(t *testing.T) {
	const dim = 16
	w := newCLWorld(t, 13, dim, 2, 3, 8, defaultCL)
	only, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	addAll(t, only, 0, w.tasks[0].train)
	s, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	addAll(t, s, 0, w.tasks[0].train)
	addAll(t, s, 0, w.tasks[1].train[:5])
	addAll(t, s, 3, w.tasks[1].train)
	for _, x := range w.tasks[1].train[:5] {
		if err := s.Remove(0, x, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range w.tasks[1].train {
		if err := s.Remove(3, x, 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range w.tasks[0].test {
		want, _ := only.Score(0, x)
		got, ok := s.Score(0, x)
		if !ok || math.Abs(got-want) > 1e-6*math.Max(1, want) {
			t.Fatalf("after remove score %v, never-added %v", got, want)
		}
	}
	if got := s.Tasks(); len(got) != 1 || got[0] != 0 {
		t.Errorf("a task whose examples were all removed is still listed: %v", got)
	}
	if _, ok := s.local[3]; ok {
		t.Errorf("removed task left statistics behind")
	}
	if err := s.Remove(5, w.tasks[0].train[0], 1); err == nil {
		t.Errorf("remove from an empty task accepted")
	}
}

func TestSelectorRejects(t *testing.T) {
	s, _ := NewSelector(DefaultSelectorConfig(), 4, 1)
	good := []float32{1, 0, 0, 0}
	for _, tc := range []struct {
		name string
		task int
		emb  []float32
		w    float64
	}{
		{"negative task", -1, good, 1},
		{"task too large", MaxTaskID + 1, good, 1},
		{"wrong dim", 0, good[:3], 1},
		{"zero vector", 0, make([]float32, 4), 1},
		{"nan", 0, []float32{float32(math.NaN()), 0, 0, 1}, 1},
		{"zero weight", 0, good, 0},
		{"inf weight", 0, good, math.Inf(1)},
	} {
		if err := s.Add(tc.task, tc.emb, tc.w); err == nil {
			t.Errorf("%s accepted", tc.name)
		}
	}
	if len(s.Tasks()) != 0 {
		t.Errorf("rejected examples were learned")
	}
	if r := s.Route(good[:2]); r.Seen {
		t.Errorf("malformed input routed %+v", r)
	}
	if _, err := NewSelector(DefaultSelectorConfig(), 0, 1); err == nil {
		t.Errorf("dim 0 accepted")
	}
}

// TestSelectorMinExamples: a task claims nothing until each half of its
// statistics has enough examples to calibrate on the other.
func TestSelectorMinExamples(t *testing.T) {
	const dim = 16
	w := newCLWorld(t, 14, dim, 1, 2, 20, defaultCL)
	cfg := DefaultSelectorConfig()
	cfg.MinExamples = 10
	s, _ := NewSelector(cfg, dim, 1)
	addAll(t, s, 0, w.tasks[0].train[:3])
	if r := s.Route(w.tasks[0].test[0]); r.Task != -1 {
		t.Fatalf("a task of 3 examples claims inputs: %+v", r)
	}
	addAll(t, s, 0, w.tasks[0].train[3:])
	if r := s.Route(w.tasks[0].test[0]); !r.Seen {
		t.Fatalf("a task of %d examples does not claim its own inputs: %+v", len(w.tasks[0].train), r)
	}
}

// TestSelectorLedoitWolfFromStatistics: the intensity computed from
// sufficient statistics equals the textbook formula over the examples.
func TestSelectorLedoitWolfFromStatistics(t *testing.T) {
	const d, n = 6, 9
	rng := rand.New(rand.NewPCG(3, 3))
	xs := make([][]float64, n)
	for i := range xs {
		v := randUnit(rng, d)
		xs[i] = make([]float64, d)
		inv := 1 / norm(v)
		for j := range v {
			xs[i][j] = float64(v[j]) * inv
		}
	}
	mu := make([]float64, d)
	q := make([]float64, linalg.PackedLen(d))
	for _, x := range xs {
		for j := range mu {
			mu[j] += x[j] / n
		}
		linalg.AddOuter(q, x, 1)
	}
	cov := make([]float64, len(q))
	var m float64
	for i := 0; i < d; i++ {
		m += mu[i] * mu[i]
		for j := 0; j <= i; j++ {
			cov[linalg.RowOffset(i)+j] = q[linalg.RowOffset(i)+j]/n - mu[i]*mu[j]
		}
	}
	nu := linalg.Trace(cov, d) / d
	got := ledoitWolf(cov, q, mu, m, n, nu, d)
	// Textbook: β̄² = (1/n²)Σ‖x̃x̃ᵀ − S‖², δ² = ‖S − νI‖², ρ = min(β̄², δ²)/δ².
	sq := linalg.Unpack(cov, d)
	var beta, delta float64
	for _, x := range xs {
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				v := (x[i]-mu[i])*(x[j]-mu[j]) - sq[i*d+j]
				beta += v * v
			}
		}
	}
	beta /= n * n
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := sq[i*d+j]
			if i == j {
				v -= nu
			}
			delta += v * v
		}
	}
	want := math.Min(beta, delta) / delta
	if math.Abs(got-want) > 1e-9 {
		t.Fatalf("Ledoit–Wolf from statistics %v, from examples %v", got, want)
	}
}

// TestSelectorHeldOutMoments: the calibration's mean held-out distance
// (a Hutchinson estimate from the other half's statistics) matches the
// mean distance of the other half's actual examples.
func TestSelectorHeldOutMoments(t *testing.T) {
	const dim = 32
	w := newCLWorld(t, 15, dim, 1, 4, 40, defaultCL)
	s, _ := NewSelector(DefaultSelectorConfig(), dim, 1)
	addAll(t, s, 0, w.tasks[0].train)
	m := s.model(0)
	if !m.ready {
		t.Fatal("model not ready")
	}
	for h := range m.half {
		var sum float64
		n := 0
		for _, x := range w.tasks[0].train {
			if half(x) != 1-h {
				continue
			}
			y := make([]float64, s.k)
			if !s.embed(x, y) {
				t.Fatal("no direction")
			}
			for i := range y {
				y[i] -= m.half[h].mu[i]
			}
			linalg.SolveLower(m.half[h].l, y)
			sum += linalg.Dot(y, y)
			n++
		}
		want := sum / float64(n)
		if got := m.half[h].mean; math.Abs(got-want) > 0.15*want {
			t.Errorf("half %d: estimated held-out mean %v, actual %v", h, got, want)
		}
		if k := m.half[h].keff; !(k >= 1 && k <= float64(s.k)) {
			t.Errorf("half %d: effective dof %v", h, k)
		}
	}
}

func TestStatChunks(t *testing.T) {
	for _, tc := range []struct{ tag, owner, chunk int }{{0x51C7, 0, 0}, {0x6A3D, MaxTaskID, 1<<24 - 1}, {0x51C7, 12345, 77}} {
		id := statKey(uint64(tc.tag), tc.owner, tc.chunk)
		if id.Unnamed() {
			t.Errorf("key %v has the unnamed bit", id)
		}
		o, c, ok := parseStatKey(id, uint64(tc.tag))
		if !ok || o != tc.owner || c != tc.chunk {
			t.Errorf("parse(%v) = %d %d %v, want %d %d", id, o, c, ok, tc.owner, tc.chunk)
		}
		if _, _, ok := parseStatKey(id, uint64(tc.tag)+1); ok {
			t.Errorf("key parsed under another tag")
		}
	}
	class := IDFor("mug")
	keys := map[ID]bool{}
	for j := range 50 {
		keys[classChunkKey(class, j)] = true
	}
	if len(keys) != 50 || classChunkKey(class, 0) != class {
		t.Fatalf("class chunk keys not distinct or chunk 0 is not the class")
	}
	// Round trip with a zero chunk in the middle, which is not shipped.
	const dim = 4
	v := []float64{1, 2, 3, 4, 0, 0, 0, 0, 5, 6}
	key := func(j int) ID { return statKey(statTagGram, 3, j) }
	cs := appendChunks(nil, v, dim, key)
	if len(cs) != 2 {
		t.Fatalf("%d chunks, want 2 (the zero chunk skipped)", len(cs))
	}
	for _, c := range cs {
		if len(c.Sum) != dim || c.Count != 0 || c.Examples != 0 {
			t.Fatalf("chunk %+v", c)
		}
	}
	set, err := newChunkSet(cs, dim)
	if err != nil {
		t.Fatal(err)
	}
	if owners := set.owners(statTagGram); len(owners) != 1 || owners[0] != 3 {
		t.Fatalf("owners = %v", owners)
	}
	got, ok := set.vector(len(v), key)
	if !ok {
		t.Fatal("vector not found")
	}
	for i := range v {
		if got[i] != v[i] {
			t.Fatalf("round trip %v, want %v", got, v)
		}
	}
	if err := set.unclaimed(); err != nil {
		t.Fatalf("all chunks claimed, got %v", err)
	}
	extra, _ := newChunkSet(append(cs, ClassStats{Label: IDFor("x"), Sum: make([]float64, dim)}), dim)
	extra.vector(len(v), key)
	if err := extra.unclaimed(); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("unclaimed chunk: %v", err)
	}
	if _, err := newChunkSet([]ClassStats{{Label: 5, Sum: make([]float64, 3)}}, dim); !errors.Is(err, ErrDim) {
		t.Fatalf("short chunk: %v", err)
	}
	if _, err := newChunkSet([]ClassStats{{Label: 5, Sum: make([]float64, dim)}, {Label: 5, Sum: make([]float64, dim)}}, dim); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("duplicate chunk: %v", err)
	}
}
