package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// ErrClosed is returned by Next once the Grabber was closed or the context
// it was started with was canceled.
var ErrClosed = errors.New("capture: grabber closed")

// ErrStalled is wrapped by the error recorded when an Open or Read blocked
// for longer than Config.StallTimeout and the watchdog gave up on it.
var ErrStalled = errors.New("capture: source stalled")

// Stats is a snapshot of a Grabber's counters.
type Stats struct {
	Source     string    // Source.Name()
	Connected  bool      // the source is open and being read
	Read       uint64    // frames read from the source
	Delivered  uint64    // frames handed out by Next
	Dropped    uint64    // frames replaced by a newer one before any Next took them
	Reconnects uint64    // reopen attempts after a failure, stall or end of a live source
	Stalls     uint64    // Opens or Reads the watchdog gave up on
	LastErr    error     // most recent open or read failure; nil if none yet
	LastErrAt  time.Time // when LastErr happened
}

// GrabberOption adjusts a Grabber beyond what Config says.
type GrabberOption func(*Grabber)

// WithClock replaces the wall clock that times the stall watchdog and the
// reconnect backoff; tests pass capturetest.Clock.
func WithClock(c Clock) GrabberOption { return func(g *Grabber) { g.clock = c } }

// Grabber runs a Source on its own goroutine and keeps only the newest
// frame, so a consumer slower than the camera always works on what the robot
// sees now instead of on a backlog. It also keeps the source alive: a live
// source that stalls, fails or ends is closed and reopened with exponential
// backoff, while a finite one (Config.Finite) ends after its last frame.
//
// Frames are handed over by swapping buffers, never queued: the reader
// goroutine, the latest slot and the consumer each own one Frame, so the
// steady state allocates nothing.
type Grabber struct {
	src    Source
	cfg    Config
	log    *slog.Logger
	clock  Clock
	finite bool
	name   string

	cancel    context.CancelFunc
	done      chan struct{} // closed when the reader goroutine has released the source
	ready     chan struct{} // holds a token when a fresh frame may be waiting
	closeOnce sync.Once

	mu       sync.Mutex
	latest   Frame
	fresh    bool  // latest has not been handed out yet
	endErr   error // why the reader stopped; nil while it runs
	closed   bool
	closeErr error // from the Source.Close that ended the last session
	stats    Stats
}

// NewGrabber validates cfg and starts reading src on a new goroutine; it
// returns before the source is open. The source is opened by the Grabber
// and released when ctx is canceled or Close is called. src must honour the
// context passed to Open and Read, or Close cannot stop it.
func NewGrabber(ctx context.Context, src Source, cfg Config, log *slog.Logger, opts ...GrabberOption) (*Grabber, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Grabber{
		src:    src,
		cfg:    cfg,
		log:    log,
		clock:  SystemClock(),
		finite: cfg.Finite(),
		name:   src.Name(),
		done:   make(chan struct{}),
		ready:  make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(g)
	}
	g.stats.Source = g.name
	ctx, g.cancel = context.WithCancel(ctx)
	go g.run(ctx)
	return g, nil
}

// Next waits for a frame newer than any Next has returned and swaps it into
// dst: dst's previous buffer goes back to the Grabber for reuse, so do not
// keep dst.RGB across calls. After a finite source's last frame has been
// taken Next returns ErrEndOfStream; after a terminal failure of a finite
// source, that failure; after Close or cancel of the Grabber's context,
// ErrClosed. Concurrent calls are safe; each frame goes to one of them.
func (g *Grabber) Next(ctx context.Context, dst *Frame) error {
	for {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return ErrClosed
		}
		if g.fresh {
			*dst, g.latest = g.latest, *dst
			g.fresh = false
			g.stats.Delivered++
			g.mu.Unlock()
			return nil
		}
		endErr := g.endErr
		g.mu.Unlock()
		if endErr != nil {
			return endErr
		}
		select {
		case <-g.ready:
		case <-g.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stats returns a snapshot of the counters.
func (g *Grabber) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stats
}

// Done is closed when the Grabber has stopped reading and released the
// source: after the end of a finite source, a terminal error, Close, or
// cancel of its context.
func (g *Grabber) Done() <-chan struct{} { return g.done }

// Err reports why the Grabber stopped (ErrEndOfStream, a terminal error of
// a finite source, or ErrClosed), or nil while it is running.
func (g *Grabber) Err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.endErr
}

