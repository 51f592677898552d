package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/learner/checkpoint"
	"github.com/clipfleet/clipfleet/learner/replay"
)

// Learner errors the debug API maps to status codes.
var (
	// ErrTeachTimeout: fewer frames than asked arrived before the deadline.
	ErrTeachTimeout = errors.New("daemon: teach timed out waiting for frames")
	// ErrStateMismatch: a checkpoint or request is for another method or model.
	ErrStateMismatch = errors.New("daemon: learner state is for another method or model")
)

// Checkpoint sections.
const (
	secMeta    = "meta"
	secLabels  = "labels"
	secMethod  = "method"
	secTrainer = "trainer"
	secReplay  = "replay"
)

// learnMeta identifies what a checkpoint holds, so state is never loaded
// into another method or another model's embedding space.
type learnMeta struct {
	Method  string `json:"method"`
	ModelID string `json:"model_id"`
	Dim     int    `json:"dim"`
	Changes uint64 `json:"changes"`
}

// LearnerOptions configure OpenLearner.
type LearnerOptions struct {
	Config learner.Config // the learner section; Dim, ModelID and LogitScale come from Info
	Learn  LearnConfig
	// Dir is the checkpoint directory; "" keeps nothing on disk.
	Dir  string
	Info accel.ModelInfo
	TopK int // labels per event
	Log  *slog.Logger
}

// Learner is the daemon's continual learner: a method over a label registry
// fed from the label set, a Trainer (caps, undo, pseudo labels), a replay
// memory of taught examples, and crash-safe checkpoints. It is safe for
// concurrent use: frames are classified on the encode stage while teach
// and undo requests arrive from the debug API.
type Learner struct {
	cfg     learner.Config
	lc      LearnConfig
	log     *slog.Logger
	labels  *learner.Labels
	method  learner.Method
	trainer *learner.Trainer
	store   *checkpoint.Store
	topK    int

	// gate orders learning against fleet adapters: teach, undo, pseudo
	// labels, exports and checkpoints hold it shared; a global adapter
	// holds it exclusively from Apply to Commit or Rollback, so nothing
	// learned in that window is lost by a rollback and no checkpoint
	// records an adapter that is not committed.
	gate sync.RWMutex
	ab   *abState // the adapter being tried, nil outside Apply…Commit/Rollback

	mu      sync.Mutex // guards everything below
	replay  *replay.Memory
	logits  []float32
	probs   []float32
	order   []int
	pending []*frameTeach
	// frameViews are the augmented views of the frame about to be fed
	// (FeedViews, then the frame through ClassifyFunc).
	frameViews [][]float32
	lastSet    *labels.Set
	changes    uint64 // bumped by every state change
	// exported is changes at the last ExportDelta: nothing new to send
	// while they are equal.
	exported uint64
	exportID uint64     // the outstanding (sent, not yet merged) export's learner.Delta.ID; 0: none
	health   SyncHealth // set by OpenFleet
	saved    uint64     // changes at the last checkpoint
	seq      uint64     // last checkpoint sequence
}

// frameTeach collects the next frames' embeddings for a teach request,
// each frame followed by the embeddings of its augmented views when aug
// asks for views.
type frameTeach struct {
	want   int // frames
	frames int
	aug    augment.Config
	embs   [][]float32
	done   chan struct{}
}

