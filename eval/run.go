package eval

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/learner/metrics"
)

// Result is one method's evaluation. Accuracies are in percent.
type Result struct {
	Method     string   `json:"method"`
	Avg        float64  `json:"avg"`
	Last       float64  `json:"last"`
	BWT        *float64 `json:"bwt"`        // null for a single task
	Transfer   *float64 `json:"transfer"`   // null for a single task
	Forgetting *float64 `json:"forgetting"` // null for a single task
	Tasks      []string `json:"tasks"`
	// Matrix[i][j]: accuracy on task j's test set after learning task i.
	Matrix [][]float64 `json:"matrix"`
	// Initial is the accuracy on each task before anything was learned.
	Initial []float64 `json:"initial"`
	// ZeroShot[i][k]: accuracy on held-out zero-shot set k after learning
	// task i; ZeroShotInitial before any learning.
	ZeroShotSets    []string    `json:"zero_shot_sets"`
	ZeroShotInitial []float64   `json:"zero_shot_initial"`
	ZeroShot        [][]float64 `json:"zero_shot"`
	// Retention is the final zero-shot accuracy minus the initial one, per
	// set, in percentage points (negative: forgotten).
	Retention []float64 `json:"retention"`
	// LearnSeconds and Footprint are per task (the joint bound has one
	// entry: the whole offline run).
	LearnSeconds []float64           `json:"learn_seconds"`
	Footprint    []learner.Footprint `json:"footprint"`
	// Epochs is the passes made over each task's training set;
	// TrainExamples the distinct training examples taught.
	Epochs        int `json:"epochs"`
	TrainExamples int `json:"train_examples"`
	// UpdateMicros is the update cost: learning time over TrainExamples,
	// in µs per taught example (all passes included).
	UpdateMicros float64 `json:"update_us_per_example"`
	// NeverNamed is the accuracy on the never-named-classes task's test
	// set of a fresh method taught FewShot examples per class of that task
	// only, averaged over NeverNamedDraws draws of those examples (the
	// lowest and highest draw in NeverNamedMin and NeverNamedMax); null
	// when the scenario has no such task (or for joint).
	FewShot         int      `json:"few_shot"`
	NeverNamed      *float64 `json:"never_named_10shot"`
	NeverNamedMin   *float64 `json:"never_named_min,omitempty"`
	NeverNamedMax   *float64 `json:"never_named_max,omitempty"`
	NeverNamedDraws int      `json:"never_named_draws,omitempty"`
	// NeverNamedPerClass is the accuracy on each class's test pictures,
	// averaged over the draws, in the order of NeverNamedClasses.
	NeverNamedClasses  []string  `json:"never_named_classes,omitempty"`
	NeverNamedPerClass []float64 `json:"never_named_per_class,omitempty"`
	// TeachViews is how many augmented views of each few-shot picture
	// were taught besides it (Config.TeachAugment, set out in
	// TeachAugment when not 0).
	TeachViews   int             `json:"teach_views"`
	TeachAugment *augment.Config `json:"teach_augment,omitempty"`
	Drift        []DriftCurve    `json:"drift,omitempty"`
	// OracleRoute: task test sets were scored with the task's own route
	// given (the joint bound of a task-routed head), not the selector's.
	OracleRoute bool `json:"oracle_route,omitempty"`
}

// DriftCurve is TiC-style accuracy over time on a drift task's test set,
// bucketed by day index: before the task is learned, right after, and at
// the end of the scenario.
type DriftCurve struct {
	Task   string    `json:"task"`
	Days   []int     `json:"days"` // first day of each bucket
	Count  []int     `json:"count"`
	Before []float64 `json:"before"`
	After  []float64 `json:"after"`
	Final  []float64 `json:"final"`
}

