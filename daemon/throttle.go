package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

// Throttle is a Frames that lowers the pipeline's frame rate to a factor
// of its natural rate, so that a hot board does less work per second
// (boards.ThermalStatus.FrameFactor). It paces rather than drops: before
// taking a frame it waits until 1/factor natural periods have passed since
// it handed over the previous one, then takes the newest frame. Frames the
// camera delivers meanwhile are overwritten in the latest-frame grabber
// (and counted there as dropped), so the frame processed is always fresh
// and no frame is preprocessed only to be thrown away.
//
// The natural period is what one frame takes end to end when unthrottled:
// the camera's period when the encoder keeps up, the encoder's when it does
// not. It is measured (a moving average of the intervals between hand-overs
// while the factor is 1), starting from a hint such as 1/capture.fps, so
// the throttle halves the load whichever side is the bottleneck.
type Throttle struct {
	inner Frames
	clock capture.Clock

	mu       sync.Mutex
	factor   float64
	period   time.Duration // natural period estimate
	measured bool          // period comes from measurements, not the hint
	lastOut  time.Time     // when the previous frame was handed over
	waited   time.Duration // total pacing wait
	paced    uint64        // frames taken after a pacing wait
}

// DefaultFramePeriod is the natural period a Throttle assumes before it
// has measured one when no hint is given: a 30 fps camera.
const DefaultFramePeriod = time.Second / 30

// NewThrottle paces inner. hint is the expected natural period (0: use
// DefaultFramePeriod); clock may be nil (wall clock). The factor starts
// at 1 (no pacing).
func NewThrottle(inner Frames, hint time.Duration, clock capture.Clock) *Throttle {
	if clock == nil {
		clock = capture.SystemClock()
	}
	if hint <= 0 {
		hint = DefaultFramePeriod
	}
	return &Throttle{inner: inner, clock: clock, factor: 1, period: hint}
}

// SetFactor sets the fraction of the natural frame rate to keep, clamped
// to [0.01, 1]; the next frame taken already honours it.
func (t *Throttle) SetFactor(f float64) {
	f = min(max(f, 0.01), 1)
	t.mu.Lock()
	t.factor = f
	t.mu.Unlock()
}

// ThrottleStats is the throttle's state for metrics and status.
type ThrottleStats struct {
	Factor float64       `json:"factor"`
	Period time.Duration `json:"natural_period"`
	Waited time.Duration `json:"waited"`
	Paced  uint64        `json:"paced_frames"`
}

// Stats returns the current factor, natural period estimate and the
// totals of pacing so far.
func (t *Throttle) Stats() ThrottleStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ThrottleStats{Factor: t.factor, Period: t.period, Waited: t.waited, Paced: t.paced}
}

// Next waits as the factor asks, then takes the newest frame from inner.
func (t *Throttle) Next(ctx context.Context, dst *capture.Frame) error {
	t.mu.Lock()
	var wait time.Duration
	if t.factor < 1 && !t.lastOut.IsZero() {
		due := t.lastOut.Add(time.Duration(float64(t.period) / t.factor))
		wait = due.Sub(t.clock.Now())
	}
	t.mu.Unlock()
	if wait > 0 {
		fired := make(chan struct{})
		tm := t.clock.AfterFunc(wait, func() { close(fired) })
		select {
		case <-fired:
		case <-ctx.Done():
			tm.Stop()
			return ctx.Err()
		}
	}
	if err := t.inner.Next(ctx, dst); err != nil {
		return err
	}
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if wait > 0 {
		t.waited += wait
		t.paced++
	} else if t.factor >= 1 && !t.lastOut.IsZero() {
		// Only unpaced intervals measure the natural period; a paced one
		// would feed the throttle's own slowness back into itself.
		iv := now.Sub(t.lastOut)
		if !t.measured {
			t.period, t.measured = iv, true
		} else {
			t.period += (iv - t.period) / 8
		}
	}
	t.lastOut = now
	return nil
}
