package capturetest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/capture/capturetest"
)

func TestClock(t *testing.T) {
	start := time.Unix(100, 0)
	c := capturetest.NewClock(start)
	var fired []string
	var at []time.Duration
	record := func(name string) func() {
		return func() { fired = append(fired, name); at = append(at, c.Now().Sub(start)) }
	}
	c.AfterFunc(30*time.Millisecond, record("c"))
	a := c.AfterFunc(10*time.Millisecond, record("a"))
	stopped := c.AfterFunc(20*time.Millisecond, record("never"))
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop should report true for an armed timer, then false")
	}
	if got := c.Pending(); !slices.Equal(got, []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}) {
		t.Errorf("Pending() = %v", got)
	}

	c.Advance(15 * time.Millisecond)
	if !slices.Equal(fired, []string{"a"}) || at[0] != 10*time.Millisecond {
		t.Fatalf("after 15ms fired %v at %v, want a at 10ms", fired, at)
	}
	if a.Reset(10 * time.Millisecond) { // due at 25ms now
		t.Error("Reset of a fired timer reported it pending")
	}
	c.Advance(100 * time.Millisecond)
	want := []time.Duration{10 * time.Millisecond, 25 * time.Millisecond, 30 * time.Millisecond}
	if !slices.Equal(fired, []string{"a", "a", "c"}) || !slices.Equal(at, want) {
		t.Errorf("fired %v at %v, want [a a c] at %v", fired, at, want)
	}
	if got := c.Now().Sub(start); got != 115*time.Millisecond {
		t.Errorf("Now() is %v after start, want 115ms", got)
	}
	if err := c.WaitPending(context.Background(), 0); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.WaitPending(ctx, 1); err == nil {
		t.Error("WaitPending(1) with no timers and a cancelled context returned nil")
	}
}
