package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata/ from fixtureCases")

// fixture is one catalogue entry (testdata/catalogue.json): a payload file
// and the code Decode must return for it under testPolicy.
type fixture struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Expect string `json:"expect"` // "accepted" or a RejectCode name
	Desc   string `json:"desc"`
}

type fixtureCase struct {
	name, desc string
	expect     RejectCode
	build      func() []byte
}

func mustEncode(p *Payload, key []byte) []byte {
	b, err := Encode(p, key)
	if err != nil {
		panic(err)
	}
	return b
}

// dev1 is the base valid device delta the malformed fixtures start from.
func dev1(mod func(p *Payload)) *Payload {
	p := testPayload(1, Compression{}, 11)
	if mod != nil {
		mod(p)
	}
	return p
}

func signedBy(name string, mod func(p *Payload)) []byte { return sealRaw(dev1(mod), testKey(name)) }
func raw(mod func(p *Payload)) []byte                   { return signedBy("dev-1", mod) }

// patchBody applies f to the body of a valid dev-1 payload and re-signs it.
func patchBody(f func(body []byte, p *Payload) []byte) []byte {
	p := dev1(nil)
	b := mustEncode(p, testKey("dev-1"))
	body := f(slices.Clone(b[headerSize:len(b)-crcSize-sigSize]), p)
	out := append(slices.Clone(b[:headerSize]), body...)
	return seal(append(out, make([]byte, crcSize+sigSize)...)[:headerSize+len(body)], p.Kind, testKey("dev-1"))
}

// Offsets inside a body.
func flagsOffset(p *Payload) int    { return 2 + len(p.Fleet) + 2 + len(p.Device) + 32 }
func sectionsOffset(p *Payload) int { return len(appendHeaderFields(nil, p)) }

