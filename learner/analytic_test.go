package learner

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestAnalyticConfigValidate(t *testing.T) {
	if err := DefaultAnalyticConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*AnalyticConfig)
	}{
		{"negative features", func(c *AnalyticConfig) { c.Features = -1 }},
		{"huge features", func(c *AnalyticConfig) { c.Features = 1 << 20 }},
		{"zero lambda", func(c *AnalyticConfig) { c.Lambda = 0 }},
		{"zero temperature", func(c *AnalyticConfig) { c.Temperature = 0 }},
		{"mix above 1", func(c *AnalyticConfig) { c.ZeroShotMix = 1.5 }},
		{"bad selector", func(c *AnalyticConfig) { c.Selector.Window = 0 }},
		{"cross_task above 1", func(c *AnalyticConfig) { c.CrossTask = 1.5 }},
		{"negative cross_task", func(c *AnalyticConfig) { c.CrossTask = -0.1 }},
	} {
		c := DefaultAnalyticConfig()
		tc.mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: Validate = %v", tc.name, err)
		}
	}
}

func newTestAnalytic(t testing.TB, dim, features int, labels *Labels) *Analytic {
	t.Helper()
	ac := DefaultAnalyticConfig()
	ac.Features = features
	a, err := NewAnalytic(testCfg("analytic", dim), ac, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// gaussianElimination solves the square row-major system a·x = b with
// partial pivoting: the naive reference for the Cholesky path.
func gaussianElimination(a []float64, n int, b []float64) []float64 {
	m, x := append([]float64(nil), a...), append([]float64(nil), b...)
	for k := 0; k < n; k++ {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(m[i*n+k]) > math.Abs(m[p*n+k]) {
				p = i
			}
		}
		for j := 0; j < n; j++ {
			m[k*n+j], m[p*n+j] = m[p*n+j], m[k*n+j]
		}
		x[k], x[p] = x[p], x[k]
		for i := k + 1; i < n; i++ {
			f := m[i*n+k] / m[k*n+k]
			for j := k; j < n; j++ {
				m[i*n+j] -= f * m[k*n+j]
			}
			x[i] -= f * x[k]
		}
	}
	for i := n - 1; i >= 0; i-- {
		s := x[i]
		for j := i + 1; j < n; j++ {
			s -= m[i*n+j] * x[j]
		}
		x[i] = s / m[i*n+i]
	}
	return x
}

// TestAnalyticRidgeMatchesDirectSolve: the head solved from running sums by
// Cholesky equals the ridge solution built directly from the examples'
// feature matrix and solved by Gaussian elimination.
func TestAnalyticRidgeMatchesDirectSolve(t *testing.T) {
	for _, features := range []int{0, 12} {
		w := newWorld(t, 31, 6, 3, 7, true)
		a := newTestAnalytic(t, 6, features, w.labels)
		batch := w.batch()
		batch[0].Weight, batch[4].Weight = 2, 0.5
		mustLearn(t, a, batch)
		if err := a.Prepare(); err != nil {
			t.Fatal(err)
		}
		m := a.Features()
		g := make([]float64, m*m)
		bs := map[ID][]float64{}
		for _, e := range batch {
			a.features(e.Emb)
			w := float64(e.W())
			for i := 0; i < m; i++ {
				for j := 0; j < m; j++ {
					g[i*m+j] += w * a.phi[i] * a.phi[j]
				}
			}
			if bs[e.Label] == nil {
				bs[e.Label] = make([]float64, m)
			}
			for i, p := range a.phi {
				bs[e.Label][i] += w * p
			}
		}
		for i := 0; i < m; i++ {
			g[i*m+i] += a.ac.Lambda
		}
		if len(a.heads) != len(bs) {
			t.Fatalf("features %d: %d heads, want %d", features, len(a.heads), len(bs))
		}
		for id, b := range bs {
			want := gaussianElimination(g, m, b)
			for i, v := range want {
				if got := float64(a.heads[id][i]); math.Abs(got-v) > 1e-5*(1+math.Abs(v)) {
					t.Fatalf("features %d class %v: W[%d] = %v, direct solve %v", features, id, i, got, v)
				}
			}
		}
	}
}

// TestAnalyticFusion: on a seen input the output is the log of
// (1-β)·softmax(T·ŷ over learned classes) + β·softmax(zero-shot); on an
// unseen one it is exactly the zero-shot logits.
func TestAnalyticFusion(t *testing.T) {
	const dim = 24
	w := newCLWorld(t, 32, dim, 2, 4, 12, defaultCL)
	a := newTestAnalytic(t, dim, 0, w.labels)
	mustLearn(t, a, w.tasks[0].batch())
	zs := mustNew(t, testCfg("zeroshot", dim), w.labels)
	x := w.tasks[0].test[0]
	r, _ := a.Route(x)
	if !r.Seen {
		t.Fatalf("in-task input not seen: %+v", r)
	}
	logits, _ := a.Predict(x, nil)
	p := Softmax(logits, nil)
	_ = a.Prepare()
	a.features(x)
	s := w.labels.Current()
	beta, temp := float64(a.ac.ZeroShotMix), float64(a.ac.Temperature)
	ys := map[int]float64{}
	var sum float64
	for i := 0; i < s.Len(); i++ {
		if h := a.heads[s.ID(i)]; h != nil {
			var y float64
			for j, v := range h {
				y += float64(v) * a.phi[j]
			}
			ys[i] = math.Exp(temp * y)
			sum += ys[i]
		}
	}
	zl, _ := zs.Predict(x, nil)
	pz := Softmax(zl, nil)
	var total float64
	for i := range p {
		want := beta * float64(pz[i])
		if y, ok := ys[i]; ok {
			want += (1 - beta) * y / sum
		}
		if math.Abs(float64(p[i])-want) > 1e-5 {
			t.Fatalf("p[%d] = %v, fusion %v", i, p[i], want)
		}
		total += float64(p[i])
	}
	if math.Abs(total-1) > 1e-5 {
		t.Fatalf("probabilities sum to %v", total)
	}
	// Classes no claiming task taught keep their zero-shot logits bit for
	// bit, so a task not learned yet is scored exactly as zero-shot.
	for i := range logits {
		if _, taught := ys[i]; !taught && logits[i] != zl[i] {
			t.Fatalf("untaught class %d: logit %v, zero-shot %v", i, logits[i], zl[i])
		}
	}
	out := w.tasks[1].test[0]
	if r, _ := a.Route(out); r.Seen {
		t.Fatalf("out-of-task input seen: %+v", r)
	}
	got, _ := a.Predict(out, nil)
	want, _ := zs.Predict(out, nil)
	if d := maxAbsDiff([][]float32{got}, [][]float32{want}); d != 0 {
		t.Fatalf("unseen input differs from zero-shot by %v", d)
	}
}

// TestAnalyticFleetMergeIsExact: two devices that each saw part of the
// data, after one sync, predict like one device that saw it all; a device
// that saw nothing lands there too by applying the merge.
func TestAnalyticFleetMergeIsExact(t *testing.T) {
	for _, features := range []int{0, 48} {
		w := newWorld(t, 33, 16, 4, 8, true)
		dev := func() *Analytic {
			b, _ := w.labels.MarshalBinary()
			l := NewLabels(16)
			if err := l.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			return newTestAnalytic(t, 16, features, l)
		}
		a, b, fresh, ref := dev(), dev(), dev(), dev()
		mustLearn(t, a, w.split(0, 1))
		b.BeginTask()
		mustLearn(t, b, w.split(1, 2, 3))
		mustLearn(t, ref, w.split(0, 1))
		ref.BeginTask()
		mustLearn(t, ref, w.split(1, 2, 3))
		merged := syncRound(t, 1, a, b)
		if err := fresh.ApplyMerged(merged); err != nil {
			t.Fatal(err)
		}
		want := predictAll(t, ref, w.test)
		for name, d := range map[string]*Analytic{"a": a, "b": b, "fresh": fresh} {
			if diff := maxAbsDiff(predictAll(t, d, w.test), want); diff > 1e-5 {
				t.Errorf("features %d: device %s differs from the all-data reference by %v", features, name, diff)
			}
			if d.BaseVersion() != 1 {
				t.Errorf("device %s base %d", name, d.BaseVersion())
			}
		}
		for name, d := range map[string]*Analytic{"a": a, "b": b} {
			if next, _ := d.Delta(1); !next.Empty() {
				t.Errorf("device %s: delta right after a merge carries %d chunks", name, len(next.Classes))
			}
		}
	}
}

// TestAnalyticUnlearnExact: learning a batch and unlearning it leaves the
// predictions of never having learned it, even across a task switch and a
// fleet merge (the removal then travels as a negative delta).
func TestAnalyticUnlearnExact(t *testing.T) {
	w := newWorld(t, 34, 16, 4, 8, true)
	a, _ := selDevice(t, w, "analytic")
	b, _ := selDevice(t, w, "analytic")
	ref, _ := selDevice(t, w, "analytic")
	keep, drop := w.split(0, 1), w.split(2, 3)
	mustLearn(t, a, keep)
	a.(*Analytic).BeginTask()
	mustLearn(t, a, drop)
	mustLearn(t, ref, keep)
	syncRound(t, 1, a, b)
	if err := a.(Unlearner).Unlearn(drop); err != nil {
		t.Fatal(err)
	}
	syncRound(t, 2, a, b)
	want := predictAll(t, ref, w.test)
	for name, d := range map[string]Method{"a": a, "b": b} {
		if diff := maxAbsDiff(predictAll(t, d, w.test), want); diff > 1e-5 {
			t.Errorf("device %s after unlearn differs from never-learned by %v", name, diff)
		}
	}
	before, _ := a.Snapshot()
	// Class 2's examples were all unlearned already; the fleet's copies
	// (none here) cannot be unlearned on this device either.
	if err := a.(Unlearner).Unlearn(drop[:1]); err == nil {
		t.Errorf("unlearning more examples of a class than were learned here was accepted")
	}
	if err := a.(Unlearner).Unlearn([]Example{{Emb: w.test[0], Label: IDFor("nope")}}); !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("unlearn unknown label: %v", err)
	}
	after, _ := a.Snapshot()
	if string(before) != string(after) {
		t.Errorf("a refused unlearn changed the state")
	}
}

