package hub

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

const (
	tFleet  = "fleet-t"
	tDim    = 4
	tMethod = "finetune"
	tModel  = "testclip"
	tHash   = "0123456789abcdef"
)

func tKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("clipfleet/sync/hub/test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func tPub(name string) ed25519.PublicKey { return tKey(name).Public().(ed25519.PublicKey) }

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig(t testing.TB, id string) Config {
	cfg := DefaultConfig()
	cfg.ID, cfg.Fleet = id, tFleet
	cfg.KeyFile, cfg.DeviceKeysDir = "unused", "unused"
	cfg.StatePath = filepath.Join(t.TempDir(), "hub.db")
	cfg.Model = Model{Method: tMethod, ModelID: tModel, Dim: tDim, PreprocessHash: tHash}
	cfg.Merge.Interval = time.Minute
	return cfg
}

func testRing(devices ...string) *wire.Keyring {
	r := wire.NewKeyring(tFleet)
	for _, d := range devices {
		if err := r.AddDevice(d, tPub(d)); err != nil {
			panic(err)
		}
	}
	return r
}

func openHub(t testing.TB, cfg Config, clock *fakeClock, ring *wire.Keyring) *Hub {
	t.Helper()
	h, err := Open(cfg, tKey(cfg.ID), ring, nil, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// delta builds a signed device delta: one 2×tDim tensor filled from val,
// one class with count n, example weight n.
func delta(t testing.TB, dev string, seq, base, id uint64, val float32, n float64, now time.Time) []byte {
	t.Helper()
	data := make([]float32, 2*tDim)
	sum := make([]float64, tDim)
	for i := range data {
		data[i] = val * float32(i+1)
	}
	for i := range sum {
		sum[i] = float64(val) * n
	}
	d := &learner.Delta{
		Method: tMethod, Dim: tDim, ModelID: tModel, BaseVersion: base, ID: id, Examples: n,
		Tensors: []learner.Tensor{{Name: "adapter.w", Shape: []int{2, tDim}, Data: data}},
		Classes: []learner.ClassStats{{Label: learner.ID(1000 + id), Count: n, Examples: int64(n), Sum: sum}},
		Labels:  []learner.LabelInfo{{ID: learner.ID(1000 + id), Name: fmt.Sprintf("class-%d", id)}},
	}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Fleet, p.Device, p.Seq, p.PreprocessHash, p.CreatedAt = tFleet, dev, seq, tHash, now
	b, err := wire.Encode(p, tKey(dev))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deltaTopic(dev string) string { return "clipfleet/" + tFleet + "/" + dev + "/delta" }

func in(dev string, b []byte) Incoming { return Incoming{Topic: deltaTopic(dev), Payload: b} }

// decodeAcks verifies the ack messages with the hub key and returns them
// by device.
func decodeAcks(t testing.TB, hubID string, msgs []Message) map[string][]*wire.Payload {
	t.Helper()
	ring := wire.NewKeyring(tFleet)
	if err := ring.AddHub(hubID, tPub(hubID)); err != nil {
		t.Fatal(err)
	}
	out := map[string][]*wire.Payload{}
	for _, m := range msgs {
		if m.Retain {
			continue
		}
		p, err := wire.Decode(m.Payload, wire.Policy{Fleet: tFleet, Keys: ring, Kinds: []wire.Kind{wire.KindAck}})
		if err != nil {
			t.Fatalf("ack on %s: %v", m.Topic, err)
		}
		if want := "clipfleet/" + tFleet + "/" + p.Ack.Device + "/ack"; m.Topic != want {
			t.Errorf("ack for %s published on %s", p.Ack.Device, m.Topic)
		}
		out[p.Ack.Device] = append(out[p.Ack.Device], p)
	}
	return out
}

func globalOf(t testing.TB, hubID string, msgs []Message) *wire.Payload {
	t.Helper()
	ring := wire.NewKeyring(tFleet)
	if err := ring.AddHub(hubID, tPub(hubID)); err != nil {
		t.Fatal(err)
	}
	var g *wire.Payload
	for _, m := range msgs {
		if !m.Retain {
			continue
		}
		if m.Topic != "clipfleet/"+tFleet+"/global" {
			t.Errorf("retained message on %s", m.Topic)
		}
		p, err := wire.Decode(m.Payload, wire.Policy{Fleet: tFleet, Keys: ring, Kinds: []wire.Kind{wire.KindGlobalAdapter},
			Now: func() time.Time { return time.Unix(1, 0) }})
		if err != nil {
			t.Fatalf("global: %v", err)
		}
		g = p
	}
	return g
}