// Run evaluates the registered method name on ds: tasks are learned in
// order, in mini-batches of cfg.BatchSize, cfg.Epochs passes per task
// (one for cfg.SinglePass methods), a method implementing
// learner.TaskBoundary is told when each task after the first begins, and
// every test set is measured after each task. The never-named few-shot
// accuracy is measured on a separate fresh instance (NeverNamed).
func Run(ctx context.Context, ds *Dataset, name string, cfg Config, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := newRunner(ds, name, cfg, log)
	if err != nil {
		return nil, err
	}
	res := &Result{Method: name, Epochs: cfg.epochsFor(name)}
	r.header(res)
	res.Initial = r.taskAccs()
	res.ZeroShotInitial = r.zeroShotAccs()
	drift := r.driftStart()
	tb, hasTasks := r.m.(learner.TaskBoundary)
	for i, task := range ds.Tasks {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
		}
		for _, d := range drift {
			if d.task == i {
				d.curve.Before = r.driftAccs(d)
			}
		}
		// The fresh method is already at the start of the first task;
		// opening another there would leave an empty task behind.
		if hasTasks && i > 0 {
			tb.BeginTask()
		}
		ex := r.examples(task)
		res.TrainExamples += len(ex)
		took, err := r.learnEpochs(ex, cfg.BatchSize, res.Epochs)
		if err != nil {
			return nil, fmt.Errorf("eval: %s learning %s: %w", name, task.Name, err)
		}
		res.LearnSeconds = append(res.LearnSeconds, took.Seconds())
		res.Footprint = append(res.Footprint, r.m.Footprint())
		res.Matrix = append(res.Matrix, r.taskAccs())
		res.ZeroShot = append(res.ZeroShot, r.zeroShotAccs())
		for _, d := range drift {
			if d.task == i {
				d.curve.After = r.driftAccs(d)
			}
		}
		log.Info("task learned", "method", name, "task", task.Name, "took", took)
	}
	for _, d := range drift {
		d.curve.Final = r.driftAccs(d)
		res.Drift = append(res.Drift, *d.curve)
	}
	res.FewShot = cfg.FewShot
	nn, err := NeverNamed(ctx, ds, name, cfg, log)
	if err != nil {
		return nil, err
	}
	if nn != nil {
		res.NeverNamed = &nn.Accuracy
		res.NeverNamedMin, res.NeverNamedMax, res.NeverNamedDraws = &nn.Min, &nn.Max, len(nn.Draws)
		res.NeverNamedClasses, res.NeverNamedPerClass = nn.Classes, nn.PerClass
		if res.TeachViews = nn.Views; nn.Views > 0 {
			aug := cfg.TeachAugment
			res.TeachAugment = &aug
		}
	}
	return res, finish(res)
}

// NewClassesKind is the world task kind whose classes have names the text
// encoder never saw.
const NewClassesKind = "new_classes"

// taskIDs is implemented by the task-routed methods (analytic, moe): later
// examples belong to the given task.
type taskIDs interface {
	BeginTaskID(id int) error
}

