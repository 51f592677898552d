package learner

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// clWorld is a synthetic continual-learning benchmark on frozen embeddings:
// tasks are domains (a shift shared by the task's images) with classes of
// their own; a class's images scatter around its text embedding plus a
// class-specific visual offset (the modality gap that makes zero-shot
// imperfect) and the domain shift. Every class is registered with its text
// embedding from the start, as a device's vocabulary would be.
type clWorld struct {
	labels *Labels
	dim    int
	tasks  []clTask
}

type clTask struct {
	ids           []ID
	train, test   [][]float32
	trainY, testY []ID
}

// clParams shape the images of class c of a task:
// normalize(text_c + confuse·text_{c+1} + offset·o_c + shift·s_task + noise),
// where c+1 is the next class of the same task (so zero-shot mistakes c for
// c+1 when confuse is near or above 1) and o_c a random unit vector.
type clParams struct {
	confuse, offset, shift, noise float64
}

var defaultCL = clParams{confuse: 1.15, offset: 0.5, shift: 0.8, noise: 0.8}

func newCLWorld(t testing.TB, seed uint64, dim, tasks, classes, perClass int, p clParams) *clWorld {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	w := &clWorld{labels: NewLabels(dim), dim: dim}
	for ti := range tasks {
		shift := randUnit(rng, dim)
		var task clTask
		texts := make([][]float32, classes)
		for c := range texts {
			texts[c] = randUnit(rng, dim)
		}
		for c := range classes {
			text, next := texts[c], texts[(c+1)%classes]
			off := randUnit(rng, dim)
			id, err := w.labels.Add("task " + strconv.Itoa(ti) + " class " + strconv.Itoa(c))
			if err == nil {
				err = w.labels.SetText(id, text)
			}
			if err != nil {
				t.Fatal(err)
			}
			task.ids = append(task.ids, id)
			for i := range 2 * perClass {
				v := make([]float32, dim)
				for j := range v {
					v[j] = text[j] + float32(p.confuse)*next[j] + float32(p.offset)*off[j] + float32(p.shift)*shift[j] +
						float32(rng.NormFloat64()*p.noise/math.Sqrt(float64(dim)))
				}
				normalizeInto(v, v)
				if i < perClass {
					task.train, task.trainY = append(task.train, v), append(task.trainY, id)
				} else {
					task.test, task.testY = append(task.test, v), append(task.testY, id)
				}
			}
		}
		w.tasks = append(w.tasks, task)
	}
	return w
}

func (tk clTask) batch() []Example {
	b := make([]Example, len(tk.train))
	for i := range b {
		b[i] = Example{Emb: tk.train[i], Label: tk.trainY[i]}
	}
	return b
}

// shuffled returns the task's training batch in a reproducible random order.
func (tk clTask) shuffled(seed uint64) []Example {
	b := tk.batch()
	rand.New(rand.NewPCG(seed, 1)).Shuffle(len(b), func(i, j int) { b[i], b[j] = b[j], b[i] })
	return b
}

// checkContinual is the synthetic continual-learning check on w's first
// three tasks: (a) learning task 0 lifts its accuracy far above zero-shot,
// (b) learning task 1 after a task boundary costs task 0 at most forget
// and task 1 reaches minNext, (c) task 2, never learned, gets exactly the
// zero-shot logits. atBoundary (may be nil) runs right after the boundary;
// what it returns is logged.
func (w *clWorld) checkContinual(t *testing.T, m Method, forget, minNext float64, atBoundary func() string) {
	t.Helper()
	zs := mustNew(t, testCfg("zeroshot", w.dim), w.labels)
	z0 := w.acc(t, zs, 0)
	mustLearn(t, m, w.tasks[0].shuffled(1))
	a00 := w.acc(t, m, 0)
	seedBeginTask(m)
	var note string
	if atBoundary != nil {
		note = "; " + atBoundary()
	}
	mustLearn(t, m, w.tasks[1].shuffled(2))
	a10, a11 := w.acc(t, m, 0), w.acc(t, m, 1)
	t.Logf("zero-shot task 0 %.2f; after task 0: %.2f; after task 1: %.2f / %.2f (BWT %+.3f)%s", z0, a00, a10, a11, a10-a00, note)
	if a00 < z0+0.4 || a00 < 0.9 {
		t.Errorf("(a) task 0 accuracy %.2f after learning it, zero-shot %.2f", a00, z0)
	}
	if a10-a00 < -forget {
		t.Errorf("(b) task 0 accuracy fell %.2f → %.2f after task 1", a00, a10)
	}
	if a11 < minNext {
		t.Errorf("task 1 accuracy %.2f", a11)
	}
	unseen := w.tasks[2].test
	if d := maxAbsDiff(predictAll(t, m, unseen), predictAll(t, zs, unseen)); d != 0 {
		t.Errorf("(c) unseen task's logits differ from zero-shot by %v", d)
	}
}

// learnTasks teaches m the first n tasks of w, each a new task.
func (w *clWorld) learnTasks(t testing.TB, m Method, n int) {
	t.Helper()
	for ti := range n {
		if ti > 0 {
			seedBeginTask(m)
		}
		if err := m.Learn(w.tasks[ti].batch()); err != nil {
			t.Fatal(err)
		}
	}
}

// benchInputs are test inputs of a task m learned (kind "seen": task 0) or
// of one it did not (task 5), checked to be routed as such.
func (w *clWorld) benchInputs(t testing.TB, m Routed, kind string) [][]float32 {
	t.Helper()
	xs := w.tasks[0].test
	if kind == "unseen" {
		xs = w.tasks[5].test
	}
	if r, _ := m.Route(xs[0]); r.Seen != (kind == "seen") {
		t.Fatalf("route %+v", r)
	}
	return xs
}

func (w *clWorld) acc(t testing.TB, m Method, task int) float64 {
	t.Helper()
	return accuracy(t, m, w.labels, w.tasks[task].test, w.tasks[task].testY)
}

// seenRate is the share of inputs a selector claims.
func seenRate(s *Selector, xs [][]float32) float64 {
	n := 0
	for _, x := range xs {
		if s.Route(x).Seen {
			n++
		}
	}
	return float64(n) / float64(len(xs))
}
