package preprocess

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

func randomFrame(rng *rand.Rand, w, h int) []byte {
	b := make([]byte, w*h*3)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

func TestBadFrame(t *testing.T) {
	spec := CLIPSpec(8)
	p, err := NewPreprocessor(spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rgb  []byte
		w, h int
		want string
	}{
		{"short buffer", make([]byte, 4*4*3-1), 4, 4, "47 bytes, want 3*4*4 = 48"},
		{"long buffer", make([]byte, 4*4*3+3), 4, 4, "51 bytes"},
		{"nil buffer", nil, 2, 2, "0 bytes"},
		{"zero width", make([]byte, 0), 0, 5, "size 0x5"},
		{"zero height", make([]byte, 0), 5, 0, "size 5x0"},
		{"negative width", make([]byte, 12), -2, -2, "size -2x-2"},
		{"too wide", make([]byte, 3), MaxDim + 1, 1, "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(api string, err error) {
				t.Helper()
				if !errors.Is(err, ErrBadFrame) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: error %v, want ErrBadFrame mentioning %q", api, err, tt.want)
				}
			}
			var dst Tensor
			check("Preprocessor.Image", p.Image(&dst, tt.rgb, tt.w, tt.h))
			check("Image", Image(&dst, tt.rgb, tt.w, tt.h, spec))
			_, err := p.ResizeCrop(nil, tt.rgb, tt.w, tt.h)
			check("Preprocessor.ResizeCrop", err)
			_, err = ResizeCrop(nil, tt.rgb, tt.w, tt.h, 8)
			check("ResizeCrop", err)
			_, err = Resize(nil, tt.rgb, tt.w, tt.h, 3, 3)
			check("Resize", err)
			if dst.F32 != nil || dst.U8 != nil || dst.I8 != nil {
				t.Errorf("a rejected frame touched the tensor")
			}
		})
	}

	if err := p.Image(nil, make([]byte, 12), 2, 2); err == nil {
		t.Error("Image(nil tensor) succeeded")
	}
	var dst Tensor
	if err := p.Normalize(&dst, make([]byte, 8*8*3-3)); !errors.Is(err, ErrBadFrame) {
		t.Errorf("Normalize with a wrong-sized square: %v, want ErrBadFrame", err)
	}
	if _, err := ResizeCrop(nil, make([]byte, 12), 2, 2, 0); err == nil {
		t.Error("ResizeCrop to size 0 succeeded")
	}
	if _, err := Resize(nil, make([]byte, 12), 2, 2, 0, 4); err == nil {
		t.Error("Resize to width 0 succeeded")
	}
}

// A flat colour must stay exactly flat through resize, crop and both
// passes' fixed-point rounding (PIL's weights sum to 1 within 2^-22), and
// its tensor value must be the channel's normalised value everywhere.
func TestFlatColourStaysFlat(t *testing.T) {
	for _, d := range [][3]int{{640, 480, 224}, {31, 7, 50}, {1, 1, 5}, {300, 2, 16}} {
		w, h, n := d[0], d[1], d[2]
		rgb := make([]byte, w*h*3)
		col := [3]byte{0, 255, 93}
		for i := range rgb {
			rgb[i] = col[i%3]
		}
		spec := CLIPSpec(n)
		spec.Layout = NHWC
		var dst Tensor
		if err := Image(&dst, rgb, w, h, spec); err != nil {
			t.Fatal(err)
		}
		for i, v := range dst.F32 {
			c := i % 3
			want := (float32(col[c])/255 - spec.Mean[c]) / spec.Std[c]
			if v != want {
				t.Fatalf("%dx%d->%d: element %d = %v, want %v", w, h, n, i, v, want)
			}
		}
	}
}

func TestResizeSameSizeIsCopy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rgb := randomFrame(rng, 13, 9)
	got, err := Resize(nil, rgb, 13, 9, 13, 9)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, rgb) {
		t.Error("Resize to the same size changed pixels")
	}
	got[0] ^= 0xff
	if got[0] == rgb[0] {
		t.Error("Resize returned the input buffer instead of a copy")
	}
}

