package mqtt

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

const (
	tFleet = "fleet-t"
	tDim   = 4
)

func tKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("clipfleet/sync/mqtt/test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func tPub(name string) ed25519.PublicKey { return tKey(name).Public().(ed25519.PublicKey) }

func hubRing(hubs ...string) *wire.Keyring {
	r := wire.NewKeyring(tFleet)
	for _, h := range hubs {
		if err := r.AddHub(h, tPub(h)); err != nil {
			panic(err)
		}
	}
	return r
}

// fakeApplier is a learner with A/B slots: Apply stages, Commit promotes,
// Rollback drops the stage. health decides the health check.
type fakeApplier struct {
	mu        sync.Mutex
	active    uint64
	staged    *wire.Payload
	committed []uint64 // versions, in commit order
	rollbacks int
	health    func(g *wire.Payload) error
	applyErr  error
	commitErr error
}

func (f *fakeApplier) Active() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active
}

func (f *fakeApplier) Apply(_ context.Context, g *wire.Payload) (HealthCheck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.staged != nil {
		return nil, errors.New("fake: apply while a candidate is staged")
	}
	if f.applyErr != nil {
		return nil, f.applyErr
	}
	f.staged = g
	return func(ctx context.Context) error {
		if f.health == nil {
			return nil
		}
		return f.health(g)
	}, nil
}

func (f *fakeApplier) Commit(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.commitErr != nil {
		return f.commitErr
	}
	f.active = f.staged.Version
	f.committed = append(f.committed, f.active)
	f.staged = nil
	return nil
}

func (f *fakeApplier) Rollback(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staged = nil
	f.rollbacks++
	return nil
}

func (f *fakeApplier) snapshot() (active uint64, committed []uint64, rollbacks int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.active, slices.Clone(f.committed), f.rollbacks
}

// globalPayload is a signed global adapter of version v.
func globalPayload(t testing.TB, signer string, v uint64, created, expires time.Time) []byte {
	t.Helper()
	return adapterPayload(t, signer, v-1, v, created, expires)
}

// adapterPayload is a signed adapter from base to v (a catch-up if they
// are more than one apart).
func adapterPayload(t testing.TB, signer string, base, v uint64, created, expires time.Time) []byte {
	t.Helper()
	d := &learner.Delta{
		Method: "finetune", Dim: tDim, ModelID: "m", BaseVersion: base, Version: v, Merged: []uint64{v * 10}, Examples: 1,
		Tensors: []learner.Tensor{{Name: "w", Shape: []int{tDim}, Data: []float32{float32(v), 0, 0, 1}}},
	}
	p, err := wire.FromDelta(d, wire.Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Fleet, p.Device, p.Seq, p.CreatedAt, p.ExpiresAt = tFleet, signer, v, created, expires
	b, err := wire.Encode(p, tKey(signer))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeGlobal(t testing.TB, b []byte) *wire.Payload {
	t.Helper()
	p, err := wire.Decode(b, wire.Policy{Fleet: tFleet, Keys: hubRing("hub"), Now: func() time.Time { return time.Unix(1, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