func fixtureCases() []fixtureCase {
	key1 := testKey("dev-1")
	valid := mustEncode(dev1(nil), key1)
	withHeader := func(f func(b []byte) []byte) func() []byte {
		return func() []byte { return f(slices.Clone(valid)) }
	}
	return []fixtureCase{
		// Accepted payloads of every kind and tensor encoding.
		{"ok-device-f32", "device delta, dense float32 tensors, classes, samples, labels", Accepted,
			func() []byte { return valid }},
		{"ok-device-int8", "device delta, dense int8 tensors with per-row scales", Accepted,
			func() []byte { return mustEncode(testPayload(2, Compression{Int8: true}, 12), key1) }},
		{"ok-device-topk-int8", "device delta, top-25% sparse int8 tensors", Accepted,
			func() []byte { return mustEncode(testPayload(3, Compression{Int8: true, TopK: 0.25}, 13), key1) }},
		{"ok-device-topk-f32", "device delta, top-10% sparse float32 tensors", Accepted,
			func() []byte { return mustEncode(testPayload(4, Compression{TopK: 0.1}, 14), key1) }},
		{"ok-device-stats-only", "device delta with class statistics and labels only", Accepted,
			func() []byte {
				return mustEncode(dev1(func(p *Payload) { p.Tensors, p.Samples = nil, nil }), key1)
			}},
		{"ok-device-other", "delta from a second device", Accepted,
			func() []byte {
				return mustEncode(dev1(func(p *Payload) { p.Device = "dev-2"; p.Seq = 1 }), testKey("dev-2"))
			}},
		{"ok-global-adapter", "hub-signed merged adapter with an expiry", Accepted,
			func() []byte { return mustEncode(globalPayload(5), testKey("hub")) }},
		{"ok-ack", "hub-signed ack accepting dev-1's seq 11", Accepted,
			func() []byte { return mustEncode(ackPayload(Accepted), testKey("hub")) }},
		{"ok-ack-refused", "hub-signed ack refusing a delta for a wrong model", Accepted,
			func() []byte { return mustEncode(ackPayload(WrongModel), testKey("hub")) }},
		{"ok-ack-stale-base", "hub-signed ack dropping a delta against an old base (stale-base)", Accepted,
			func() []byte { return mustEncode(ackPayload(StaleBase), testKey("hub")) }},

		// Envelope.
		{"truncated-empty", "zero bytes", Truncated, func() []byte { return []byte{} }},
		{"truncated-header", "7 bytes of a header", Truncated, withHeader(func(b []byte) []byte { return b[:7] })},
		{"truncated-body", "last byte missing", Truncated, withHeader(func(b []byte) []byte { return b[:len(b)-1] })},
		{"truncated-signature", "signature missing", Truncated, withHeader(func(b []byte) []byte { return b[:len(b)-sigSize] })},
		{"bad-magic", "first byte changed", BadMagic, withHeader(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"unsupported-version", "format version 2", UnsupportedVersion,
			withHeader(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[4:], 2); return b })},
		{"oversize-declared-length", "body length field claims ~4 GiB; must not allocate", Oversize,
			withHeader(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0xFFFFFFF0); return b })},
		{"trailing-bytes", "a byte after the signature", Malformed, withHeader(func(b []byte) []byte { return append(b, 0) })},
		{"bad-kind", "kind byte 9", Malformed, withHeader(func(b []byte) []byte { b[6] = 9; return b })},
		{"reserved-byte", "reserved header byte set", Malformed, withHeader(func(b []byte) []byte { b[7] = 1; return b })},
		{"bad-checksum", "one body bit flipped", BadChecksum, withHeader(func(b []byte) []byte { b[headerSize+40] ^= 1; return b })},
		{"bad-checksum-crc", "checksum bit flipped", BadChecksum, withHeader(func(b []byte) []byte { b[len(b)-sigSize-1] ^= 0x80; return b })},

		// Identity and signature.
		{"bad-signature", "one signature bit flipped", BadSignature, withHeader(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
		{"wrong-device-key", "claims dev-1, signed by dev-2", BadSignature, func() []byte { return signedBy("dev-2", nil) }},
		{"unknown-device", "sender not in the keyring", UnknownKey,
			func() []byte { return signedBy("dev-9", func(p *Payload) { p.Device = "dev-9" }) }},
		{"other-fleet", "payload for another fleet", UnknownKey, func() []byte { return raw(func(p *Payload) { p.Fleet = "fleet-b" }) }},
		{"device-forges-adapter", "global adapter signed by a device key", UnknownKey,
			func() []byte {
				return raw(func(p *Payload) { p.Kind, p.Version = KindGlobalAdapter, 8 })
			}},
		{"hub-key-as-device", "device delta sent as the hub", UnknownKey,
			func() []byte { return signedBy("hub", func(p *Payload) { p.Device = "hub" }) }},
		{"bad-fleet-length", "fleet string length past the body", Malformed,
			func() []byte {
				return patchBody(func(body []byte, _ *Payload) []byte { binary.LittleEndian.PutUint16(body, 0xFFFF); return body })
			}},

		// Freshness.
		{"replayed-equal", "seq equal to the last accepted", Replayed, func() []byte { return raw(func(p *Payload) { p.Seq = 10 }) }},
		{"replayed-older", "seq below the last accepted", Replayed, func() []byte { return raw(func(p *Payload) { p.Seq = 3 }) }},
		{"expired-adapter", "global adapter past its expiry", Expired,
			func() []byte {
				p := globalPayload(6)
				p.ExpiresAt = testNow.Add(-time.Second)
				return mustEncode(p, testKey("hub"))
			}},

		// Model compatibility.
		{"wrong-model-id", "another model", WrongModel, func() []byte { return raw(func(p *Payload) { p.ModelID = "other" }) }},
		{"wrong-method", "another learning method", WrongModel, func() []byte { return raw(func(p *Payload) { p.Method = "ncm" }) }},
		{"wrong-dimension", "dim 32 throughout", WrongDimension,
			func() []byte {
				return raw(func(p *Payload) {
					p.Dim = 32
					p.Classes, p.Samples, p.Labels = nil, nil, nil
				})
			}},
		{"class-sum-length", "a class sum of 15 values in a dim-16 delta", WrongDimension,
			func() []byte { return raw(func(p *Payload) { p.Classes[1].Sum = p.Classes[1].Sum[:15] }) }},
		{"wrong-preprocess", "another preprocessing hash", WrongPreprocess,
			func() []byte { return raw(func(p *Payload) { p.PreprocessHash = "fedcba9876543210" }) }},
		{"missing-preprocess", "no preprocessing hash", WrongPreprocess, func() []byte { return raw(func(p *Payload) { p.PreprocessHash = "" }) }},

		// Values.
		{"nan-tensor", "NaN in a float32 tensor", NonFinite,
			func() []byte { return raw(func(p *Payload) { p.Tensors[0].F32[5] = float32(math.NaN()) }) }},
		{"nan-before-norm", "NaN in a tensor whose other values exceed the norm bound", NonFinite,
			func() []byte {
				return raw(func(p *Payload) {
					p.Tensors[1].F32[0] = 1e6
					p.Tensors[1].F32[3] = float32(math.NaN())
				})
			}},
		{"inf-scale", "+Inf int8 scale", NonFinite,
			func() []byte {
				p := testPayload(2, Compression{Int8: true}, 12)
				p.Tensors[0].Scales[2] = float32(math.Inf(1))
				return sealRaw(p, key1)
			}},
		{"nan-class-sum", "NaN in a class sum", NonFinite, func() []byte { return raw(func(p *Payload) { p.Classes[0].Sum[0] = math.NaN() }) }},
		{"inf-sample", "-Inf in a sample embedding", NonFinite,
			func() []byte { return raw(func(p *Payload) { p.Samples[1].Emb[3] = float32(math.Inf(-1)) }) }},
		{"nan-label-text", "NaN in a label text embedding", NonFinite,
			func() []byte { return raw(func(p *Payload) { p.Labels[0].Text[0] = float32(math.NaN()) }) }},
		{"nan-examples", "NaN example weight", NonFinite, func() []byte { return raw(func(p *Payload) { p.Examples = math.NaN() }) }},
		{"norm-too-large", "a tensor with L2 norm above 100", NormTooLarge,
			func() []byte { return raw(func(p *Payload) { p.Tensors[0].F32[0] = 150 }) }},
		{"oversize-tensor", "sparse tensor of shape 1024×1024 > 65536 elements; must not allocate", Oversize,
			func() []byte {
				return raw(func(p *Payload) {
					p.Tensors = append(p.Tensors, Tensor{Name: "huge", Shape: []int{1024, 1024}, DType: Float32, Index: []uint32{}})
				})
			}},

		// Body structure.
		{"seq-zero", "sequence number 0", Malformed, func() []byte { return raw(func(p *Payload) { p.Seq = 0 }) }},
		{"int8-minus-128", "int8 value -128", Malformed,
			func() []byte {
				p := testPayload(2, Compression{Int8: true}, 12)
				p.Tensors[0].Q[0] = math.MinInt8
				return sealRaw(p, key1)
			}},
		{"negative-scale", "negative int8 scale", Malformed,
			func() []byte {
				p := testPayload(2, Compression{Int8: true}, 12)
				p.Tensors[0].Scales[0] = -p.Tensors[0].Scales[0]
				return sealRaw(p, key1)
			}},
		{"sparse-unsorted", "sparse indices out of order", Malformed,
			func() []byte {
				p := testPayload(4, Compression{TopK: 0.1}, 14)
				ix := p.Tensors[0].Index
				ix[0], ix[1] = ix[1], ix[0]
				return sealRaw(p, key1)
			}},
		{"sparse-out-of-range", "sparse index past the tensor", Malformed,
			func() []byte {
				p := testPayload(4, Compression{TopK: 0.1}, 14)
				ix := p.Tensors[1].Index
				ix[len(ix)-1] = testDim
				return sealRaw(p, key1)
			}},
		{"duplicate-tensor", "two tensors with one name", Malformed,
			func() []byte { return raw(func(p *Payload) { p.Tensors[1].Name = p.Tensors[0].Name }) }},
		{"zero-dimension-shape", "a tensor dimension of 0", Malformed,
			func() []byte {
				return raw(func(p *Payload) { p.Tensors = append(p.Tensors, Tensor{Name: "z", Shape: []int{0, 4}, DType: Float32}) })
			}},
		{"unknown-dtype", "tensor dtype 7", Malformed,
			func() []byte { return raw(func(p *Payload) { p.Tensors[1].DType = 7 }) }},
		{"duplicate-class", "two statistics for one label", Malformed,
			func() []byte { return raw(func(p *Payload) { p.Classes[1].Label = p.Classes[0].Label }) }},
		{"device-delta-version", "a device delta with a fleet version", Malformed,
			func() []byte { return raw(func(p *Payload) { p.Version = 9 }) }},
		{"ack-with-content", "an ack carrying tensors", Malformed,
			func() []byte {
				p := ackPayload(Accepted)
				p.Tensors = dev1(nil).Tensors
				return sealRaw(p, testKey("hub"))
			}},
		{"unknown-flags", "flag bit 5 set", Malformed,
			func() []byte {
				return patchBody(func(body []byte, p *Payload) []byte { body[flagsOffset(p)] |= 1 << 5; return body })
			}},
		{"hash-without-flag", "hash bytes with the hash flag clear", Malformed,
			func() []byte {
				return patchBody(func(body []byte, p *Payload) []byte { body[flagsOffset(p)] &^= flagPreprocess; return body })
			}},
		{"huge-tensor-count", "tensor count 2^32-1; must not allocate", Malformed,
			func() []byte {
				return patchBody(func(body []byte, p *Payload) []byte {
					binary.LittleEndian.PutUint32(body[sectionsOffset(p):], math.MaxUint32)
					return body
				})
			}},
		{"body-trailing", "a byte after the labels section", Malformed,
			func() []byte { return patchBody(func(body []byte, _ *Payload) []byte { return append(body, 0) }) }},
		{"body-truncated", "the body cut inside the labels section", Malformed,
			func() []byte { return patchBody(func(body []byte, _ *Payload) []byte { return body[:len(body)-3] }) }},
	}
}