// Steady state: the same tensor buffer and no allocations per frame.
func TestPreprocessorReusesBuffers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rgb := randomFrame(rng, 320, 240)
	for _, spec := range []Spec{CLIPSpec(64), {Size: 64, Mean: CLIPSpec(1).Mean, Std: CLIPSpec(1).Std, Layout: NHWC, DType: Uint8, Scale: 0.02, ZeroPoint: 120}} {
		p, err := NewPreprocessor(spec)
		if err != nil {
			t.Fatal(err)
		}
		var dst Tensor
		if err := p.Image(&dst, rgb, 320, 240); err != nil {
			t.Fatal(err)
		}
		first := dst
		allocs := testing.AllocsPerRun(20, func() {
			if err := p.Image(&dst, rgb, 320, 240); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame in steady state, want 0", spec.DType, allocs)
		}
		switch spec.DType {
		case Float32:
			if &dst.F32[0] != &first.F32[0] {
				t.Error("float32 buffer was reallocated")
			}
		case Uint8:
			if &dst.U8[0] != &first.U8[0] {
				t.Error("uint8 buffer was reallocated")
			}
		}
	}
}

// One tensor and one Preprocessor moving between specs and frame sizes must
// give what fresh ones give, with only the spec's slice in use.
func TestSwitchingSpecsAndSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	base := CLIPSpec(24)
	specs := []Spec{base, base, base, base}
	specs[1].DType, specs[1].Scale, specs[1].ZeroPoint = Uint8, 0.03, 100
	specs[2].DType, specs[2].Layout, specs[2].Scale, specs[2].ZeroPoint = Int8, NHWC, 0.025, -5
	specs[3].Size = 40
	var shared Tensor
	for i := 0; i < 24; i++ {
		spec := specs[i%len(specs)]
		w, h := 1+rng.IntN(90), 1+rng.IntN(90)
		rgb := randomFrame(rng, w, h)
		if err := Image(&shared, rgb, w, h, spec); err != nil {
			t.Fatal(err)
		}
		fresh, _ := NewPreprocessor(spec)
		var want Tensor
		if err := fresh.Image(&want, rgb, w, h); err != nil {
			t.Fatal(err)
		}
		if shared.Spec != spec {
			t.Fatalf("tensor spec %+v, want %+v", shared.Spec, spec)
		}
		inUse := 0
		for _, l := range []int{len(shared.F32), len(shared.U8), len(shared.I8)} {
			if l != 0 {
				inUse++
				if l != spec.Elements() {
					t.Fatalf("slice of %d elements, want %d", l, spec.Elements())
				}
			}
		}
		if inUse != 1 {
			t.Fatalf("%d slices in use, want 1", inUse)
		}
		if !equalTensors(shared, want) {
			t.Fatalf("frame %d (%dx%d, %s %s): reused tensor differs from a fresh one", i, w, h, spec.DType, spec.Layout)
		}
	}
}

func equalTensors(a, b Tensor) bool {
	if len(a.F32) != len(b.F32) || !bytes.Equal(a.U8, b.U8) || len(a.I8) != len(b.I8) {
		return false
	}
	for i := range a.F32 {
		if a.F32[i] != b.F32[i] {
			return false
		}
	}
	for i := range a.I8 {
		if a.I8[i] != b.I8[i] {
			return false
		}
	}
	return true
}

// NCHW and NHWC hold the same values, only transposed.
func TestLayoutsAreTransposes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	rgb := randomFrame(rng, 57, 41)
	nchw := CLIPSpec(19)
	nhwc := nchw
	nhwc.Layout = NHWC
	var a, b Tensor
	if err := Image(&a, rgb, 57, 41, nchw); err != nil {
		t.Fatal(err)
	}
	if err := Image(&b, rgb, 57, 41, nhwc); err != nil {
		t.Fatal(err)
	}
	n := 19 * 19
	for c := 0; c < 3; c++ {
		for i := 0; i < n; i++ {
			if a.F32[c*n+i] != b.F32[i*3+c] {
				t.Fatalf("channel %d pixel %d: NCHW %v, NHWC %v", c, i, a.F32[c*n+i], b.F32[i*3+c])
			}
		}
	}
}

