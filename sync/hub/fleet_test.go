package hub_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/synctest"
)

// TestFleetExactlyOnce: devices learning concurrently through an embedded
// broker and one hub end with every label merged exactly once.
func TestFleetExactlyOnce(t *testing.T) {
	b := synctest.StartMochi(t)
	const n = 6
	cfg := hubConfig("hub-a", b.URL(), filepath.Join(t.TempDir(), "hub.db"))
	cfg.Merge.EveryDeltas = n
	h := runHub(t, cfg, fleetRing(n))
	f := newFleet(t, n, b.URL(), deviceTiming{ackTimeout: 2 * time.Second, tensor: []int{4, fDim}})
	f.startAll()
	f.drive(12, 2, 20*time.Millisecond)
	f.waitSettled(15 * time.Second)
	f.stopDriving()
	v := f.checkExactlyOnce()
	if s := h.Stats(); s.Version != v || s.Rejected != 0 || s.Errors != 0 {
		t.Errorf("hub stats %v", s)
	}
}
