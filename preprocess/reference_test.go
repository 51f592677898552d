package preprocess

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// The reference index written by testdata/reference.py (PIL + numpy).
type refIndex struct {
	Mean  [3]float64 `json:"mean"`
	Std   [3]float64 `json:"std"`
	Cases []refCase  `json:"cases"`
}

type refCase struct {
	Name     string     `json:"name"`
	W        int        `json:"w"`
	H        int        `json:"h"`
	Size     int        `json:"size"`
	Input    string     `json:"input"`
	Resized  [2]int     `json:"resized"`
	Crop     [2]int     `json:"crop"`
	Square   string     `json:"square"`
	NCHW     string     `json:"nchw"`
	Quant    []refQuant `json:"quant,omitempty"`
	ResizeTo *[2]int    `json:"resize_to,omitempty"`
	Resize   string     `json:"resize,omitempty"`
}

type refQuant struct {
	DType     DType   `json:"dtype"`
	Layout    Layout  `json:"layout"`
	Scale     float64 `json:"scale"`
	ZeroPoint int32   `json:"zero_point"`
	File      string  `json:"file,omitempty"`
}

func (ix *refIndex) spec(size int) Spec {
	s := Spec{Size: size, Layout: NCHW, DType: Float32}
	for c := 0; c < 3; c++ {
		// float64 -> float32, the same rounding numpy's astype(float32) applies.
		s.Mean[c], s.Std[c] = float32(ix.Mean[c]), float32(ix.Std[c])
	}
	return s
}

func TestReferenceFixtures(t *testing.T) {
	dir := "testdata"
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatalf("reading fixture index (regenerate with /usr/bin/python3 testdata/reference.py generate): %v", err)
	}
	var ix refIndex
	if err := json.Unmarshal(raw, &ix); err != nil {
		t.Fatalf("parsing index.json: %v", err)
	}
	if len(ix.Cases) < 5 {
		t.Fatalf("index.json has %d cases, want the full set", len(ix.Cases))
	}
	for _, c := range ix.Cases {
		t.Run(c.Name, func(t *testing.T) { checkReference(t, dir, &ix, c) })
	}
}

// TestReferenceLive runs reference.py on freshly random frames so the Go
// implementation is checked against whatever PIL is installed, not only
// against committed bytes.
func TestReferenceLive(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		testutil.Missing(t, "%s: %v", py, err)
	}
	if out, err := exec.Command(py, "-c", "import numpy, PIL.Image").CombinedOutput(); err != nil {
		testutil.Missing(t, "numpy and PIL for %s: %v: %s", py, err, out)
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	dir := t.TempDir()
	ix := refIndex{
		Mean: [3]float64{0.48145466, 0.4578275, 0.40821073},
		Std:  [3]float64{0.26862954, 0.26130258, 0.27577711},
	}
	dims := [][3]int{
		{300 + rng.IntN(400), 225 + rng.IntN(300), 224}, // camera-like downscale
		{1 + rng.IntN(200), 1 + rng.IntN(200), 8 + rng.IntN(90)},
		{1 + rng.IntN(40), 1 + rng.IntN(40), 8 + rng.IntN(90)}, // mostly upscaling
	}
	for i, d := range dims {
		c := refCase{Name: "live" + string(rune('0'+i)), W: d[0], H: d[1], Size: d[2]}
		c.Input = c.Name + ".in.bin"
		img := make([]byte, c.W*c.H*3)
		for j := range img {
			img[j] = byte(rng.UintN(256))
		}
		if i == 0 { // smooth it so the camera-like case is not pure noise
			for j := 3; j < len(img); j++ {
				img[j] = byte((int(img[j-3])*7 + int(img[j])) / 8)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, c.Input), img, 0o644); err != nil {
			t.Fatal(err)
		}
		zp := int32(rng.IntN(256))
		q := refQuant{DType: Uint8, Layout: NHWC, Scale: 0.005 + rng.Float64()*0.03, ZeroPoint: zp}
		if rng.IntN(2) == 0 {
			q.DType, q.Layout, q.ZeroPoint = Int8, NCHW, zp-128
		}
		c.Quant = []refQuant{q}
		c.ResizeTo = &[2]int{1 + rng.IntN(120), 1 + rng.IntN(120)}
		ix.Cases = append(ix.Cases, c)
	}
	req, err := json.Marshal(ix)
	if err != nil {
		t.Fatal(err)
	}
	reqPath := filepath.Join(dir, "request.json")
	if err := os.WriteFile(reqPath, req, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join("testdata", "reference.py"), "run", reqPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference.py run: %v\n%s", err, stderr.Bytes())
	}
	var got refIndex
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("parsing reference.py output: %v\n%s", err, out)
	}
	for _, c := range got.Cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%dx%d -> %d", c.W, c.H, c.Size)
			checkReference(t, dir, &got, c)
		})
	}
}

