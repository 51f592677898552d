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

	// Workers beyond the calling goroutine, with their own scratch memory.
	extra   []resampler
	bands   []band   // the crop's rows, one band per worker
	bandGeo geometry // the geometry bands were split for
	job     job      // the frame being split, while Image runs
	wg      sync.WaitGroup
}

// job is the frame the workers share during one Image call.
type job struct {
	dst *Tensor
	rgb []byte
	w   int
}

// band is one worker's share of the crop: rows [y0, y1) and, when the
// height is resampled, the vertical table's entries for them.
type band struct {
	y0, y1 int
	vy     *axisTable
}

// SetWorkers splits the work on each frame over n goroutines (the caller
// and n-1 others), each resampling a band of the crop's rows; n <= 1 keeps
// it on the caller. The bytes are the same either way. Frames already at
// the spec's size (nothing to resample) are not split. Splitting costs a
// few allocations per frame; it pays where other cores would otherwise
// wait for one preprocessing thread, or are all busy and each should lose
// only a share of the time.
func (p *Preprocessor) SetWorkers(n int) {
	n = max(n, 1)
	if n == len(p.extra)+1 {
		return
	}
	p.extra = make([]resampler, n-1)
	p.bands = p.bands[:0]
}

// split divides the crop's rows into len(p.extra)+1 bands for the current
// geometry.
func (p *Preprocessor) split() {
	n := p.spec.Size
	k := min(len(p.extra)+1, n)
	if len(p.bands) == k && p.bandGeo == p.geo {
		return
	}
	p.bands, p.bandGeo = p.bands[:0], p.geo
	for i := 0; i < k; i++ {
		b := band{y0: i * n / k, y1: (i + 1) * n / k}
		if t := p.geo.vy; t != nil {
			b.vy = &axisTable{start: t.start[b.y0:b.y1], k: t.k[b.y0:b.y1], lane: t.lane[b.y0:b.y1]}
		}
		p.bands = append(p.bands, b)
	}
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
	// A frame already at model size is only copied and converted: too
	// little work to share out.
	if p.geo.plan(w, h, p.spec.Size); len(p.extra) > 0 && (p.geo.hx != nil || p.geo.vy != nil) {
		p.imageBands(dst, rgb, w, h)
		return nil
	}
	p.sq = p.resizeCrop(p.sq, rgb, w, h)
	dst.prepare(p.spec)
	p.lut.fill(dst, p.sq)
	return nil
}

// imageBands is Image with the crop's rows split over the workers.
func (p *Preprocessor) imageBands(dst *Tensor, rgb []byte, w, h int) {
	n := p.spec.Size
	p.geo.plan(w, h, n)
	p.split()
	p.sq = grow(p.sq, n*n*3)
	dst.prepare(p.spec)
	p.job = job{dst: dst, rgb: rgb, w: w}
	p.wg.Add(len(p.bands) - 1)
	for i := 1; i < len(p.bands); i++ {
		go p.band(i)
	}
	p.runBand(&p.rs, p.bands[0])
	p.wg.Wait()
	p.job = job{} // do not keep the caller's frame alive
}

func (p *Preprocessor) band(i int) {
	defer p.wg.Done()
	p.runBand(&p.extra[i-1], p.bands[i])
}

// runBand resamples and converts one band of the frame in p.job.
func (p *Preprocessor) runBand(rs *resampler, b band) {
	n := p.spec.Size
	rs.window(p.sq[b.y0*n*3:b.y1*n*3], p.job.rgb, p.job.w, p.geo.hx, b.vy, p.geo.left, p.geo.top+b.y0, n, b.y1-b.y0)
	p.lut.fillRows(p.job.dst, p.sq, b.y0, b.y1)
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
