package cv

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// hangingCapture is a capture whose Read blocks until release is closed,
// like a VideoCapture on a wedged RTSP stream, then yields a 2x2 frame.
type hangingCapture struct {
	release <-chan struct{}
	reading chan struct{} // closed when a Read has started
	closed  atomic.Int32
	gone    chan struct{} // closed by the first Close
}

func newHangingCapture(release <-chan struct{}) *hangingCapture {
	return &hangingCapture{release: release, reading: make(chan struct{}), gone: make(chan struct{})}
}

func (c *hangingCapture) Read(m *gocv.Mat) bool {
	close(c.reading)
	<-c.release
	blank := gocv.NewMatWithSize(2, 2, gocv.MatTypeCV8UC3)
	defer blank.Close()
	blank.CopyTo(m)
	return true
}

func (c *hangingCapture) Close() error {
	if c.closed.Add(1) == 1 {
		close(c.gone)
	}
	return nil
}

func testSource(open func() (capturer, error)) *videoSource {
	return &videoSource{
		kind: "test", target: "hanging", name: "test:hanging", log: orDiscard(nil),
		open:       open,
		readFailed: func() error { return errors.New("no frame") },
	}
}

func TestStuckReadIsAbandonedAndReleasedLater(t *testing.T) {
	release := make(chan struct{})
	hc := newHangingCapture(release)
	s := testSource(func() (capturer, error) { return hc, nil })
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := s.w

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var f capture.Frame
	go func() { errc <- s.Read(ctx, &f) }()
	<-hc.reading
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read on a stuck capture after cancel = %v, want context.Canceled", err)
	}
	if err := s.Read(context.Background(), &f); !errors.Is(err, ErrNotOpen) {
		t.Errorf("Read after an abandoned Read = %v, want ErrNotOpen (reopen needed)", err)
	}
	if err := s.Close(); err != nil { // must not wait for the stuck call
		t.Fatal(err)
	}
	if n := hc.closed.Load(); n != 0 {
		t.Fatalf("capture closed %d times while OpenCV still used it", n)
	}
	close(release)
	<-w.done
	if n := hc.closed.Load(); n != 1 {
		t.Errorf("capture closed %d times after the stuck call returned, want 1", n)
	}
}

func TestStuckOpenIsAbandonedAndReleasedLater(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	hc := newHangingCapture(release)
	s := testSource(func() (capturer, error) {
		close(started)
		<-release
		return hc, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Open(ctx) }()
	<-started
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || s.w != nil {
		t.Fatalf("Open on a stuck capture after cancel = %v (open session %v), want context.Canceled", err, s.w != nil)
	}
	close(release)
	// The late capture is released by the worker; nothing else refers to it.
	select {
	case <-hc.gone:
	case <-time.After(30 * time.Second):
		t.Fatal("capture opened after Open gave up was never closed")
	}
}

func TestReadFailureIsReported(t *testing.T) {
	s := testSource(func() (capturer, error) { return failingCapture{}, nil })
	want := errors.New("camera gone")
	s.readFailed = func() error { return want }
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var f capture.Frame
	if err := s.Read(context.Background(), &f); err != want {
		t.Errorf("Read = %v, want the kind's read failure", err)
	}
	if err := s.Open(context.Background()); err == nil {
		t.Error("second Open of an open source succeeded")
	}
}

type failingCapture struct{}

func (failingCapture) Read(*gocv.Mat) bool { return false }
func (failingCapture) Close() error        { return nil }
