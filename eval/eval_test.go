package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/clipfleet/clipfleet/accel/acceltest"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/learner/metrics"
	"github.com/clipfleet/clipfleet/preprocess"
	"github.com/clipfleet/clipfleet/tokenizer"
	"github.com/clipfleet/clipfleet/world"
)

// fake is the fast test encoder: small input so rendering is cheap.
func fake() *acceltest.Fake {
	return acceltest.New(acceltest.Config{ID: "fake-eval", Dim: 32, Image: preprocess.Spec{
		Size: 48, Layout: preprocess.NCHW, DType: preprocess.Float32,
		Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}})
}

func tinyScenario(t *testing.T) *world.Scenario {
	t.Helper()
	sc, err := world.LoadScenario(filepath.Join("testdata", "tiny.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// tinyTokenizer gives the fake encoder something to embed class prompts
// with, so zero-shot numbers are not trivially zero.
func tinyTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(testutil.RepoPath(t, "models", "tinyclip", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func harness(t *testing.T, enc *acceltest.Fake, cacheDir string) *Harness {
	t.Helper()
	cfg := DefaultConfig()
	cfg.CacheDir = cacheDir
	cfg.DriftBuckets = 4
	h, err := New(enc, tinyTokenizer(t), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDatasetShape(t *testing.T) {
	enc := fake()
	h := harness(t, enc, "")
	ds, status, st, err := h.Dataset(context.Background(), tinyScenario(t))
	if err != nil {
		t.Fatal(err)
	}
	if status != CacheOff {
		t.Errorf("status %s, want off", status)
	}
	want := 18 + 12 + 18 + 12 + 16 + 16 + 12 + 8
	if st.ImageCalls != want || enc.ImageCalls() != want {
		t.Errorf("image calls %d (fake saw %d), want %d", st.ImageCalls, enc.ImageCalls(), want)
	}
	if len(ds.Tasks) != 3 || len(ds.ZeroShot) != 2 {
		t.Fatalf("%d tasks, %d zero-shot sets", len(ds.Tasks), len(ds.ZeroShot))
	}
	if got := ds.Tasks[0].Classes; !reflect.DeepEqual(got, []string{"circle", "square", "triangle"}) {
		t.Errorf("classes %v", got)
	}
	// circle square triangle red blue
	if len(ds.Text) != 5 {
		t.Errorf("text embeddings for %d labels, want 5", len(ds.Text))
	}
	d := ds.Tasks[2].Test.Day
	if d[0] != 0 || d[len(d)-1] != 400 {
		t.Errorf("drift days run %d..%d, want 0..400", d[0], d[len(d)-1])
	}
}

func TestCacheHitMakesNoEncoderCalls(t *testing.T) {
	dir := t.TempDir()
	sc := tinyScenario(t)
	first, status, _, err := harness(t, fake(), dir).Dataset(context.Background(), sc)
	if err != nil || status != CacheMiss {
		t.Fatalf("first run: status %s, err %v", status, err)
	}
	enc := fake()
	second, status, st, err := harness(t, enc, dir).Dataset(context.Background(), sc)
	if err != nil || status != CacheHit {
		t.Fatalf("second run: status %s, err %v", status, err)
	}
	if enc.ImageCalls() != 0 || enc.TextCalls() != 0 || st.ImageCalls != 0 {
		t.Errorf("cache hit made %d image and %d text calls", enc.ImageCalls(), enc.TextCalls())
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("cached dataset differs from the built one")
	}
	// Another scenario (different sizes) must not hit this cache.
	sc2 := *sc
	sc2.Tasks = append([]world.Task(nil), sc.Tasks...)
	sc2.Tasks[0].Test = 6
	if _, status, _, err := harness(t, fake(), dir).Dataset(context.Background(), &sc2); err != nil || status != CacheMiss {
		t.Errorf("changed scenario: status %s, err %v; want a miss", status, err)
	}
}

func TestCorruptCacheIsRebuilt(t *testing.T) {
	dir := t.TempDir()
	sc := tinyScenario(t)
	if _, _, _, err := harness(t, fake(), dir).Dataset(context.Background(), sc); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.emb"))
	if len(files) != 1 {
		t.Fatalf("cache files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	b[len(b)/2] ^= 0x40
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
	enc := fake()
	if _, status, _, err := harness(t, enc, dir).Dataset(context.Background(), sc); err != nil || status != CacheCorrupt {
		t.Fatalf("status %s, err %v; want corrupt", status, err)
	}
	if enc.ImageCalls() == 0 {
		t.Error("corrupt cache was not rebuilt")
	}
	if _, status, _, _ := harness(t, fake(), dir).Dataset(context.Background(), sc); status != CacheHit {
		t.Errorf("after rebuild: status %s, want hit", status)
	}
}

func tinyDataset(t *testing.T) (*Harness, *Dataset) {
	t.Helper()
	h := harness(t, fake(), "")
	ds, _, _, err := h.Dataset(context.Background(), tinyScenario(t))
	if err != nil {
		t.Fatal(err)
	}
	return h, ds
}

func TestRunScoresMatchMetrics(t *testing.T) {
	h, ds := tinyDataset(t)
	for _, name := range []string{"ncm", "zeroshot", JointName} {
		t.Run(name, func(t *testing.T) {
			res, err := h.Run(context.Background(), ds, name)
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != name || len(res.Matrix) != 3 || len(res.ZeroShot) != 3 || len(res.Retention) != 2 {
				t.Fatalf("shape: %+v", res)
			}
			s, err := metrics.Summarize(res.Matrix)
			if err != nil {
				t.Fatal(err)
			}
			if res.Avg != s.Avg || res.Last != s.Last || *res.BWT != s.BWT {
				t.Errorf("scores %v %v %v, metrics say %+v", res.Avg, res.Last, *res.BWT, s)
			}
			// The joint model has learned every task: no transfer to report.
			if name == JointName {
				if res.Transfer != nil {
					t.Errorf("joint transfer %v, want null", *res.Transfer)
				}
			} else if res.Transfer == nil || *res.Transfer != s.Transfer {
				t.Errorf("transfer %v, metrics say %v", res.Transfer, s.Transfer)
			}
			if len(res.Drift) != 1 || len(res.Drift[0].Final) != 4 {
				t.Fatalf("drift curve %+v", res.Drift)
			}
			n := 0
			for _, c := range res.Drift[0].Count {
				n += c
			}
			if n != 16 {
				t.Errorf("drift buckets hold %d items, want 16", n)
			}
		})
	}
}

// synthDataset has well-separated class clusters and text embeddings
// unrelated to them, so only a method that learns can score above chance.
func synthDataset(seed uint64) *Dataset {
	const dim = 16
	rng := rand.New(rand.NewPCG(seed, 1))
	ds := &Dataset{ModelID: "synth", Dim: dim, Text: map[string][]float32{}}
	centre := map[string][]float32{}
	vec := func(c []float32, noise float32) []float32 {
		v := make([]float32, dim)
		for k := range v {
			v[k] = noise * float32(rng.NormFloat64())
			if c != nil {
				v[k] += c[k]
			}
		}
		return v
	}
	split := func(classes []string, n int) Split {
		var sp Split
		for i := 0; i < n; i++ {
			c := i % len(classes)
			sp.Emb = append(sp.Emb, vec(centre[classes[c]], 0.3)...)
			sp.Class = append(sp.Class, int32(c))
			sp.Day = append(sp.Day, int32(i))
		}
		return sp
	}
	for ti, classes := range [][]string{{"a", "b", "c"}, {"d", "e"}, {"f", "g", "h"}} {
		for _, c := range classes {
			centre[c] = vec(nil, 1)
			ds.Text[c] = vec(nil, 1)
		}
		kind := "base"
		if ti == 2 {
			kind = "drift"
		}
		ds.Tasks = append(ds.Tasks, Set{Name: fmt.Sprint("t", ti), Kind: kind, Classes: classes,
			Train: split(classes, 30), Test: split(classes, 30)})
	}
	ds.ZeroShot = []Set{{Name: "z", Classes: []string{"a", "d"}, Test: split([]string{"a", "d"}, 10)}}
	return ds
}

// The zero-shot method learns nothing: its matrix has every row equal to
// the zero-shot accuracies. NCM, which does learn, must beat it clearly on
// the tasks it has learned, since the text embeddings know nothing of the
// clusters.
func TestLearningShowsInMatrix(t *testing.T) {
	ds := synthDataset(3)
	cfg := DefaultConfig()
	cfg.Learner.NCM.Alpha = 0
	zs, err := Run(context.Background(), ds, "zeroshot", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range zs.Matrix {
		if !reflect.DeepEqual(row, zs.Initial) {
			t.Errorf("zeroshot row %d %v differs from initial %v", i, row, zs.Initial)
		}
	}
	if *zs.BWT != 0 {
		t.Errorf("zeroshot BWT %v, want 0", *zs.BWT)
	}
	ncm, err := Run(context.Background(), ds, "ncm", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ncm.Matrix {
		if ncm.Matrix[i][i] < 90 || ncm.Matrix[i][i] <= zs.Matrix[i][i] {
			t.Errorf("task %d: ncm %.1f%% after learning it, zero-shot %.1f%%", i, ncm.Matrix[i][i], zs.Matrix[i][i])
		}
	}
	// Before task 2 is learned NCM knows only its (useless) text there.
	if ncm.Matrix[0][2] != zs.Matrix[0][2] {
		t.Errorf("unlearned task: ncm %.1f, zeroshot %.1f", ncm.Matrix[0][2], zs.Matrix[0][2])
	}
	d := ncm.Drift[0]
	if len(d.Before) != len(d.After) || mean(d.After) < 90 {
		t.Errorf("drift curve before %v after %v", d.Before, d.After)
	}
	joint, err := RunJoint(context.Background(), ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *joint.BWT != 0 || len(joint.LearnSeconds) != 1 {
		t.Errorf("joint BWT %v, %d timings", *joint.BWT, len(joint.LearnSeconds))
	}
}

// Every registered method, including ones added later, runs through the
// harness by name.
func TestEveryRegisteredMethodRuns(t *testing.T) {
	h, ds := tinyDataset(t)
	for _, name := range learner.Methods() {
		t.Run(name, func(t *testing.T) {
			res, err := h.Run(context.Background(), ds, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := metrics.Matrix(res.Matrix).Validate(); err != nil {
				t.Error(err)
			}
			if len(res.Footprint) != 3 || len(res.LearnSeconds) != 3 {
				t.Errorf("per-task figures: %d footprints, %d times", len(res.Footprint), len(res.LearnSeconds))
			}
		})
	}
}

func TestFinishKnownMatrix(t *testing.T) {
	res := &Result{Matrix: [][]float64{{50, 20, 10}, {40, 60, 30}, {30, 50, 70}},
		ZeroShotInitial: []float64{40}, ZeroShot: [][]float64{{41}, {38}, {35}}}
	if err := finish(res); err != nil {
		t.Fatal(err)
	}
	// By hand: mean of all 9; mean of the last row; ((30−50)+(50−60))/2;
	// (20 + (10+30)/2)/2; forgetting ((50−30)+(60−50))/2.
	want := []float64{40, 50, -15, 20, 15}
	got := []float64{res.Avg, res.Last, *res.BWT, *res.Transfer, *res.Forgetting}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("score %d = %v, want %v", i, got[i], want[i])
		}
	}
	if res.Retention[0] != -5 {
		t.Errorf("retention %v, want -5", res.Retention)
	}
	one := &Result{Matrix: [][]float64{{80}}}
	if err := finish(one); err != nil || one.BWT != nil || one.Transfer != nil {
		t.Errorf("single task: bwt %v transfer %v err %v; want null scores", one.BWT, one.Transfer, err)
	}
	b, _ := json.Marshal(one)
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back["bwt"]; !ok || v != nil {
		t.Errorf("bwt in JSON %v, want null", v)
	}
}

func TestPlotPNG(t *testing.T) {
	results := []*Result{
		{Method: "a", Matrix: [][]float64{{100, 0}, {50, 100}}},
		{Method: "b", Matrix: [][]float64{{0, 0}, {0, 0}}},
	}
	var buf bytes.Buffer
	if err := Plot(&buf, results); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w, h := PlotSize(2, 2)
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("size %v, want %dx%d", b, w, h)
	}
	at := func(x, y int) [3]uint32 {
		r, g, b, _ := img.At(x, y).RGBA()
		return [3]uint32{r >> 8, g >> 8, b >> 8}
	}
	mid := plotCell / 2
	hot, cold := heat(100), heat(0)
	if got := at(plotPad+mid, plotPad+mid); got != [3]uint32{uint32(hot.R), uint32(hot.G), uint32(hot.B)} {
		t.Errorf("cell (0,0) of a is %v, want the 100%% colour", got)
	}
	if got := at(plotPad+plotCell+mid, plotPad+mid); got != [3]uint32{uint32(cold.R), uint32(cold.G), uint32(cold.B)} {
		t.Errorf("cell (0,1) of a is %v, want the 0%% colour", got)
	}
	if err := Plot(&buf, nil); err == nil {
		t.Error("plotting nothing succeeded")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Config){
		func(c *Config) { c.BatchSize = 0 },
		func(c *Config) { c.DriftBuckets = 0 },
		func(c *Config) { c.JointEpochs = 0 },
		func(c *Config) { c.Epochs = 0 },
		func(c *Config) { c.FewShot = -1 },
		func(c *Config) { c.FewShotDraws = 0 },
		func(c *Config) { c.Templates = []string{"no placeholder"} },
		func(c *Config) { c.Templates = nil },
	} {
		c := DefaultConfig()
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: err %v", c, err)
		}
	}
}
