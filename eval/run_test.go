package eval

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/clipfleet/clipfleet/learner"
)

// probe is ncm with a recorder: it counts the examples Learn receives and
// notes, at each BeginTask, how many it had received by then.
type probe struct {
	learner.Method
	mu         sync.Mutex
	seen       []learner.Example
	boundaries []int
}

func (p *probe) Learn(batch []learner.Example) error {
	p.mu.Lock()
	p.seen = append(p.seen, batch...)
	p.mu.Unlock()
	return p.Method.Learn(batch)
}

func (p *probe) BeginTask() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.boundaries = append(p.boundaries, len(p.seen))
}

var (
	probesMu sync.Mutex
	probes   []*probe // every probe built, in order
)

func init() {
	learner.Register("eval-probe", func(cfg learner.Config, labels *learner.Labels, log *slog.Logger) (learner.Method, error) {
		cfg.Method = "ncm"
		m, err := learner.New(cfg, labels, log)
		if err != nil {
			return nil, err
		}
		p := &probe{Method: m}
		probesMu.Lock()
		probes = append(probes, p)
		probesMu.Unlock()
		return p, nil
	})
}

// runProbe runs the probe and returns the instances it built (the main run
// first, then the few-shot one if any).
func runProbe(t *testing.T, ds *Dataset, cfg Config) (*Result, []*probe) {
	t.Helper()
	probesMu.Lock()
	before := len(probes)
	probesMu.Unlock()
	res, err := Run(context.Background(), ds, "eval-probe", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	probesMu.Lock()
	defer probesMu.Unlock()
	return res, slices.Clone(probes[before:])
}

func TestRunBudgetAndTaskBoundaries(t *testing.T) {
	ds := synthDataset(5) // three tasks of 30 training examples
	for _, tc := range []struct {
		name       string
		epochs     int
		singlePass bool
		wantSeen   int
		wantBounds []int
	}{
		{"one pass", 1, false, 90, []int{30, 60}},
		{"three epochs", 3, false, 270, []int{90, 180}},
		{"single-pass method ignores epochs", 3, true, 90, []int{30, 60}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Epochs, cfg.FewShot = tc.epochs, 0
			if tc.singlePass {
				cfg.SinglePass = append(cfg.SinglePass, "eval-probe")
			}
			res, ps := runProbe(t, ds, cfg)
			if len(ps) != 1 {
				t.Fatalf("%d instances built, want 1 (few-shot is off)", len(ps))
			}
			p := ps[0]
			if len(p.seen) != tc.wantSeen {
				t.Errorf("Learn saw %d examples, want %d", len(p.seen), tc.wantSeen)
			}
			// Every task after the first opens with BeginTask, after all
			// passes over the previous one.
			if !reflect.DeepEqual(p.boundaries, tc.wantBounds) {
				t.Errorf("BeginTask after %v examples, want %v", p.boundaries, tc.wantBounds)
			}
			wantEpochs := tc.epochs
			if tc.singlePass {
				wantEpochs = 1
			}
			if res.Epochs != wantEpochs || res.TrainExamples != 90 {
				t.Errorf("epochs %d, train examples %d; want %d, 90", res.Epochs, res.TrainExamples, wantEpochs)
			}
			if res.NeverNamed != nil {
				t.Errorf("never-named %v with few-shot off", *res.NeverNamed)
			}
		})
	}
}

func TestNeverNamedFewShot(t *testing.T) {
	ds := synthDataset(6)
	ds.Tasks[1].Kind = NewClassesKind // classes d, e: 15 training examples each
	cfg := DefaultConfig()
	cfg.Learner.NCM.Alpha = 0
	cfg.FewShot, cfg.FewShotDraws = 10, 1
	res, ps := runProbe(t, ds, cfg)
	if len(ps) != 2 {
		t.Fatalf("%d instances built, want the run's and a fresh few-shot one", len(ps))
	}
	few := ps[1]
	if len(few.seen) != 20*cfg.Epochs {
		t.Fatalf("few-shot instance learned %d examples, want %d", len(few.seen), 20*cfg.Epochs)
	}
	// The selection is the first ten of each class, in training order.
	task := ds.Tasks[1]
	var want [][]float32
	count := map[int32]int{}
	for i, c := range task.Train.Class {
		if count[c] < 10 {
			count[c]++
			want = append(want, task.Train.Emb[i*ds.Dim:(i+1)*ds.Dim])
		}
	}
	for i, e := range few.seen[:20] {
		if !reflect.DeepEqual(e.Emb, want[i]) {
			t.Fatalf("few-shot example %d is not the %d-th selected one", i, i)
		}
	}
	if res.NeverNamed == nil || *res.NeverNamed < 90 {
		t.Errorf("never-named accuracy %v; ncm on separated clusters should exceed 90", res.NeverNamed)
	}
	if res.FewShot != 10 {
		t.Errorf("few_shot %d", res.FewShot)
	}
	// The same measurement is deterministic.
	again, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil)
	if err != nil || !reflect.DeepEqual(first, again) {
		t.Errorf("two measurements %+v %+v (err %v)", first, again, err)
	}
	// Per-class accuracies: two classes of 15 test pictures each, whose
	// mean is the overall accuracy.
	if !reflect.DeepEqual(first.Classes, task.Classes) || len(first.PerClass) != 2 ||
		math.Abs((first.PerClass[0]+first.PerClass[1])/2-first.Accuracy) > 1e-9 {
		t.Errorf("per class %v %v, overall %v", first.Classes, first.PerClass, first.Accuracy)
	}
	if !reflect.DeepEqual(res.NeverNamedPerClass, first.PerClass) || res.TeachViews != 0 || res.TeachAugment != nil {
		t.Errorf("result per class %v, teach views %d", res.NeverNamedPerClass, res.TeachViews)
	}
	// More shots than a class has is refused rather than silently fewer.
	cfg.FewShot = 16
	if _, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil); err == nil {
		t.Error("16 shots from 15 examples accepted")
	}
	// Without a new_classes task there is nothing to measure.
	cfg.FewShot = 10
	if v, err := NeverNamed(context.Background(), synthDataset(6), "ncm", cfg, nil); v != nil || err != nil {
		t.Errorf("no new_classes task: %v, %v", v, err)
	}
}

