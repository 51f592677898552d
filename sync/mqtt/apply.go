package mqtt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clipfleet/clipfleet/sync/wire"
)

// HealthCheck judges the adapter just applied, e.g. by predicting a held-out
// set and checking accuracy and that no logit is NaN. nil means healthy.
type HealthCheck func(ctx context.Context) error

// Applier installs global adapters A/B style: Apply puts the candidate in
// use while keeping the previous adapter, the health check runs on it, then
// either Commit discards the previous adapter or Rollback restores it.
// One apply at a time: the Device never overlaps calls.
//
// If the process dies between Apply and Commit, the applier must come back
// with the previous adapter active (e.g. keep the candidate in a slot that
// only Commit promotes); if it dies after Commit but before the floor is
// written, Active reports the committed version and the Device raises the
// floor to it at start.
type Applier interface {
	// Active is the version of the adapter in use, 0 if none.
	Active() uint64
	// Apply makes candidate active, keeping the previous adapter for
	// Rollback, and returns the health check of the new state. The
	// applier checks that candidate fits (e.g. candidate.BaseVersion is
	// the active version, the learner's merge contract); on error the
	// Device calls Rollback.
	Apply(ctx context.Context, candidate *wire.Payload) (HealthCheck, error)
	// Commit makes the applied candidate permanent.
	Commit(ctx context.Context) error
	// Rollback restores the adapter that was active before Apply.
	Rollback(ctx context.Context) error
}

// Apply outcomes; Device.Apply errors wrap one of them.
var (
	// ErrNotNewer: the adapter's version is not above the floor (a
	// replay, a rollback attempt, or the retained copy of the adapter
	// already in use).
	ErrNotNewer = errors.New("mqtt: global adapter not newer than the version floor")
	// ErrApplyFailed: the applier could not apply it; rolled back.
	ErrApplyFailed = errors.New("mqtt: applying the global adapter failed")
	// ErrUnhealthy: the health check failed or timed out; rolled back.
	ErrUnhealthy = errors.New("mqtt: global adapter failed its health check")
	// ErrCommitFailed: Commit failed; rolled back.
	ErrCommitFailed = errors.New("mqtt: committing the global adapter failed")
)

// applyGlobal runs one A/B apply. The floor advances only on commit: an
// adapter that failed (apply, health check or commit) leaves both the
// active adapter and the floor unchanged, so a fixed re-publication of the
// same version can still be applied later.
func applyGlobal(ctx context.Context, a Applier, floor *Floor, g *wire.Payload, timeout time.Duration) error {
	if fl := max(floor.Version(), a.Active()); g.Version <= fl {
		return fmt.Errorf("%w: version %d, floor %d", ErrNotNewer, g.Version, fl)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rollback := func(cause error) error {
		// Rollback must run even when ctx expired: it restores the
		// adapter that was known good.
		if rerr := a.Rollback(context.WithoutCancel(ctx)); rerr != nil {
			return errors.Join(cause, fmt.Errorf("mqtt: rollback: %w", rerr))
		}
		return cause
	}
	health, err := a.Apply(ctx, g)
	if err != nil {
		return rollback(fmt.Errorf("%w: version %d: %w", ErrApplyFailed, g.Version, err))
	}
	if health != nil {
		if err := health(ctx); err != nil {
			return rollback(fmt.Errorf("%w: version %d: %w", ErrUnhealthy, g.Version, err))
		}
		if err := ctx.Err(); err != nil {
			return rollback(fmt.Errorf("%w: version %d: %w", ErrUnhealthy, g.Version, err))
		}
	}
	if err := a.Commit(ctx); err != nil {
		return rollback(fmt.Errorf("%w: version %d: %w", ErrCommitFailed, g.Version, err))
	}
	// Committed. A failure to persist the floor leaves the adapter in use;
	// at the next start the floor is raised to Active().
	return floor.Raise(g.Version)
}
