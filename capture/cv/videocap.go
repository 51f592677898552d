package cv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// ErrNotOpen is returned by Read before Open, after Close, or after a Read
// that was abandoned on a stuck capture (the source must be reopened).
var ErrNotOpen = errors.New("capture/cv: source not open")

// videoSource is a capture.Source over a gocv.VideoCapture: camera,
// gstreamer, url and file differ only in how they open and in what a failed
// read means.
type videoSource struct {
	kind   string // for errors: "camera", "gstreamer pipeline", "url", "file"
	target string // what failed, for errors: device path, pipeline, redacted URL, file path
	name   string
	log    *slog.Logger

	// open performs the blocking OpenCV open; it returns a capture that is
	// open, or an error with the capture already released.
	open func() (capturer, error)
	// readFailed turns OpenCV's "no frame" into the error Read returns.
	readFailed func() error
	loop       bool           // file: rewind at the end
	pacer      *capture.Pacer // nil: read as fast as the capture delivers

	w         *worker // the open session; nil when closed
	seq       uint64
	passReads int // frames since open or the last rewind; a loop over zero frames is an error
}

// capturer is the part of *gocv.VideoCapture a worker uses; tests
// substitute captures that hang.
type capturer interface {
	Read(m *gocv.Mat) bool
	Close() error
}

// worker owns one VideoCapture and its Mat on a goroutine of its own, so the
// caller can stop waiting for an OpenCV call that never returns.
type worker struct {
	ops    chan op
	res    chan error // result of the op, buffered so an abandoned op does not block the worker
	quit   chan struct{}
	done   chan struct{} // closed once the capture and Mat are released
	opened chan error    // result of the initial open, buffered

	mat     gocv.Mat // written by the worker during opRead, read by Read after it returns
	scratch gocv.Mat // RGB conversion target, used by Read only; released with mat
	busy    bool     // an op was abandoned and may still be running
}

type op int

const (
	opRead   op = iota
	opRewind    // reopen from the start (file loop); more robust than seeking in every container
)

var errNoFrame = errors.New("no frame")

func (s *videoSource) Name() string { return s.name }

// Open implements capture.Source. If ctx ends before OpenCV answers, Open
// returns and the capture is released whenever OpenCV's open returns.
func (s *videoSource) Open(ctx context.Context) error {
	if s.w != nil {
		return fmt.Errorf("capture/cv: open %s %s: already open", s.kind, s.target)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("capture/cv: open %s %s: %w", s.kind, s.target, err)
	}
	w := &worker{
		ops:    make(chan op),
		res:    make(chan error, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		opened: make(chan error, 1),
	}
	go w.run(s.open)
	select {
	case err := <-w.opened:
		if err != nil {
			return fmt.Errorf("capture/cv: open %s %s: %w", s.kind, s.target, err)
		}
	case <-ctx.Done():
		close(w.quit)
		s.log.Warn("capture/cv: gave up waiting for open; it is released when OpenCV returns", "source", s.name)
		return fmt.Errorf("capture/cv: open %s %s: %w", s.kind, s.target, ctx.Err())
	}
	s.w = w
	s.passReads = 0
	if s.pacer != nil {
		s.pacer.Reset()
	}
	return nil
}

// Read implements capture.Source.
func (s *videoSource) Read(ctx context.Context, dst *capture.Frame) error {
	if s.w == nil || s.w.busy {
		return fmt.Errorf("capture/cv: read %s %s: %w", s.kind, s.target, ErrNotOpen)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.pacer != nil {
		if err := s.pacer.Wait(ctx); err != nil {
			return err
		}
	}
	err := s.do(ctx, opRead)
	if errors.Is(err, errNoFrame) && s.loop && s.passReads > 0 {
		if err = s.do(ctx, opRewind); err != nil {
			return fmt.Errorf("capture/cv: rewind %s %s: %w", s.kind, s.target, err)
		}
		s.passReads = 0
		err = s.do(ctx, opRead)
	}
	if errors.Is(err, errNoFrame) {
		return s.readFailed()
	}
	if err != nil {
		return err
	}
	if err := matToFrame(&s.w.mat, &s.w.scratch, dst); err != nil {
		return fmt.Errorf("capture/cv: read %s %s: %w", s.kind, s.target, err)
	}
	s.seq++
	s.passReads++
	dst.Seq, dst.Time = s.seq, time.Now()
	return nil
}

// do runs one op on the worker and waits for it or for ctx.
func (s *videoSource) do(ctx context.Context, o op) error {
	w := s.w
	select {
	case w.ops <- o:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return fmt.Errorf("capture/cv: %s %s: capture released", s.kind, s.target)
	}
	select {
	case err := <-w.res:
		return err
	case <-ctx.Done():
		w.busy = true
		return ctx.Err()
	}
}

// Close implements capture.Source. It waits for the release unless an op
// was abandoned on a stuck capture; then the worker releases it later.
func (s *videoSource) Close() error {
	w := s.w
	if w == nil {
		return nil
	}
	s.w = nil
	close(w.quit)
	if w.busy {
		s.log.Warn("capture/cv: capture stuck in OpenCV; it is released when the call returns", "source", s.name)
		return nil
	}
	<-w.done
	return nil
}

func (w *worker) run(open func() (capturer, error)) {
	defer close(w.done)
	vc, err := open()
	if err != nil {
		w.opened <- err
		return
	}
	w.mat, w.scratch = gocv.NewMat(), gocv.NewMat()
	defer func() {
		w.mat.Close()
		w.scratch.Close()
		if vc != nil {
			vc.Close()
		}
	}()
	w.opened <- nil
	for {
		select {
		case <-w.quit:
			return
		case o := <-w.ops:
			switch o {
			case opRead:
				if vc.Read(&w.mat) && !w.mat.Empty() {
					w.res <- nil
				} else {
					w.res <- errNoFrame
				}
			case opRewind:
				vc.Close()
				vc, err = open()
				w.res <- err
				if err != nil {
					return
				}
			}
		}
	}
}
