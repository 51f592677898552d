package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/learner"
)

const learnDim = 16

var learnInfo = accel.ModelInfo{ID: "test-model", EmbeddingDim: learnDim, LogitScale: 50}

func randVec(rng *rand.Rand) []float32 {
	v := make([]float32, learnDim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// near returns a noisy copy of v.
func near(rng *rand.Rand, v []float32, noise float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = v[i] + noise*float32(rng.NormFloat64())
	}
	return out
}

func openTestLearner(t *testing.T, dir string, mut func(*LearnerOptions)) *Learner {
	t.Helper()
	o := LearnerOptions{Config: learner.DefaultConfig(), Learn: DefaultLearnConfig(), Dir: dir, Info: learnInfo, TopK: 2}
	if mut != nil {
		mut(&o)
	}
	l, err := OpenLearner(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func top(t *testing.T, classify func([]float32) []Label, emb []float32) string {
	t.Helper()
	out := classify(emb)
	if len(out) == 0 {
		return ""
	}
	return out[0].Name
}

func TestLearnerTeachClassifyUndo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cat, dog, widget := randVec(rng), randVec(rng), randVec(rng)
	set, err := labels.NewSet(learnInfo.ID, learnDim, []labels.Entry{{Name: "cat", Vector: cat}, {Name: "dog", Vector: dog}})
	if err != nil {
		t.Fatal(err)
	}
	clf := labels.NewClassifier(learnDim, learnInfo.LogitScale, 2)
	if err := clf.Store(set); err != nil {
		t.Fatal(err)
	}
	l := openTestLearner(t, "", nil)
	classify := l.ClassifyFunc(clf)
	if got := top(t, classify, near(rng, cat, 0.1)); got != "cat" {
		t.Fatalf("zero-shot: %q, want cat", got)
	}
	if got := top(t, classify, widget); got == "widget" {
		t.Fatal("widget known before teaching")
	}
	var embs [][]float32
	for range 5 {
		embs = append(embs, near(rng, widget, 0.1))
	}
	act, err := l.Teach("Widget", embs)
	if err != nil || act.Accepted != 5 {
		t.Fatalf("teach: %+v, %v", act, err)
	}
	if got := top(t, classify, near(rng, widget, 0.1)); got != "widget" {
		t.Errorf("after teaching: %q, want widget", got)
	}
	st := l.Status()
	if st.Method != "ncm" || st.Version != 1 || len(st.History) != 1 {
		t.Errorf("status %+v", st)
	}
	if _, err := l.Undo(1); err != nil {
		t.Fatal(err)
	}
	if got := top(t, classify, near(rng, widget, 0.1)); got == "widget" {
		t.Error("widget still predicted after undo")
	}
	if _, err := l.Undo(1); !errors.Is(err, learner.ErrNothingToUndo) {
		t.Errorf("second undo: %v", err)
	}
}

func TestLearnerCheckpointRestoreAndCorruption(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randVec(rng), randVec(rng)
	l := openTestLearner(t, dir, nil)
	if _, err := l.Teach("alpha", [][]float32{a, near(rng, a, 0.05)}); err != nil {
		t.Fatal(err)
	}
	if seq, err := l.Save(false); err != nil || seq == 0 {
		t.Fatalf("save: %d %v", seq, err)
	}
	if seq, _ := l.Save(false); seq != 0 {
		t.Errorf("unchanged state saved again as %d", seq)
	}
	if _, err := l.Teach("beta", [][]float32{b}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Save(false); err != nil {
		t.Fatal(err)
	}

	r := openTestLearner(t, dir, nil)
	if got := top(t, r.ClassifyFunc(nil), b); got != "beta" {
		t.Errorf("restored: %q, want beta", got)
	}
	st := r.Status()
	if st.Replay != 3 || st.Version != 2 {
		t.Errorf("restored status %+v", st)
	}

	// Corrupt the newest checkpoint: the one before it loads (alpha only).
	files, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.bin"))
	if len(files) != 2 {
		t.Fatalf("checkpoints %v", files)
	}
	raw, _ := os.ReadFile(files[1])
	raw[len(raw)-3] ^= 0xff
	if err := os.WriteFile(files[1], raw, 0o600); err != nil {
		t.Fatal(err)
	}
	r = openTestLearner(t, dir, nil)
	classify := r.ClassifyFunc(nil)
	if got := top(t, classify, a); got != "alpha" {
		t.Errorf("after corruption: %q, want alpha", got)
	}
	if _, ok := r.labels.Current().Lookup("beta"); ok {
		t.Error("beta from the corrupt checkpoint was loaded")
	}

	// Another method's state is refused, not overwritten.
	_, err := OpenLearner(LearnerOptions{Config: func() learner.Config { c := learner.DefaultConfig(); c.Method = "knn"; return c }(),
		Learn: DefaultLearnConfig(), Dir: dir, Info: learnInfo})
	if !errors.Is(err, ErrStateMismatch) {
		t.Errorf("knn over an ncm checkpoint: %v", err)
	}
}

func TestLearnerRunSavesOnShutdown(t *testing.T) {
	dir := t.TempDir()
	l := openTestLearner(t, dir, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	if _, err := l.Teach("gamma", [][]float32{randVec(rand.New(rand.NewPCG(5, 6)))}); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if st := openTestLearner(t, dir, nil).Status(); st.Version != 1 {
		t.Errorf("after shutdown: version %d, want 1", st.Version)
	}
}

func TestLearnerCapsAndBackground(t *testing.T) {
	l := openTestLearner(t, "", func(o *LearnerOptions) { o.Config.Caps.MaxTaughtPerClass = 2 })
	rng := rand.New(rand.NewPCG(7, 8))
	act, err := l.Teach("background", [][]float32{randVec(rng), randVec(rng), randVec(rng)})
	if err != nil || act.Accepted != 2 || act.Dropped != 1 || act.Label != learner.Background {
		t.Errorf("capped teach: %+v, %v", act, err)
	}
	if _, err := l.Teach("background", [][]float32{randVec(rng)}); !errors.Is(err, learner.ErrClassFull) {
		t.Errorf("full class: %v", err)
	}
	if _, err := l.Teach("x", [][]float32{{1, 2}}); !errors.Is(err, learner.ErrDim) {
		t.Errorf("short embedding: %v", err)
	}
}

func TestLearnerTeachFrames(t *testing.T) {
	l := openTestLearner(t, "", func(o *LearnerOptions) { o.Learn.TeachTimeout = 5 * time.Second })
	classify := l.ClassifyFunc(nil)
	rng := rand.New(rand.NewPCG(9, 10))
	v := randVec(rng)
	type result struct {
		act learner.Action
		err error
	}
	res := make(chan result, 1)
	go func() {
		act, err := l.TeachFrames(context.Background(), "thing", 3)
		res <- result{act, err}
	}()
	var got result
	for done := false; !done; {
		select {
		case got = <-res:
			done = true
		default:
			classify(near(rng, v, 0.05))
			time.Sleep(time.Millisecond)
		}
	}
	if got.err != nil || got.act.Accepted != 3 {
		t.Fatalf("teach frames: %+v %v", got.act, got.err)
	}
	if name := top(t, classify, v); name != "thing" {
		t.Errorf("after teaching frames: %q", name)
	}

	short := openTestLearner(t, "", func(o *LearnerOptions) { o.Learn.TeachTimeout = 20 * time.Millisecond })
	if _, err := short.TeachFrames(context.Background(), "thing", 2); !errors.Is(err, ErrTeachTimeout) {
		t.Errorf("no frames: %v", err)
	}
	if len(short.pending) != 0 {
		t.Error("timed-out request still pending")
	}
}

func TestLearnerPseudoLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cat := randVec(rng)
	set, _ := labels.NewSet(learnInfo.ID, learnDim, []labels.Entry{{Name: "cat", Vector: cat}, {Name: "dog", Vector: randVec(rng)}})
	clf := labels.NewClassifier(learnDim, learnInfo.LogitScale, 2)
	_ = clf.Store(set)
	for _, enabled := range []bool{false, true} {
		l := openTestLearner(t, "", func(o *LearnerOptions) { o.Config.Pseudo.Enabled = enabled })
		classify := l.ClassifyFunc(clf)
		for range 8 {
			classify(near(rng, cat, 0.05))
		}
		var pseudo int
		for _, c := range l.Status().Classes {
			if c.Name == "cat" {
				pseudo = c.Pseudo
			}
		}
		if (pseudo > 0) != enabled {
			t.Errorf("pseudo enabled=%v: %d pseudo examples of cat", enabled, pseudo)
		}
	}
}

func TestLearnerHTTP(t *testing.T) {
	l := openTestLearner(t, "", nil)
	srv := httptest.NewServer(WithLearner(http.NotFoundHandler(), l))
	defer srv.Close()
	post := func(path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	emb := randVec(rand.New(rand.NewPCG(13, 14)))
	if code, out := post("/api/v1/teach", TeachRequest{Label: "mug", Embeddings: [][]float32{emb}, ModelID: learnInfo.ID}); code != 200 {
		t.Errorf("teach: %d %v", code, out)
	}
	if code, _ := post("/api/v1/teach", TeachRequest{Label: "mug", Embeddings: [][]float32{emb}, ModelID: "other"}); code != http.StatusConflict {
		t.Errorf("teach from another model: %d", code)
	}
	if code, _ := post("/api/v1/teach", TeachRequest{Label: "mug"}); code != http.StatusBadRequest {
		t.Errorf("teach with nothing: %d", code)
	}
	resp, err := http.Get(srv.URL + "/api/v1/learner")
	if err != nil {
		t.Fatal(err)
	}
	var st LearnerStatus
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	found := false
	for _, c := range st.Classes {
		found = found || (c.Name == "mug" && c.Taught == 1)
	}
	if !found || st.Method != "ncm" {
		t.Errorf("learner status %+v", st)
	}
	if code, out := post("/api/v1/undo", UndoRequest{}); code != 200 || len(out["undone"].([]any)) != 1 {
		t.Errorf("undo: %d %v", code, out)
	}
	if code, _ := post("/api/v1/undo", UndoRequest{N: 1}); code != http.StatusConflict {
		t.Errorf("undo of nothing: %d", code)
	}
	if resp, _ := http.Get(srv.URL + "/healthz"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("base handler not reached: %d", resp.StatusCode)
	}
}

// A wrong teach can still be undone after the daemon restarted (ncm
// unlearns exactly, so its journal is checkpointed).
func TestLearnerUndoAfterRestart(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	cup, mug := randVec(rng), randVec(rng)
	l := openTestLearner(t, dir, nil)
	embs := func(v []float32) [][]float32 {
		out := make([][]float32, 5)
		for i := range out {
			out[i] = near(rng, v, 0.1)
		}
		return out
	}
	if _, err := l.Teach("cup", embs(cup)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Teach("cup", embs(mug)); err != nil { // the wrong label
		t.Fatal(err)
	}
	if _, err := l.Save(true); err != nil {
		t.Fatal(err)
	}
	l2 := openTestLearner(t, dir, nil)
	if got := top(t, l2.ClassifyFunc(nil), near(rng, mug, 0.1)); got != "cup" {
		t.Fatalf("before undo a mug is %q", got)
	}
	done, err := l2.Undo(1)
	if err != nil || len(done) != 1 {
		t.Fatalf("undo after restart: %v %v", done, err)
	}
	if st := l2.Status(); len(st.History) != 1 || st.Classes[len(st.Classes)-1].Taught != 5 {
		t.Fatalf("after undo: history %v classes %+v", st.History, st.Classes)
	}
}
