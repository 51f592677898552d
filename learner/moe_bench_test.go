package learner

import (
	"testing"
)

// Benchmarks of the MoE adapters at D = 512 with default settings (8
// experts of width 32, top-2, 10 Adam steps per Learn), 50 classes in 5
// tasks.

func benchMoE(b *testing.B) (*MoE, *clWorld) {
	b.Helper()
	w := newCLWorld(b, 53, benchDim, 6, 10, 10, defaultCL)
	cfg := DefaultConfig()
	cfg.Method, cfg.Dim = "moe", benchDim
	m, err := NewMoE(cfg, DefaultMoEConfig(), w.labels, nil)
	if err != nil {
		b.Fatal(err)
	}
	w.learnTasks(b, m, 5)
	return m, w
}

// BenchmarkMoELearn: one example (a batch of one, Steps Adam steps).
func BenchmarkMoELearn(b *testing.B) {
	m, w := benchMoE(b)
	benchLearnOne(b, m, w.tasks[4].batch())
}

// BenchmarkMoEPredict: per-frame cost for an input of a learned task
// (selector + router + 2 experts + cosine logits) and an unseen one.
func BenchmarkMoEPredict(b *testing.B) {
	for _, kind := range []string{"seen", "unseen"} {
		b.Run(kind, func(b *testing.B) {
			m, w := benchMoE(b)
			benchPredict(b, m, w.benchInputs(b, m, kind))
		})
	}
}

// BenchmarkMoEFootprint reports fixed bytes (experts with moments and
// base, routers, selector), bytes per learned class vector and per task.
func BenchmarkMoEFootprint(b *testing.B) {
	var fp Footprint
	var perTask int64
	for b.Loop() {
		m, w := benchMoE(b)
		m.Route(w.tasks[0].test[0]) // fit every task's selector model
		fp = m.Footprint()
		m.BeginTask()
		_ = m.Learn(w.tasks[5].batch())
		m.Route(w.tasks[5].test[0])
		perTask = m.Footprint().Fixed - fp.Fixed
	}
	b.ReportMetric(float64(fp.PerClass), "bytes/class")
	b.ReportMetric(float64(fp.Fixed), "fixed-bytes")
	b.ReportMetric(float64(perTask), "bytes/task")
}
