package learner

import (
	"strconv"
	"testing"
)

// Benchmarks of the selector at CLIP ViT-B/32's D = 512.

func benchSelector(b *testing.B, tasks, per int) (*Selector, *clWorld) {
	b.Helper()
	w := newCLWorld(b, 51, benchDim, tasks+1, 10, per, defaultCL)
	s, err := NewSelector(DefaultSelectorConfig(), benchDim, 1)
	if err != nil {
		b.Fatal(err)
	}
	for t := range tasks {
		addAll(b, s, t, w.tasks[t].train)
	}
	return s, w
}

// BenchmarkSelectorAdd: statistics update per example (Σx, Σxxᵀ packed).
func BenchmarkSelectorAdd(b *testing.B) {
	s, w := benchSelector(b, 0, 20)
	xs := w.tasks[0].train
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.Add(0, xs[i%len(xs)], 1); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectorFit: refitting one task after its statistics changed
// (two shrunk covariances, two Cholesky factorisations, the held-out
// calibration) — paid once per task on the first Route after learning.
func BenchmarkSelectorFit(b *testing.B) {
	s, _ := benchSelector(b, 1, 10)
	for b.Loop() {
		s.changed(0)
		if m := s.model(0); !m.ready {
			b.Fatal("not ready")
		}
	}
}

// BenchmarkSelectorRoute: the per-frame decision with 1 and 5 fitted tasks.
func BenchmarkSelectorRoute(b *testing.B) {
	for _, tasks := range []int{1, 5} {
		b.Run("tasks="+strconv.Itoa(tasks), func(b *testing.B) {
			s, w := benchSelector(b, tasks, 10)
			xs := w.tasks[tasks].test
			s.Route(xs[0]) // fit
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.Route(xs[i%len(xs)])
			}
		})
	}
}

// BenchmarkSelectorMemory reports the bytes one task costs (statistics of
// both halves, local only, plus the fitted model) and the fixed projection.
func BenchmarkSelectorMemory(b *testing.B) {
	var per, fixed int64
	for b.Loop() {
		s, w := benchSelector(b, 1, 5)
		s.Route(w.tasks[0].test[0])
		total, _ := s.footprint()
		fixed = bytesF64(len(s.proj))
		per = total - fixed
	}
	b.ReportMetric(float64(per), "bytes/task")
	b.ReportMetric(float64(fixed), "fixed-bytes")
}