// RunJoint is the joint-training upper bound: a fresh cfg.JointMethod
// learns the union of every task's training set at once (cfg.JointEpochs
// shuffled passes; one for a SinglePass method, which would otherwise count
// every example JointEpochs times — a weaker ridge penalty, not a better
// fit) and is evaluated once; every matrix row is that final
// model, so BWT is 0 by construction.
//
// The bound sees at least what a sequential learner sees. An order-free
// (SinglePass) method with task identities (learner's BeginTaskID) is told
// each example's task — batches stay within one task, shuffled across
// tasks — so it fits the same per-task statistics the sequential run does;
// and if it routes inputs by task (learner.Routed), each task's test set is
// scored with that task's route given, an oracle the sequential learner
// does not have (its selector can misroute). For an order-free head (analytic) the
// difference between joint and the sequential run is then exactly the
// cost of routing by the selector instead of knowing the task.
func RunJoint(ctx context.Context, ds *Dataset, cfg Config, log *slog.Logger) (*Result, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := newRunner(ds, cfg.JointMethod, cfg, log)
	if err != nil {
		return nil, err
	}
	res := &Result{Method: JointName}
	r.header(res)
	res.Initial = r.taskAccs()
	res.ZeroShotInitial = r.zeroShotAccs()
	// Only an order-free method can be told tasks batch by batch: a
	// gradient method with task state (moe) ends a task — freezing its
	// experts — whenever the task changes, so interleaved tasks would be
	// neither joint nor sequential training.
	ids, hasIDs := r.m.(taskIDs)
	hasIDs = hasIDs && slices.Contains(cfg.SinglePass, cfg.JointMethod)
	type batch struct {
		task int
		ex   []learner.Example
	}
	var all []learner.Example
	perTask := make([][]learner.Example, len(ds.Tasks))
	for j, t := range ds.Tasks {
		perTask[j] = r.examples(t)
		all = append(all, perTask[j]...)
	}
	rng := rand.New(rand.NewPCG(cfg.Learner.Seed, 0x701))
	var took time.Duration
	epochs := cfg.jointEpochs()
	for ep := 0; ep < epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
		}
		if !hasIDs {
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			d, err := r.learn(all, cfg.BatchSize)
			if err != nil {
				return nil, fmt.Errorf("eval: joint %s: %w", cfg.JointMethod, err)
			}
			took += d
			continue
		}
		var batches []batch
		for j, ex := range perTask {
			rng.Shuffle(len(ex), func(a, b int) { ex[a], ex[b] = ex[b], ex[a] })
			for lo := 0; lo < len(ex); lo += cfg.BatchSize {
				batches = append(batches, batch{j, ex[lo:min(lo+cfg.BatchSize, len(ex))]})
			}
		}
		rng.Shuffle(len(batches), func(a, b int) { batches[a], batches[b] = batches[b], batches[a] })
		t0 := time.Now()
		for _, b := range batches {
			if err := ids.BeginTaskID(b.task); err != nil {
				return nil, fmt.Errorf("eval: joint %s: %w", cfg.JointMethod, err)
			}
			if err := r.m.Learn(b.ex); err != nil {
				return nil, fmt.Errorf("eval: joint %s: %w", cfg.JointMethod, err)
			}
		}
		took += time.Since(t0)
	}
	if rt, ok := r.m.(learner.Routed); ok && hasIDs {
		r.oracle, res.OracleRoute = rt, true
	}
	res.LearnSeconds = []float64{took.Seconds()}
	res.Epochs, res.TrainExamples = epochs, len(all)
	res.Footprint = []learner.Footprint{r.m.Footprint()}
	final, zs := r.taskAccs(), r.zeroShotAccs()
	for range ds.Tasks {
		res.Matrix = append(res.Matrix, final)
		res.ZeroShot = append(res.ZeroShot, zs)
	}
	for _, d := range r.driftStart() {
		d.curve.Before = nil
		d.curve.Final = r.driftAccs(d)
		d.curve.After = d.curve.Final
		res.Drift = append(res.Drift, *d.curve)
	}
	err = finish(res)
	// Transfer measures zero-shot ability on tasks not yet learned; the
	// joint model has learned them all, so it has none to report.
	res.Transfer = nil
	return res, err
}

// finish computes the scores from the matrix.
func finish(res *Result) error {
	s, err := metrics.Summarize(res.Matrix)
	if err != nil {
		return fmt.Errorf("eval: %s: %w", res.Method, err)
	}
	res.Avg, res.Last = s.Avg, s.Last
	if res.TrainExamples > 0 {
		var sec float64
		for _, v := range res.LearnSeconds {
			sec += v
		}
		res.UpdateMicros = 1e6 * sec / float64(res.TrainExamples)
	}
	res.BWT, res.Transfer, res.Forgetting = finite(s.BWT), finite(s.Transfer), finite(s.Forgetting)
	if n := len(res.ZeroShot); n > 0 {
		for k, v := range res.ZeroShot[n-1] {
			res.Retention = append(res.Retention, v-res.ZeroShotInitial[k])
		}
	}
	return nil
}

