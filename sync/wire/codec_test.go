package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/learner"
)

func TestRoundTripFloat32IsLossless(t *testing.T) {
	d := testDelta(42)
	p, err := FromDelta(d, Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Fleet, p.Device, p.Seq, p.PreprocessHash = testFleet, "dev-1", 11, testHash
	p.CreatedAt = time.Unix(0, 1767225600123456789).UTC()
	b, err := Encode(p, testKey("dev-1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b, testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("decoded payload differs:\n got %+v\nwant %+v", got, p)
	}
	back, err := got.Delta()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Fatalf("delta after the round trip differs:\n got %+v\nwant %+v", back, d)
	}
}

func TestRoundTripHubKinds(t *testing.T) {
	for _, p := range []*Payload{globalPayload(3), ackPayload(Accepted), ackPayload(NormTooLarge)} {
		t.Run(p.Kind.String(), func(t *testing.T) {
			b, err := Encode(p, testKey("hub"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b, testPolicy())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("got %+v\nwant %+v", got, p)
			}
		})
	}
}

func TestMergedAdapterRoundTrip(t *testing.T) {
	// The hub's path: decode device deltas, merge, encode the adapter; the
	// device decodes it into the same learner.Delta the hub merged.
	var deltas []*learner.Delta
	for i := uint64(1); i <= 3; i++ {
		b := mustEncode(testPayload(i, Compression{}, 10+i), testKey("dev-1"))
		p, err := Decode(b, testPolicy())
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Delta()
		if err != nil {
			t.Fatal(err)
		}
		deltas = append(deltas, d)
	}
	merged, err := learner.MergeDeltas(8, deltas...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromDelta(merged, Compression{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindGlobalAdapter {
		t.Fatalf("kind %v", p.Kind)
	}
	p.Fleet, p.Device, p.Seq, p.PreprocessHash, p.CreatedAt = testFleet, "hub", 101, testHash, testNow
	got, err := Decode(mustEncode(p, testKey("hub")), testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	back, _ := got.Delta()
	if !reflect.DeepEqual(back, merged) {
		t.Fatal("merged adapter changed on the wire")
	}
}

func TestInt8ErrorIsBoundedByHalfAStep(t *testing.T) {
	d := testDelta(7)
	p, err := FromDelta(d, Compression{Int8: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, tn := range p.Tensors {
		src := d.Tensors[i].Data
		deq := tn.Dense()
		cols := tn.Cols()
		for j := range src {
			row := j / cols
			if diff := math.Abs(float64(deq[j] - src[j])); diff > float64(tn.Scales[row])/2*1.0001 {
				t.Fatalf("%s[%d]: |%v - %v| > scale/2 = %v", tn.Name, j, deq[j], src[j], tn.Scales[row]/2)
			}
		}
		for r, s := range tn.Scales {
			// The largest entry of each row maps to ±127 exactly.
			m := float32(0)
			for _, v := range src[r*cols : (r+1)*cols] {
				m = max(m, float32(math.Abs(float64(v))))
			}
			if s != m/127 {
				t.Fatalf("%s row %d: scale %v, want max/127 = %v", tn.Name, r, s, m/127)
			}
		}
	}
	// Four bytes a value become one (plus a scale per row).
	full := mustEncode(testPayload(7, Compression{}, 11), testKey("dev-1"))
	small := mustEncode(testPayload(7, Compression{Int8: true}, 11), testKey("dev-1"))
	tensorBytes := 4 * (8*testDim + testDim)
	if saved := len(full) - len(small); saved < tensorBytes*3/4-4*9 {
		t.Fatalf("int8 saved %d bytes, want about %d", saved, tensorBytes*3/4)
	}
}

func TestTopKKeepsLargestMagnitudes(t *testing.T) {
	v := []float32{0.1, -5, 3, 0, 3, -3, 0.2, 4}
	// |v| sorted: 5 4 3 3 3 ...; k=4 keeps 5, 4 and the first two 3s.
	got := topK(v, 4)
	if want := []uint32{1, 2, 4, 7}; !slices.Equal(got, want) {
		t.Fatalf("topK = %v, want %v", got, want)
	}
	if got := topK(make([]float32, 1000), 10); len(got) != 10 || got[9] != 9 {
		t.Fatalf("all-zero input: %v", got)
	}
	if got := topK(v, 0); got == nil || len(got) != 0 {
		t.Fatalf("k=0 must give an empty, non-nil index: %#v", got)
	}
	// Against a full sort on random data.
	rng := newRand(3)
	w := randVec(rng, 4096, 1)
	got = topK(w, 300)
	sorted := slices.Clone(w)
	for i := range sorted {
		sorted[i] = float32(math.Abs(float64(sorted[i])))
	}
	slices.Sort(sorted)
	thr := sorted[len(sorted)-300]
	if len(got) != 300 {
		t.Fatalf("kept %d", len(got))
	}
	for _, i := range got {
		if float32(math.Abs(float64(w[i]))) < thr {
			t.Fatalf("kept |w[%d]| = %v below the 300th largest %v", i, w[i], thr)
		}
	}
}

// sentSum accumulates what the hub received over rounds of exports.
func runFeedback(t *testing.T, rounds int, c Compression, ef *ErrorFeedback) (truth, sent []float32) {
	t.Helper()
	rng := newRand(11)
	truth, sent = make([]float32, 64*16), make([]float32, 64*16)
	for r := range rounds {
		g := randVec(rng, 64*16, 1)
		d := &learner.Delta{Method: "finetune", Dim: 16, ID: uint64(r + 1), Examples: 1,
			Tensors: []learner.Tensor{{Name: "w", Shape: []int{64, 16}, Data: g}}}
		p, err := FromDelta(d, c, ef)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range p.Tensors[0].Dense() {
			sent[i] += v
		}
		for i, v := range g {
			truth[i] += v
		}
		if ef != nil {
			if !ef.ApplyMerged([]uint64{99, uint64(r + 1)}) {
				t.Fatal("pending export not recognised as merged")
			}
		}
	}
	return truth, sent
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]-b[i]) * float64(a[i]-b[i])
	}
	return math.Sqrt(s)
}

func TestErrorFeedbackCarriesTheResidual(t *testing.T) {
	c := Compression{Int8: true, TopK: 0.1}
	ef := NewErrorFeedback()
	truth, sent := runFeedback(t, 40, c, ef)
	// Everything not yet received is exactly the due residual.
	res := ef.Residual("w")
	for i := range truth {
		if d := truth[i] - sent[i] - res[i]; math.Abs(float64(d)) > 1e-3 {
			t.Fatalf("entry %d: truth-sent %v, residual %v", i, truth[i]-sent[i], res[i])
		}
	}
	withEF := dist(truth, sent)
	truthNo, sentNo := runFeedback(t, 40, c, nil)
	without := dist(truthNo, sentNo)
	// Without feedback 90% of every round is lost and the error grows like
	// sqrt(rounds); with it, it stays at a few rounds' worth.
	if withEF > without/2 {
		t.Fatalf("error with feedback %.2f, without %.2f: feedback does not help", withEF, without)
	}
	if math.Abs(ef.Norm()-withEF) > 1e-2 {
		t.Fatalf("Norm %v, distance %v", ef.Norm(), withEF)
	}
	t.Logf("after 40 rounds at top-10%% int8: error %.2f with feedback, %.2f without", withEF, without)
}

func TestErrorFeedbackWaitsForTheMerge(t *testing.T) {
	ef := NewErrorFeedback()
	c := Compression{Int8: true, TopK: 0.5}
	d := testDelta(1)
	if _, err := FromDelta(d, c, ef); err != nil {
		t.Fatal(err)
	}
	if ef.Pending() != d.ID || ef.Residual("adapter.w") != nil {
		t.Fatal("the residual must stay pending until the hub merges the export")
	}
	if ef.ApplyMerged([]uint64{d.ID + 1}) {
		t.Fatal("an adapter without the export reported it merged")
	}
	if ef.Pending() != 0 || ef.Residual("adapter.w") != nil {
		t.Fatal("a missed export's residual must be dropped: the next export re-sends it whole")
	}
	// Merged: the residual is due and goes out with the next export, even
	// for a tensor that did not change.
	if _, err := FromDelta(d, c, ef); err != nil {
		t.Fatal(err)
	}
	ef.ApplyMerged([]uint64{d.ID})
	r := ef.Residual("adapter.w")
	if r == nil {
		t.Fatal("merged export left no residual")
	}
	blob, err := ef.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored := NewErrorFeedback()
	if err := restored.UnmarshalBinary(blob); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restored.Residual("adapter.w"), r) {
		t.Fatal("residual lost in MarshalBinary round trip")
	}
	next := &learner.Delta{Method: "finetune", Dim: testDim, ID: 777, BaseVersion: 8}
	p, err := FromDelta(next, Compression{}, restored)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tn := range p.Tensors {
		names = append(names, tn.Name)
	}
	if !slices.Contains(names, "adapter.w") {
		t.Fatalf("residual-only tensor not sent: %v", names)
	}
	for _, tn := range p.Tensors {
		if tn.Name == "adapter.w" && !slices.Equal(tn.F32, r) {
			t.Fatal("float32 export must carry exactly the residual")
		}
	}
	if err := restored.UnmarshalBinary(blob[:len(blob)-1]); err == nil {
		t.Fatal("truncated state accepted")
	}
}

func TestFromDeltaRefuses(t *testing.T) {
	bad := testDelta(1)
	bad.Tensors[0].Data[3] = float32(math.Inf(1))
	if _, err := FromDelta(bad, Compression{}, nil); !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Inf in a tensor: %v", err)
	}
	short := testDelta(1)
	short.Tensors[0].Data = short.Tensors[0].Data[:5]
	if _, err := FromDelta(short, Compression{}, nil); err == nil {
		t.Fatal("tensor shorter than its shape accepted")
	}
	merged := testDelta(1)
	merged.Version = 9
	if _, err := FromDelta(merged, Compression{Int8: true}, NewErrorFeedback()); err == nil {
		t.Fatal("error feedback on a merged delta accepted")
	}
	if _, err := FromDelta(testDelta(1), Compression{TopK: 2}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("top_k 2: %v", err)
	}
}

func TestEncodeRefusesWhatDecodeWould(t *testing.T) {
	key := testKey("dev-1")
	// onWire: the defect can be written to the wire (an uppercase hash or
	// an out-of-range time cannot), so the decoder must refuse it too.
	cases := []struct {
		name   string
		mod    func(p *Payload)
		code   RejectCode
		onWire bool
	}{
		{"bad device id", func(p *Payload) { p.Device = "dev/1" }, Malformed, false},
		{"uppercase hash", func(p *Payload) { p.PreprocessHash = "0123456789ABCDEF" }, Malformed, false},
		{"zero created", func(p *Payload) { p.CreatedAt = time.Time{} }, Malformed, true},
		{"epoch created", func(p *Payload) { p.CreatedAt = time.Unix(0, 0) }, Malformed, true},
		{"year 3000", func(p *Payload) { p.CreatedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, Malformed, false},
		{"nan tensor", func(p *Payload) { p.Tensors[0].F32[0] = float32(math.NaN()) }, NonFinite, true},
		{"short tensor", func(p *Payload) { p.Tensors[0].F32 = p.Tensors[0].F32[1:] }, Malformed, true},
		{"ack without body", func(p *Payload) { p.Kind = KindAck }, Malformed, false},
		{"sample dim", func(p *Payload) { p.Samples[0].Emb = p.Samples[0].Emb[:3] }, WrongDimension, true},
		{"negative weight", func(p *Payload) { p.Samples[0].Weight = -1 }, Malformed, true},
		{"duplicate label", func(p *Payload) { p.Labels[1].ID = p.Labels[0].ID }, Malformed, true},
		{"rank 9", func(p *Payload) { p.Tensors[1].Shape = []int{1, 1, 1, 1, 1, 1, 1, 1, 16} }, Malformed, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := dev1(c.mod)
			_, err := Encode(p, key)
			if CodeOf(err) != c.code {
				t.Fatalf("Encode: %v, want code %v", err, c.code)
			}
			if !c.onWire {
				return
			}
			if _, err := Decode(sealRaw(p, key), Policy{Fleet: p.Fleet, Keys: testPolicy().Keys}); CodeOf(err) != c.code {
				t.Fatalf("Decode: %v, want code %v", err, c.code)
			}
		})
	}
	if _, err := Encode(dev1(nil), key[:10]); err == nil {
		t.Fatal("short private key accepted")
	}
}

func TestDecodeKindsAndOperationalErrors(t *testing.T) {
	b := mustEncode(dev1(nil), testKey("dev-1"))
	pol := testPolicy()
	pol.Kinds = []Kind{KindGlobalAdapter, KindAck}
	_, err := Decode(b, pol)
	if CodeOf(err) != WrongKind || !errors.Is(err, ErrWrongKind) || !errors.Is(err, ErrRejected) {
		t.Fatalf("device delta at a device: %v", err)
	}

	boom := errors.New("disk on fire")
	pol = testPolicy()
	pol.Seqs = failingSeqs{boom}
	_, err = Decode(b, pol)
	if !errors.Is(err, boom) || errors.Is(err, ErrRejected) || CodeOf(err) != Accepted {
		t.Fatalf("a failing SeqStore must be an operational error, not a rejection: %v", err)
	}
	pol = testPolicy()
	pol.Keys = failingKeys{boom}
	if _, err = Decode(b, pol); !errors.Is(err, boom) || errors.Is(err, ErrRejected) {
		t.Fatalf("a failing Verifier must be an operational error: %v", err)
	}
	if _, err := Decode(b, Policy{}); err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("empty policy: %v", err)
	}
}

func TestRejectErrorIdentifiesOnlyAuthenticatedSenders(t *testing.T) {
	pol := testPolicy()
	_, err := Decode(raw(func(p *Payload) { p.Seq = 4 }), pol)
	var re *RejectError
	if !errors.As(err, &re) || re.Code != Replayed || re.Device != "dev-1" || re.Seq != 4 {
		t.Fatalf("replay: %#v", err)
	}
	_, err = Decode(signedBy("dev-2", func(p *Payload) { p.Seq = 4 }), pol)
	if !errors.As(err, &re) || re.Code != BadSignature || re.Device != "" || re.Seq != 0 {
		t.Fatalf("forged payload must not name a sender: %#v", err)
	}
}

func TestCommittedSeqIsReplayed(t *testing.T) {
	pol := testPolicy()
	b := mustEncode(dev1(nil), testKey("dev-1"))
	p, err := Decode(b, pol)
	if err != nil {
		t.Fatal(err)
	}
	pol.Seqs.(*MemSeqStore).Commit(p.Fleet, p.Device, p.Seq)
	if _, err := Decode(b, pol); !errors.Is(err, ErrReplayed) {
		t.Fatalf("second delivery: %v", err)
	}
}

func TestHugeCountsDoNotAllocate(t *testing.T) {
	// Re-signed so the counts survive the checksum and signature: each
	// claims far more than the payload holds.
	patches := map[string]func(body []byte, p *Payload) []byte{
		"tensors": func(body []byte, p *Payload) []byte {
			binary.LittleEndian.PutUint32(body[sectionsOffset(p):], math.MaxUint32)
			return body
		},
		"merged": func(body []byte, p *Payload) []byte {
			binary.LittleEndian.PutUint32(body[sectionsOffset(p)-4:], math.MaxUint32)
			return body
		},
	}
	for name, f := range patches {
		b := patchBody(f)
		pol := testPolicy()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Decode(b, pol)
		runtime.ReadMemStats(&after)
		if CodeOf(err) != Malformed {
			t.Fatalf("%s: %v", name, err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Fatalf("%s: decoding a %d-byte payload allocated %d bytes", name, len(b), grew)
		}
	}
	big := mustEncode(dev1(nil), testKey("dev-1"))
	binary.LittleEndian.PutUint32(big[8:], math.MaxUint32)
	pol := testPolicy()
	pol.MaxBytes = math.MaxUint32
	if _, err := Decode(big, pol); CodeOf(err) != Oversize && CodeOf(err) != Truncated {
		t.Fatalf("4 GiB length: %v", err)
	}
}

func TestRejectCodeNames(t *testing.T) {
	for c := Accepted; c <= maxCode; c++ {
		back, err := ParseRejectCode(c.String())
		if err != nil || back != c {
			t.Fatalf("%v: parse back %v, %v", c, back, err)
		}
		if (c.Err() == nil) != (c == Accepted) {
			t.Fatalf("%v: sentinel %v", c, c.Err())
		}
		e := &RejectError{Code: c}
		if c != Accepted && !errors.Is(e, c.Err()) {
			t.Fatalf("%v does not wrap its sentinel", c)
		}
	}
	if RejectCode(200).Valid() || RejectCode(200).Err() != nil {
		t.Fatal("code 200 valid")
	}
}

func TestKeyringSeparatesRoles(t *testing.T) {
	k := NewKeyring("f")
	if err := k.AddDevice("d", pub("dev-1")); err != nil {
		t.Fatal(err)
	}
	if err := k.AddHub("d", pub("hub")); err != nil {
		t.Fatal(err)
	}
	dk, _ := k.PublicKey("f", "d", KindDeviceDelta)
	hk, _ := k.PublicKey("f", "d", KindGlobalAdapter)
	if !bytes.Equal(dk, pub("dev-1")) || !bytes.Equal(hk, pub("hub")) {
		t.Fatal("device and hub keys of the same id mixed up")
	}
	if _, err := k.PublicKey("g", "d", KindDeviceDelta); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("other fleet: %v", err)
	}
	k.RemoveDevice("d")
	if _, err := k.PublicKey("f", "d", KindDeviceDelta); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("revoked: %v", err)
	}
	if err := k.AddDevice("x", make(ed25519.PublicKey, 5)); err == nil {
		t.Fatal("short key accepted")
	}
	if err := k.AddDevice("a b", pub("dev-1")); err == nil {
		t.Fatal("bad id accepted")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(c *Config){
		"max_bytes 0":    func(c *Config) { c.MaxBytes = 0 },
		"max_bytes 5GiB": func(c *Config) { c.MaxBytes = 5 << 30 },
		"max_elements 0": func(c *Config) { c.MaxElements = 0 },
		"max_norm -1":    func(c *Config) { c.MaxNorm = -1 },
		"max_norm NaN":   func(c *Config) { c.MaxNorm = math.NaN() },
		"top_k 1.5":      func(c *Config) { c.Compression.TopK = 1.5 },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type failingSeqs struct{ err error }

func (f failingSeqs) LastSeq(string, string) (uint64, error) { return 0, f.err }

type failingKeys struct{ err error }

func (f failingKeys) PublicKey(string, string, Kind) (ed25519.PublicKey, error) { return nil, f.err }
