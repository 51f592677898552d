package capture

import (
	"context"
	"errors"
	"time"
)

// Frame is one captured picture as packed 8-bit RGB, row-major, no padding.
// Sources convert from their native format (BGR Mats, YUV) before handing a
// frame out, so consumers never touch OpenCV memory.
type Frame struct {
	Seq    uint64    // per-source sequence number, counts frames read from the device
	Time   time.Time // when the frame was read
	Width  int
	Height int
	RGB    []byte // len == Width*Height*3; reused by Read when capacity allows
}

// Source is a camera, stream, file or generator of frames.
//
// A Source is used by one goroutine at a time (the Grabber's reader); it
// need not be safe for concurrent use. Open and Read must return promptly
// once their context is done, even when the device does not answer: the
// Grabber's stall watchdog works by cancelling that context, and Close of
// the Grabber waits for them.
type Source interface {
	// Name says what the source is, for logs ("v4l2:/dev/video0", "synthetic:seed=1").
	Name() string
	// Open acquires the device or stream. Open after Close reopens it.
	// When Open fails it holds nothing, so no Close is needed.
	Open(ctx context.Context) error
	// Read blocks until the next frame and writes it into dst, reusing dst.RGB.
	// It returns ErrEndOfStream when a finite source is exhausted.
	// dst.RGB may be any buffer with enough capacity, including one that
	// held another frame: Read must overwrite every byte it hands out.
	Read(ctx context.Context, dst *Frame) error
	// Close releases the device; it is safe to call more than once.
	Close() error
}

// ErrEndOfStream is returned by Read when a finite source (file, folder) ends.
var ErrEndOfStream = errors.New("capture: end of stream")
