package acceltest

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
)

// grid is the side of the pooled image the fake projects: coarse enough
// that small changes to a frame move the embedding only a little.
const grid = 8

// Config shapes a Fake.
type Config struct {
	ID            string          // model id; default "fake-clip"
	Dim           int             // embedding dim; default 64
	Image         preprocess.Spec // default: CLIP's 224 NCHW float32
	ContextLength int             // default 77
	NoText        bool            // EncodeText returns accel.ErrNoTextModel
	Seed          uint64          // selects the fixed random projection
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		c.ID = "fake-clip"
	}
	if c.Dim == 0 {
		c.Dim = 64
	}
	if c.Image.Size == 0 {
		c.Image = preprocess.Spec{Size: 224, Layout: preprocess.NCHW, DType: preprocess.Float32,
			Mean: [3]float32{0.48145466, 0.4578275, 0.40821073}, Std: [3]float32{0.26862954, 0.26130258, 0.27577711}}
	}
	if c.ContextLength == 0 {
		c.ContextLength = 77
	}
	return c
}

// Fake is a deterministic accel.Encoder. An image is average-pooled to an
// 8x8x3 grid and multiplied by a fixed random matrix; a token sequence is
// the sum of a fixed random vector per (token, position bucket). Both are
// L2-normalised. It is safe for concurrent use.
type Fake struct {
	info accel.ModelInfo
	proj []float32 // (grid*grid*3) x Dim, row-major

	mu         sync.Mutex
	err        error
	failAfter  int // calls left before err applies; <0: apply now
	closed     bool
	imageCalls int
	textCalls  int
	pooled     []float64
}

// New returns a Fake shaped by cfg (zero fields take defaults).
func New(cfg Config) *Fake {
	cfg = cfg.withDefaults()
	f := &Fake{
		info: accel.ModelInfo{
			ID: cfg.ID, Backend: "fake", EmbeddingDim: cfg.Dim, LogitScale: 100, Image: cfg.Image,
			HasText: !cfg.NoText, PreprocessHash: accel.PreprocessHash(cfg.Image), Runtime: "fake",
		},
		proj:      make([]float32, grid*grid*3*cfg.Dim),
		pooled:    make([]float64, grid*grid*3),
		failAfter: -1,
	}
	if !cfg.NoText {
		f.info.ContextLength = cfg.ContextLength
	}
	rng := splitmix{cfg.Seed ^ 0x9e3779b97f4a7c15}
	for i := range f.proj {
		f.proj[i] = rng.normal()
	}
	return f
}

// Info describes the fake model.
func (f *Fake) Info() accel.ModelInfo { return f.info }

// Fail makes every following call return err (nil restores success).
func (f *Fake) Fail(err error) { f.FailAfter(0, err) }

// FailAfter lets n more calls succeed, then makes calls return err.
func (f *Fake) FailAfter(n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err, f.failAfter = err, n
}

// ImageCalls and TextCalls count calls (failed ones included).
func (f *Fake) ImageCalls() int { f.mu.Lock(); defer f.mu.Unlock(); return f.imageCalls }

// TextCalls counts EncodeText calls.
func (f *Fake) TextCalls() int { f.mu.Lock(); defer f.mu.Unlock(); return f.textCalls }

// Closed reports whether Close was called.
func (f *Fake) Closed() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.closed }

// injected returns the configured failure, if it is due. Called with mu held.
func (f *Fake) injected() error {
	if f.closed {
		return accel.ErrClosed
	}
	if f.err == nil {
		return nil
	}
	if f.failAfter > 0 {
		f.failAfter--
		return nil
	}
	return f.err
}

// EncodeImage embeds img, which must match Info().Image like a real backend.
func (f *Fake) EncodeImage(ctx context.Context, img *preprocess.Tensor, dst []float32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imageCalls++
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := f.injected(); err != nil {
		return err
	}
	if len(dst) != f.info.EmbeddingDim {
		return fmt.Errorf("acceltest: dst has %d values, want %d", len(dst), f.info.EmbeddingDim)
	}
	if err := accel.CheckTensor(img, f.info.Image); err != nil {
		return err
	}
	f.pool(img)
	for d := range dst {
		var s float64
		for i, p := range f.pooled {
			s += p * float64(f.proj[i*len(dst)+d])
		}
		dst[d] = float32(s)
	}
	return accel.Normalize(dst, dst)
}

