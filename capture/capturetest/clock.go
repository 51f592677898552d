package capturetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

// Clock is a capture.Clock that only moves when Advance is called, so tests
// of stall timeouts and backoff are exact and never sleep.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced whenever a timer is armed or disarmed
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, changed: make(chan struct{})}
}

// Now implements capture.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc implements capture.Clock. f runs on the goroutine that calls
// Advance.
func (c *Clock) AfterFunc(d time.Duration, f func()) capture.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, f: f, when: c.now.Add(d), armed: true}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

// Advance moves the clock forward by d, firing every timer that falls due
// on the way, earliest first, each with the clock set to its deadline.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		due := c.dueLocked(end)
		if due == nil {
			break
		}
		c.now = due.when
		due.armed = false
		c.notifyLocked()
		c.mu.Unlock()
		due.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// Pending returns the number of armed timers and the durations until each
// falls due, soonest first.
func (c *Clock) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, t := range c.timers {
		if t.armed {
			out = append(out, t.when.Sub(c.now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WaitPending blocks until exactly n timers are armed or ctx is done, so a
// test knows the code under test has started waiting before it advances.
func (c *Clock) WaitPending(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		armed := 0
		for _, t := range c.timers {
			if t.armed {
				armed++
			}
		}
		ch := c.changed
		c.mu.Unlock()
		if armed == n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("capturetest: waiting for %d armed timers, have %d: %w", n, armed, ctx.Err())
		}
	}
}

func (c *Clock) dueLocked(end time.Time) *fakeTimer {
	var due *fakeTimer
	for _, t := range c.timers {
		if t.armed && !t.when.After(end) && (due == nil || t.when.Before(due.when)) {
			due = t
		}
	}
	return due
}

func (c *Clock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

type fakeTimer struct {
	c     *Clock
	f     func()
	when  time.Time
	armed bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.armed = false
	if was {
		t.c.notifyLocked()
	}
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.when, t.armed = t.c.now.Add(d), true
	t.c.notifyLocked()
	return was
}