// checkReference compares every output of one case with the reference:
// geometry exactly, resized bytes exactly (PIL's own fixed-point arithmetic),
// floats within one input step (1/255/std), quantized values exactly when
// fed PIL's own crop and within one quantum end to end.
func checkReference(t *testing.T, dir string, ix *refIndex, c refCase) {
	t.Helper()
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		return b
	}
	in := read(c.Input)
	n := c.Size

	rw, rh := ResizedSize(c.W, c.H, n)
	left, top := CenterCropOffset(rw, rh, n)
	if [2]int{rw, rh} != c.Resized || [2]int{left, top} != c.Crop {
		t.Errorf("geometry: resized %dx%d crop at (%d,%d); reference resized %v crop at %v", rw, rh, left, top, c.Resized, c.Crop)
	}

	spec := ix.spec(n)
	p, err := NewPreprocessor(spec)
	if err != nil {
		t.Fatal(err)
	}
	wantSq := read(c.Square)
	sq, err := p.ResizeCrop(nil, in, c.W, c.H)
	if err != nil {
		t.Fatal(err)
	}
	compareBytes(t, "resize+crop vs PIL", sq, wantSq)
	if pkg, err := ResizeCrop(nil, in, c.W, c.H, n); err != nil || !bytes.Equal(pkg, sq) {
		t.Errorf("package ResizeCrop differs from Preprocessor.ResizeCrop (err %v)", err)
	}

	wantF := decodeF32(t, read(c.NCHW))
	var tn Tensor
	if err := p.Image(&tn, in, c.W, c.H); err != nil {
		t.Fatal(err)
	}
	compareFloats(t, "Image NCHW float32 vs numpy", tn.F32, wantF, spec)
	var fromPIL Tensor
	if err := p.Normalize(&fromPIL, wantSq); err != nil {
		t.Fatal(err)
	}
	compareFloats(t, "Normalize(PIL crop) vs numpy", fromPIL.F32, wantF, spec)

	for _, q := range c.Quant {
		qs := spec
		qs.DType, qs.Layout, qs.Scale, qs.ZeroPoint = q.DType, q.Layout, float32(q.Scale), q.ZeroPoint
		qp, err := NewPreprocessor(qs)
		if err != nil {
			t.Fatalf("quant spec %+v: %v", q, err)
		}
		want := read(q.File)
		var fromSq, full Tensor
		if err := qp.Normalize(&fromSq, wantSq); err != nil {
			t.Fatal(err)
		}
		if err := qp.Image(&full, in, c.W, c.H); err != nil {
			t.Fatal(err)
		}
		label := string(q.DType) + " " + string(q.Layout)
		compareQuant(t, label+" Normalize(PIL crop)", quantBytes(fromSq), want, q.DType, 0)
		compareQuant(t, label+" Image", quantBytes(full), want, q.DType, 1)
	}

	if c.ResizeTo != nil {
		ow, oh := c.ResizeTo[0], c.ResizeTo[1]
		got, err := Resize(nil, in, c.W, c.H, ow, oh)
		if err != nil {
			t.Fatal(err)
		}
		compareBytes(t, "Resize vs PIL", got, read(c.Resize))
	}
}

func compareBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
	}
	maxDiff, exact := 0, 0
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		maxDiff = max(maxDiff, d)
		if d == 0 {
			exact++
		}
	}
	t.Logf("%s: max abs diff %d, exact %d/%d (%.4f%%)", what, maxDiff, exact, len(got), 100*float64(exact)/float64(len(got)))
	if maxDiff > 0 {
		t.Errorf("%s: max abs diff %d; the resampler must give PIL's bytes exactly", what, maxDiff)
	}
}

func compareFloats(t *testing.T, what string, got, want []float32, spec Spec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	plane := spec.Size * spec.Size
	var maxDiff float64
	for i := range got {
		c := i / plane
		d := math.Abs(float64(got[i]) - float64(want[i]))
		maxDiff = max(maxDiff, d)
		if tol := 1.0/255/float64(spec.Std[c]) + 1e-6; d > tol || math.IsNaN(d) {
			t.Fatalf("%s: element %d (channel %d) = %v, want %v (tolerance %g)", what, i, c, got[i], want[i], tol)
		}
	}
	t.Logf("%s: max abs diff %g", what, maxDiff)
}

func compareQuant(t *testing.T, what string, got []int, want []byte, dt DType, tol int) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff := 0
	for i := range got {
		w := int(want[i])
		if dt == Int8 {
			w = int(int8(want[i]))
		}
		d := got[i] - w
		if d < 0 {
			d = -d
		}
		maxDiff = max(maxDiff, d)
	}
	t.Logf("%s: max abs diff %d", what, maxDiff)
	if maxDiff > tol {
		t.Errorf("%s: max abs diff %d > %d", what, maxDiff, tol)
	}
}

func quantBytes(tn Tensor) []int {
	var out []int
	for _, v := range tn.U8 {
		out = append(out, int(v))
	}
	for _, v := range tn.I8 {
		out = append(out, int(v))
	}
	return out
}

func decodeF32(t *testing.T, b []byte) []float32 {
	t.Helper()
	if len(b)%4 != 0 {
		t.Fatalf("float32 file has %d bytes", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
	}
	return out
}