// TestAnalyticContinual is the synthetic continual-learning check: (a)
// learning a task lifts its accuracy far above zero-shot, (b) learning the
// next task does not make the first forget (backward transfer ≈ 0), (c) a
// task never learned gets exactly the zero-shot predictions.
func TestAnalyticContinual(t *testing.T) {
	for _, tc := range []struct {
		name          string
		dim, features int
	}{
		{"plain ridge d64", 64, 0},
		{"random features d64", 64, 256},
		{"random features d256", 256, 512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newCLWorld(t, 35, tc.dim, 3, 5, 20, defaultCL)
			a := newTestAnalytic(t, tc.dim, tc.features, w.labels)
			w.checkContinual(t, a, 0.02, 0.9, nil)
		})
	}
}

// TestAnalyticTasks: BeginTask numbers tasks after every task known, and
// BeginTaskID resumes an earlier one.
func TestAnalyticTasks(t *testing.T) {
	const dim = 16
	w := newCLWorld(t, 36, dim, 2, 3, 8, defaultCL)
	a := newTestAnalytic(t, dim, 0, w.labels)
	if a.Task() != 0 {
		t.Fatalf("first task %d", a.Task())
	}
	mustLearn(t, a, w.tasks[0].batch())
	if err := a.BeginTaskID(5); err != nil {
		t.Fatal(err)
	}
	mustLearn(t, a, w.tasks[1].batch())
	a.BeginTask()
	if a.Task() != 6 {
		t.Errorf("BeginTask after task 5 opened %d", a.Task())
	}
	if err := a.BeginTaskID(-1); err == nil {
		t.Errorf("negative task accepted")
	}
	if got := a.sel.Tasks(); len(got) != 2 || got[1] != 5 {
		t.Errorf("selector tasks %v", got)
	}
	// Unlearning task 5's examples from task 6 removes them from task 5.
	if err := a.Unlearn(w.tasks[1].batch()); err != nil {
		t.Fatal(err)
	}
	if got := a.sel.Tasks(); len(got) != 1 || got[0] != 0 {
		t.Errorf("after unlearning task 5 the selector has %v", got)
	}
}

