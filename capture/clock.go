package capture

import "time"

// Clock is the time source of a Grabber and a Pacer. Production code uses
// SystemClock; tests substitute capturetest.Clock so that stall timeouts and
// reconnect backoff can be stepped deterministically instead of slept through.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f on its own goroutine once d has elapsed, unless the
	// returned Timer is stopped first. f must not block.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a stoppable, reusable AfterFunc timer; *time.Timer satisfies it.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it was pending.
	Stop() bool
	// Reset rearms the timer to fire d from now; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
