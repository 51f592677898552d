package hub_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// The hub without a broker: two devices' deltas are stored, then merged
// into version 1; the retained global adapter and one ack per device are
// what Run would publish.
func Example() {
	dir, _ := os.MkdirTemp("", "hub-example")
	defer os.RemoveAll(dir)
	cfg := hub.DefaultConfig()
	cfg.ID, cfg.Fleet, cfg.StatePath = "hub-a", fFleet, filepath.Join(dir, "hub.db")
	cfg.KeyFile, cfg.DeviceKeysDir = "hub.key", "devices"
	cfg.Model = hub.Model{Method: "ncm", Dim: 2}
	h, err := hub.Open(cfg, fKey("hub-a"), fleetRing(2), nil, nil)
	if err != nil {
		panic(err)
	}
	defer h.Close()

	var in []hub.Incoming
	for i, dev := range []string{devName(0), devName(1)} {
		d := &learner.Delta{Method: "ncm", Dim: 2, ID: uint64(100 + i), Examples: 1,
			Classes: []learner.ClassStats{{Label: 42, Count: 1, Examples: 1, Sum: []float64{1, float64(i)}}}}
		p, _ := wire.FromDelta(d, wire.Compression{}, nil)
		p.Fleet, p.Device, p.Seq, p.CreatedAt = fFleet, dev, 1, time.Now()
		b, _ := wire.Encode(p, fKey(dev))
		in = append(in, hub.Incoming{Topic: "clipfleet/" + fFleet + "/" + dev + "/delta", Payload: b})
	}
	acks, _ := h.HandleDeltas(in)
	fmt.Println("acked before the merge:", len(acks))
	msgs, _ := h.Merge()
	for _, m := range msgs {
		fmt.Println(m.Topic, m.Retain)
	}
	fmt.Println("version", h.Version())
	// Output:
	// acked before the merge: 0
	// clipfleet/fleet-x/global true
	// clipfleet/fleet-x/dev-000/ack false
	// clipfleet/fleet-x/dev-001/ack false
	// version 1
}

// A device that missed versions for good (it joined late, or its broker
// session was lost) gets one adapter from its version to the hub's, on
// its own catch-up topic; Run sends it when the device's retained state
// stays behind for catch_up.delay.
func ExampleHub_CatchUp() {
	dir, _ := os.MkdirTemp("", "hub-example")
	defer os.RemoveAll(dir)
	cfg := hub.DefaultConfig()
	cfg.ID, cfg.Fleet, cfg.StatePath = "hub-a", fFleet, filepath.Join(dir, "hub.db")
	cfg.KeyFile, cfg.DeviceKeysDir = "hub.key", "devices"
	cfg.Model = hub.Model{Method: "ncm", Dim: 2}
	h, err := hub.Open(cfg, fKey("hub-a"), fleetRing(1), nil, nil)
	if err != nil {
		panic(err)
	}
	defer h.Close()
	dev := devName(0)
	for v := uint64(0); v < 3; v++ {
		d := &learner.Delta{Method: "ncm", Dim: 2, BaseVersion: v, ID: 100 + v, Examples: 1,
			Classes: []learner.ClassStats{{Label: learner.ID(42 + v), Count: 1, Examples: 1, Sum: []float64{1, 0}}}}
		p, _ := wire.FromDelta(d, wire.Compression{}, nil)
		p.Fleet, p.Device, p.Seq, p.CreatedAt = fFleet, dev, v+1, time.Now()
		b, _ := wire.Encode(p, fKey(dev))
		h.HandleDeltas([]hub.Incoming{{Topic: "clipfleet/" + fFleet + "/" + dev + "/delta", Payload: b}})
		h.Merge()
	}
	msgs, _ := h.CatchUp(devName(1), 0) // a new device, at version 0
	p, _ := wire.Decode(msgs[0].Payload, wire.Policy{Fleet: fFleet, Keys: fleetRing(0, "hub-a")})
	fmt.Println(msgs[0].Topic, msgs[0].Retain)
	fmt.Printf("version %d → %d, %d classes, merged %v\n", p.BaseVersion, p.Version, len(p.Classes), p.Merged)
	// Output:
	// clipfleet/fleet-x/dev-001/catchup false
	// version 0 → 3, 3 classes, merged [100]
}