// pool averages the (dequantised) tensor into a grid x grid x 3 block image.
func (f *Fake) pool(img *preprocess.Tensor) {
	s := img.Spec
	for i := range f.pooled {
		f.pooled[i] = 0
	}
	value := func(i int) float64 {
		switch s.DType {
		case preprocess.Uint8:
			return float64(int32(img.U8[i])-s.ZeroPoint) * float64(s.Scale)
		case preprocess.Int8:
			return float64(int32(img.I8[i])-s.ZeroPoint) * float64(s.Scale)
		}
		return float64(img.F32[i])
	}
	for c := 0; c < 3; c++ {
		for y := 0; y < s.Size; y++ {
			for x := 0; x < s.Size; x++ {
				i := (c*s.Size+y)*s.Size + x
				if s.Layout == preprocess.NHWC {
					i = (y*s.Size+x)*3 + c
				}
				cell := (c*grid+y*grid/s.Size)*grid + x*grid/s.Size
				f.pooled[cell] += value(i)
			}
		}
	}
	// Cells hold unequal pixel counts when Size is not a multiple of grid;
	// sums are fine for a projection, scale only keeps numbers moderate.
	n := float64(s.Size*s.Size) / (grid * grid)
	for i := range f.pooled {
		f.pooled[i] /= n
	}
}

// EncodeText embeds each sequence of Info().ContextLength ids; positions
// after the last non-zero id are padding and ignored.
func (f *Fake) EncodeText(ctx context.Context, ids [][]int32) ([][]float32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.textCalls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := f.injected(); err != nil {
		return nil, err
	}
	if !f.info.HasText {
		return nil, accel.ErrNoTextModel
	}
	dim := f.info.EmbeddingDim
	out := make([][]float32, len(ids))
	for k, row := range ids {
		if len(row) != f.info.ContextLength {
			return nil, fmt.Errorf("acceltest: sequence %d has %d ids, want %d", k, len(row), f.info.ContextLength)
		}
		acc := make([]float64, dim)
		for pos, id := range row {
			if id == 0 {
				continue
			}
			// Position buckets of 8 keep word order mattering a little,
			// as it does in CLIP, while shared words still pull together.
			rng := splitmix{uint64(uint32(id))<<8 | uint64(pos/8) ^ 0x5851f42d4c957f2d}
			for d := range acc {
				acc[d] += float64(rng.normal())
			}
		}
		v := make([]float32, dim)
		for d := range v {
			v[d] = float32(acc[d])
		}
		if err := accel.Normalize(v, v); err != nil {
			return nil, fmt.Errorf("acceltest: sequence %d: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// Close marks the fake closed; later calls return accel.ErrClosed.
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// splitmix is SplitMix64: tiny, seedable and identical on every platform,
// which is what a fake needs (math/rand's streams are not promised stable).
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// normal returns a standard normal sample (Box-Muller).
func (r *splitmix) normal() float32 {
	u1 := (float64(r.next()>>11) + 0.5) / (1 << 53)
	u2 := float64(r.next()>>11) / (1 << 53)
	return float32(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
}

// BackendName is the name the fake registers with accel.
const BackendName = "fake"

func init() {
	accel.Register(BackendName, accel.BackendFunc(func(ctx context.Context, m *accel.Model, cfg accel.Config, log *slog.Logger) (accel.Encoder, error) {
		info := m.Info()
		f := New(Config{ID: info.ID, Dim: info.EmbeddingDim, Image: info.Image,
			ContextLength: info.ContextLength, NoText: !info.HasText})
		f.info.Variant, f.info.Tokenizer = info.Variant, info.Tokenizer
		return f, nil
	}))
}
