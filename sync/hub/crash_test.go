package hub_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/synctest"
)

// TestHubSIGKILL kills the hub process with SIGKILL at random moments
// while devices sync, restarting it on the same state file each time:
// every label is still merged exactly once (state in bbolt, acks only
// after the merge, re-sends deduplicated).
func TestHubSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	b := synctest.StartMochi(t)
	const n = 5
	cfg := hubConfig("hub-a", b.URL(), filepath.Join(t.TempDir(), "hub.db"))
	cfg.Merge.EveryDeltas = n
	spec := childSpec{Config: cfg, Devices: n}
	p := startHubProcess(t, spec)

	f := newFleet(t, n, b.URL(), deviceTiming{ackTimeout: time.Second, tensor: []int{4, fDim}})
	f.startAll()
	f.drive(150, 1, 30*time.Millisecond) // about 4.5 s of learning
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for range 4 {
		// Kill only once the fleet progressed, so each kill lands mid-sync
		// (deltas pending, merges and acks in flight).
		f.waitProgress(f.version(), true, 10*time.Second)
		if f.learning.Load() == 0 {
			break // a kill now would not be mid-sync
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		p.kill()
		kills++
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		p = startHubProcess(t, spec)
	}
	f.waitSettled(20 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	t.Logf("%d SIGKILLs mid-sync, %d versions", kills, v)
	if kills < 2 {
		t.Errorf("only %d kills landed while the fleet was learning", kills)
	}
}
