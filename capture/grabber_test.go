package capture_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
)

// syncBuffer is a log sink the test can read while the Grabber writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(substr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), substr)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// liveConfig is a camera: stalls, errors and ends are reconnected.
func liveConfig() capture.Config {
	cfg := capture.DefaultConfig()
	cfg.StallTimeout = time.Second
	cfg.ReconnectMin = 100 * time.Millisecond
	cfg.ReconnectMax = 400 * time.Millisecond
	return cfg
}

// finiteConfig is a file without loop: it ends after the last frame.
func finiteConfig() capture.Config {
	cfg := liveConfig()
	cfg.Source, cfg.Path = capture.KindFile, "scripted.avi"
	return cfg
}

type harness struct {
	t     *testing.T
	ctx   context.Context
	src   *capturetest.Source
	clock *capturetest.Clock
	log   *syncBuffer
	g     *capture.Grabber
}

func start(t *testing.T, cfg capture.Config, src *capturetest.Source) *harness {
	t.Helper()
	h := &harness{t: t, ctx: testContext(t), src: src, clock: capturetest.NewClock(time.Unix(1700000000, 0)), log: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := capture.NewGrabber(h.ctx, src, cfg, log, capture.WithClock(h.clock))
	if err != nil {
		t.Fatal(err)
	}
	h.g = g
	t.Cleanup(func() {
		g.Close()
		if c := src.Counts(); c.Misuse != 0 {
			t.Errorf("source misused %d times: %+v", c.Misuse, c)
		}
	})
	return h
}

func (h *harness) waitFor(what string, cond func(capturetest.Counts) bool) {
	h.t.Helper()
	if err := h.src.WaitFor(h.ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v", what, err)
	}
}

func (h *harness) next(wantSeq uint64) {
	h.t.Helper()
	var f capture.Frame
	if err := h.g.Next(h.ctx, &f); err != nil {
		h.t.Fatalf("Next = %v, want frame %d", err, wantSeq)
	}
	if f.Seq != wantSeq {
		h.t.Fatalf("Next gave frame %d, want %d", f.Seq, wantSeq)
	}
	checkPixels(h.t, &f)
}

// checkPixels asserts the frame's pixels are the ones its source wrote for
// its Seq, i.e. the buffer swapping never mixed two frames.
func checkPixels(t *testing.T, f *capture.Frame) {
	t.Helper()
	if len(f.RGB) != f.Width*f.Height*3 {
		t.Fatalf("frame %d: %d bytes for %dx%d", f.Seq, len(f.RGB), f.Width, f.Height)
	}
	for i, b := range f.RGB {
		if b != byte(f.Seq) {
			t.Fatalf("frame %d: byte %d is %d, want %d", f.Seq, i, b, byte(f.Seq))
		}
	}
}

func TestGrabberKeepsOnlyTheNewestFrame(t *testing.T) {
	gate := make(chan struct{})
	src := capturetest.New("cam",
		capturetest.Frames(3, 4, 2),
		capturetest.Gate(gate),
		capturetest.Frames(1, 4, 2),
	) // then the script ends with ErrEndOfStream
	h := start(t, finiteConfig(), src)

	h.waitFor("reader to read 3 frames and stop at the gate", func(c capturetest.Counts) bool { return c.Blocked })
	h.next(3) // 1 and 2 were overwritten before anyone asked
	if s := h.g.Stats(); s.Read != 3 || s.Delivered != 1 || s.Dropped != 2 {
		t.Errorf("Stats after gate = %+v, want read 3, delivered 1, dropped 2", s)
	}

	// Nothing newer exists, so Next must not hand frame 3 out again.
	done, cancel := context.WithCancel(h.ctx)
	cancel()
	var f capture.Frame
	if err := h.g.Next(done, &f); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with no newer frame = %v (frame %d), want context.Canceled", err, f.Seq)
	}

	close(gate)
	h.next(4) // the last frame of a finite source is always delivered
	if err := h.g.Next(h.ctx, &f); !errors.Is(err, capture.ErrEndOfStream) {
		t.Fatalf("Next after the last frame = %v, want ErrEndOfStream", err)
	}
	<-h.g.Done()
	if !errors.Is(h.g.Err(), capture.ErrEndOfStream) {
		t.Errorf("Err() = %v, want ErrEndOfStream", h.g.Err())
	}
	if s := h.g.Stats(); s.Read != 4 || s.Delivered != 2 || s.Dropped != 2 || s.Reconnects != 0 || s.Connected {
		t.Errorf("final Stats = %+v", s)
	}
	if c := src.Counts(); c.Opens != 1 || c.Closes != 1 || c.IsOpen {
		t.Errorf("source counts %+v, want opened and released once", c)
	}
	if err := h.g.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := h.g.Next(h.ctx, &f); !errors.Is(err, capture.ErrClosed) {
		t.Errorf("Next after Close = %v, want ErrClosed", err)
	}
}

