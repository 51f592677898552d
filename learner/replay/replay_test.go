package replay

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clipfleet/clipfleet/learner"
)

func TestQuantizeRoundTrip(t *testing.T) {
	tests := []struct {
		v         []float32
		wantScale float32
	}{
		{[]float32{1, -0.5, 0.25}, 1.0 / 127},
		{[]float32{0, 0, 0}, 0},
		{[]float32{-3, 1.5}, 3.0 / 127},
	}
	for _, tc := range tests {
		q := make([]int8, len(tc.v))
		s := Quantize(tc.v, q)
		if math.Abs(float64(s-tc.wantScale)) > 1e-9 {
			t.Errorf("scale(%v) = %v, want %v", tc.v, s, tc.wantScale)
		}
		back := make([]float32, len(tc.v))
		Dequantize(q, s, back)
		for i := range tc.v {
			if math.Abs(float64(back[i]-tc.v[i])) > float64(s)/2+1e-7 {
				t.Errorf("component %d: %v → %v, error above scale/2 = %v", i, tc.v[i], back[i], s/2)
			}
		}
	}
	// The largest magnitude maps to ±127 exactly.
	q := make([]int8, 2)
	Quantize([]float32{-2, 1}, q)
	if q[0] != -127 || q[1] != 64 {
		t.Errorf("q = %v, want [-127 64]", q)
	}
}

func ex(rng *rand.Rand, dim int, label learner.ID) learner.Example {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return learner.Example{Emb: v, Label: label}
}

func TestBoundedInBytes(t *testing.T) {
	const dim = 32
	cfg := Config{MaxBytes: 10*ItemBytes(dim) + ItemBytes(dim) - 1, Seed: 1}
	m, err := New(cfg, dim)
	if err != nil {
		t.Fatal(err)
	}
	if m.Capacity() != 10 {
		t.Fatalf("capacity %d, want 10", m.Capacity())
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 100 {
		if _, err := m.Add(ex(rng, dim, learner.ID(2+i%3))); err != nil {
			t.Fatal(err)
		}
		if m.Bytes() > cfg.MaxBytes {
			t.Fatalf("after %d adds memory uses %d bytes > %d", i+1, m.Bytes(), cfg.MaxBytes)
		}
	}
	if m.Len() != 10 {
		t.Fatalf("len %d, want full 10", m.Len())
	}
	if _, err := New(Config{MaxBytes: ItemBytes(dim) - 1}, dim); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("budget below one example accepted: %v", err)
	}
	if _, err := m.Add(learner.Example{Emb: make([]float32, 3), Label: 2}); !errors.Is(err, learner.ErrDim) {
		t.Errorf("wrong dim: %v", err)
	}
}

// TestClassBalanced: a stream dominated by one class still leaves the
// rare classes their share, which a plain reservoir would not.
func TestClassBalanced(t *testing.T) {
	const dim, capacity = 8, 60
	m, _ := New(Config{MaxBytes: capacity * ItemBytes(dim), Seed: 3}, dim)
	rng := rand.New(rand.NewPCG(5, 5))
	a, b, c := learner.ID(10), learner.ID(11), learner.ID(12)
	// 2000 of a, 15 of b, 40 of c, interleaved
	for i := range 2000 {
		_, _ = m.Add(ex(rng, dim, a))
		if i%100 == 50 && i < 1500 {
			_, _ = m.Add(ex(rng, dim, b))
		}
		if i%50 == 25 {
			_, _ = m.Add(ex(rng, dim, c))
		}
	}
	per := m.PerClass()
	if per[b] != int(m.Seen(b)) {
		t.Errorf("rare class b: stored %d of %d seen; all should be kept", per[b], m.Seen(b))
	}
	// c saw 40 > fair share 22.5: it keeps at least its share of the rest
	if per[c] < 20 {
		t.Errorf("class c stored %d, want ≥ 20", per[c])
	}
	if per[a] > per[c]+1 {
		t.Errorf("dominant class a holds %d > c's %d: not balanced", per[a], per[c])
	}
	if per[a]+per[b]+per[c] != capacity {
		t.Errorf("stored %v, want full %d", per, capacity)
	}
}

// TestReservoirUniformWithinClass: within one class, each offered example
// ends up stored with probability capacity/seen (checked over many seeds).
func TestReservoirUniformWithinClass(t *testing.T) {
	const dim, capacity, stream, runs = 2, 5, 20, 400
	counts := make([]int, stream)
	for seed := range uint64(runs) {
		m, _ := New(Config{MaxBytes: capacity * ItemBytes(dim), Seed: seed}, dim)
		for i := range stream {
			// Emb = (i, 127): the scale is 1 so i survives quantization exactly
			_, _ = m.Add(learner.Example{Emb: []float32{float32(i), 127}, Label: 7})
		}
		for _, e := range m.All() {
			counts[int(e.Emb[0])]++
		}
	}
	want := float64(runs) * capacity / stream // 100
	for i, c := range counts {
		// binomial(400, 0.25): sd ≈ 8.7; 5 sd tolerance keeps this deterministic-safe
		if math.Abs(float64(c)-want) > 45 {
			t.Errorf("example %d stored in %d of %d runs, want ≈ %v", i, c, runs, want)
		}
	}
}