// OpenLearner builds the configured method and restores the newest valid
// checkpoint from o.Dir. A corrupt checkpoint file is set aside by the
// store and the one before it loads; a valid checkpoint of another method
// or model is an error, since starting fresh would overwrite it.
func OpenLearner(o LearnerOptions) (*Learner, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := o.Learn.Validate(); err != nil {
		return nil, err
	}
	cfg := o.Config
	cfg.Dim, cfg.ModelID = o.Info.EmbeddingDim, o.Info.ID
	// The logit scale is the model's learned temperature: with another
	// one, probabilities would disagree with zero-shot classification.
	if o.Info.LogitScale > 0 {
		cfg.LogitScale = o.Info.LogitScale
	}
	l := &Learner{cfg: cfg, lc: o.Learn, log: o.Log.With("component", "learner"), topK: max(1, o.TopK),
		labels: learner.NewLabels(cfg.Dim), health: DefaultSyncConfig().Health}
	var sections map[string][]byte
	if o.Dir != "" {
		st, err := checkpoint.Open(o.Dir, o.Learn.Checkpoint, l.log)
		if err != nil {
			return nil, err
		}
		l.store = st
		payload, seq, err := st.Load()
		switch {
		case errors.Is(err, checkpoint.ErrNoCheckpoint):
		case err != nil:
			return nil, err
		default:
			if sections, err = checkpoint.DecodeSections(payload); err != nil {
				return nil, fmt.Errorf("daemon: learner checkpoint %d: %w", seq, err)
			}
			l.seq = seq
		}
	}
	if sections != nil {
		var meta learnMeta
		if err := json.Unmarshal(sections[secMeta], &meta); err != nil {
			return nil, fmt.Errorf("daemon: learner checkpoint meta: %w", err)
		}
		if meta.Method != cfg.Method || meta.ModelID != cfg.ModelID || meta.Dim != cfg.Dim {
			return nil, fmt.Errorf("%w: %s holds %s on %s (%d-d), config wants %s on %s (%d-d); move it away to start fresh",
				ErrStateMismatch, o.Dir, meta.Method, meta.ModelID, meta.Dim, cfg.Method, cfg.ModelID, cfg.Dim)
		}
		if err := l.labels.UnmarshalBinary(sections[secLabels]); err != nil {
			return nil, fmt.Errorf("daemon: learner labels: %w", err)
		}
		l.changes, l.saved = meta.Changes, meta.Changes
	}
	var err error
	if l.method, err = learner.New(cfg, l.labels, l.log); err != nil {
		return nil, err
	}
	if l.trainer, err = learner.NewTrainer(l.method, l.labels, cfg, l.log); err != nil {
		return nil, err
	}
	if sections != nil {
		if err := l.method.Restore(sections[secMethod]); err != nil {
			return nil, fmt.Errorf("daemon: learner method state: %w", err)
		}
		if err := l.trainer.UnmarshalBinary(sections[secTrainer]); err != nil {
			return nil, fmt.Errorf("daemon: learner trainer state: %w", err)
		}
		if l.replay, err = replay.Decode(sections[secReplay], o.Learn.Replay, cfg.Dim); err != nil {
			return nil, fmt.Errorf("daemon: learner replay memory: %w", err)
		}
		l.log.Info("learner state restored", "checkpoint", l.seq, "method", cfg.Method, "classes", l.labels.Len())
	} else if l.replay, err = replay.New(o.Learn.Replay, cfg.Dim); err != nil {
		return nil, err
	}
	return l, nil
}

// Method is the method name.
func (l *Learner) Method() string { return l.cfg.Method }

// SyncLabels makes every label of set known to the learner, with its text
// embedding, so zero-shot classes score before anything is taught. Labels
// later removed from the vocabulary stay: what was taught is not dropped
// by editing a file.
func (l *Learner) SyncLabels(set *labels.Set) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncLocked(set)
}

func (l *Learner) syncLocked(set *labels.Set) {
	if set == nil || set == l.lastSet {
		return
	}
	l.lastSet = set
	if set.Dim() != l.cfg.Dim {
		l.log.Error("label set dimension differs from the model's; not used", "set_dim", set.Dim(), "dim", l.cfg.Dim)
		return
	}
	for i := 0; i < set.Len(); i++ {
		id, name := set.ID(i), set.Name(i)
		if err := l.labels.AddID(id, name); err != nil {
			l.log.Warn("label not added to the learner", "label", name, "err", err)
			continue
		}
		if err := l.labels.SetText(id, set.Vector(i)); err != nil {
			l.log.Warn("label text not set", "label", name, "err", err)
		}
	}
}

// ClassifyFunc returns a daemon.Options.Classify that keeps the learner's
// labels in step with clf's current set, feeds pending teach-by-frames
// requests, optionally pseudo-labels, and reports the method's top labels.
func (l *Learner) ClassifyFunc(clf *labels.Classifier) func([]float32) []Label {
	var warned bool
	return func(emb []float32) []Label {
		l.mu.Lock()
		defer l.mu.Unlock()
		if clf != nil {
			l.syncLocked(clf.Current())
		}
		l.feedLocked(emb)
		// While a fleet adapter is on trial, frames are classified with
		// it but not learned from (TryRLock: the frame path never waits).
		if l.cfg.Pseudo.Enabled && l.gate.TryRLock() {
			// One track: consecutive frames of one camera are the
			// repeated attempts the consensus needs.
			if o, err := l.trainer.Observe("camera", emb); err != nil {
				l.log.Warn("pseudo-labelling failed", "err", err)
			} else if o.Learned > 0 {
				l.changes++
			}
			l.gate.RUnlock()
		}
		out, err := l.predictLocked(emb)
		if err != nil && !warned {
			l.log.Error("learner prediction failed; events carry no labels", "err", err)
			warned = true
		}
		return out
	}
}