func TestGrabberReusesBuffers(t *testing.T) {
	const frames = 300
	src := capturetest.New("cam", capturetest.Frames(frames, 32, 24))
	h := start(t, finiteConfig(), src)
	var f capture.Frame
	var got uint64
	for {
		err := h.g.Next(h.ctx, &f)
		if errors.Is(err, capture.ErrEndOfStream) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq <= got {
			t.Fatalf("frame %d after frame %d: not newer", f.Seq, got)
		}
		got = f.Seq
		checkPixels(t, &f)
	}
	s := h.g.Stats()
	if got != frames || s.Read != frames || s.Delivered+s.Dropped != frames {
		t.Errorf("last frame %d, stats %+v: want the last of %d frames and delivered+dropped = read", got, s, frames)
	}
	// The reader, the latest slot and the consumer own one buffer each.
	if c := src.Counts(); c.Allocs > 3 {
		t.Errorf("%d buffer allocations for %d frames, want at most 3", c.Allocs, frames)
	}
}

func TestGrabberReconnectsAfterStall(t *testing.T) {
	cfg := liveConfig()
	src := capturetest.New("cam",
		capturetest.Frames(2, 2, 2),
		capturetest.Stall(),
		capturetest.Frames(1, 2, 2),
		capturetest.Stall(),
	)
	h := start(t, cfg, src)
	h.waitFor("stall", func(c capturetest.Counts) bool { return c.Blocked })
	h.next(2)

	h.clock.Advance(cfg.StallTimeout - time.Nanosecond)
	if c := src.Counts(); !c.Blocked || c.Closes != 0 {
		t.Fatalf("watchdog fired before stall_timeout: %+v", c)
	}
	h.clock.Advance(time.Nanosecond)
	h.waitFor("stalled source to be closed", func(c capturetest.Counts) bool { return c.Closes == 1 })
	if err := h.clock.WaitPending(h.ctx, 1); err != nil { // the backoff
		t.Fatal(err)
	}
	s := h.g.Stats()
	if s.Stalls != 1 || !errors.Is(s.LastErr, capture.ErrStalled) || s.Connected {
		t.Errorf("Stats after stall = %+v, want one stall recorded as LastErr, disconnected", s)
	}
	if !strings.Contains(s.LastErr.Error(), "fake:cam") {
		t.Errorf("stall error %q does not name the source", s.LastErr)
	}

	// First backoff is reconnect_min, shortened by at most a quarter.
	h.clock.Advance(cfg.ReconnectMin*3/4 - time.Nanosecond)
	if c := src.Counts(); c.Opens != 1 {
		t.Fatalf("reopened before the backoff: %+v", c)
	}
	h.clock.Advance(cfg.ReconnectMin / 4)
	h.waitFor("reopen", func(c capturetest.Counts) bool { return c.Opens == 2 && c.IsOpen })
	h.next(3)
	if s := h.g.Stats(); s.Reconnects != 1 || !s.Connected {
		t.Errorf("Stats after reopen = %+v, want 1 reconnect, connected", s)
	}
	if n := h.log.count("reopening source"); n != 1 {
		t.Errorf("logged %d reopen lines, want 1", n)
	}
}

