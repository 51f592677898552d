package hub_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/synctest"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// TestHubSIGKILL kills the hub process with SIGKILL at random moments
// while devices sync, restarting it on the same state file each time:
// every label is still merged exactly once (state in bbolt, acks only
// after the merge, re-sends deduplicated), and the catch-up history
// composes to exactly the fleet's state.
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

	// The catch-up history survived the kills too: a new device catching
	// up from version 0 gets exactly the fleet's state.
	p.kill()
	h, err := hub.Open(cfg, fKey(cfg.ID), fleetRing(n), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	msgs, err := h.CatchUp("dev-new", 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("catch-up from 0 after the kills: %v", err)
	}
	g, err := wire.Decode(msgs[0].Payload, wire.Policy{Fleet: fFleet, Keys: fleetRing(0, "hub-a")})
	if err != nil {
		t.Fatal(err)
	}
	if g.BaseVersion != 0 || g.Version != v {
		t.Errorf("catch-up %d→%d, fleet at %d", g.BaseVersion, g.Version, v)
	}
	counts := map[learner.ID]float64{}
	for _, c := range g.Classes {
		counts[c.Label] += c.Count
	}
	learned := 0
	for _, d := range f.devs {
		for _, l := range d.learned {
			learned++
			if counts[l] != 1 {
				t.Errorf("catch-up from 0: %s's label %x counted %v times", d.id, uint64(l), counts[l])
			}
		}
	}
	if len(counts) != learned {
		t.Errorf("catch-up from 0 has %d labels, the fleet learned %d", len(counts), learned)
	}
}
