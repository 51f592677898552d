package preprocess

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrBadFrame is wrapped by every error about the input image (as opposed to
// the Spec): zero or oversized dimensions, or a buffer of the wrong length.
var ErrBadFrame = errors.New("preprocess: bad frame")

// MaxDim bounds frame width and height (and Resize targets); far above any
// camera, low enough that sizes never overflow.
const MaxDim = 1 << 15

// Preprocessor turns frames into tensors for one Spec, keeping the
// resampling tables for the last frame size and all scratch memory, so that
// frames of a steady size allocate nothing. It is not safe for concurrent
// use: give each goroutine its own (the package-level functions pool them).
type Preprocessor struct {
	spec Spec
	lut  lut
	rs   resampler
	sq   []byte // size×size crop

	geo geometry // for the last frame size
}

// geometry is the resize/crop plan for one input size.
type geometry struct {
	w, h      int
	size      int
	left, top int
	hx, vy    *axisTable // nil when that axis is not resampled
}

func (g *geometry) plan(w, h, size int) {
	if g.w == w && g.h == h && g.size == size {
		return
	}
	rw, rh := ResizedSize(w, h, size)
	left, top := CenterCropOffset(rw, rh, size)
	*g = geometry{w: w, h: h, size: size, left: left, top: top}
	if rw != w {
		g.hx = axisFor(w, rw, left, size)
	}
	if rh != h {
		g.vy = axisFor(h, rh, top, size)
	}
}

// NewPreprocessor validates spec and returns a Preprocessor for it.
func NewPreprocessor(spec Spec) (*Preprocessor, error) {
	p := &Preprocessor{}
	if err := p.setSpec(spec); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Preprocessor) setSpec(spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	p.spec = spec
	p.lut.build(spec)
	return nil
}

// Spec returns the spec the Preprocessor produces.
func (p *Preprocessor) Spec() Spec { return p.spec }

// Image fills dst from the packed 8-bit RGB frame rgb (w×h, row-major,
// 3*w*h bytes): CLIP's resize, centre crop, normalisation and the spec's
// layout and dtype. dst's buffers are reused when large enough.
func (p *Preprocessor) Image(dst *Tensor, rgb []byte, w, h int) error {
	if dst == nil {
		return errors.New("preprocess: nil destination tensor")
	}
	if err := checkFrame(rgb, w, h); err != nil {
		return err
	}
	p.sq = p.resizeCrop(p.sq, rgb, w, h)
	dst.prepare(p.spec)
	p.lut.fill(dst, p.sq)
	return nil
}

// ResizeCrop returns the spec-size square RGB image (size*size*3 bytes) CLIP
// would normalise: the frame resized like torchvision's Resize(size, BICUBIC)
// on a PIL image, then CenterCrop(size). It writes into dst when its capacity
// suffices.
func (p *Preprocessor) ResizeCrop(dst, rgb []byte, w, h int) ([]byte, error) {
	if err := checkFrame(rgb, w, h); err != nil {
		return nil, err
	}
	return p.resizeCrop(dst, rgb, w, h), nil
}

func (p *Preprocessor) resizeCrop(dst, rgb []byte, w, h int) []byte {
	n := p.spec.Size
	p.geo.plan(w, h, n)
	dst = grow(dst, n*n*3)
	p.rs.window(dst, rgb, w, p.geo.hx, p.geo.vy, p.geo.left, p.geo.top, n, n)
	return dst
}

// Normalize fills dst from an image that is already size×size RGB (for
// example the output of ResizeCrop, or a synthetic render at model size).
func (p *Preprocessor) Normalize(dst *Tensor, square []byte) error {
	if dst == nil {
		return errors.New("preprocess: nil destination tensor")
	}
	n := p.spec.Size
	if len(square) != n*n*3 {
		return fmt.Errorf("%w: square image has %d bytes, want %d for %dx%d RGB", ErrBadFrame, len(square), n*n*3, n, n)
	}
	dst.prepare(p.spec)
	p.lut.fill(dst, square)
	return nil
}

func checkFrame(rgb []byte, w, h int) error {
	if w < 1 || h < 1 || w > MaxDim || h > MaxDim {
		return fmt.Errorf("%w: size %dx%d outside [1,%d]", ErrBadFrame, w, h, MaxDim)
	}
	// int64: 3*w*h can exceed a 32-bit int on 32-bit boards.
	if want := 3 * int64(w) * int64(h); int64(len(rgb)) != want {
		return fmt.Errorf("%w: rgb has %d bytes, want 3*%d*%d = %d", ErrBadFrame, len(rgb), w, h, want)
	}
	return nil
}

// pool lends Preprocessors to the package-level functions so concurrent
// callers each get private scratch memory; resampling tables are shared.
var pool = sync.Pool{New: func() any { return new(Preprocessor) }}

// Image is Preprocessor.Image for callers without one; it is safe for
// concurrent use and, in steady state, allocates nothing.
func Image(dst *Tensor, rgb []byte, w, h int, spec Spec) error {
	p := pool.Get().(*Preprocessor)
	defer pool.Put(p)
	if p.spec != spec {
		if err := p.setSpec(spec); err != nil {
			return err // setSpec validates first, so p is unchanged
		}
	}
	return p.Image(dst, rgb, w, h)
}

// ResizeCrop resizes the w×h RGB frame so its shorter side is size (PIL
// bicubic, as torchvision's Resize(size, BICUBIC)) and returns the centre
// size×size crop, written into dst when its capacity suffices. It is safe for
// concurrent use.
func ResizeCrop(dst, rgb []byte, w, h, size int) ([]byte, error) {
	if size < 1 || size > 4096 {
		return nil, fmt.Errorf("preprocess: crop size %d outside [1,4096]", size)
	}
	if err := checkFrame(rgb, w, h); err != nil {
		return nil, err
	}
	p := pool.Get().(*Preprocessor)
	defer pool.Put(p)
	p.geo.plan(w, h, size)
	dst = grow(dst, size*size*3)
	p.rs.window(dst, rgb, w, p.geo.hx, p.geo.vy, p.geo.left, p.geo.top, size, size)
	return dst, nil
}

// Resize is PIL's Image.resize((ow, oh), BICUBIC) for a packed RGB frame,
// byte for byte, written into dst when its capacity suffices. It is safe for
// concurrent use.
func Resize(dst, rgb []byte, w, h, ow, oh int) ([]byte, error) {
	if ow < 1 || oh < 1 || ow > MaxDim || oh > MaxDim || 3*int64(ow)*int64(oh) > math.MaxInt {
		return nil, fmt.Errorf("preprocess: resize target %dx%d outside [1,%d] or too large", ow, oh, MaxDim)
	}
	if err := checkFrame(rgb, w, h); err != nil {
		return nil, err
	}
	var hx, vy *axisTable
	if ow != w {
		hx = newAxisTable(w, ow, 0, ow) // one-off sizes: not worth a cache slot
	}
	if oh != h {
		vy = newAxisTable(h, oh, 0, oh)
	}
	p := pool.Get().(*Preprocessor)
	defer pool.Put(p)
	dst = grow(dst, ow*oh*3)
	p.rs.window(dst, rgb, w, hx, vy, 0, 0, ow, oh)
	return dst, nil
}