// The quantizer's rounding and clamping, checked against values worked out
// by hand from q = clamp(round(x/scale) + zp).
func TestQuantize(t *testing.T) {
	u := Spec{DType: Uint8, Scale: 0.5, ZeroPoint: 10}
	i := Spec{DType: Int8, Scale: 0.25, ZeroPoint: -3}
	tests := []struct {
		spec Spec
		x    float32
		want int32
	}{
		{u, 0, 10},
		{u, 0.25, 11},   // 0.5 rounds away from zero
		{u, -0.25, 9},   // -0.5 too
		{u, 0.74, 11},   // 1.48
		{u, 1.25, 13},   // 2.5 -> 3, not to even
		{u, -5, 0},      // -10+10
		{u, -5.5, 0},    // clamped
		{u, 200, 255},   // clamped high
		{u, 1e30, 255},  // no int overflow
		{u, -1e30, 0},   //
		{i, 0, -3},      //
		{i, 31.75, 124}, // 127-3
		{i, 33, 127},    // clamped
		{i, -31.25, -128},
		{i, -40, -128},
	}
	for _, tt := range tests {
		if got := quantize(tt.spec, tt.x); got != tt.want {
			t.Errorf("quantize(%s scale %v zp %d, %v) = %d, want %d", tt.spec.DType, tt.spec.Scale, tt.spec.ZeroPoint, tt.x, got, tt.want)
		}
	}
}

// The package-level functions share a pool and a table cache; run them from
// several goroutines (under -race) and compare with sequential results.
func TestConcurrentUse(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	type job struct {
		rgb  []byte
		w, h int
		spec Spec
		want Tensor
	}
	jobs := make([]job, 8)
	for k := range jobs {
		w, h := 20+rng.IntN(200), 20+rng.IntN(200)
		spec := CLIPSpec(16 + 8*(k%3))
		if k%2 == 1 {
			spec.DType, spec.Scale, spec.ZeroPoint = Uint8, 0.02, 128
		}
		jobs[k] = job{rgb: randomFrame(rng, w, h), w: w, h: h, spec: spec}
		p, _ := NewPreprocessor(spec)
		if err := p.Image(&jobs[k].want, jobs[k].rgb, w, h); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(jobs))
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst Tensor
			for r := 0; r < 5; r++ {
				for k := range jobs {
					j := &jobs[(k+g)%len(jobs)]
					if err := Image(&dst, j.rgb, j.w, j.h, j.spec); err != nil {
						errs <- err.Error()
						return
					}
					if !equalTensors(dst, j.want) {
						errs <- "concurrent result differs from sequential"
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// PIL's kernel tables: integer weights of each output sum to 1.0 in fixed
// point up to rounding, taps stay inside the image, and shrinking widens the
// support (antialiasing) while enlarging keeps four taps.
func TestAxisTable(t *testing.T) {
	for _, d := range [][2]int{{640, 298}, {480, 224}, {1280, 398}, {50, 106}, {1, 64}, {64, 1}, {7, 7}} {
		in, out := d[0], d[1]
		tab := newAxisTable(in, out, 0, out)
		maxTaps := 0
		for i, k := range tab.k {
			var sum int64
			for _, v := range k {
				sum += int64(v)
			}
			if diff := sum - 1<<precisionBits; diff < -int64(len(k)) || diff > int64(len(k)) {
				t.Errorf("%d->%d output %d: weights sum to %d, want 2^22 ± %d", in, out, i, sum, len(k))
			}
			if tab.start[i] < 0 || tab.start[i]+len(k) > in {
				t.Errorf("%d->%d output %d: taps [%d,%d) outside [0,%d)", in, out, i, tab.start[i], tab.start[i]+len(k), in)
			}
			maxTaps = max(maxTaps, len(k))
		}
		if in > out {
			if wantMin := int(4 * float64(in) / float64(out)); maxTaps < wantMin && in > 1 && out > 1 {
				t.Errorf("%d->%d: at most %d taps, want >= %d (support scaled by the shrink factor)", in, out, maxTaps, wantMin)
			}
		} else if maxTaps > 5 {
			t.Errorf("%d->%d: %d taps when enlarging, want <= 5", in, out, maxTaps)
		}
		// A window of the table must equal the same rows of the full table.
		if out > 4 {
			win := newAxisTable(in, out, 2, out-4)
			for i := range win.k {
				if win.start[i] != tab.start[i+2] || !equalInt32(win.k[i], tab.k[i+2]) {
					t.Fatalf("%d->%d: window output %d differs from the full table", in, out, i)
				}
			}
		}
	}
}

func equalInt32(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
