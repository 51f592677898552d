package wire_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/sync/wire"
)

func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// A device compresses its export with error feedback, signs it; the hub
// verifies it under its policy and gets the learner.Delta back.
func Example() {
	devKey := key("robot-7")
	export := &learner.Delta{
		Method: "finetune", Dim: 4, ModelID: "clip-b32", BaseVersion: 3, ID: 9001, Examples: 20,
		Tensors: []learner.Tensor{{Name: "adapter.w", Shape: []int{2, 4}, Data: []float32{0.5, -0.25, 0, 1, 2, 0, -1, 0.125}}},
	}
	ef := wire.NewErrorFeedback() // kept by the device across exports
	p, err := wire.FromDelta(export, wire.Compression{Int8: true}, ef)
	if err != nil {
		panic(err)
	}
	p.Fleet, p.Device, p.Seq = "warehouse", "robot-7", 1
	p.PreprocessHash, p.CreatedAt = "00112233aabbccdd", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	msg, err := wire.Encode(p, devKey)
	if err != nil {
		panic(err)
	}

	// The hub.
	keys := wire.NewKeyring("warehouse")
	_ = keys.AddDevice("robot-7", devKey.Public().(ed25519.PublicKey))
	seqs := wire.NewMemSeqStore()
	pol := wire.Policy{
		Config: wire.DefaultConfig(), Fleet: "warehouse", Kinds: []wire.Kind{wire.KindDeviceDelta},
		Keys: keys, Seqs: seqs, ModelID: "clip-b32", Dim: 4, PreprocessHash: "00112233aabbccdd",
	}
	got, err := wire.Decode(msg, pol)
	if err != nil {
		panic(err)
	}
	seqs.Commit(got.Fleet, got.Device, got.Seq) // once the delta is stored
	d, _ := got.Delta()
	fmt.Println(got.Kind, got.Device, got.Seq, len(msg), "bytes")
	fmt.Println(d.Tensors[0].Data) // int8: within half a step (row max / 254)

	// The same message again is a replay.
	_, err = wire.Decode(msg, pol)
	fmt.Println(wire.CodeOf(err), errors.Is(err, wire.ErrReplayed))
	// Output:
	// device-delta robot-7 1 248 bytes
	// [0.503937 -0.2519685 0 1 2 0 -1.007874 0.12598425]
	// replayed true
}

// A receiver tells refused payloads from its own failures and logs why.
func ExampleCodeOf() {
	keys := wire.NewKeyring("warehouse")
	_, err := wire.Decode([]byte("CFSY\x09\x00"), wire.Policy{Fleet: "warehouse", Keys: keys})
	var re *wire.RejectError
	if errors.As(err, &re) {
		fmt.Println(re.Code, re.Field, errors.Is(err, wire.ErrRejected))
	}
	// Output:
	// truncated header true
}