func finite(v float64) *float64 {
	if v != v { // NaN: undefined for this matrix
		return nil
	}
	return &v
}

// runner holds one method instance over the dataset's label registry.
type runner struct {
	ds     *Dataset
	m      learner.Method
	labels *learner.Labels
	// idx maps each set's class index to its index in the label registry.
	taskIdx [][]int
	zsIdx   [][]int
	ids     map[string]learner.ID
	logits  []float32
	buckets int
	// oracle, when set, scores task j's test set with Route{Task: j}
	// instead of the method's own routing (task is j while measuring a
	// task, -1 otherwise).
	oracle learner.Routed
	task   int
}

func newRunner(ds *Dataset, name string, cfg Config, log *slog.Logger) (*runner, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lc := cfg.Learner
	lc.Method, lc.Dim, lc.ModelID = name, ds.Dim, ds.ModelID
	if ds.LogitScale > 0 {
		lc.LogitScale = ds.LogitScale
	}
	r := &runner{ds: ds, labels: learner.NewLabels(ds.Dim), ids: map[string]learner.ID{}, buckets: cfg.DriftBuckets, task: -1}
	// Every class of every set is registered up front with its text
	// embedding, so zero-shot accuracy on tasks not yet learned (Transfer)
	// is measured on the same label registry as everything else.
	register := func(sets []Set) ([][]int, error) {
		var out [][]int
		for _, s := range sets {
			row := make([]int, len(s.Classes))
			for c, n := range s.Classes {
				id, ok := r.ids[n]
				if !ok {
					var err error
					if id, err = r.labels.Add(n); err != nil {
						return nil, fmt.Errorf("eval: label %q: %w", n, err)
					}
					if v, ok := ds.Text[n]; ok {
						if err := r.labels.SetText(id, v); err != nil {
							return nil, fmt.Errorf("eval: label %q: %w", n, err)
						}
					}
					r.ids[n] = id
				}
				row[c] = -1
			}
			out = append(out, row)
		}
		return out, nil
	}
	var err error
	if r.taskIdx, err = register(ds.Tasks); err != nil {
		return nil, err
	}
	if r.zsIdx, err = register(ds.ZeroShot); err != nil {
		return nil, err
	}
	// Indices are resolved once all labels exist: the registry's order is
	// final from here on.
	cur := r.labels.Current()
	resolve := func(sets []Set, idx [][]int) {
		for i, s := range sets {
			for c, n := range s.Classes {
				idx[i][c], _ = cur.Index(r.ids[n])
			}
		}
	}
	resolve(ds.Tasks, r.taskIdx)
	resolve(ds.ZeroShot, r.zsIdx)
	if r.m, err = learner.New(lc, r.labels, log); err != nil {
		return nil, fmt.Errorf("eval: method %s: %w", name, err)
	}
	return r, nil
}

func (r *runner) header(res *Result) {
	for _, t := range r.ds.Tasks {
		res.Tasks = append(res.Tasks, t.Name)
	}
	for _, z := range r.ds.ZeroShot {
		res.ZeroShotSets = append(res.ZeroShotSets, z.Name)
	}
}

func (r *runner) examples(s Set) []learner.Example {
	d := r.ds.Dim
	out := make([]learner.Example, s.Train.Len())
	for i := range out {
		out[i] = learner.Example{Emb: s.Train.Emb[i*d : (i+1)*d], Label: r.ids[s.Classes[s.Train.Class[i]]], Source: learner.Taught}
	}
	return out
}

