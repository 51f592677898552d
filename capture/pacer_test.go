package capture_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

func TestPacer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	clock := capturetest.NewClock(time.Unix(1000, 0))
	p := capture.NewPacer(10, clock) // one frame per 100 ms

	if err := p.Wait(ctx); err != nil {
		t.Fatalf("first Wait = %v, want immediate nil", err)
	}
	if pending := clock.Pending(); len(pending) != 0 {
		t.Fatalf("first Wait armed timers %v, want none", pending)
	}

	wait := func() chan error {
		done := make(chan error, 1)
		go func() { done <- p.Wait(ctx) }()
		if err := clock.WaitPending(ctx, 1); err != nil {
			t.Fatal(err)
		}
		return done
	}
	done := wait()
	if got := clock.Pending(); got[0] != 100*time.Millisecond {
		t.Errorf("second Wait sleeps %s, want 100ms", got[0])
	}
	clock.Advance(99 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v 1 ms early", err)
	default: // the timer has not fired, so Wait cannot have returned
	}
	clock.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A consumer that took 30 ms for its frame waits only the remaining 70 ms.
	clock.Advance(30 * time.Millisecond)
	done = wait()
	if got := clock.Pending(); got[0] != 70*time.Millisecond {
		t.Errorf("Wait after 30 ms of work sleeps %s, want 70ms", got[0])
	}
	clock.Advance(70 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Falling far behind does not cause a burst: one frame now, then full periods.
	clock.Advance(time.Second)
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	done = wait()
	if got := clock.Pending(); got[0] != 100*time.Millisecond {
		t.Errorf("Wait after falling behind sleeps %s, want a full 100ms", got[0])
	}
	clock.Advance(100 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Cancel interrupts a Wait.
	cctx, ccancel := context.WithCancel(ctx)
	done = make(chan error, 1)
	go func() { done <- p.Wait(cctx) }()
	if err := clock.WaitPending(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ccancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Wait = %v, want context.Canceled", err)
	}
}

func TestPacerOff(t *testing.T) {
	clock := capturetest.NewClock(time.Unix(0, 0))
	p := capture.NewPacer(0, clock)
	for i := 0; i < 3; i++ {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if pending := clock.Pending(); len(pending) != 0 {
		t.Errorf("fps 0 armed timers %v, want none", pending)
	}
}
