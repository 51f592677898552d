package hub_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/synctest"
)

// BenchmarkFleet200 pushes 200 simulated devices through one hub over an
// embedded broker on loopback. One iteration is one round: every device
// learns a label and exports a delta (a 64×512 adapter tensor, int8, plus
// its class statistics), the hub merges all 200 into a global adapter,
// and every device applies it. It reports merged deltas per second, the
// encoded size of a delta, and losses (labels not merged exactly once,
// which fail the benchmark too).
func BenchmarkFleet200(b *testing.B) {
	const n = 200
	br := synctest.StartMochi(b)
	cfg := hubConfig("hub-a", br.URL(), filepath.Join(b.TempDir(), "hub.db"))
	cfg.Merge.EveryDeltas, cfg.Merge.Interval = n, 10*time.Second
	cfg.Broker.WriteTimeout = 30 * time.Second
	h := runHub(b, cfg, fleetRing(n))
	f := newFleet(b, n, br.URL(), deviceTiming{ackTimeout: 30 * time.Second, tensor: []int{64, 512}})
	f.startAll()
	waitFor(b, 30*time.Second, "devices connected", func() bool {
		for _, d := range f.devs {
			if !d.dev.Stats().Connected {
				return false
			}
		}
		return true
	})
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		// Devices export concurrently, as real ones do: each Enqueue
		// signs and fsyncs its outbox entry.
		var wg sync.WaitGroup
		for _, d := range f.devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.learn(1)
				deadline := time.Now().Add(60 * time.Second)
				for !d.exportIfReady(f.tm.tensor) {
					if time.Now().After(deadline) {
						b.Errorf("%s could not export", d.id)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		wg.Wait()
		f.waitSettled(60 * time.Second)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	f.checkExactlyOnce()
	var bytes int64
	var exports int
	for _, d := range f.devs {
		d.mu.Lock()
		bytes += d.bytes
		exports += d.exports
		d.mu.Unlock()
	}
	s := h.Stats()
	lost := int64(exports) - int64(s.MergedDeltas)
	b.ReportMetric(float64(s.MergedDeltas)/elapsed.Seconds(), "deltas/s")
	b.ReportMetric(float64(bytes)/float64(exports), "B/delta")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(s.Merges)/elapsed.Seconds(), "merges/s")
}
