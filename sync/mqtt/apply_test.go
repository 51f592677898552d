package mqtt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/wire"
)

// TestApplyGlobal: the A/B orchestration commits a healthy newer adapter
// and raises the floor; anything else leaves the active adapter and the
// floor as they were (the floor advances only on commit).
func TestApplyGlobal(t *testing.T) {
	now := time.Now()
	boom := errors.New("boom")
	cases := []struct {
		name      string
		setup     func(*fakeApplier)
		version   uint64
		timeout   time.Duration
		want      error
		active    uint64
		floor     uint64
		rollbacks int
	}{
		{"healthy", nil, 3, time.Second, nil, 3, 3, 0},
		{"not newer", nil, 2, time.Second, ErrNotNewer, 2, 2, 0},
		{"health fails", func(f *fakeApplier) { f.health = func(*wire.Payload) error { return boom } }, 3, time.Second, ErrUnhealthy, 2, 2, 1},
		{"apply fails", func(f *fakeApplier) { f.applyErr = boom }, 3, time.Second, ErrApplyFailed, 2, 2, 1},
		{"commit fails", func(f *fakeApplier) { f.commitErr = boom }, 3, time.Second, ErrCommitFailed, 2, 2, 1},
		{"health times out", func(f *fakeApplier) {
			f.health = func(*wire.Payload) error { time.Sleep(50 * time.Millisecond); return nil }
		}, 3, 10 * time.Millisecond, ErrUnhealthy, 2, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			floor, err := OpenFloor(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := floor.Raise(2); err != nil {
				t.Fatal(err)
			}
			f := &fakeApplier{active: 2}
			if c.setup != nil {
				c.setup(f)
			}
			g := decodeGlobal(t, globalPayload(t, "hub", c.version, now, time.Time{}))
			err = applyGlobal(context.Background(), f, floor, g, c.timeout)
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			active, _, rollbacks := f.snapshot()
			if active != c.active || floor.Version() != c.floor || rollbacks != c.rollbacks {
				t.Errorf("active %d floor %d rollbacks %d, want %d %d %d", active, floor.Version(), rollbacks, c.active, c.floor, c.rollbacks)
			}
		})
	}
}