func (r *runner) learn(ex []learner.Example, batch int) (time.Duration, error) {
	t0 := time.Now()
	for lo := 0; lo < len(ex); lo += batch {
		if err := r.m.Learn(ex[lo:min(lo+batch, len(ex))]); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}

// learnEpochs makes epochs passes over ex, in order: the order matters to
// drift tasks (days in sequence), so passes are not shuffled.
func (r *runner) learnEpochs(ex []learner.Example, batch, epochs int) (time.Duration, error) {
	var took time.Duration
	for range epochs {
		d, err := r.learn(ex, batch)
		if err != nil {
			return 0, err
		}
		took += d
	}
	return took, nil
}

// correct reports whether item i of sp is classified right among the set's
// classes (idx). A class the method has no logit for cannot be chosen; if
// none has one, the item counts as wrong.
func (r *runner) correct(sp *Split, i int, idx []int) bool {
	d := r.ds.Dim
	var err error
	if r.oracle != nil && r.task >= 0 {
		r.logits, err = r.oracle.PredictRoute(sp.Emb[i*d:(i+1)*d], learner.Route{Task: r.task, Seen: true}, r.logits)
	} else {
		r.logits, err = r.m.Predict(sp.Emb[i*d:(i+1)*d], r.logits)
	}
	if err != nil {
		return false
	}
	best, bestV := -1, learner.NoLogit
	for c, k := range idx {
		if k < len(r.logits) && r.logits[k] > bestV {
			best, bestV = c, r.logits[k]
		}
	}
	return best == int(sp.Class[i])
}

func (r *runner) accuracy(sp *Split, idx []int, keep func(i int) bool) (float64, int) {
	n, ok := 0, 0
	for i := 0; i < sp.Len(); i++ {
		if keep != nil && !keep(i) {
			continue
		}
		n++
		if r.correct(sp, i, idx) {
			ok++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return 100 * float64(ok) / float64(n), n
}

func (r *runner) taskAccs() []float64 {
	out := make([]float64, len(r.ds.Tasks))
	for j := range r.ds.Tasks {
		r.task = j
		out[j], _ = r.accuracy(&r.ds.Tasks[j].Test, r.taskIdx[j], nil)
	}
	r.task = -1
	return out
}

func (r *runner) zeroShotAccs() []float64 {
	out := make([]float64, len(r.ds.ZeroShot))
	for k := range r.ds.ZeroShot {
		out[k], _ = r.accuracy(&r.ds.ZeroShot[k].Test, r.zsIdx[k], nil)
	}
	return out
}

type driftState struct {
	task   int
	bucket []int // bucket of each test item
	curve  *DriftCurve
}

// driftStart splits each drift task's test days into equal-width buckets.
func (r *runner) driftStart() []*driftState {
	var out []*driftState
	for j, t := range r.ds.Tasks {
		if t.Kind != "drift" || t.Test.Len() == 0 {
			continue
		}
		lo, hi := t.Test.Day[0], t.Test.Day[0]
		for _, d := range t.Test.Day {
			lo, hi = min(lo, d), max(hi, d)
		}
		nb := max(1, min(r.buckets, t.Test.Len()))
		width := float64(hi-lo+1) / float64(nb)
		st := &driftState{task: j, bucket: make([]int, t.Test.Len()), curve: &DriftCurve{Task: t.Name}}
		for b := 0; b < nb; b++ {
			st.curve.Days = append(st.curve.Days, int(lo)+int(float64(b)*width))
		}
		st.curve.Count = make([]int, nb)
		for i, d := range t.Test.Day {
			b := min(nb-1, int(float64(d-lo)/width))
			st.bucket[i] = b
			st.curve.Count[b]++
		}
		out = append(out, st)
	}
	return out
}

func (r *runner) driftAccs(d *driftState) []float64 {
	t := &r.ds.Tasks[d.task]
	out := make([]float64, len(d.curve.Days))
	r.task = d.task
	defer func() { r.task = -1 }()
	for b := range out {
		out[b], _ = r.accuracy(&t.Test, r.taskIdx[d.task], func(i int) bool { return d.bucket[i] == b })
	}
	return out
}
