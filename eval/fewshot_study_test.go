package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/learner/linalg"
)

// TestFewShotStudy reproduces the never-named study of eval/README.md: the
// few-shot heads the literature uses on frozen CLIP features, on the
// scenario's new_classes task, taught the first k examples of each class
// (the harness's selection) and 29 other random draws of k. It needs an
// embedding cache written by `edge eval` and runs only when
// CLIPFLEET_FEWSHOT_STUDY names that file:
//
//	CLIPFLEET_FEWSHOT_STUDY=/tmp/cache/tinyclip-...emb go test -run FewShotStudy -v ./eval/
func TestFewShotStudy(t *testing.T) {
	path := os.Getenv("CLIPFLEET_FEWSHOT_STUDY")
	if path == "" {
		t.Skip("CLIPFLEET_FEWSHOT_STUDY not set")
	}
	ds, err := readCache(path)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(ds.Tasks, func(s Set) bool { return s.Kind == NewClassesKind })
	if j < 0 {
		t.Fatal("scenario has no new_classes task")
	}
	st := newStudy(&ds.Tasks[j], ds.Dim)
	var out strings.Builder
	fmt.Fprintf(&out, "%-30s %6s %5s %11s %5s %s\n", "features / head", "shots", "first", "mean ± sd", "max", "draws > 80%")
	for _, shots := range []int{10, 40} {
		for _, v := range studyVariants {
			r := st.run(v, shots, 30)
			for _, a := range r {
				if a < 0 || a > 100 {
					t.Fatalf("%s: accuracy %v", v.name, a)
				}
			}
			mu, sd := meanSD(r)
			above := 0
			for _, a := range r {
				if a > 80 {
					above++
				}
			}
			fmt.Fprintf(&out, "%-30s %6d %5.1f %5.1f ± %3.1f %5.1f %d/%d\n", v.name, shots, r[0], mu, sd, slices.Max(r), above, len(r))
		}
	}
	t.Log("\n" + out.String())
}

// studyVariant is a feature map and a head.
type studyVariant struct {
	name   string
	centre bool    // subtract the mean of the taught examples, renormalise (SimpleShot's CL2N)
	proj   int     // RanPAC random ReLU features (0: none)
	head   string  // "ncm", "ridge" or "tip"
	param  float64 // ridge λ or Tip-Adapter sharpness
}

var studyVariants = []studyVariant{
	{"embedding, ncm", false, 0, "ncm", 0},
	{"centred, ncm", true, 0, "ncm", 0},
	{"embedding, ridge λ=1", false, 0, "ridge", 1},
	{"centred, ridge λ=1", true, 0, "ridge", 1},
	{"RanPAC 512, ridge λ=1", false, 512, "ridge", 1},
	{"RanPAC 1024, ridge λ=1", false, 1024, "ridge", 1},
	{"centred+RanPAC 512, ridge λ=1", true, 512, "ridge", 1},
	{"centred+RanPAC 512, ridge λ=10", true, 512, "ridge", 10},
	{"centred, Tip-Adapter cache β=5", true, 0, "tip", 5},
}

type study struct {
	dim, classes int
	minPerClass  int
	byClass      [][][]float64 // training embeddings per class, in order
	test         [][]float64
	testY        []int
	projs        map[int][][]float64
}

func newStudy(task *Set, dim int) *study {
	s := &study{dim: dim, classes: len(task.Classes), byClass: make([][][]float64, len(task.Classes)), projs: map[int][][]float64{}}
	row := func(sp *Split, i int) []float64 {
		v := make([]float64, dim)
		for k := range v {
			v[k] = float64(sp.Emb[i*dim+k])
		}
		return unitVec(v)
	}
	for i := 0; i < task.Train.Len(); i++ {
		c := task.Train.Class[i]
		s.byClass[c] = append(s.byClass[c], row(&task.Train, i))
	}
	s.minPerClass = math.MaxInt
	for _, xs := range s.byClass {
		s.minPerClass = min(s.minPerClass, len(xs))
	}
	for i := 0; i < task.Test.Len(); i++ {
		s.test = append(s.test, row(&task.Test, i))
		s.testY = append(s.testY, int(task.Test.Class[i]))
	}
	return s
}