func (l *Learner) predictLocked(emb []float32) ([]Label, error) {
	var err error
	if l.logits, err = l.method.Predict(emb, l.logits); err != nil {
		return nil, err
	}
	l.probs = learner.Softmax(l.logits, l.probs)
	s := l.labels.Current()
	l.order = l.order[:0]
	for i, p := range l.probs {
		// A class the method knows nothing of is not a guess, even
		// when Softmax spreads mass over an all-unknown row.
		if p > 0 && i < s.Len() && l.logits[i] != learner.NoLogit {
			l.order = append(l.order, i)
		}
	}
	sort.SliceStable(l.order, func(a, b int) bool { return l.probs[l.order[a]] > l.probs[l.order[b]] })
	n := min(l.topK, len(l.order))
	if n == 0 {
		return nil, nil
	}
	out := make([]Label, n)
	for k, i := range l.order[:n] {
		name := s.Name(i)
		if name == "" {
			name = s.ID(i).String()
		}
		out[k] = Label{Name: name, Prob: l.probs[i]}
	}
	return out, nil
}

func (l *Learner) feedLocked(emb []float32) {
	views := l.frameViews
	l.frameViews = nil
	kept := l.pending[:0]
	for _, p := range l.pending {
		p.embs = append(p.embs, append([]float32(nil), emb...))
		if p.aug.Views > 0 {
			p.embs = append(p.embs, views...)
		}
		if p.frames++; p.frames == p.want {
			close(p.done)
			continue
		}
		kept = append(kept, p)
	}
	clear(l.pending[len(kept):])
	l.pending = kept
}

// WantViews implements ViewTeacher: the augmentation of the first pending
// teach request that asks for views (Views 0: none wants any). Every
// pending request that asks for views gets the views made with it.
func (l *Learner) WantViews() augment.Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.pending {
		if p.aug.Views > 0 {
			return p.aug
		}
	}
	return augment.Config{}
}

// FeedViews implements ViewTeacher: the views of the frame the next
// ClassifyFunc call brings.
func (l *Learner) FeedViews(views [][]float32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frameViews = l.frameViews[:0]
	for _, v := range views {
		if len(v) == l.cfg.Dim {
			l.frameViews = append(l.frameViews, append([]float32(nil), v...))
		}
	}
}

// Teach learns embs as examples of the label name (created if new;
// "background" is the none class). Examples beyond the class's cap are
// dropped and reported in the action (ErrClassFull if none fit).
func (l *Learner) Teach(name string, embs [][]float32) (learner.Action, error) {
	for i, e := range embs {
		if len(e) != l.cfg.Dim {
			return learner.Action{}, fmt.Errorf("%w: embedding %d has %d values, model has %d", learner.ErrDim, i, len(e), l.cfg.Dim)
		}
	}
	l.gate.RLock()
	defer l.gate.RUnlock()
	id, err := l.labels.Add(name)
	if err != nil {
		return learner.Action{}, err
	}
	act, err := l.trainer.Teach(id, embs...)
	if err != nil {
		return act, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range embs[:act.Accepted] {
		if _, err := l.replay.Add(learner.Example{Emb: e, Label: id, Source: learner.Taught}); err != nil {
			l.log.Warn("replay memory refused an example", "err", err)
		}
	}
	l.changes++
	l.log.Info("taught", "label", learner.CanonicalName(name), "accepted", act.Accepted, "dropped", act.Dropped)
	return act, nil
}

// TeachFrames teaches the next n frames the pipeline classifies as name.
// It waits at most LearnConfig.TeachTimeout (or until ctx ends).
func (l *Learner) TeachFrames(ctx context.Context, name string, n int) (learner.Action, error) {
	return l.TeachFramesWithViews(ctx, name, n, augment.Config{})
}

// TeachFramesWithViews is TeachFrames with aug.Views augmented views of
// each frame taught after it (the pipeline makes them when the daemon's
// Options.Views is this learner; without that the request times out). Only
// for labels whose identity survives aug: augment.ShapeConfig turns and
// recolours, right for "crescent", wrong for "red light" or "left arrow".
func (l *Learner) TeachFramesWithViews(ctx context.Context, name string, n int, aug augment.Config) (learner.Action, error) {
	if n < 1 {
		return learner.Action{}, fmt.Errorf("daemon: teach %d frames", n)
	}
	if learner.CanonicalName(name) == "" {
		return learner.Action{}, fmt.Errorf("daemon: empty label name")
	}
	if aug.Views > 0 {
		if err := aug.Validate(); err != nil {
			return learner.Action{}, fmt.Errorf("daemon: teach views: %w", err)
		}
	}
	p := &frameTeach{want: n, aug: aug, done: make(chan struct{})}
	l.mu.Lock()
	l.pending = append(l.pending, p)
	l.mu.Unlock()
	timer := time.NewTimer(l.lc.TeachTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return l.Teach(name, p.embs)
	case <-ctx.Done():
		l.cancel(p)
		return learner.Action{}, context.Cause(ctx)
	case <-timer.C:
		got := l.cancel(p)
		return learner.Action{}, fmt.Errorf("%w: %d of %d frames in %v", ErrTeachTimeout, got, n, l.lc.TeachTimeout)
	}
}

// cancel withdraws a pending request and reports how many frames it got.
func (l *Learner) cancel(p *frameTeach) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, q := range l.pending {
		if q == p {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			break
		}
	}
	return p.frames
}

