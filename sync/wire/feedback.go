package wire

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/clipfleet/clipfleet/learner"
)

// ErrorFeedback carries what compression dropped from one delta into the
// next, so quantisation and top-k errors do not accumulate: the fleet
// eventually receives every change, only later. A device keeps one per
// learner (persisting it with MarshalBinary next to its checkpoint).
//
// The residual of an export becomes due only once the hub merged that
// export (ApplyMerged with the global adapter's Merged list), mirroring
// learner.Method.ApplyMerged: an export the hub missed is re-sent whole
// inside the next one, so its residual must not be added on top. Only the
// latest export is pending, since each export for a base replaces the
// previous one.
type ErrorFeedback struct {
	mu        sync.Mutex
	residual  map[string]residual // due: added to the next export
	pendingID uint64
	pending   map[string]residual // of export pendingID, due once merged
}

type residual struct {
	shape []int
	data  []float32
}

// NewErrorFeedback returns an empty state.
func NewErrorFeedback() *ErrorFeedback {
	return &ErrorFeedback{residual: map[string]residual{}, pending: map[string]residual{}}
}

// ApplyMerged records that the hub published a global adapter merging the
// exports with these IDs: if it includes the pending export, that export's
// residual becomes due (replacing the previous one, which the export
// carried). Either way the pending export is settled. It reports whether
// the pending export was included.
func (e *ErrorFeedback) ApplyMerged(merged []uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	included := e.pendingID != 0 && slices.Contains(merged, e.pendingID)
	if included {
		e.residual = e.pending
	}
	e.pendingID, e.pending = 0, map[string]residual{}
	return included
}

// Reset drops all residuals, e.g. after a full resync or a model change.
func (e *ErrorFeedback) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.residual, e.pending, e.pendingID = map[string]residual{}, map[string]residual{}, 0
}

// Residual returns a copy of the due residual of a tensor (nil if none).
func (e *ErrorFeedback) Residual(name string) []float32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.residual[name].data)
}

// Pending returns the export whose residual awaits the hub's merge (0 if
// none).
func (e *ErrorFeedback) Pending() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pendingID
}

// Norm is the L2 norm of all due residuals: how much change the fleet has
// not received yet.
func (e *ErrorFeedback) Norm() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s float64
	for _, r := range e.residual {
		for _, v := range r.data {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s)
}

const feedbackKind = "wire.errorfeedback"

type feedbackMeta struct {
	PendingID uint64 `json:"pending_id"`
}

// MarshalBinary encodes the state as a learner.Envelope.
func (e *ErrorFeedback) MarshalBinary() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	meta, err := json.Marshal(feedbackMeta{PendingID: e.pendingID})
	if err != nil {
		return nil, fmt.Errorf("wire: error feedback: %w", err)
	}
	env := learner.Envelope{Kind: feedbackKind, Version: 1, Meta: meta}
	add := func(prefix string, m map[string]residual) {
		for _, name := range sortedKeys(m) {
			r := m[name]
			env.Tensors = append(env.Tensors, learner.Tensor{Name: prefix + name, Shape: r.shape, Data: r.data})
		}
	}
	add("r/", e.residual)
	add("p/", e.pending)
	return env.MarshalBinary()
}

// UnmarshalBinary replaces the state with one encoded by MarshalBinary.
func (e *ErrorFeedback) UnmarshalBinary(b []byte) error {
	env, err := learner.DecodeEnvelope(b)
	if err != nil {
		return fmt.Errorf("wire: error feedback: %w", err)
	}
	if env.Kind != feedbackKind || env.Version != 1 {
		return fmt.Errorf("wire: error feedback: envelope is %q version %d", env.Kind, env.Version)
	}
	var meta feedbackMeta
	if err := json.Unmarshal(env.Meta, &meta); err != nil {
		return fmt.Errorf("wire: error feedback: meta: %w", err)
	}
	res, pend := map[string]residual{}, map[string]residual{}
	for _, t := range env.Tensors {
		r := residual{shape: t.Shape, data: t.Data}
		if name, ok := strings.CutPrefix(t.Name, "r/"); ok {
			res[name] = r
		} else if name, ok := strings.CutPrefix(t.Name, "p/"); ok {
			pend[name] = r
		} else {
			return fmt.Errorf("wire: error feedback: unexpected tensor %q", t.Name)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.residual, e.pending, e.pendingID = res, pend, meta.PendingID
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
