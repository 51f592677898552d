package learner

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// testCfg is a small configuration every method accepts.
func testCfg(method string, dim int) Config {
	c := DefaultConfig()
	c.Method, c.Dim = method, dim
	c.KNN.Capacity = 500
	c.Finetune.Hidden = 16
	c.Finetune.LR = 5e-3
	c.Finetune.Steps = 3
	return c
}

var allMethods = []string{"zeroshot", "ncm", "knn", "finetune"}

// world is a synthetic task: classes, registered labels and held-out data.
type world struct {
	labels *Labels
	ids    []ID
	train  [][]float32
	trainY []ID
	test   [][]float32
	testY  []ID
}

func newWorld(t testing.TB, seed uint64, dim, classes, perClass int, named bool) *world {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	data := SyntheticClasses(rng, dim, classes, 2*perClass, 0.5)
	w := &world{labels: NewLabels(dim)}
	for c, cls := range data {
		var id ID
		var err error
		if named {
			id, err = w.labels.Add("thing " + strconv.Itoa(c))
			if err == nil {
				err = w.labels.SetText(id, cls.Center)
			}
		} else {
			id, err = w.labels.AddUnnamed()
		}
		if err != nil {
			t.Fatal(err)
		}
		w.ids = append(w.ids, id)
		for i, e := range cls.Examples {
			if i < perClass {
				w.train, w.trainY = append(w.train, e), append(w.trainY, id)
			} else {
				w.test, w.testY = append(w.test, e), append(w.testY, id)
			}
		}
	}
	return w
}

func (w *world) batch() []Example {
	b := make([]Example, len(w.train))
	for i := range b {
		b[i] = Example{Emb: w.train[i], Label: w.trainY[i]}
	}
	return b
}

func accuracy(t testing.TB, m Method, labels *Labels, xs [][]float32, ys []ID) float64 {
	t.Helper()
	var logits []float32
	var err error
	correct := 0
	for i, x := range xs {
		logits, err = m.Predict(x, logits)
		if err != nil {
			t.Fatal(err)
		}
		j, v := Argmax(logits)
		if v != NoLogit && labels.Current().ID(j) == ys[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(xs))
}

func mustNew(t testing.TB, cfg Config, labels *Labels) Method {
	t.Helper()
	m, err := New(cfg, labels, nil)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Method, err)
	}
	return m
}

func predictAll(t testing.TB, m Method, xs [][]float32) [][]float32 {
	t.Helper()
	out := make([][]float32, len(xs))
	for i, x := range xs {
		l, err := m.Predict(x, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = l
	}
	return out
}

func maxAbsDiff(a, b [][]float32) float64 {
	var d float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return math.Inf(1)
		}
		for j := range a[i] {
			x, y := float64(a[i][j]), float64(b[i][j])
			if math.IsInf(x, -1) && math.IsInf(y, -1) {
				continue
			}
			d = math.Max(d, math.Abs(x-y))
		}
	}
	return d
}

func nan() float64 { return math.NaN() }
