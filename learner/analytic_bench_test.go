package learner

import (
	"strconv"
	"testing"
)

// Benchmarks of the analytic head at D = 512 with 50 classes in 5 tasks of
// 10, without projection and with the default 512 random features.

func benchAnalytic(b *testing.B, features int) (*Analytic, *clWorld) {
	b.Helper()
	w := newCLWorld(b, 52, benchDim, 6, 10, 10, defaultCL)
	ac := DefaultAnalyticConfig()
	ac.Features = features
	cfg := DefaultConfig()
	cfg.Method, cfg.Dim = "analytic", benchDim
	a, err := NewAnalytic(cfg, ac, w.labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	w.learnTasks(b, a, 5)
	if err := a.Prepare(); err != nil {
		b.Fatal(err)
	}
	return a, w
}

var analyticFeatures = []int{0, 512}

// BenchmarkAnalyticLearn: one example's update of G, B and the selector.
func BenchmarkAnalyticLearn(b *testing.B) {
	for _, f := range analyticFeatures {
		b.Run("features="+strconv.Itoa(f), func(b *testing.B) {
			a, w := benchAnalytic(b, f)
			benchLearnOne(b, a, w.tasks[4].batch())
		})
	}
}

// BenchmarkAnalyticSolve: the lazy re-solve after learning — one Cholesky
// of Σ γ·G_t + λI per task (each task's classes have their own weights),
// 50 class solves and the changed task's selector refit.
func BenchmarkAnalyticSolve(b *testing.B) {
	for _, f := range analyticFeatures {
		b.Run("features="+strconv.Itoa(f), func(b *testing.B) {
			a, w := benchAnalytic(b, f)
			one := []Example{w.tasks[4].batch()[0]}
			for b.Loop() {
				b.StopTimer()
				if err := a.Learn(one); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := a.Prepare(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAnalyticPredict: per-frame cost once solved, for an input of a
// learned task (selector + features + head + fusion) and an unseen one
// (selector + zero-shot).
func BenchmarkAnalyticPredict(b *testing.B) {
	for _, f := range analyticFeatures {
		for _, kind := range []string{"seen", "unseen"} {
			b.Run("features="+strconv.Itoa(f)+"/"+kind, func(b *testing.B) {
				a, w := benchAnalytic(b, f)
				benchPredict(b, a, w.benchInputs(b, a, kind))
			})
		}
	}
}

// BenchmarkAnalyticFootprint reports the state's bytes per class, its
// fixed bytes (projection, Gram matrices, selector) and what a task adds
// to them.
func BenchmarkAnalyticFootprint(b *testing.B) {
	for _, f := range analyticFeatures {
		b.Run("features="+strconv.Itoa(f), func(b *testing.B) {
			var fp Footprint
			var perTask int64
			for b.Loop() {
				a, w := benchAnalytic(b, f)
				fp = a.Footprint()
				a.BeginTask()
				_ = a.Learn(w.tasks[5].batch())
				_ = a.Prepare()
				// A task adds its Gram matrix and its selector Gaussian.
				perTask = a.Footprint().Fixed - fp.Fixed
			}
			b.ReportMetric(float64(fp.PerClass), "bytes/class")
			b.ReportMetric(float64(fp.Fixed), "fixed-bytes")
			b.ReportMetric(float64(perTask), "bytes/task")
		})
	}
}