func TestGrabberStalledOpen(t *testing.T) {
	cfg := liveConfig()
	src := capturetest.New("rtsp", capturetest.Frames(1, 2, 2), capturetest.Stall())
	src.FailOpens(capturetest.ErrHang)
	h := start(t, cfg, src)
	h.waitFor("hanging open", func(c capturetest.Counts) bool { return c.Blocked })
	h.clock.Advance(cfg.StallTimeout)
	if err := h.clock.WaitPending(h.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if s := h.g.Stats(); s.Stalls != 1 || !errors.Is(s.LastErr, capture.ErrStalled) || !strings.Contains(s.LastErr.Error(), "open") {
		t.Errorf("Stats = %+v, want the open recorded as stalled", s)
	}
	h.clock.Advance(cfg.ReconnectMin)
	h.next(1)
	if c := src.Counts(); c.Opens != 2 || c.Closes != 0 {
		t.Errorf("counts %+v: want 2 opens and no Close of the never-opened first attempt", c)
	}
}

// TestGrabberBackoff checks reopen attempts of a live source back off
// exponentially up to reconnect_max and start over once frames flow again.
func TestGrabberBackoff(t *testing.T) {
	cfg := liveConfig()
	cfg.StallTimeout = 0 // only the backoff uses the clock
	boom := errors.New("boom")
	src := capturetest.New("cam",
		capturetest.Frames(1, 2, 2),
		capturetest.Fail(boom),
		capturetest.Frames(1, 2, 2),
		capturetest.Fail(boom),
		capturetest.Stall(),
	)
	// Open 1 works; 2..5 fail; 6 works, reads frame 2, fails; 7 works.
	src.FailOpens(nil, errors.New("no device"), errors.New("no device"), errors.New("no device"), errors.New("no device"))
	h := start(t, cfg, src)
	h.next(1)

	lo := cfg.ReconnectMin
	for i, full := range []time.Duration{lo, 2 * lo, 4 * lo, 4 * lo, 4 * lo} { // 4*lo == reconnect_max
		opens := i + 1
		if err := h.clock.WaitPending(h.ctx, 1); err != nil {
			t.Fatal(err)
		}
		if d := h.clock.Pending()[0]; d > full || d < full*3/4 {
			t.Errorf("backoff %d is %s, want within [%s, %s]", i, d, full*3/4, full)
		}
		if c := src.Counts(); c.Opens != opens {
			t.Fatalf("backoff %d: %d opens, want %d", i, c.Opens, opens)
		}
		h.clock.Advance(full)
		h.waitFor("next open", func(c capturetest.Counts) bool { return c.Opens == opens+1 })
	}
	h.next(2)
	// Frames flowed, so the next failure backs off from reconnect_min again.
	if err := h.clock.WaitPending(h.ctx, 1); err != nil {
		t.Fatal(err)
	}
	if d := h.clock.Pending()[0]; d > lo {
		t.Errorf("backoff after a working session is %s, want at most %s", d, lo)
	}
	h.clock.Advance(lo)
	h.waitFor("reopen", func(c capturetest.Counts) bool { return c.Opens == 7 && c.Blocked })
	s := h.g.Stats()
	if s.Reconnects != 6 || s.Read != 2 {
		t.Errorf("Stats = %+v, want 6 reconnects, 2 frames", s)
	}
	if n := h.log.count("reopening source"); n != 6 {
		t.Errorf("logged %d reopen lines, want 6", n)
	}
}

func TestGrabberEndOfStream(t *testing.T) {
	tests := []struct {
		name      string
		cfg       capture.Config
		end       error
		wantEnd   error // what Next returns after frame 1; nil = the Grabber reconnects
		wantOpens int
	}{
		{"finite source ends cleanly", finiteConfig(), capture.ErrEndOfStream, capture.ErrEndOfStream, 1},
		{"finite source error is terminal", finiteConfig(), errors.New("corrupt frame"), errors.New("corrupt frame"), 1},
		{"live stream end reconnects", liveConfig(), capture.ErrEndOfStream, nil, 2},
		{"live read error reconnects", liveConfig(), errors.New("unplugged"), nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.StallTimeout = 0
			src := capturetest.New("x", capturetest.Frames(1, 2, 2), capturetest.Fail(tt.end), capturetest.Frames(1, 2, 2), capturetest.Stall())
			h := start(t, tt.cfg, src)
			h.next(1)
			if tt.wantEnd != nil {
				var f capture.Frame
				err := h.g.Next(h.ctx, &f)
				if err == nil || err.Error() != tt.wantEnd.Error() {
					t.Fatalf("Next = %v, want %v", err, tt.wantEnd)
				}
				<-h.g.Done()
			} else {
				if err := h.clock.WaitPending(h.ctx, 1); err != nil {
					t.Fatal(err)
				}
				if s := h.g.Stats(); s.LastErr == nil || s.LastErr.Error() != tt.end.Error() {
					t.Errorf("LastErr = %v, want %v", s.LastErr, tt.end)
				}
				h.clock.Advance(liveConfig().ReconnectMin)
				h.next(2)
			}
			if c := src.Counts(); c.Opens != tt.wantOpens || c.Closes != tt.wantOpens-btoi(c.IsOpen) {
				t.Errorf("counts %+v, want %d opens, every finished session closed", c, tt.wantOpens)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestGrabberFiniteOpenFailureIsTerminal(t *testing.T) {
	src := capturetest.New("missing.avi")
	boom := errors.New("no such file")
	src.FailOpens(boom)
	h := start(t, finiteConfig(), src)
	var f capture.Frame
	if err := h.g.Next(h.ctx, &f); !errors.Is(err, boom) {
		t.Fatalf("Next = %v, want the open error", err)
	}
	if c := src.Counts(); c.Opens != 1 {
		t.Errorf("finite source reopened: %+v", c)
	}
	if s := h.g.Stats(); !errors.Is(s.LastErr, boom) {
		t.Errorf("Stats().LastErr = %v, want the open error", s.LastErr)
	}
}

// TestGrabberReleasesSource checks the device is released however the
// Grabber is stopped, wherever its reader is.
func TestGrabberReleasesSource(t *testing.T) {
	tests := []struct {
		name      string
		steps     []capturetest.Step
		openErrs  []error
		waitUntil func(capturetest.Counts) bool
		wantOpen  int // Opens that succeeded and so need a Close
	}{
		{"blocked in Read", []capturetest.Step{capturetest.Frames(1, 2, 2), capturetest.Stall()}, nil,
			func(c capturetest.Counts) bool { return c.Blocked && c.Frames == 1 }, 1},
		{"blocked in Open", nil, []error{capturetest.ErrHang},
			func(c capturetest.Counts) bool { return c.Blocked }, 0},
		{"waiting out a backoff", []capturetest.Step{capturetest.Fail(errors.New("x"))}, nil,
			func(c capturetest.Counts) bool { return c.Closes == 1 }, 1},
	}
	for _, tt := range tests {
		for _, how := range []string{"Close", "cancel"} {
			t.Run(tt.name+" by "+how, func(t *testing.T) {
				cfg := liveConfig()
				cfg.StallTimeout = 0
				src := capturetest.New("cam", tt.steps...)
				src.FailOpens(tt.openErrs...)
				ctx, cancel := context.WithCancel(testContext(t))
				g, err := capture.NewGrabber(ctx, src, cfg, nil, capture.WithClock(capturetest.NewClock(time.Unix(0, 0))))
				if err != nil {
					t.Fatal(err)
				}
				if err := src.WaitFor(testContext(t), tt.waitUntil); err != nil {
					t.Fatal(err)
				}
				if how == "Close" {
					if err := g.Close(); err != nil {
						t.Errorf("Close = %v", err)
					}
				} else {
					cancel()
					<-g.Done()
				}
				c := src.Counts()
				if c.IsOpen || c.Closes != tt.wantOpen || c.Misuse != 0 {
					t.Errorf("after stop: %+v, want released with %d Close", c, tt.wantOpen)
				}
				var f capture.Frame
				if err := g.Next(testContext(t), &f); !errors.Is(err, capture.ErrClosed) {
					t.Errorf("Next after stop = %v, want ErrClosed", err)
				}
				cancel()
				g.Close()
			})
		}
	}
}

func TestNewGrabberRejectsBadConfig(t *testing.T) {
	cfg := liveConfig()
	cfg.ReconnectMax = 0
	if _, err := capture.NewGrabber(context.Background(), capturetest.New("x"), cfg, nil); !errors.Is(err, capture.ErrInvalidConfig) {
		t.Errorf("NewGrabber(bad config) = %v, want ErrInvalidConfig", err)
	}
}