func stream(t *testing.T, m *Memory, rng *rand.Rand, n int) {
	t.Helper()
	for i := range n {
		if _, err := m.Add(ex(rng, m.Dim(), learner.ID(2+i%4+(i%7)/6))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDeterministic(t *testing.T) {
	run := func(seed uint64) []byte {
		m, _ := New(Config{MaxBytes: 20 * ItemBytes(16), Seed: seed}, 16)
		stream(t, m, rand.New(rand.NewPCG(9, 9)), 300)
		_ = m.Sample(5)
		b, _ := m.MarshalBinary()
		return b
	}
	if !bytes.Equal(run(1), run(1)) {
		t.Fatal("same seed and stream gave different memories")
	}
	if bytes.Equal(run(1), run(2)) {
		t.Fatal("different seeds gave identical memories")
	}
}

func TestSaveLoadContinuesIdentically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "replay.bin")
	cfg := Config{MaxBytes: 25 * ItemBytes(16), Seed: 4}
	data := rand.New(rand.NewPCG(1, 2))
	a, _ := New(cfg, 16)
	stream(t, a, data, 200)
	if err := a.Save(path); err != nil {
		t.Fatal(err)
	}
	b, err := Load(path, cfg, 16)
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != a.Len() || fmt.Sprint(b.PerClass()) != fmt.Sprint(a.PerClass()) {
		t.Fatalf("loaded %v, saved %v", b.PerClass(), a.PerClass())
	}
	// Same future stream → same state: the RNG state was persisted.
	more := rand.New(rand.NewPCG(3, 3))
	for range 150 {
		e := ex(more, 16, learner.ID(2+more.IntN(5)))
		sa, _ := a.Add(e)
		sb, _ := b.Add(e)
		if sa != sb {
			t.Fatal("original and reloaded memory made different choices")
		}
	}
	ba, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if !bytes.Equal(ba, bb) {
		t.Fatal("states diverged after reload")
	}
	sa, sb := a.Sample(7), b.Sample(7)
	for i := range sa {
		if sa[i].Label != sb[i].Label || sa[i].Emb[0] != sb[i].Emb[0] {
			t.Fatal("samples diverged after reload")
		}
	}
	// A smaller budget trims on load and stays class-balanced.
	small := Config{MaxBytes: 10 * ItemBytes(16), Seed: 4}
	c, err := Load(path, small, 16)
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != 10 {
		t.Errorf("loaded under a 10-example budget holds %d", c.Len())
	}
	if _, err := Load(path, cfg, 8); !errors.Is(err, learner.ErrIncompatible) {
		t.Errorf("load with other dim: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing"), cfg, 16); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadDetectsCorruption(t *testing.T) {
	cfg := Config{MaxBytes: 8 * ItemBytes(4), Seed: 1}
	m, _ := New(cfg, 4)
	stream(t, m, rand.New(rand.NewPCG(1, 1)), 20)
	b, _ := m.MarshalBinary()
	for cut := 0; cut < len(b); cut++ {
		if _, err := Decode(b[:cut], cfg, 4); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d/%d: %v, want ErrCorrupt", cut, len(b), err)
		}
	}
	for i := 0; i < len(b); i += 3 {
		flipped := append([]byte(nil), b...)
		flipped[i] ^= 0x10
		if _, err := Decode(flipped, cfg, 4); err == nil {
			t.Fatalf("bit flip at byte %d not detected", i)
		}
	}
}

func TestSampleDistinct(t *testing.T) {
	m, _ := New(Config{MaxBytes: 30 * ItemBytes(4), Seed: 2}, 4)
	for i := range 30 {
		_, _ = m.Add(learner.Example{Emb: []float32{float32(i), 127, 0, 0}, Label: 3})
	}
	s := m.Sample(30)
	seen := map[float32]bool{}
	for _, e := range s {
		if seen[e.Emb[0]] {
			t.Fatalf("sample repeats example %v", e.Emb[0])
		}
		seen[e.Emb[0]] = true
	}
	if len(m.Sample(100)) != 30 {
		t.Fatal("oversized sample not clamped")
	}
}

func ExampleMemory() {
	m, _ := New(Config{MaxBytes: 3 * ItemBytes(2), Seed: 1}, 2)
	for i := range 10 {
		_, _ = m.Add(learner.Example{Emb: []float32{1, float32(i)}, Label: learner.ID(2 + i%2)})
	}
	fmt.Println(m.Len(), m.Bytes(), len(m.PerClass()))
	// Output: 3 57 2
}
