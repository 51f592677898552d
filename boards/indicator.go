package boards

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/clipfleet/clipfleet/capture"
)

// Step is one phase of a blink pattern.
type Step struct {
	On  bool
	For time.Duration
}

// Pattern is a blink sequence played in a loop. A single step is a steady
// level; an empty pattern is off.
type Pattern []Step

// Signal is something the status LED tells a person standing by the robot.
type Signal int

const (
	SignalOff      Signal = iota // daemon stopped
	SignalOK                     // running: a short blip every two seconds
	SignalTeach                  // teach mode (button pressed): steady on
	SignalThrottle               // running hot: slow blink, 1 Hz
	SignalCritical               // too hot: fast blink, 5 Hz
	SignalError                  // a component failed: double flash
)

func (s Signal) String() string {
	switch s {
	case SignalOff:
		return "off"
	case SignalOK:
		return "ok"
	case SignalTeach:
		return "teach"
	case SignalThrottle:
		return "throttle"
	case SignalCritical:
		return "critical"
	case SignalError:
		return "error"
	}
	return fmt.Sprintf("Signal(%d)", int(s))
}

// Pattern returns the blink pattern of s. OK is a heartbeat rather than a
// steady light so that a hung daemon (LED stuck on or off) looks different
// from a running one.
func (s Signal) Pattern() Pattern {
	ms := time.Millisecond
	switch s {
	case SignalOK:
		return Pattern{{true, 100 * ms}, {false, 1900 * ms}}
	case SignalTeach:
		return Pattern{{true, 0}}
	case SignalThrottle:
		return Pattern{{true, 500 * ms}, {false, 500 * ms}}
	case SignalCritical:
		return Pattern{{true, 100 * ms}, {false, 100 * ms}}
	case SignalError:
		return Pattern{{true, 100 * ms}, {false, 100 * ms}, {true, 100 * ms}, {false, 700 * ms}}
	}
	return nil
}

// SignalFor maps a thermal state to the LED signal that shows it.
func SignalFor(s ThermalState) Signal {
	switch s {
	case ThermalThrottle:
		return SignalThrottle
	case ThermalCritical:
		return SignalCritical
	}
	return SignalOK
}

// ErrClosed is returned by an Indicator or Button used after Close.
var ErrClosed = errors.New("boards: closed")

// Indicator drives a status LED. It is safe for concurrent use.
type Indicator struct {
	pin       gpio.PinOut
	activeLow bool
	clock     capture.Clock

	mu      sync.Mutex
	pattern Pattern
	step    int
	gen     uint64 // bumped by Play so timers of a replaced pattern do nothing
	timer   capture.Timer
	err     error // first pin error while blinking
	closed  bool
}

// NewIndicator drives pin; activeLow is for LEDs wired from 3.3 V to the
// pin, lit when it is low. clock may be nil (wall clock). The LED starts
// off.
func NewIndicator(pin gpio.PinOut, activeLow bool, clock capture.Clock) (*Indicator, error) {
	if clock == nil {
		clock = capture.SystemClock()
	}
	i := &Indicator{pin: pin, activeLow: activeLow, clock: clock}
	if err := i.set(false); err != nil {
		return nil, err
	}
	return i, nil
}

// OpenIndicator looks the pin up by name in gpioreg (see LookupPin) and
// drives it.
func OpenIndicator(name string, activeLow bool, clock capture.Clock) (*Indicator, error) {
	p, err := LookupPin(name, "status LED")
	if err != nil {
		return nil, err
	}
	return NewIndicator(p, activeLow, clock)
}

// Show plays s's pattern.
func (i *Indicator) Show(s Signal) error { return i.Play(s.Pattern()) }

// Play replaces the current pattern with p, starting at its first step.
// It returns the pin's error if setting the first level fails, or the
// first error that happened while the previous pattern was blinking.
func (i *Indicator) Play(p Pattern) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return ErrClosed
	}
	i.stopLocked()
	i.pattern = append(Pattern(nil), p...)
	i.step = 0
	prevErr := i.err
	i.err = nil
	if len(p) == 0 {
		return errors.Join(prevErr, i.set(false))
	}
	if err := i.set(p[0].On); err != nil {
		return err
	}
	i.armLocked()
	return prevErr
}

// Close stops blinking and turns the LED off.
func (i *Indicator) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil
	}
	i.closed = true
	i.stopLocked()
	return i.set(false)
}

func (i *Indicator) stopLocked() {
	i.gen++
	if i.timer != nil {
		i.timer.Stop()
		i.timer = nil
	}
}

// armLocked schedules the end of the current step, unless the pattern is
// a steady level.
func (i *Indicator) armLocked() {
	if len(i.pattern) < 2 {
		return
	}
	gen := i.gen
	d := i.pattern[i.step].For
	if d <= 0 {
		d = time.Millisecond
	}
	i.timer = i.clock.AfterFunc(d, func() { i.advance(gen) })
}

func (i *Indicator) advance(gen uint64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if gen != i.gen || i.closed {
		return
	}
	i.step = (i.step + 1) % len(i.pattern)
	if err := i.set(i.pattern[i.step].On); err != nil && i.err == nil {
		i.err = err
	}
	i.armLocked()
}

func (i *Indicator) set(on bool) error {
	level := gpio.Level(on != i.activeLow)
	if err := i.pin.Out(level); err != nil {
		return fmt.Errorf("boards: status LED %s: %w", i.pin, err)
	}
	return nil
}
