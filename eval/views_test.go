package eval

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/world"
)

// The harness encodes Views augmented views of exactly the pictures the
// never-named measurement teaches, caches them under their own key, and
// leaves the key of a dataset without views as it was.
func TestDatasetTeachViews(t *testing.T) {
	sc, err := world.LoadScenario(filepath.Join("testdata", "newshapes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	build := func(views int) (*Dataset, CacheStatus, int) {
		t.Helper()
		cfg := DefaultConfig()
		cfg.CacheDir, cfg.FewShot, cfg.FewShotDraws = dir, 2, 1
		cfg.TeachAugment.Views = views
		enc := fake()
		h, err := New(enc, tinyTokenizer(t), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds, status, _, err := h.Dataset(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		return ds, status, enc.ImageCalls()
	}
	plain, status, calls := build(0)
	pictures := 6 + 4 + 12 + 6
	if status != CacheMiss || calls != pictures || plain.Views != nil {
		t.Fatalf("no views: status %s, %d calls, views %v", status, calls, plain.Views)
	}
	withViews, status, calls := build(3)
	if status != CacheMiss || calls != pictures+3*2*3 {
		t.Fatalf("3 views: status %s, %d calls, want a miss and %d", status, calls, pictures+18)
	}
	tv := withViews.Views
	task := withViews.Tasks[1]
	draws, _ := fewShotDraws(task.Train.Class, 3, 2, 1)
	want := draws[0]
	if tv == nil || tv.Task != "new-shapes" || tv.Views != 3 || len(tv.Items) != len(want) {
		t.Fatalf("views %+v", tv)
	}
	for k, i := range want {
		if int(tv.Items[k]) != i {
			t.Fatalf("view items %v, want %v", tv.Items, want)
		}
		vs := tv.Of(i, withViews.Dim)
		orig := task.Train.Emb[i*withViews.Dim : (i+1)*withViews.Dim]
		if len(vs) != 3 || reflect.DeepEqual(vs[0], vs[1]) || reflect.DeepEqual(vs[0], orig) {
			t.Errorf("item %d: views are not distinct views of the picture", i)
		}
	}
	if tv.Of(-5, withViews.Dim) != nil {
		t.Error("views of an item that has none")
	}
	if !reflect.DeepEqual(plain.Tasks, withViews.Tasks) {
		t.Error("the views changed the task embeddings")
	}
	if _, status, calls := build(3); status != CacheHit || calls != 0 {
		t.Errorf("second build with views: status %s, %d calls", status, calls)
	}
	if _, status, _ := build(0); status != CacheHit {
		t.Errorf("the views replaced the plain cache: status %s", status)
	}
}

// NeverNamed teaches each picture followed by its views, and refuses a
// dataset without the views the configuration asks for.
func TestNeverNamedTeachesViews(t *testing.T) {
	ds := synthDataset(6)
	ds.Tasks[1].Kind = NewClassesKind
	cfg := DefaultConfig()
	cfg.Learner.NCM.Alpha = 0
	cfg.FewShot, cfg.FewShotDraws, cfg.TeachAugment.Views = 4, 1, 2
	if _, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil); !errors.Is(err, ErrNoViews) {
		t.Fatalf("no views in the dataset: err %v", err)
	}
	task := &ds.Tasks[1]
	draws, _ := fewShotDraws(task.Train.Class, 2, 4, 1)
	picked := draws[0]
	tv := &TeachViews{Task: task.Name, Views: 2}
	for _, i := range picked {
		tv.Items = append(tv.Items, int32(i))
		for v := 0; v < 2; v++ {
			// A view is the picture nudged: distinguishable, same class.
			for k := 0; k < ds.Dim; k++ {
				tv.Emb = append(tv.Emb, task.Train.Emb[i*ds.Dim+k]+float32(v+1)*0.01)
			}
		}
	}
	ds.Views = tv
	res, ps := runProbe(t, ds, cfg)
	few := ps[1]
	if len(few.seen) != 8*3*cfg.Epochs {
		t.Fatalf("few-shot instance learned %d examples, want 8 pictures × (1 + 2 views) × %d passes", len(few.seen), cfg.Epochs)
	}
	for k, i := range picked {
		if !reflect.DeepEqual(few.seen[3*k].Emb, task.Train.Emb[i*ds.Dim:(i+1)*ds.Dim]) {
			t.Fatalf("example %d is not picture %d", 3*k, i)
		}
		for v, e := range few.seen[3*k+1 : 3*k+3] {
			if !reflect.DeepEqual(e.Emb, tv.Of(i, ds.Dim)[v]) || e.Label != few.seen[3*k].Label {
				t.Fatalf("example %d is not view %d of picture %d with its label", 3*k+1+v, v, i)
			}
		}
	}
	if res.TeachViews != 2 || res.TeachAugment == nil || res.TeachAugment.Views != 2 || len(res.NeverNamedPerClass) != 2 {
		t.Errorf("result: teach views %d, augment %v, per class %v", res.TeachViews, res.TeachAugment, res.NeverNamedPerClass)
	}
	// Views of another count are not these views.
	cfg.TeachAugment.Views = 3
	if _, err := NeverNamed(context.Background(), ds, "ncm", cfg, nil); !errors.Is(err, ErrNoViews) {
		t.Errorf("3 views asked, 2 cached: err %v", err)
	}
}

func TestMarkdownPerClass(t *testing.T) {
	nn, lo, hi := 60.0, 51.25, 70.0
	res := []*Result{
		{Method: "ncm", Tasks: []string{"t"}, Matrix: [][]float64{{50}}, FewShot: 10, TeachViews: 4, NeverNamed: &nn,
			NeverNamedMin: &lo, NeverNamedMax: &hi, NeverNamedDraws: 30,
			NeverNamedClasses: []string{"crescent", "arrow", "bolt"}, NeverNamedPerClass: []float64{80, 80.1, 20}},
		{Method: "joint", Tasks: []string{"t"}, Matrix: [][]float64{{50}}},
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, res); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| never-named 10-shot (+4 views), mean (min–max) of 30 draws |",
		"| 60.0 (51.2–70.0) |",
		"| method | crescent | arrow | bolt | classes above 80% |",
		"| ncm | 80.0 | **80.1** | 20.0 | 1/3 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	_, perClass, _ := strings.Cut(md, "classes above 80% |")
	perClass, _, _ = strings.Cut(perClass, "\n\n")
	if strings.Contains(perClass, "joint") {
		t.Errorf("joint, which has no never-named measurement, has a per-class row:\n%s", md)
	}
}
