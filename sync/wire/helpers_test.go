package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"math/rand/v2"
	"time"

	"github.com/clipfleet/clipfleet/learner"
)

// Test identities: keys derive from fixed seeds so fixtures are
// reproducible byte for byte.
const (
	testFleet = "fleet-a"
	testDim   = 16
	testHash  = "0123456789abcdef"
	testModel = "testclip"
)

var testNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("clipfleet/sync/wire/testdata/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func pub(name string) ed25519.PublicKey { return testKey(name).Public().(ed25519.PublicKey) }

// testPolicy is the policy every fixture's expected code refers to.
func testPolicy() Policy {
	keys := NewKeyring(testFleet)
	for _, d := range []string{"dev-1", "dev-2"} {
		if err := keys.AddDevice(d, pub(d)); err != nil {
			panic(err)
		}
	}
	if err := keys.AddHub("hub", pub("hub")); err != nil {
		panic(err)
	}
	seqs := NewMemSeqStore()
	seqs.Commit(testFleet, "dev-1", 10)
	seqs.Commit(testFleet, "hub", 100)
	return Policy{
		Config: Config{MaxBytes: 1 << 20, MaxElements: 1 << 16, MaxNorm: 100},
		Fleet:  testFleet, Keys: keys, Seqs: seqs,
		Method: "finetune", ModelID: testModel, Dim: testDim, PreprocessHash: testHash,
		Now: func() time.Time { return testNow },
	}
}

// keyFor returns the private key that signs kind for sender in tests.
func keyFor(kind Kind, sender string) ed25519.PrivateKey {
	if kind.FromHub() {
		return testKey("hub")
	}
	return testKey(sender)
}

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// testDelta is a device export with a tensor of every kind of content.
func testDelta(seed uint64) *learner.Delta {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &learner.Delta{
		Method: "finetune", Dim: testDim, ModelID: testModel, BaseVersion: 7, ID: 0xabc0 + seed,
		Examples: 12.5,
		Tensors: []learner.Tensor{
			{Name: "adapter.w", Shape: []int{8, testDim}, Data: randVec(rng, 8*testDim, 0.1)},
			{Name: "adapter.b", Shape: []int{testDim}, Data: randVec(rng, testDim, 0.01)},
		},
	}
	for i, name := range []string{"mug", "spoon"} {
		id := learner.IDFor(name)
		sum := make([]float64, testDim)
		for j := range sum {
			sum[j] = rng.NormFloat64()
		}
		d.Classes = append(d.Classes, learner.ClassStats{Label: id, Count: float64(3 + i), Examples: int64(3 + i), Sum: sum})
		d.Samples = append(d.Samples, learner.Example{Emb: randVec(rng, testDim, 1), Label: id, Weight: 0.5, Source: learner.Source(i + 1)})
		d.Labels = append(d.Labels, learner.LabelInfo{ID: id, Name: name, Text: randVec(rng, testDim, 1)})
	}
	d.Labels = append(d.Labels, learner.LabelInfo{ID: learner.ID(1<<63 | 77)})
	return d
}

// testPayload is testDelta compressed as c, addressed from dev-1 with seq.
func testPayload(seed uint64, c Compression, seq uint64) *Payload {
	p, err := FromDelta(testDelta(seed), c, nil)
	if err != nil {
		panic(err)
	}
	p.Fleet, p.Device, p.Seq = testFleet, "dev-1", seq
	p.PreprocessHash = testHash
	p.CreatedAt = testNow.Add(-time.Hour)
	return p
}

func globalPayload(seed uint64) *Payload {
	d := testDelta(seed)
	d.ID, d.Version, d.Merged = 0, 8, []uint64{0xabc1, 0xabc2, 99}
	p, err := FromDelta(d, Compression{}, nil)
	if err != nil {
		panic(err)
	}
	p.Fleet, p.Device, p.Seq = testFleet, "hub", 101
	p.PreprocessHash = testHash
	p.CreatedAt = testNow.Add(-time.Minute)
	p.ExpiresAt = testNow.Add(24 * time.Hour)
	return p
}

func ackPayload(code RejectCode) *Payload {
	return &Payload{
		Kind: KindAck, Fleet: testFleet, Device: "hub", Seq: 102, BaseVersion: 7, Version: 8,
		CreatedAt: testNow.Add(-time.Second), Ack: &Ack{Device: "dev-1", Seq: 11, Code: code},
	}
}

// sealRaw signs p's body without validating p, to build payloads that only
// the decoder's own checks can refuse.
func sealRaw(p *Payload, key ed25519.PrivateKey) []byte {
	return seal(appendBody(make([]byte, headerSize), p), p.Kind, key)
}

// resign rebuilds the header, checksum and signature of a (modified)
// envelope around its body: everything between the 12-byte header and the
// last 68 bytes. The header's kind byte is kept.
func resign(b []byte, key ed25519.PrivateKey) []byte {
	out := append([]byte(nil), b[:len(b)-crcSize-sigSize]...)
	return seal(out, Kind(out[6]), key)
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 2)) }
