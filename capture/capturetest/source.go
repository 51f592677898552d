package capturetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/capture"
)

// ErrHang, queued with Source.FailOpens, makes that Open block until its
// context is done, like a network camera that accepts the connection and
// never answers.
var ErrHang = errors.New("capturetest: open hangs")

type stepKind int

const (
	stepFrames stepKind = iota
	stepFail
	stepStall
	stepGate
)

// Step is one entry of a Source's read script.
type Step struct {
	kind stepKind
	n    int // frames
	w, h int
	err  error
	gate <-chan struct{}
}

// Frames makes the next n Reads return w×h frames. Frame k (counting from 1
// over the source's whole life) has Seq k and every RGB byte set to byte(k),
// so a test can tell which frame it holds and that its pixels match.
func Frames(n, w, h int) Step { return Step{kind: stepFrames, n: n, w: w, h: h} }

// Fail makes the next Read return err (capture.ErrEndOfStream for an end).
func Fail(err error) Step { return Step{kind: stepFail, err: err} }

// Stall makes the next Read block until its context is done and return the
// context's error, as a wedged camera would if its driver honoured cancel.
func Stall() Step { return Step{kind: stepStall} }

// Gate makes the next Read block until ch is closed and then carry on with
// the following step, so a test can hold the reader at a known point.
func Gate(ch <-chan struct{}) Step { return Step{kind: stepGate, gate: ch} }

// Counts is what a Source has been asked to do.
type Counts struct {
	Opens   int  // Open calls, failed ones included
	Closes  int  // Close calls
	IsOpen  bool // opened and not closed since
	Reads   int  // Read calls
	Frames  int  // frames returned
	Allocs  int  // Reads that had to allocate dst.RGB because it was too small
	Blocked bool // an Open or Read is blocked (ErrHang, Stall or Gate)
	// Misuse counts calls a real device would reject: Read while closed,
	// Open while open, concurrent Reads. Tests should assert it stays 0.
	Misuse int
}

// Source is a scripted capture.Source for tests. Reads follow the script
// given to New across Open/Close cycles (a reopen continues where the last
// session stopped); once the script is used up, Read returns
// capture.ErrEndOfStream.
type Source struct {
	name string

	mu       sync.Mutex
	steps    []Step
	openErrs []error
	seq      uint64
	counts   Counts
	reading  bool
	changed  chan struct{} // closed and replaced on every change of counts
}

// New returns a closed Source that will play steps.
func New(name string, steps ...Step) *Source {
	return &Source{name: name, steps: steps, changed: make(chan struct{})}
}

// FailOpens queues results for the next Open calls, one each: nil succeeds,
// ErrHang blocks until the context is done, any other error is returned.
// Opens beyond the queue succeed.
func (s *Source) FailOpens(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.openErrs = append(s.openErrs, errs...)
}

// Name implements capture.Source.
func (s *Source) Name() string { return "fake:" + s.name }

// Open implements capture.Source.
func (s *Source) Open(ctx context.Context) error {
	s.mu.Lock()
	s.counts.Opens++
	if s.counts.IsOpen {
		s.counts.Misuse++
	}
	var err error
	if len(s.openErrs) > 0 {
		err, s.openErrs = s.openErrs[0], s.openErrs[1:]
	}
	if err == nil {
		s.counts.IsOpen = true
	}
	if err == ErrHang {
		s.counts.Blocked = true
	}
	s.notifyLocked()
	s.mu.Unlock()

	switch {
	case err == ErrHang:
		<-ctx.Done()
		s.update(func(c *Counts) { c.Blocked = false })
		return fmt.Errorf("capturetest: open %s: %w", s.name, ctx.Err())
	case err != nil:
		return fmt.Errorf("capturetest: open %s: %w", s.name, err)
	}
	return nil
}

// Read implements capture.Source.
func (s *Source) Read(ctx context.Context, dst *capture.Frame) error {
	s.mu.Lock()
	s.counts.Reads++
	if !s.counts.IsOpen || s.reading {
		s.counts.Misuse++
		s.notifyLocked()
		s.mu.Unlock()
		return fmt.Errorf("capturetest: read %s: source not open", s.name)
	}
	s.reading = true
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.reading = false
		s.mu.Unlock()
	}()

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		if len(s.steps) == 0 {
			s.mu.Unlock()
			return capture.ErrEndOfStream
		}
		st := &s.steps[0]
		switch st.kind {
		case stepFrames:
			s.seq++
			n := st.w * st.h * 3
			if cap(dst.RGB) < n {
				dst.RGB = make([]byte, n)
				s.counts.Allocs++
			}
			dst.RGB = dst.RGB[:n]
			for i := range dst.RGB {
				dst.RGB[i] = byte(s.seq)
			}
			dst.Seq, dst.Width, dst.Height, dst.Time = s.seq, st.w, st.h, time.Now()
			if st.n--; st.n <= 0 {
				s.steps = s.steps[1:]
			}
			s.counts.Frames++
			s.notifyLocked()
			s.mu.Unlock()
			return nil
		case stepFail:
			s.steps = s.steps[1:]
			s.mu.Unlock()
			return st.err
		case stepStall:
			s.steps = s.steps[1:]
			s.counts.Blocked = true
			s.notifyLocked()
			s.mu.Unlock()
			<-ctx.Done()
			s.update(func(c *Counts) { c.Blocked = false })
			return ctx.Err()
		case stepGate:
			gate := st.gate
			s.counts.Blocked = true
			s.notifyLocked()
			s.mu.Unlock()
			select {
			case <-gate:
				s.mu.Lock()
				s.steps = s.steps[1:]
				s.counts.Blocked = false
				s.notifyLocked()
				s.mu.Unlock()
			case <-ctx.Done():
				s.update(func(c *Counts) { c.Blocked = false })
				return ctx.Err()
			}
		}
	}
}

// Close implements capture.Source.
func (s *Source) Close() error {
	s.update(func(c *Counts) {
		c.Closes++
		c.IsOpen = false
	})
	return nil
}

// Counts returns a snapshot of what the Source has been asked to do.
func (s *Source) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// WaitFor blocks until cond holds for the Source's counts or ctx is done,
// so a test can wait for the reader to reach a point without sleeping.
func (s *Source) WaitFor(ctx context.Context, cond func(Counts) bool) error {
	for {
		s.mu.Lock()
		c, ch := s.counts, s.changed
		s.mu.Unlock()
		if cond(c) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("capturetest: %s: condition not met, counts %+v: %w", s.name, c, ctx.Err())
		}
	}
}

func (s *Source) update(f func(*Counts)) {
	s.mu.Lock()
	f(&s.counts)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Source) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