func unitVec(v []float64) []float64 {
	n := math.Sqrt(linalg.Dot(v, v))
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / n
	}
	return out
}

func meanSD(r []float64) (mu, sd float64) {
	for _, x := range r {
		mu += x / float64(len(r))
	}
	for _, x := range r {
		sd += (x - mu) * (x - mu)
	}
	if len(r) > 1 {
		sd = math.Sqrt(sd / float64(len(r)-1))
	}
	return mu, sd
}

func (s *study) projection(m int) [][]float64 {
	if p, ok := s.projs[m]; ok {
		return p
	}
	rng := rand.New(rand.NewPCG(7, uint64(m)))
	p := make([][]float64, m)
	for i := range p {
		p[i] = make([]float64, s.dim)
		for k := range p[i] {
			p[i][k] = rng.NormFloat64()
		}
	}
	s.projs[m] = p
	return p
}

// run returns the test accuracy of v taught shots examples per class: the
// first ones, then draws-1 random draws (fixed seed).
func (s *study) run(v studyVariant, shots, draws int) []float64 {
	shots = min(shots, s.minPerClass)
	if shots == s.minPerClass {
		draws = 1
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var out []float64
	for d := 0; d < draws; d++ {
		var xs [][]float64
		var ys []int
		for c, all := range s.byClass {
			idx := make([]int, len(all))
			for i := range idx {
				idx[i] = i
			}
			if d > 0 {
				rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			}
			for _, i := range idx[:shots] {
				xs, ys = append(xs, all[i]), append(ys, c)
			}
		}
		out = append(out, s.accuracy(v, xs, ys))
	}
	return out
}

func (s *study) accuracy(v studyVariant, xs [][]float64, ys []int) float64 {
	mean := make([]float64, s.dim)
	for _, x := range xs {
		for k, e := range x {
			mean[k] += e / float64(len(xs))
		}
	}
	feat := func(x []float64) []float64 {
		if v.centre {
			c := make([]float64, s.dim)
			for k := range x {
				c[k] = x[k] - mean[k]
			}
			x = unitVec(c)
		}
		if v.proj > 0 {
			p := s.projection(v.proj)
			f := make([]float64, v.proj)
			for i, r := range p {
				f[i] = math.Max(linalg.Dot(r, x), 0)
			}
			x = f
		}
		return x
	}
	fs := make([][]float64, len(xs))
	for i, x := range xs {
		fs[i] = feat(x)
	}
	m := len(fs[0])
	w := make([][]float64, s.classes)
	switch v.head {
	case "ncm":
		for c := range w {
			w[c] = make([]float64, m)
		}
		for i, f := range fs {
			for k, e := range f {
				w[ys[i]][k] += e
			}
		}
		for c := range w {
			w[c] = unitVec(w[c])
		}
	case "ridge":
		g := make([]float64, linalg.PackedLen(m))
		for _, f := range fs {
			linalg.AddOuter(g, f, 1)
		}
		linalg.AddDiag(g, m, v.param)
		if err := linalg.Cholesky(g, m); err != nil {
			return 0
		}
		for c := range w {
			b := make([]float64, m)
			for i, f := range fs {
				if ys[i] == c {
					for k, e := range f {
						b[k] += e
					}
				}
			}
			linalg.CholeskySolve(g, b)
			w[c] = b
		}
	}
	ok := 0
	score := make([]float64, s.classes)
	for i, x := range s.test {
		f := feat(x)
		for c := range score {
			score[c] = 0
			if v.head != "tip" {
				score[c] = linalg.Dot(w[c], f)
			}
		}
		if v.head == "tip" {
			for k, t := range fs {
				score[ys[k]] += math.Exp(-v.param * (1 - linalg.Dot(t, f)))
			}
		}
		best := 0
		for c, sc := range score {
			if sc > score[best] {
				best = c
			}
		}
		if best == s.testY[i] {
			ok++
		}
	}
	return 100 * float64(ok) / float64(len(s.test))
}
