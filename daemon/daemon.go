package daemon

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/preprocess"
)

// Frames is what the pipeline needs from capture: the newest frame after the
// one it last took (capture's latest-frame grabber satisfies it).
type Frames interface {
	Next(ctx context.Context, dst *capture.Frame) error
}

// Options assemble a daemon from parts built elsewhere (cmd/edge builds them
// from the config; tests pass fakes).
type Options struct {
	Frames  Frames
	Encoder accel.Encoder
	Log     *slog.Logger
	// SourceName and SourceStats describe the capture side for status and metrics.
	SourceName  string
	SourceStats func() capture.Stats
	// Classify, if set, turns an embedding into scored labels for the event.
	Classify func(emb []float32) []Label
	// Views, if set, is given augmented views of frames it is being taught
	// (ViewTeacher); a frame with K views costs 1+K encodes.
	Views ViewTeacher
	// OnEvent receives every event in order; it runs on the encode stage, so
	// it must be quick (the JSON-lines sink is).
	OnEvent func(Event)
	// MaxFrames stops the pipeline after that many events (0: run until
	// cancelled or the source ends).
	MaxFrames uint64
	// EagerCapture takes the next frame as soon as the previous one is
	// handed to the encoder instead of just in time: marginally more robust
	// throughput when encode times vary a lot, at up to one extra encode of
	// latency.
	EagerCapture bool
	// InlineCapture takes, preprocesses and encodes each frame in turn on
	// one goroutine, never preprocessing while the encoder runs. It is the
	// faster schedule when the encoder keeps every core busy (ONNX Runtime
	// on the CPU): there, preprocessing beside the encoder takes CPU time
	// from one of its threads, and every operator then waits for that
	// thread. Overrides EagerCapture.
	InlineCapture bool
	// PreprocessWorkers splits each frame's preprocessing over that many
	// goroutines (0 or 1: one). It shortens preprocessing only where other
	// cores are idle meanwhile (an encoder off the CPU, or ONNX Runtime
	// not spinning); with ONNX Runtime's spinning threads on a two-core
	// machine it measured no faster.
	PreprocessWorkers int
}

// ErrStopped is returned by Run when it stopped because MaxFrames was reached.
var ErrStopped = errors.New("daemon: max frames reached")

// slot carries one frame through the pipeline; slots cycle between the
// capture stage, the encode stage and the debug snapshot, so the steady
// state allocates nothing.
type slot struct {
	frame     capture.Frame
	tensor    preprocess.Tensor
	emb       []float32
	preprocMs float64
}

// Daemon runs the capture → preprocess → encode → event pipeline.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	info    accel.ModelInfo
	metrics *metrics
	ring    eventRing
	pre     *preprocess.Preprocessor
	views   *viewMaker // made on the first teach request with views
	started time.Time

	processed atomic.Uint64
	// Smoothed stage costs in nanoseconds, for just-in-time capture.
	encodeNs, preprocNs ewma
	// encoderFree is signalled when the encoder finishes a frame, so a
	// just-in-time capture that slept on an overestimate starts at once.
	encoderFree chan struct{}

	shownMu sync.Mutex
	shown   *slot // last encoded frame, for /api/v1/frame.jpg
}

