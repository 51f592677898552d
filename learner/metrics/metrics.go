package metrics

import (
	"errors"
	"fmt"
	"math"
)

// ErrTooFewTasks is returned by scores undefined for a single task (BWT,
// Transfer, Forgetting need T ≥ 2).
var ErrTooFewTasks = errors.New("metrics: score needs at least 2 tasks")

// ErrShape is returned for a matrix that is empty or not square.
var ErrShape = errors.New("metrics: accuracy matrix must be square and non-empty")

// Matrix is an accuracy matrix: Matrix[i][j] = accuracy on task j after
// training on task i, in [0,1] (or in percent: every score is linear, so
// the unit carries through).
type Matrix [][]float64

// Validate checks the matrix is square, non-empty and finite.
func (m Matrix) Validate() error {
	t := len(m)
	if t == 0 {
		return ErrShape
	}
	for i, row := range m {
		if len(row) != t {
			return fmt.Errorf("%w: row %d has %d entries, want %d", ErrShape, i, len(row), t)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("metrics: entry [%d][%d] is %v", i, j, v)
			}
		}
	}
	return nil
}

// Tasks is T.
func (m Matrix) Tasks() int { return len(m) }

// Avg is MTIL's "Avg.": for each task the mean accuracy over all T
// evaluation points (before and after it was learned), averaged over tasks
// — the mean of the whole matrix.
func Avg(m Matrix) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var s float64
	for _, row := range m {
		for _, v := range row {
			s += v
		}
	}
	return s / float64(len(m)*len(m)), nil
}

// Last is MTIL's "Last": mean accuracy of the final model over all tasks
// (the last row).
func Last(m Matrix) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	var s float64
	for _, v := range m[len(m)-1] {
		s += v
	}
	return s / float64(len(m)), nil
}

// Transfer is MTIL's "Transfer": for each task j ≥ 1, the mean accuracy on
// j at the evaluation points before it was learned (A[i][j], i < j), then
// averaged over those tasks. It measures how much zero-shot ability on
// unseen tasks survives training on the earlier ones.
func Transfer(m Matrix) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	t := len(m)
	if t < 2 {
		return 0, ErrTooFewTasks
	}
	var s float64
	for j := 1; j < t; j++ {
		var col float64
		for i := 0; i < j; i++ {
			col += m[i][j]
		}
		s += col / float64(j)
	}
	return s / float64(t-1), nil
}

// BWT is backward transfer (Lopez-Paz & Ranzato, GEM): the mean change of
// each earlier task's accuracy from just after learning it to the end,
// 1/(T-1) Σ_{j<T-1} (A[T-1][j] − A[j][j]). Negative means forgetting.
func BWT(m Matrix) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	t := len(m)
	if t < 2 {
		return 0, ErrTooFewTasks
	}
	var s float64
	for j := 0; j < t-1; j++ {
		s += m[t-1][j] - m[j][j]
	}
	return s / float64(t-1), nil
}

// Forgetting is the mean over earlier tasks of the drop from their best
// accuracy after being learned to their final accuracy:
// 1/(T-1) Σ_{j<T-1} (max_{j≤i<T-1} A[i][j] − A[T-1][j]).
func Forgetting(m Matrix) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	t := len(m)
	if t < 2 {
		return 0, ErrTooFewTasks
	}
	var s float64
	for j := 0; j < t-1; j++ {
		best := math.Inf(-1)
		for i := j; i < t-1; i++ {
			best = math.Max(best, m[i][j])
		}
		s += best - m[t-1][j]
	}
	return s / float64(t-1), nil
}

// Summary holds every score; the ones undefined for T = 1 are NaN.
type Summary struct {
	Tasks      int
	Avg        float64
	Last       float64
	Transfer   float64
	BWT        float64
	Forgetting float64
}

// Summarize computes every score of m.
func Summarize(m Matrix) (Summary, error) {
	if err := m.Validate(); err != nil {
		return Summary{}, err
	}
	s := Summary{Tasks: len(m)}
	s.Avg, _ = Avg(m)
	s.Last, _ = Last(m)
	pairs := []struct {
		dst *float64
		f   func(Matrix) (float64, error)
	}{{&s.Transfer, Transfer}, {&s.BWT, BWT}, {&s.Forgetting, Forgetting}}
	for _, p := range pairs {
		v, err := p.f(m)
		if err != nil {
			v = math.NaN()
		}
		*p.dst = v
	}
	return s, nil
}
