package learner

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// MeasureFootprint builds cfg.Method, teaches it perClass synthetic examples
// for each of classes classes and returns its Footprint: the memory-per-class
// and per-task figures of the README table. With named, every class has a
// text embedding (the usual case); without, classes are unnamed, which is
// where methods must store a class vector of their own.
func MeasureFootprint(cfg Config, classes, perClass int, named bool) (Footprint, error) {
	if cfg.Dim < 1 || classes < 1 || perClass < 1 {
		return Footprint{}, fmt.Errorf("learner: measure footprint: dim, classes and perClass must be >= 1")
	}
	labels := NewLabels(cfg.Dim)
	m, err := New(cfg, labels, nil)
	if err != nil {
		return Footprint{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 42))
	data := SyntheticClasses(rng, cfg.Dim, classes, perClass, 0.3)
	for c, cls := range data {
		var id ID
		if named {
			id, err = labels.Add("class " + strconv.Itoa(c))
			if err == nil {
				err = labels.SetText(id, cls.Center)
			}
		} else {
			id, err = labels.AddUnnamed()
		}
		if err != nil {
			return Footprint{}, err
		}
		batch := make([]Example, len(cls.Examples))
		for i, e := range cls.Examples {
			batch[i] = Example{Emb: e, Label: id}
		}
		if err := m.Learn(batch); err != nil {
			return Footprint{}, err
		}
	}
	return m.Footprint(), nil
}

// SyntheticClass is a random class: a unit centre and unit examples
// scattered around it with the given noise.
type SyntheticClass struct {
	Center   []float32
	Examples [][]float32
}

// SyntheticClasses draws classes random unit centres in dim dimensions and
// perClass examples per class at noise σ around them (then normalised),
// reproducibly from rng. Tests and benchmarks share it so they measure the
// same geometry.
func SyntheticClasses(rng *rand.Rand, dim, classes, perClass int, noise float64) []SyntheticClass {
	out := make([]SyntheticClass, classes)
	for c := range out {
		ctr := randUnit(rng, dim)
		ex := make([][]float32, perClass)
		for i := range ex {
			v := make([]float32, dim)
			for j := range v {
				v[j] = ctr[j] + float32(rng.NormFloat64()*noise/math.Sqrt(float64(dim)))
			}
			normalizeInto(v, v)
			ex[i] = v
		}
		out[c] = SyntheticClass{Center: ctr, Examples: ex}
	}
	return out
}

func randUnit(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for {
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		if normalizeInto(v, v) > 0 {
			return v
		}
	}
}