// New checks the options and prepares metrics; it starts nothing.
func New(o Options) (*Daemon, error) {
	if o.Frames == nil || o.Encoder == nil {
		return nil, errors.New("daemon: Frames and Encoder are required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SourceStats == nil {
		o.SourceStats = func() capture.Stats { return capture.Stats{} }
	}
	d := &Daemon{opts: o, log: o.Log, info: o.Encoder.Info(), encoderFree: make(chan struct{}, 1)}
	pre, err := preprocess.NewPreprocessor(d.info.Image)
	if err != nil {
		return nil, fmt.Errorf("daemon: model %s: %w", d.info.ID, err)
	}
	d.pre = pre
	pre.SetWorkers(o.PreprocessWorkers)
	d.metrics = newMetrics(func() (uint64, uint64) {
		s := o.SourceStats()
		return s.Dropped, s.Reconnects
	})
	d.metrics.modelInfo.WithLabelValues(d.info.ID, d.info.Backend, fmt.Sprint(d.info.EmbeddingDim)).Set(1)
	return d, nil
}

// Run processes frames until ctx is cancelled (returns nil), the source ends
// (nil), MaxFrames is reached (ErrStopped) or a stage fails.
func (d *Daemon) Run(ctx context.Context) error {
	d.started = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if d.opts.InlineCapture {
		return d.stopReason(d.inlineStage(ctx), nil)
	}

	const slots = 3 // one being filled, one being encoded, one shown
	free := make(chan *slot, slots)
	for i := 0; i < slots; i++ {
		free <- &slot{emb: make([]float32, d.info.EmbeddingDim)}
	}
	// Unbuffered: a preprocessed frame is handed over only when the encoder
	// is ready for it, so it never waits behind another frame.
	ready := make(chan *slot)
	errc := make(chan error, 1)

	go func() { errc <- d.captureStage(ctx, free, ready) }()
	encErr := d.encodeStage(ctx, free, ready)
	cancel()
	capErr := <-errc

	return d.stopReason(encErr, capErr)
}

// stopReason turns the stages' errors into Run's result: a failure, or
// ErrStopped, or nil for a cancel or the end of the source.
func (d *Daemon) stopReason(encErr, capErr error) error {
	stop := func(err error) bool {
		return err == nil || errors.Is(err, context.Canceled) || errors.Is(err, capture.ErrEndOfStream) || errors.Is(err, ErrStopped)
	}
	switch {
	case !stop(encErr):
		return encErr
	case !stop(capErr):
		return capErr
	case errors.Is(encErr, ErrStopped):
		return ErrStopped
	}
	return nil
}

// captureStage takes the newest frame and preprocesses it while the encode
// stage is busy with the previous one. It takes the frame just in time: a
// frame grabbed right after the previous hand-over would wait a whole
// encode before its turn, doubling latency on a slow encoder; instead the
// stage sleeps until the encoder is expected to need the next frame in
// about one preprocessing time.
func (d *Daemon) captureStage(ctx context.Context, free <-chan *slot, ready chan<- *slot) error {
	defer close(ready)
	var handedOver time.Time
	// One timer for every wait: since Go 1.23 Reset and Stop leave no
	// stale tick behind, and the stage allocates nothing per frame.
	t := time.NewTimer(time.Hour)
	t.Stop()
	for {
		var s *slot
		select {
		case s = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		if wait := d.captureLead(handedOver); wait > 0 {
			t.Reset(wait)
			select {
			case <-t.C:
			case <-d.encoderFree:
				t.Stop()
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		if err := d.capture(ctx, s); err != nil {
			return err
		}
		select {
		case ready <- s:
			handedOver = time.Now()
			// A signal still pending is about the frame before this one.
			select {
			case <-d.encoderFree:
			default:
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// capture takes the newest frame into s and preprocesses it.
func (d *Daemon) capture(ctx context.Context, s *slot) error {
	if err := d.opts.Frames.Next(ctx, &s.frame); err != nil {
		// On shutdown the grabber may notice the cancellation first and
		// report itself closed; that is a stop, not a capture failure.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, context.Canceled) && !errors.Is(err, capture.ErrEndOfStream) {
			d.metrics.errors.WithLabelValues("capture").Inc()
			return fmt.Errorf("daemon: capture: %w", err)
		}
		return err
	}
	t0 := time.Now()
	if err := d.pre.Image(&s.tensor, s.frame.RGB, s.frame.Width, s.frame.Height); err != nil {
		d.metrics.errors.WithLabelValues("preprocess").Inc()
		return fmt.Errorf("daemon: preprocess frame %d: %w", s.frame.Seq, err)
	}
	el := time.Since(t0)
	d.preprocNs.add(el)
	s.preprocMs = float64(el.Microseconds()) / 1e3
	d.metrics.preprocess.Observe(el.Seconds())
	return nil
}

// captureLead is how long to wait, after the last hand-over, before taking
// the next frame: the expected encode time less twice the preprocessing
// time and a 5% margin, so the next frame is ready slightly before the
// encoder is, and the encoder never idles while latency stays near one
// encode plus one preprocess. Zero until both costs have been measured.
func (d *Daemon) captureLead(handedOver time.Time) time.Duration {
	if handedOver.IsZero() || d.opts.EagerCapture {
		return 0
	}
	enc, pre := d.encodeNs.get(), d.preprocNs.get()
	if enc == 0 || pre == 0 {
		return 0
	}
	lead := enc - 2*pre - enc/20
	return lead - time.Since(handedOver)
}

func (d *Daemon) encodeStage(ctx context.Context, free chan<- *slot, ready <-chan *slot) error {
	for s := range ready {
		prev, err := d.encode(ctx, s)
		if prev != nil {
			free <- prev
		}
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// encode runs the encoder on a preprocessed slot and reports the event. It
// returns the slot shown before s, now free for reuse, and ErrStopped once
// MaxFrames events were reported.
func (d *Daemon) encode(ctx context.Context, s *slot) (*slot, error) {
	t0 := time.Now()
	if err := d.opts.Encoder.EncodeImage(ctx, &s.tensor, s.emb); err != nil {
		d.metrics.errors.WithLabelValues("encode").Inc()
		return nil, fmt.Errorf("daemon: encode frame %d: %w", s.frame.Seq, err)
	}
	now := time.Now()
	d.encodeNs.add(now.Sub(t0))
	select {
	case d.encoderFree <- struct{}{}:
	default:
	}
	ev := Event{
		FrameSeq:   s.frame.Seq,
		CapturedAt: s.frame.Time,
		EmittedAt:  now,
		Norm:       l2(s.emb),
		PreprocMs:  s.preprocMs,
		EncodeMs:   float64(now.Sub(t0).Microseconds()) / 1e3,
		LatencyMs:  float64(now.Sub(s.frame.Time).Microseconds()) / 1e3,
		Dropped:    d.opts.SourceStats().Dropped,
		Embedding:  s.emb,
	}
	d.teachViews(ctx, s)
	if d.opts.Classify != nil {
		ev.Labels = d.opts.Classify(s.emb)
	}
	d.metrics.frames.Inc()
	d.metrics.encode.Observe(ev.EncodeMs / 1e3)
	d.metrics.latency.Observe(ev.LatencyMs / 1e3)
	d.metrics.norm.Set(float64(ev.Norm))
	if d.opts.OnEvent != nil {
		d.opts.OnEvent(ev)
	}
	d.ring.add(ev)

	d.shownMu.Lock()
	prev := d.shown
	d.shown = s
	d.shownMu.Unlock()
	if n := d.processed.Add(1); d.opts.MaxFrames > 0 && n >= d.opts.MaxFrames {
		return prev, ErrStopped
	}
	return prev, nil
}

// inlineStage is the whole pipeline on one goroutine: take the newest
// frame, preprocess it, encode it, report it, and only then take the next.
// Where the encoder already keeps every core busy, preprocessing beside it
// gains no CPU and stalls the encoder's threads (each operator waits for
// its slowest thread); in between encodes it costs exactly its own time,
// divided over the preprocessing workers.
func (d *Daemon) inlineStage(ctx context.Context) error {
	s, spare := &slot{emb: make([]float32, d.info.EmbeddingDim)}, &slot{emb: make([]float32, d.info.EmbeddingDim)}
	for {
		if err := d.capture(ctx, s); err != nil {
			return err
		}
		prev, err := d.encode(ctx, s)
		if err != nil {
			return err
		}
		if prev == nil {
			prev = spare
		}
		s = prev
	}
}

// snapshot copies the last encoded frame.
func (d *Daemon) snapshot() (image.Image, bool) {
	d.shownMu.Lock()
	defer d.shownMu.Unlock()
	if d.shown == nil {
		return nil, false
	}
	f := &d.shown.frame
	return rgbToImage(f.RGB, f.Width, f.Height), true
}

// Status is the debug API's view of the daemon.
type Status struct {
	Model     accel.ModelInfo `json:"model"`
	Source    string          `json:"source"`
	Capture   capture.Stats   `json:"capture"`
	Processed uint64          `json:"frames_processed"`
	Uptime    string          `json:"uptime"`
	Last      *Event          `json:"last_event,omitempty"`
}

// Status reports what the daemon is doing now.
func (d *Daemon) Status() Status {
	st := Status{
		Model:     d.info,
		Source:    d.opts.SourceName,
		Capture:   d.opts.SourceStats(),
		Processed: d.processed.Load(),
		Uptime:    time.Since(d.started).Round(time.Millisecond).String(),
	}
	if e, ok := d.ring.last(); ok {
		st.Last = &e
	}
	return st
}

func l2(v []float32) float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return float32(math.Sqrt(s))
}

// ewma is an exponentially weighted moving average of durations, safe for
// one writer and concurrent readers.
type ewma struct{ v atomic.Int64 }

func (e *ewma) add(d time.Duration) {
	old := e.v.Load()
	if old == 0 {
		e.v.Store(int64(d))
		return
	}
	e.v.Store(old + (int64(d)-old)/8)
}

func (e *ewma) get() time.Duration { return time.Duration(e.v.Load()) }
