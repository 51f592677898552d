package boards

import (
	"context"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/clipfleet/clipfleet/capture"
)

// Button reports presses of a push-button, such as the "teach" button that
// tells the daemon to learn from what the camera sees now.
type Button struct {
	pin        gpio.PinIn
	activeHigh bool
	debounce   time.Duration
	clock      capture.Clock
	// Poll bounds each wait for an edge so Run notices its context ending;
	// periph's WaitForEdge cannot be interrupted otherwise.
	Poll time.Duration
}

// DefaultDebounce ignores the contact bounce of ordinary tactile switches,
// which settles within a few milliseconds to tens of milliseconds.
const DefaultDebounce = 50 * time.Millisecond

// NewButton configures pin as an input with edge detection. An active-low
// button (activeHigh false, the usual wiring: pin to ground when pressed)
// gets the internal pull-up; an active-high one the pull-down. An edge
// closer than debounce to the previous one is contact bounce. clock may be
// nil (wall clock).
func NewButton(pin gpio.PinIn, activeHigh bool, debounce time.Duration, clock capture.Clock) (*Button, error) {
	if clock == nil {
		clock = capture.SystemClock()
	}
	pull := gpio.PullUp
	if activeHigh {
		pull = gpio.PullDown
	}
	if err := pin.In(pull, gpio.BothEdges); err != nil {
		return nil, fmt.Errorf("boards: button %s: %w", pin, err)
	}
	return &Button{pin: pin, activeHigh: activeHigh, debounce: debounce, clock: clock, Poll: 200 * time.Millisecond}, nil
}

// OpenButton looks the pin up by name in gpioreg (see LookupPin) and
// configures it like NewButton.
func OpenButton(name string, activeHigh bool, debounce time.Duration, clock capture.Clock) (*Button, error) {
	p, err := LookupPin(name, "teach button")
	if err != nil {
		return nil, err
	}
	return NewButton(p, activeHigh, debounce, clock)
}

// Pressed reads the button's current level.
func (b *Button) Pressed() bool {
	return b.pin.Read() == gpio.Level(b.activeHigh)
}

// Run calls onPress once per press until ctx ends, and returns ctx's
// cause. A press is a transition to pressed that comes at least debounce
// after the previous edge of either kind, so the bounce of both pressing
// and releasing is ignored. onPress runs on Run's goroutine, so it must
// return quickly. A button held down at start is not a press.
func (b *Button) Run(ctx context.Context, onPress func()) error {
	poll := b.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	wasPressed := b.Pressed()
	var lastEdge time.Time
	for ctx.Err() == nil {
		if !b.pin.WaitForEdge(poll) {
			continue
		}
		now := b.clock.Now()
		pressed := b.Pressed()
		settled := lastEdge.IsZero() || now.Sub(lastEdge) >= b.debounce
		if pressed && !wasPressed && settled {
			onPress()
		}
		wasPressed, lastEdge = pressed, now
	}
	return context.Cause(ctx)
}