// Close stops the reader, waits until the source is released and returns
// the error of that release. Further Next calls return ErrClosed.
func (g *Grabber) Close() error {
	g.closeOnce.Do(func() {
		g.cancel()
		<-g.done
		g.mu.Lock()
		g.closed = true
		g.fresh = false
		g.mu.Unlock()
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closeErr
}

// run is the reader goroutine: sessions of open-read-close, separated by
// backoff, until ctx ends or a finite source is done.
func (g *Grabber) run(ctx context.Context) {
	defer close(g.done)
	var back Frame // the buffer Read fills; swapped with latest on publish
	attempt := 0
	for opens := 0; ; opens++ {
		if opens > 0 {
			g.mu.Lock()
			lastErr := g.stats.LastErr
			g.mu.Unlock()
			d := backoffDelay(attempt, g.cfg.ReconnectMin, g.cfg.ReconnectMax, rand.Float64())
			attempt++
			g.log.Warn("capture: reopening source", "source", g.name, "attempt", attempt, "delay", d, "err", lastErr)
			if !g.sleep(ctx, d) {
				g.finish(ErrClosed)
				return
			}
			g.mu.Lock()
			g.stats.Reconnects++
			g.mu.Unlock()
		}
		n, err := g.session(ctx, &back)
		if ctx.Err() != nil {
			g.finish(ErrClosed)
			return
		}
		if g.finite {
			if errors.Is(err, ErrEndOfStream) {
				g.log.Info("capture: source ended", "source", g.name, "frames", n)
				g.finish(ErrEndOfStream)
			} else {
				g.log.Error("capture: source failed", "source", g.name, "err", err)
				g.mu.Lock()
				g.stats.LastErr, g.stats.LastErrAt = err, g.clock.Now()
				g.mu.Unlock()
				g.finish(err)
			}
			return
		}
		if n > 0 {
			attempt = 0 // the source worked for a while: start backing off afresh
		}
		g.mu.Lock()
		g.stats.LastErr, g.stats.LastErrAt = err, g.clock.Now()
		g.mu.Unlock()
	}
}

// session opens the source, publishes frames until a Read fails, and closes
// the source. It returns the number of frames read and the failure.
func (g *Grabber) session(ctx context.Context, back *Frame) (uint64, error) {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wd Timer // watchdog; armed while Open or Read runs
	if g.cfg.StallTimeout > 0 {
		wd = g.clock.AfterFunc(g.cfg.StallTimeout, func() { cancel(ErrStalled) })
		defer wd.Stop()
	}
	arm := func() {
		if wd != nil {
			wd.Reset(g.cfg.StallTimeout)
		}
	}
	disarm := func() {
		if wd != nil {
			wd.Stop()
		}
	}

	err := g.src.Open(sctx) // the watchdog was armed when created
	disarm()
	if err != nil {
		return 0, g.blame(sctx, "open", err)
	}
	g.mu.Lock()
	g.stats.Connected = true
	g.mu.Unlock()
	g.log.Info("capture: source open", "source", g.name)
	defer func() {
		cerr := g.src.Close()
		if cerr != nil {
			g.log.Warn("capture: closing source", "source", g.name, "err", cerr)
		}
		g.mu.Lock()
		g.stats.Connected = false
		if ctx.Err() != nil { // the release Close reports is the one at shutdown
			g.closeErr = cerr
		}
		g.mu.Unlock()
	}()

	var n uint64
	for {
		arm()
		err := g.src.Read(sctx, back)
		disarm()
		if err != nil {
			return n, g.blame(sctx, "read", err)
		}
		n++
		g.publish(back)
	}
}

// blame turns the context error a watchdog-cancelled call returns into a
// stall error, and counts it.
func (g *Grabber) blame(sctx context.Context, op string, err error) error {
	if !errors.Is(context.Cause(sctx), ErrStalled) {
		return err
	}
	g.mu.Lock()
	g.stats.Stalls++
	g.mu.Unlock()
	return fmt.Errorf("%w: %s of %s blocked for more than %s: %v", ErrStalled, op, g.name, g.cfg.StallTimeout, err)
}

// publish makes back the latest frame and takes the previous latest as the
// next buffer to fill.
func (g *Grabber) publish(back *Frame) {
	g.mu.Lock()
	*back, g.latest = g.latest, *back
	if g.fresh {
		g.stats.Dropped++
	}
	g.fresh = true
	g.stats.Read++
	g.mu.Unlock()
	select {
	case g.ready <- struct{}{}:
	default: // a token is already waiting
	}
}

func (g *Grabber) finish(err error) {
	g.mu.Lock()
	g.endErr = err
	g.stats.Connected = false
	if err == ErrClosed {
		g.fresh = false
	}
	g.mu.Unlock()
}

// sleep waits d on the Grabber's clock; it reports false if ctx ended first.
func (g *Grabber) sleep(ctx context.Context, d time.Duration) bool {
	fired := make(chan struct{})
	t := g.clock.AfterFunc(d, func() { close(fired) })
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		t.Stop()
		return false
	}
}