// Several draws: draw 0 is the first-ten selection, later draws other
// selections of ten per class in training order; the result is their mean.
func TestNeverNamedDraws(t *testing.T) {
	ds := synthDataset(6)
	ds.Tasks[1].Kind = NewClassesKind // classes d, e: 15 training examples each
	task := ds.Tasks[1]
	cfg := DefaultConfig()
	cfg.Learner.NCM.Alpha = 0
	cfg.FewShot, cfg.FewShotDraws = 10, 4
	res, ps := runProbe(t, ds, cfg)
	if len(ps) != 1+4 {
		t.Fatalf("%d instances built, want the run's and one per draw", len(ps))
	}
	picks, count := fewShotDraws(task.Train.Class, 2, 10, 4)
	if !reflect.DeepEqual(count, []int{10, 10}) {
		t.Fatalf("count %v", count)
	}
	first, _ := fewShotDraws(task.Train.Class, 2, 10, 1)
	if !reflect.DeepEqual(picks[0], first[0]) {
		t.Errorf("draw 0 %v depends on the number of draws (%v)", picks[0], first[0])
	}
	distinct := map[string]bool{}
	for d, picked := range picks {
		if !slices.IsSorted(picked) || len(picked) != 20 {
			t.Errorf("draw %d %v is not 20 items in training order", d, picked)
		}
		perClass := map[int32]int{}
		for _, i := range picked {
			perClass[task.Train.Class[i]]++
		}
		if perClass[0] != 10 || perClass[1] != 10 {
			t.Errorf("draw %d takes %v per class", d, perClass)
		}
		distinct[fmt.Sprint(picked)] = true
		// The instance of draw d was taught exactly its selection.
		for k, i := range picked {
			if !reflect.DeepEqual(ps[1+d].seen[k].Emb, task.Train.Emb[i*ds.Dim:(i+1)*ds.Dim]) {
				t.Fatalf("draw %d example %d is not item %d", d, k, i)
			}
		}
	}
	if len(distinct) != 4 {
		t.Errorf("%d distinct selections in 4 draws", len(distinct))
	}
	nn, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(nn.Draws) != 4 || math.Abs(nn.Accuracy-mean(nn.Draws)) > 1e-9 || nn.Min > nn.Accuracy || nn.Max < nn.Accuracy ||
		math.Abs((nn.PerClass[0]+nn.PerClass[1])/2-nn.Accuracy) > 1e-9 {
		t.Errorf("draws %v mean %v [%v, %v] per class %v", nn.Draws, nn.Accuracy, nn.Min, nn.Max, nn.PerClass)
	}
	if res.NeverNamed == nil || *res.NeverNamed != nn.Accuracy || res.NeverNamedDraws != 4 ||
		*res.NeverNamedMin != nn.Min || *res.NeverNamedMax != nn.Max {
		t.Errorf("result %v draws %d, measurement %+v", res.NeverNamed, res.NeverNamedDraws, nn)
	}
	// The teach-time views cover every item some draw teaches.
	items := fewShotItems(task.Train.Class, 2, 10, 4)
	for _, p := range picks {
		for _, i := range p {
			if !slices.Contains(items, i) {
				t.Fatalf("item %d of a draw has no place in %v", i, items)
			}
		}
	}
}

func TestUpdateCostPerExample(t *testing.T) {
	res := &Result{Matrix: [][]float64{{50}}, LearnSeconds: []float64{0.002, 0.004}, TrainExamples: 300}
	if err := finish(res); err != nil {
		t.Fatal(err)
	}
	if got := res.UpdateMicros; got < 19.999 || got > 20.001 {
		t.Errorf("update cost %v µs/example, want 20", got)
	}
}

// TestJointBoundsTheSequentialHead: the joint bound of the analytic head is
// fitted once (a second pass would count every example twice), knows each
// example's task and scores each task's test set with its own route, so it
// is at least as accurate as the same head learned task by task and routed
// by its selector; a head without task identities keeps its own routing.
func TestJointBoundsTheSequentialHead(t *testing.T) {
	for _, seed := range []uint64{3, 4, 5} {
		ds := synthDataset(seed)
		cfg := DefaultConfig()
		cfg.JointMethod = "analytic"
		seq, err := Run(context.Background(), ds, "analytic", cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		joint, err := RunJoint(context.Background(), ds, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !joint.OracleRoute || joint.Epochs != 1 || joint.TrainExamples != seq.TrainExamples {
			t.Errorf("seed %d: joint oracle %v, %d passes over %d examples (sequential: %d)", seed, joint.OracleRoute, joint.Epochs, joint.TrainExamples, seq.TrainExamples)
		}
		if joint.Last < seq.Last {
			t.Errorf("seed %d: joint Last %.1f below the sequential head's %.1f", seed, joint.Last, seq.Last)
		}
		cfg.JointMethod = "ncm"
		ncm, err := RunJoint(context.Background(), ds, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ncm.OracleRoute || ncm.Epochs != 1 {
			t.Errorf("seed %d: ncm joint oracle %v, %d passes", seed, ncm.OracleRoute, ncm.Epochs)
		}
	}
}
