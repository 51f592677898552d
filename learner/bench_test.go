package learner

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

const benchDim, benchClasses = 512, 50

func benchSetup(b *testing.B, name string) (Method, []Example) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Method, cfg.Dim = name, benchDim
	l := NewLabels(benchDim)
	rng := rand.New(rand.NewPCG(1, 2))
	data := SyntheticClasses(rng, benchDim, benchClasses, 20, 0.5)
	var ex []Example
	for c, cls := range data {
		id, _ := l.Add("c" + strconv.Itoa(c))
		_ = l.SetText(id, cls.Center)
		for _, e := range cls.Examples {
			ex = append(ex, Example{Emb: e, Label: id})
		}
	}
	rng.Shuffle(len(ex), func(i, j int) { ex[i], ex[j] = ex[j], ex[i] })
	m, err := New(cfg, l, nil)
	if err != nil {
		b.Fatal(err)
	}
	return m, ex
}

// BenchmarkLearn: cost of learning one example (batch of one), D=512, 50 classes.
func BenchmarkLearn(b *testing.B) {
	for _, name := range allMethods {
		b.Run(name, func(b *testing.B) {
			m, ex := benchSetup(b, name)
			benchLearnOne(b, m, ex)
		})
	}
}

// BenchmarkPredict: cost of one prediction over 50 classes after learning
// 20 examples per class (kNN searches 1000 stored examples).
func BenchmarkPredict(b *testing.B) {
	for _, name := range allMethods {
		b.Run(name, func(b *testing.B) {
			m, ex := benchSetup(b, name)
			if err := m.Learn(ex); err != nil {
				b.Fatal(err)
			}
			benchPredict(b, m, embeddings(ex))
		})
	}
}

// BenchmarkFootprint reports memory per class (bytes/class) and fixed bytes,
// for named classes (text embeddings) and unnamed ones.
func BenchmarkFootprint(b *testing.B) {
	for _, name := range allMethods {
		for _, named := range []bool{true, false} {
			b.Run(name+"/named="+strconv.FormatBool(named), func(b *testing.B) {
				benchFootprint(b, name, named)
			})
		}
	}
}

// benchLearnOne times Learn on batches of one example, cycling through ex.
func benchLearnOne(b *testing.B, m Method, ex []Example) {
	b.Helper()
	batch := make([]Example, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		batch[0] = ex[i%len(ex)]
		if err := m.Learn(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPredict times Predict, cycling through xs.
func benchPredict(b *testing.B, m Method, xs [][]float32) {
	b.Helper()
	var dst []float32
	var err error
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if dst, err = m.Predict(xs[i%len(xs)], dst); err != nil {
			b.Fatal(err)
		}
	}
}

// benchFootprint reports the default configuration's bytes per class and
// fixed bytes after 20 classes of 10 examples.
func benchFootprint(b *testing.B, name string, named bool) {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Method, cfg.Dim = name, benchDim
	var f Footprint
	var err error
	for b.Loop() {
		if f, err = MeasureFootprint(cfg, 20, 10, named); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(f.PerClass), "bytes/class")
	b.ReportMetric(float64(f.Fixed), "fixed-bytes")
}

func embeddings(ex []Example) [][]float32 {
	out := make([][]float32, len(ex))
	for i, e := range ex {
		out[i] = e.Emb
	}
	return out
}

func TestMeasureFootprint(t *testing.T) {
	cfg := testCfg("knn", 16)
	f, err := MeasureFootprint(cfg, 4, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	// 5 stored examples per class, each 16 float32 + bookkeeping
	if f.Classes != 4 || f.PerClass < 5*16*4 || f.Total != f.PerClass*4+f.Fixed {
		t.Fatalf("knn footprint %+v", f)
	}
	cfg = testCfg("finetune", 16)
	named, _ := MeasureFootprint(cfg, 4, 2, true)
	unnamed, _ := MeasureFootprint(cfg, 4, 2, false)
	if named.Classes != 0 || unnamed.Classes != 4 || unnamed.Total <= named.Total || named.Fixed != unnamed.Fixed {
		t.Fatalf("finetune footprints named %+v unnamed %+v: learned class vectors must add per-class memory", named, unnamed)
	}
	if unnamed.PerTask(10) != 10*unnamed.PerClass {
		t.Fatalf("PerTask")
	}
	if _, err := MeasureFootprint(cfg, 0, 1, true); err == nil {
		t.Fatal("zero classes accepted")
	}
}