// Undo reverts the last n teach actions. For methods that unlearn exactly
// (ncm, knn, analytic, ...) the journal is checkpointed and survives a
// restart; for snapshot-undo methods (finetune, ...) a restart, an export or
// a fleet merge ends it. Undone examples may remain in the replay memory,
// which only samples what was seen.
func (l *Learner) Undo(n int) ([]learner.Action, error) {
	l.gate.RLock()
	defer l.gate.RUnlock()
	done, err := l.trainer.Undo(n)
	if len(done) > 0 {
		l.mu.Lock()
		l.changes++
		l.mu.Unlock()
		l.log.Info("undone", "actions", len(done))
	}
	return done, err
}

// ClassStatus is one class of LearnerStatus.
type ClassStatus struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Text   bool   `json:"text"` // has a text embedding
	Taught int    `json:"taught"`
	Pseudo int    `json:"pseudo"`
}

// LearnerStatus is what GET /api/v1/learner reports.
type LearnerStatus struct {
	Method     string           `json:"method"`
	ModelID    string           `json:"model_id"`
	Version    uint64           `json:"version"` // bumped by every change
	Checkpoint uint64           `json:"checkpoint"`
	Pseudo     bool             `json:"pseudo_labels"`
	Classes    []ClassStatus    `json:"classes"`
	History    []learner.Action `json:"history"`
	Replay     int              `json:"replay_examples"`
	// PendingFrames is how many frames teach requests still wait for.
	PendingFrames int               `json:"pending_teach_frames"`
	Footprint     learner.Footprint `json:"footprint"`
}

// PendingFrames is how many more frames the pending teach requests wait for.
func (l *Learner) PendingFrames() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, p := range l.pending {
		n += p.want - p.frames
	}
	return n
}

// Status reports the learner's state.
func (l *Learner) Status() LearnerStatus {
	s := l.labels.Current()
	st := LearnerStatus{Method: l.cfg.Method, ModelID: l.cfg.ModelID, Pseudo: l.cfg.Pseudo.Enabled,
		History: l.trainer.History(), Footprint: l.method.Footprint()}
	for i := 0; i < s.Len(); i++ {
		t, p := l.trainer.Counts(s.ID(i))
		st.Classes = append(st.Classes, ClassStatus{ID: s.ID(i).String(), Name: s.Name(i), Text: s.Text(i) != nil, Taught: t, Pseudo: p})
	}
	st.PendingFrames = l.PendingFrames()
	l.mu.Lock()
	st.Version, st.Checkpoint, st.Replay = l.changes, l.seq, l.replay.Len()
	l.mu.Unlock()
	return st
}

// Save writes a checkpoint if anything changed since the last one (or
// force), and returns its sequence number (0: nothing written).
func (l *Learner) Save(force bool) (uint64, error) {
	if l.store == nil {
		return 0, nil
	}
	l.gate.RLock()
	defer l.gate.RUnlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.saveLocked(force)
}

// saveLocked is Save with gate and mu held.
func (l *Learner) saveLocked(force bool) (uint64, error) {
	if l.store == nil {
		return 0, nil
	}
	if !force && l.changes == l.saved {
		return 0, nil
	}
	meta, _ := json.Marshal(learnMeta{Method: l.cfg.Method, ModelID: l.cfg.ModelID, Dim: l.cfg.Dim, Changes: l.changes})
	sec := map[string][]byte{secMeta: meta}
	var err error
	if sec[secLabels], err = l.labels.MarshalBinary(); err != nil {
		return 0, err
	}
	if sec[secMethod], err = l.method.Snapshot(); err != nil {
		return 0, err
	}
	if sec[secTrainer], err = l.trainer.MarshalBinary(); err != nil {
		return 0, err
	}
	if sec[secReplay], err = l.replay.MarshalBinary(); err != nil {
		return 0, err
	}
	seq, err := l.store.Save(checkpoint.EncodeSections(sec))
	if err != nil {
		return 0, err
	}
	l.saved, l.seq = l.changes, seq
	l.log.Debug("learner checkpoint written", "seq", seq)
	return seq, nil
}

// Run writes a checkpoint every LearnConfig.CheckpointInterval when the
// state changed, and a last one when ctx ends.
func (l *Learner) Run(ctx context.Context) {
	t := time.NewTicker(l.lc.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if _, err := l.Save(false); err != nil {
				l.log.Error("learner checkpoint failed", "err", err)
			}
		case <-ctx.Done():
			if _, err := l.Save(false); err != nil {
				l.log.Error("final learner checkpoint failed", "err", err)
			}
			return
		}
	}
}
