package eval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
)

// FewShotResult is the never-named few-shot measurement of one method.
type FewShotResult struct {
	Task  string
	Shots int // pictures taught per class
	Views int // augmented views taught per picture besides it
	// Accuracy is the mean over the draws of the accuracy on the task's
	// whole test set, Min and Max the lowest and highest draw; PerClass is
	// the mean over the draws of the accuracy on each class's test
	// pictures (in the order of Classes); percent.
	Accuracy float64
	Min, Max float64
	Classes  []string
	PerClass []float64
	// Draws is each draw's accuracy on the whole test set; draw 0 taught
	// the first Shots pictures of each class.
	Draws []float64
}

// ErrNoViews reports a dataset without the teach-time views the
// configuration asks for (built with another Config.TeachAugment).
var ErrNoViews = errors.New("eval: dataset has no teach views for this configuration")

// fewShotDraws returns draws selections of shots training items per class:
// draw 0 the first shots of each class in training order, later draws a
// seeded shuffle of each class. Every selection lists its items in training
// order (classes interleaved, as a device meets them). A class with fewer
// than shots pictures gives all it has; count is the per-class size of a
// selection. There is always at least one draw.
func fewShotDraws(class []int32, classes, shots, draws int) (picks [][]int, count []int) {
	draws = max(draws, 1)
	byClass := make([][]int, classes)
	for i, c := range class {
		byClass[c] = append(byClass[c], i)
	}
	count = make([]int, classes)
	for c, idx := range byClass {
		count[c] = min(shots, len(idx))
	}
	// One generator for all draws, so draw d is the same whatever the
	// number of draws after it.
	rng := rand.New(rand.NewPCG(1, 2))
	for d := 0; d < draws; d++ {
		var picked []int
		for c, idx := range byClass {
			idx = slices.Clone(idx)
			if d > 0 {
				rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			}
			picked = append(picked, idx[:count[c]]...)
		}
		slices.Sort(picked)
		picks = append(picks, picked)
	}
	return picks, count
}

// fewShotItems is every item some draw teaches, in training order: the
// pictures the teach-time views are made of.
func fewShotItems(class []int32, classes, shots, draws int) []int {
	picks, _ := fewShotDraws(class, classes, shots, draws)
	var all []int
	for _, p := range picks {
		all = append(all, p...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// NeverNamed is the few-shot accuracy on the scenario's first new_classes
// task, whose class names the text encoder never saw: for each of
// cfg.FewShotDraws draws (fewShotDraws), a fresh instance of method name
// learns exactly cfg.FewShot pictures of each of the task's classes with
// the same budget as in Run — each picture followed by its
// cfg.TeachAugment.Views augmented views (ds.Views) — and is tested on the
// task's whole test set. One draw is a lucky or unlucky pick of ten
// pictures; the mean over draws is what a device should expect. Nil when
// the scenario has no such task or cfg.FewShot is 0.
func NeverNamed(ctx context.Context, ds *Dataset, name string, cfg Config, log *slog.Logger) (*FewShotResult, error) {
	j := slices.IndexFunc(ds.Tasks, func(s Set) bool { return s.Kind == NewClassesKind })
	if j < 0 || cfg.FewShot < 1 {
		return nil, nil
	}
	task := &ds.Tasks[j]
	picks, count := fewShotDraws(task.Train.Class, len(task.Classes), cfg.FewShot, cfg.FewShotDraws)
	for c, n := range count {
		if n < cfg.FewShot {
			return nil, fmt.Errorf("eval: %s: class %s has %d training examples, fewer than few_shot %d", task.Name, task.Classes[c], n, cfg.FewShot)
		}
	}
	views := cfg.TeachAugment.Views
	if views > 0 && (ds.Views == nil || ds.Views.Task != task.Name || ds.Views.Views != views) {
		return nil, fmt.Errorf("%w (%d views of %s)", ErrNoViews, views, task.Name)
	}
	res := &FewShotResult{Task: task.Name, Shots: cfg.FewShot, Views: views, Classes: slices.Clone(task.Classes),
		PerClass: make([]float64, len(task.Classes))}
	for _, picked := range picks {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
		}
		acc, perClass, err := neverNamedDraw(ds, j, name, cfg, log, picked)
		if err != nil {
			return nil, err
		}
		res.Draws = append(res.Draws, acc)
		for c, a := range perClass {
			res.PerClass[c] += a / float64(len(picks))
		}
	}
	res.Accuracy = mean(res.Draws)
	res.Min, res.Max = slices.Min(res.Draws), slices.Max(res.Draws)
	return res, nil
}

// neverNamedDraw teaches a fresh instance the picked items of task j (each
// followed by its views) and returns its accuracy on the task's test set,
// overall and per class.
func neverNamedDraw(ds *Dataset, j int, name string, cfg Config, log *slog.Logger, picked []int) (float64, []float64, error) {
	task := &ds.Tasks[j]
	r, err := newRunner(ds, name, cfg, log)
	if err != nil {
		return 0, nil, err
	}
	all := r.examples(*task)
	var ex []learner.Example
	for _, i := range picked {
		ex = append(ex, all[i])
		if cfg.TeachAugment.Views == 0 {
			continue
		}
		vs := ds.Views.Of(i, ds.Dim)
		if vs == nil {
			return 0, nil, fmt.Errorf("%w (item %d of %s)", ErrNoViews, i, task.Name)
		}
		for _, v := range vs {
			e := all[i]
			e.Emb = v
			ex = append(ex, e)
		}
	}
	if _, err := r.learnEpochs(ex, cfg.BatchSize, cfg.epochsFor(name)); err != nil {
		return 0, nil, fmt.Errorf("eval: %s few-shot on %s: %w", name, task.Name, err)
	}
	acc, _ := r.accuracy(&task.Test, r.taskIdx[j], nil)
	perClass := make([]float64, len(task.Classes))
	for c := range task.Classes {
		perClass[c], _ = r.accuracy(&task.Test, r.taskIdx[j], func(i int) bool { return int(task.Test.Class[i]) == c })
	}
	return acc, perClass, nil
}