const catalogueFile = "testdata/catalogue.json"

func (fc fixtureCase) entry() fixture {
	e := "accepted"
	if fc.expect != Accepted {
		e = fc.expect.String()
	}
	return fixture{Name: fc.name, File: "fixtures/" + fc.name + ".bin", Expect: e, Desc: fc.desc}
}

// readCatalogue loads the catalogue and its payload files.
func readCatalogue(t testing.TB) ([]fixture, [][]byte) {
	t.Helper()
	raw, err := os.ReadFile(catalogueFile)
	if err != nil {
		t.Fatalf("%v (generate with: go test ./sync/wire -run TestFixtures -update)", err)
	}
	var cat []fixture
	if err := json.Unmarshal(raw, &cat); err != nil {
		t.Fatal(err)
	}
	data := make([][]byte, len(cat))
	for i, f := range cat {
		if data[i], err = os.ReadFile(filepath.Join("testdata", f.File)); err != nil {
			t.Fatal(err)
		}
	}
	return cat, data
}

func writeCatalogue(t *testing.T, cases []fixtureCase) {
	dir := filepath.Join("testdata", "fixtures")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var cat []fixture
	for _, fc := range cases {
		e := fc.entry()
		if err := os.WriteFile(filepath.Join("testdata", e.File), fc.build(), 0o644); err != nil {
			t.Fatal(err)
		}
		cat = append(cat, e)
	}
	js, err := json.MarshalIndent(cat, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(catalogueFile, append(js, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d fixtures", len(cat))
}

// TestFixtures decodes every catalogued payload under testPolicy and
// requires its expected code; accepted ones must re-encode to the same
// bytes. It also requires the files to equal what fixtureCases generates
// now, so a format change cannot slip in without regenerating (-update)
// and reviewing the diff.
func TestFixtures(t *testing.T) {
	cases := fixtureCases()
	if *update {
		writeCatalogue(t, cases)
	}
	cat, data := readCatalogue(t)
	if len(cat) != len(cases) {
		t.Fatalf("catalogue has %d fixtures, generator %d: run with -update", len(cat), len(cases))
	}
	seen := map[RejectCode]bool{}
	for i, f := range cat {
		t.Run(f.Name, func(t *testing.T) {
			if want := cases[i].entry(); f != want {
				t.Fatalf("catalogue entry %+v, generator %+v: run with -update", f, want)
			}
			if gen := cases[i].build(); !bytes.Equal(gen, data[i]) {
				t.Fatalf("%s differs from the generator's output (%d vs %d bytes): run with -update", f.File, len(data[i]), len(gen))
			}
			want, err := ParseRejectCode(f.Expect)
			if err != nil {
				t.Fatal(err)
			}
			seen[want] = true
			p, err := Decode(data[i], testPolicy())
			if got := CodeOf(err); got != want {
				t.Fatalf("Decode: code %v (%v), want %v", got, err, want)
			}
			if err != nil {
				return
			}
			again, err := Encode(p, keyFor(p.Kind, p.Device))
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			if !bytes.Equal(again, data[i]) {
				t.Fatal("re-encoding differs from the accepted bytes")
			}
		})
	}
	// Every code but WrongKind (policy-dependent, tested separately) and
	// StaleBase (a hub verdict in acks, never a Decode result; see
	// ok-ack-stale-base) must have a fixture.
	for c := Accepted; c <= maxCode; c++ {
		if !seen[c] && c != WrongKind && c != StaleBase {
			t.Errorf("no fixture expects %v", c)
		}
	}
}
