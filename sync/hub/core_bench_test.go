package hub

import (
	"fmt"
	"testing"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// BenchmarkHubRound measures the hub alone (no MQTT): one round is 200
// device deltas (64×512 int8 adapter + one class) verified and stored in
// batches of 64 (one bbolt transaction each, as Run batches them), then
// merged (FedAvg) into a signed global adapter committed to bbolt.
func BenchmarkHubRound(b *testing.B) {
	const n, batch = 200, 64
	devs := make([]string, n)
	for i := range devs {
		devs[i] = fmt.Sprintf("d%03d", i)
	}
	clock := newClock()
	cfg := testConfig(b, "hub-a")
	cfg.Model.Dim = 8
	cfg.Model.ModelID, cfg.Model.PreprocessHash = "", ""
	h := openHub(b, cfg, clock, testRing(devs...))
	data := make([]float32, 64*512)
	for i := range data {
		data[i] = float32(i%31) / 31
	}
	mk := func(i int, seq, base uint64) []byte {
		sum := make([]float64, 8)
		sum[0] = 1
		d := &learner.Delta{Method: tMethod, Dim: 8, BaseVersion: base, ID: seq<<16 | uint64(i) | 1, Examples: 1,
			Tensors: []learner.Tensor{{Name: "adapter.w", Shape: []int{64, 512}, Data: data}},
			Classes: []learner.ClassStats{{Label: learner.ID(1 + i), Count: 1, Examples: 1, Sum: sum}}}
		p, err := wire.FromDelta(d, wire.Compression{Int8: true}, nil)
		if err != nil {
			b.Fatal(err)
		}
		p.Fleet, p.Device, p.Seq, p.CreatedAt = tFleet, devs[i], seq, clock.Now()
		out, err := wire.Encode(p, tKey(devs[i]))
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	var bytes int
	b.ResetTimer()
	for r := range b.N {
		b.StopTimer()
		ins := make([]Incoming, n)
		for i := range ins {
			ins[i] = in(devs[i], mk(i, uint64(r+1), uint64(r)))
			bytes += len(ins[i].Payload)
		}
		b.StartTimer()
		for i := 0; i < n; i += batch {
			if _, err := h.HandleDeltas(ins[i:min(i+batch, n)]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := h.Merge(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s := h.Stats()
	if s.MergedDeltas != uint64(n*b.N) {
		b.Fatalf("merged %d of %d", s.MergedDeltas, n*b.N)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "deltas/s")
	b.ReportMetric(float64(bytes)/float64(n*b.N), "B/delta")
}
