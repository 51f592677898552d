package daemon

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// The Learner is the fleet sync's mqtt.Applier: global adapters are merged
// into its method A/B style, judged on the taught examples of the replay
// memory, and committed by writing a checkpoint.
var _ mqtt.Applier = (*Learner)(nil)

// ErrAdapterUnhealthy: a global adapter made the learner worse on what this
// device was taught (or produced non-finite scores); it is rolled back.
var ErrAdapterUnhealthy = errors.New("daemon: fleet adapter failed the health check")

// abState is what Rollback restores.
type abState struct {
	version        uint64
	labels, method []byte
	applied        bool // the method state was changed
	includesOurs   bool // the adapter merged this device's outstanding export
}

// ExportDelta returns what was learned locally since the fleet base
// version, or nil when nothing was learned since the last export. The
// method remembers the export (so that the merged adapter that includes it
// is not counted twice), and that memory is checkpointed before the delta
// is returned: if the process dies after the caller queued the delta, the
// restarted learner still knows which export it sent. If it dies before,
// the export is in no merged adapter and its content is exported again.
func (l *Learner) ExportDelta() (*learner.Delta, error) {
	l.gate.RLock()
	defer l.gate.RUnlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changes == l.exported {
		return nil, nil
	}
	// Through the trainer: it drops a snapshot-based undo journal, since
	// undoing a shipped action by restoring an older snapshot would make
	// the fleet count it twice.
	d, err := l.trainer.Delta(l.method.BaseVersion())
	if err != nil {
		return nil, fmt.Errorf("daemon: export: %w", err)
	}
	if d.Empty() {
		// Nothing to send, so nothing outstanding: no checkpoint, and
		// the next merged adapter need not include it.
		l.exported, l.exportID = l.changes, 0
		return nil, nil
	}
	l.changes++ // the export's identity is state
	l.exported, l.exportID = l.changes, d.ID
	if _, err := l.saveLocked(true); err != nil {
		return nil, fmt.Errorf("daemon: export: checkpoint before queueing: %w", err)
	}
	return d, nil
}

// Active is the fleet version the learner's state is based on.
func (l *Learner) Active() uint64 { return l.method.BaseVersion() }

// Apply merges a verified global adapter into the method, keeping the
// previous state for Rollback; learning waits until Commit or Rollback.
// The returned check classifies the replay memory's taught examples again
// and fails if accuracy fell by more than sync.health.max_drop or a score
// is not finite.
func (l *Learner) Apply(_ context.Context, g *wire.Payload) (mqtt.HealthCheck, error) {
	l.gate.Lock() // released by Commit or Rollback, which the Device always calls
	l.mu.Lock()
	defer l.mu.Unlock()
	ab := &abState{version: l.method.BaseVersion(), includesOurs: l.exportID != 0 && slices.Contains(g.Merged, l.exportID)}
	l.ab = ab
	if g.BaseVersion != ab.version {
		return nil, fmt.Errorf("daemon: fleet adapter %d is against version %d, the learner is at %d (missed versions need a catch-up adapter)",
			g.Version, g.BaseVersion, ab.version)
	}
	d, err := g.Delta()
	if err != nil {
		return nil, err
	}
	if ab.labels, err = l.labels.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("daemon: apply: labels snapshot: %w", err)
	}
	if ab.method, err = l.method.Snapshot(); err != nil {
		return nil, fmt.Errorf("daemon: apply: method snapshot: %w", err)
	}
	probes := l.healthProbesLocked()
	// Judged among the classes known before: an adapter that brings
	// new classes may legitimately take some of this device's examples
	// (similar shapes); one that breaks what it knew may not.
	known := map[learner.ID]bool{}
	for s, i := l.labels.Current(), 0; i < s.Len(); i++ {
		known[s.ID(i)] = true
	}
	before, err := l.accuracyLocked(probes, known)
	if err != nil {
		// The current state already scores badly: judge the candidate
		// on finiteness alone.
		l.log.Warn("fleet health check: current state gives non-finite scores", "err", err)
		before = 0
	}
	ab.applied = true
	// Through the trainer, which drops a snapshot-based undo journal:
	// restoring an older snapshot would undo the merge too.
	if err := l.trainer.ApplyMerged(d); err != nil {
		return nil, fmt.Errorf("daemon: apply: %w", err)
	}
	maxDrop := l.health.MaxDrop
	return func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		after, err := l.accuracyLocked(probes, known)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrAdapterUnhealthy, err)
		}
		if before-after > maxDrop {
			return fmt.Errorf("%w: accuracy on %d taught examples fell from %.3f to %.3f (max drop %.3f)",
				ErrAdapterUnhealthy, len(probes), before, after, maxDrop)
		}
		return nil
	}, nil
}

// Commit makes the applied adapter permanent by checkpointing it.
func (l *Learner) Commit(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ab == nil {
		return errors.New("daemon: commit without apply")
	}
	l.changes++
	if _, err := l.saveLocked(true); err != nil {
		l.changes--
		return fmt.Errorf("daemon: commit: %w", err)
	}
	switch {
	case l.exportID != 0 && !l.ab.includesOurs:
		// The hub dropped or missed the last export (e.g. it was
		// against an older base): what it held is still local and
		// goes out again, against the new base.
		l.exported = 0
	case l.exported == l.changes-1:
		// Nothing learned since the export (or nothing outstanding):
		// the adapter changed the state, not the local learning, so
		// there is nothing to send.
		l.exported = l.changes
	}
	if l.ab.includesOurs {
		l.exportID = 0 // settled
	}
	l.ab = nil
	l.gate.Unlock()
	return nil
}

// Rollback restores the state from before Apply.
func (l *Learner) Rollback(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ab := l.ab
	if ab == nil {
		return nil
	}
	var err error
	if ab.applied {
		if rerr := l.labels.UnmarshalBinary(ab.labels); rerr != nil {
			err = fmt.Errorf("daemon: rollback labels: %w", rerr)
		}
		if rerr := l.method.Restore(ab.method); rerr != nil {
			err = errors.Join(err, fmt.Errorf("daemon: rollback method: %w", rerr))
		}
	}
	l.ab = nil
	l.gate.Unlock()
	return err
}

// healthProbesLocked picks the taught examples the health check scores.
func (l *Learner) healthProbesLocked() []learner.Example {
	all := l.replay.All()
	var out []learner.Example
	for _, e := range all {
		if len(out) == l.health.Examples {
			break
		}
		if e.Source == learner.Taught {
			out = append(out, e)
		}
	}
	return out
}

// accuracyLocked is the share of probes whose top class among known is
// their label; it fails on a non-finite logit (NoLogit, a class without
// state, is fine).
func (l *Learner) accuracyLocked(probes []learner.Example, known map[learner.ID]bool) (float64, error) {
	if len(probes) == 0 {
		return 1, nil
	}
	var logits []float32
	correct := 0
	for i, e := range probes {
		var err error
		if logits, err = l.method.Predict(e.Emb, logits); err != nil {
			return 0, err
		}
		for _, v := range logits {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 1) {
				return 0, fmt.Errorf("probe %d: logit %v", i, v)
			}
		}
		s, best := l.labels.Current(), -1
		for j, v := range logits {
			if j < s.Len() && known[s.ID(j)] && v != learner.NoLogit && (best < 0 || v > logits[best]) {
				best = j
			}
		}
		if best >= 0 && s.ID(best) == e.Label {
			correct++
		}
	}
	return float64(correct) / float64(len(probes)), nil
}
