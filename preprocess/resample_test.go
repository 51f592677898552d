package preprocess

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// plainResize is Resample.c's 8-bit path written the obvious way: full
// horizontal pass into an int32 accumulator per byte, clip, full vertical
// pass, clip. It shares only the weight tables with the package, so it
// checks the two-lane arithmetic, the row interleaving and the window
// bookkeeping of resampler.window.
func plainResize(src []byte, w, h, ow, oh int) []byte {
	mid := src
	if ow != w {
		t := newAxisTable(w, ow, 0, ow)
		mid = make([]byte, ow*h*3)
		for y := 0; y < h; y++ {
			for x := 0; x < ow; x++ {
				for c := 0; c < 3; c++ {
					acc := roundHalf
					for j, k := range t.k[x] {
						acc += int32(src[(y*w+t.start[x]+j)*3+c]) * k
					}
					mid[(y*ow+x)*3+c] = clip8(acc)
				}
			}
		}
	}
	if oh == h {
		return append([]byte(nil), mid...)
	}
	t := newAxisTable(h, oh, 0, oh)
	out := make([]byte, ow*oh*3)
	for y := 0; y < oh; y++ {
		for i := 0; i < ow*3; i++ {
			acc := roundHalf
			for j, k := range t.k[y] {
				acc += int32(mid[(t.start[y]+j)*ow*3+i]) * k
			}
			out[y*ow*3+i] = clip8(acc)
		}
	}
	return out
}

func crop(img []byte, w, left, top, n int) []byte {
	out := make([]byte, 0, n*n*3)
	for y := top; y < top+n; y++ {
		out = append(out, img[(y*w+left)*3:(y*w+left+n)*3]...)
	}
	return out
}

// Every shape of window (odd and even widths and heights, one pass or two,
// shrinking and enlarging, a single row or column) must give the bytes of
// the plain resize, on noise and on hard 0/255 edges that drive the
// kernel's negative lobes past both clip limits.
func TestLanesMatchPlainResize(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	type tc struct{ w, h, size int }
	cases := []tc{{640, 480, 224}, {480, 640, 224}, {1, 1, 1}, {1, 7, 3}, {7, 1, 3}, {224, 224, 224},
		{225, 224, 224}, {224, 301, 224}, {3, 2, 9}, {33, 17, 16}, {17, 33, 5}}
	for i := 0; i < 40; i++ {
		cases = append(cases, tc{1 + rng.IntN(200), 1 + rng.IntN(200), 1 + rng.IntN(90)})
	}
	for _, c := range cases {
		for _, pattern := range []string{"noise", "edges"} {
			name := fmt.Sprintf("%dx%d-%d-%s", c.w, c.h, c.size, pattern)
			src := randomFrame(rng, c.w, c.h)
			if pattern == "edges" {
				for j := range src {
					src[j] = byte(0xff * ((j / 3 / (1 + rng.IntN(3))) & 1))
				}
			}
			rw, rh := ResizedSize(c.w, c.h, c.size)
			full := plainResize(src, c.w, c.h, rw, rh)
			left, top := CenterCropOffset(rw, rh, c.size)
			want := crop(full, rw, left, top, c.size)

			got, err := ResizeCrop(nil, src, c.w, c.h, c.size)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: ResizeCrop differs from the plain resize at %d bytes", name, countDiff(got, want))
			}
			gotFull, err := Resize(nil, src, c.w, c.h, rw, rh)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gotFull, full) {
				t.Errorf("%s: Resize differs from the plain resize at %d bytes", name, countDiff(gotFull, full))
			}
		}
	}
}

func countDiff(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// unpack must return both lanes exactly wherever PIL's int32 accumulators
// can land, including negative low lanes that borrow from the high one.
func TestUnpackLanes(t *testing.T) {
	vals := []int32{roundHalf, 0, -1, 1, -roundHalf, 255 << precisionBits, 256 << precisionBits, -(1 << 30), 1<<31 - 1, -1 << 31}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200; i++ {
		vals = append(vals, int32(rng.Uint32()))
	}
	for _, a := range vals {
		for _, b := range vals {
			v := uint64(int64(a)) + uint64(int64(b))<<32
			lo, hi := unpack(v)
			if lo != clip8(a) || hi != clip8(b) {
				t.Fatalf("unpack(%d, %d) = %d, %d; want %d, %d", a, b, lo, hi, clip8(a), clip8(b))
			}
		}
	}
}

// Splitting a frame's rows over workers must not change a byte, whatever
// the split (more workers than rows included) and on frame-size changes.
func TestWorkersGiveTheSameTensor(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	quant := CLIPSpec(37)
	quant.Layout, quant.DType, quant.Scale, quant.ZeroPoint = NHWC, Uint8, 0.02, 120
	for _, spec := range []Spec{CLIPSpec(64), quant, CLIPSpec(3)} {
		one, err := NewPreprocessor(spec)
		if err != nil {
			t.Fatal(err)
		}
		many, err := NewPreprocessor(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{2, 3, 5} {
			many.SetWorkers(workers)
			for _, sz := range [][2]int{{160, 120}, {120, 160}, {64, 64}, {99, 31}, {2, 1}} {
				rgb := randomFrame(rng, sz[0], sz[1])
				var want, got Tensor
				if err := one.Image(&want, rgb, sz[0], sz[1]); err != nil {
					t.Fatal(err)
				}
				if err := many.Image(&got, rgb, sz[0], sz[1]); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(quantBytes(got), quantBytes(want)) || !slices.Equal(got.F32, want.F32) {
					t.Errorf("%s %s, %d workers, %dx%d: tensor differs from one worker's", spec.Layout, spec.DType, workers, sz[0], sz[1])
				}
			}
		}
	}
}
