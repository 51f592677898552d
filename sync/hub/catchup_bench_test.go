package hub

import (
	"testing"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// BenchmarkCatchUp measures composing one catch-up, uncached: 50 versions
// of the fleet's history (each a 64×512 int8 global adapter plus two
// classes) read from bbolt, verified, summed and signed as one exact
// float32 adapter from version 0.
func BenchmarkCatchUp(b *testing.B) {
	const versions = 50
	clock := newClock()
	cfg := testConfig(b, "hub-a")
	cfg.Merge.Compression = wire.Compression{Int8: true}
	cfg.Model.Dim = 8
	cfg.Model.ModelID, cfg.Model.PreprocessHash = "", ""
	h := openHub(b, cfg, clock, testRing("d1", "d2"))
	data := make([]float32, 64*512)
	for i := range data {
		data[i] = float32(i%31) / 31
	}
	for v := uint64(1); v <= versions; v++ {
		for i, dev := range []string{"d1", "d2"} {
			sum := make([]float64, 8)
			sum[i] = 1
			d := &learner.Delta{Method: tMethod, Dim: 8, BaseVersion: v - 1, ID: v<<8 | uint64(i) | 1, Examples: 1,
				Tensors: []learner.Tensor{{Name: "adapter.w", Shape: []int{64, 512}, Data: data}},
				Classes: []learner.ClassStats{{Label: learner.ID(v<<8 | uint64(i+1)), Count: 1, Examples: 1, Sum: sum}}}
			p, err := wire.FromDelta(d, wire.Compression{Int8: true}, nil)
			if err != nil {
				b.Fatal(err)
			}
			p.Fleet, p.Device, p.Seq, p.CreatedAt = tFleet, dev, v, clock.Now()
			raw, err := wire.Encode(p, tKey(dev))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.HandleDeltas([]Incoming{in(dev, raw)}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := h.Merge(); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var size int
	for range b.N {
		h.mu.Lock()
		clear(h.cuCache)
		h.mu.Unlock()
		msgs, err := h.CatchUp("d9", 0)
		if err != nil || len(msgs) != 1 {
			b.Fatal(err)
		}
		size = len(msgs[0].Payload)
	}
	b.ReportMetric(float64(size), "bytes/catchup")
	b.ReportMetric(versions, "versions")
}
