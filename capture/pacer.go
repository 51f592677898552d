package capture

import (
	"context"
	"time"
)

// Pacer spaces the reads of a source that could otherwise produce frames as
// fast as it decodes them (files, folders, synthetic scenes) to a target
// frame rate, so that a recording plays back at the speed of a live camera.
// It allocates only on first use and is not safe for concurrent use.
type Pacer struct {
	period time.Duration
	clock  Clock
	next   time.Time
	timer  Timer
	fired  chan struct{}
}

// NewPacer paces to fps frames per second; fps <= 0 means no pacing. A nil
// clock means SystemClock.
func NewPacer(fps float64, clock Clock) *Pacer {
	if clock == nil {
		clock = SystemClock()
	}
	p := &Pacer{clock: clock, fired: make(chan struct{}, 1)}
	if fps > 0 {
		p.period = time.Duration(float64(time.Second) / fps)
	}
	return p
}

// Reset forgets the schedule, so the next Wait returns at once; sources call
// it when they (re)open.
func (p *Pacer) Reset() { p.next = time.Time{} }

// Wait blocks until the next frame is due or ctx is done. A caller that fell
// more than a frame behind is rescheduled from now rather than allowed to
// burst to catch up.
func (p *Pacer) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil || p.period <= 0 {
		return err
	}
	now := p.clock.Now()
	if p.next.IsZero() || now.Sub(p.next) > p.period {
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		select { // drop a token left by a timer that fired as a previous Wait gave up
		case <-p.fired:
		default:
		}
		if p.timer == nil {
			p.timer = p.clock.AfterFunc(d, func() {
				select {
				case p.fired <- struct{}{}:
				default:
				}
			})
		} else {
			p.timer.Reset(d)
		}
		select {
		case <-p.fired:
		case <-ctx.Done():
			p.timer.Stop()
			return ctx.Err()
		}
	}
	p.next = p.next.Add(p.period)
	return nil
}