func TestAnalyticProjectionSeeded(t *testing.T) {
	a := randomProjection(7, 8, 4)
	b := randomProjection(7, 8, 4)
	c := randomProjection(8, 8, 4)
	same, diff := true, false
	for i := range a {
		same = same && a[i] == b[i]
		diff = diff || a[i] != c[i]
	}
	if !same || !diff {
		t.Fatalf("projection must depend on the seed only")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	var s, sq float64
	r := randomProjection(rng.Uint64(), 64, 64)
	for _, v := range r {
		s += float64(v)
		sq += float64(v) * float64(v)
	}
	if n := float64(len(r)); math.Abs(s/n) > 0.05 || math.Abs(sq/n-1) > 0.1 {
		t.Fatalf("projection entries not standard normal: mean %v var %v", s/n, sq/n)
	}
}

// TestAnalyticFusionConditionedOnClaimingTasks: once two tasks are learned,
// an input only task 0 claims gets the head's probabilities for task 0's
// classes and exactly zero-shot logits for task 1's: the regression's
// outputs for classes taught in another domain do not compete.
func TestAnalyticFusionConditionedOnClaimingTasks(t *testing.T) {
	const dim = 24
	w := newCLWorld(t, 35, dim, 2, 4, 12, defaultCL)
	a := newTestAnalytic(t, dim, 0, w.labels)
	mustLearn(t, a, w.tasks[0].batch())
	a.BeginTask()
	mustLearn(t, a, w.tasks[1].batch())
	zs := mustNew(t, testCfg("zeroshot", dim), w.labels)
	s := w.labels.Current()
	checked := 0
	for _, x := range w.tasks[0].test {
		_, claims := a.sel.routeClaims(x, nil)
		if len(claims) != 1 || claims[0] != 0 {
			continue
		}
		got, _ := a.Predict(x, nil)
		want, _ := zs.Predict(x, nil)
		for _, id := range w.tasks[1].ids {
			i, _ := s.Index(id)
			if got[i] != want[i] {
				t.Fatalf("task 1 class %v on a task-0 input: logit %v, zero-shot %v", id, got[i], want[i])
			}
		}
		differs := false
		for _, id := range w.tasks[0].ids {
			i, _ := s.Index(id)
			differs = differs || got[i] != want[i]
		}
		if !differs {
			t.Fatal("task 0's classes got zero-shot logits on a task-0 input")
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no test input claimed by task 0 alone")
	}
}

// TestAnalyticCrossTaskAliases: a second task that names the same pictures
// differently (a new language) must not change what the first task's
// classes learned when other tasks' examples do not count as negatives
// (CrossTask 0), and does with one shared Gram matrix (CrossTask 1), the
// forgetting the per-task matrices remove.
func TestAnalyticCrossTaskAliases(t *testing.T) {
	const dim = 16
	for _, tc := range []struct {
		gamma   float64
		changes bool
	}{{0, false}, {0.03, true}, {1, true}} {
		w := newCLWorld(t, 36, dim, 1, 3, 10, defaultCL)
		var aliases []ID
		for c := range w.tasks[0].ids {
			id, err := w.labels.Add("alias " + strconv.Itoa(c))
			if err != nil {
				t.Fatal(err)
			}
			aliases = append(aliases, id)
		}
		ac := DefaultAnalyticConfig()
		ac.Features, ac.CrossTask = 0, tc.gamma
		a, err := NewAnalytic(testCfg("analytic", dim), ac, w.labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := w.tasks[0].batch()
		mustLearn(t, a, first)
		if err := a.Prepare(); err != nil {
			t.Fatal(err)
		}
		before := map[ID][]float32{}
		for _, id := range w.tasks[0].ids {
			before[id] = append([]float32(nil), a.heads[id]...)
		}
		a.BeginTask()
		second := make([]Example, len(first))
		for i, e := range first {
			e.Label = aliases[slices.Index(w.tasks[0].ids, e.Label)]
			second[i] = e
		}
		mustLearn(t, a, second)
		if err := a.Prepare(); err != nil {
			t.Fatal(err)
		}
		var diff float64
		for id, h := range before {
			for i, v := range h {
				diff = math.Max(diff, math.Abs(float64(a.heads[id][i]-v)))
			}
		}
		if tc.changes != (diff > 1e-4) {
			t.Errorf("cross_task %v: first task's heads moved by %v after its aliases were taught", tc.gamma, diff)
		}
	}
}

// TestAnalyticRestoresVersion1: a snapshot written before Gram matrices
// were kept per task (one matrix, no record of the classes each task
// taught) still restores, as task 0's matrix, and predicts as before.
func TestAnalyticRestoresVersion1(t *testing.T) {
	const dim = 16
	w := newCLWorld(t, 37, dim, 1, 3, 10, defaultCL)
	ac := DefaultAnalyticConfig()
	ac.Features, ac.CrossTask = 0, 1
	a, err := NewAnalytic(testCfg("analytic", dim), ac, w.labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLearn(t, a, w.tasks[0].batch())
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e, err := DecodeEnvelope(snap)
	if err != nil {
		t.Fatal(err)
	}
	e.Version = 1
	// Version 1 always had the fleet base matrix, zero before a merge.
	for i := range e.Tensors64 {
		if strings.HasPrefix(e.Tensors64[i].Name, "g/") {
			e.Tensors64[i].Name = strings.TrimSuffix(e.Tensors64[i].Name, "/0")
		}
		if e.Tensors64[i].Name == "g/local" {
			n := len(e.Tensors64[i].Data)
			e.Tensors64 = append(e.Tensors64, Tensor64{Name: "g/base", Shape: []int{n}, Data: make([]float64, n)})
		}
	}
	var meta map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.Meta))
	dec.UseNumber() // class IDs are 64-bit
	if err := dec.Decode(&meta); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"g_base_tasks", "g_local_tasks", "taught"} {
		delete(meta, k)
	}
	meta["g_local"] = true
	if e.Meta, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	v1, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAnalytic(testCfg("analytic", dim), ac, w.labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(v1); err != nil {
		t.Fatalf("version 1 snapshot: %v", err)
	}
	if d := maxAbsDiff(predictAll(t, b, w.tasks[0].test), predictAll(t, a, w.tasks[0].test)); d > 1e-5 {
		t.Fatalf("restored version 1 predicts differently by %v", d)
	}
}
