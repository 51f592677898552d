package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds Decode arbitrary bytes, seeded from the fixture
// catalogue. Each input is tried as is (exercising the envelope checks)
// and re-sealed with a valid checksum and signature (so mutations reach
// the body parser). Decode must never panic, every failure must be a
// typed rejection (the fuzz policy's keyring and seq store cannot fail),
// and every accepted payload must re-encode to exactly the input: the
// format has one encoding per payload, so nothing unverified can hide in
// the bytes.
func FuzzDecode(f *testing.F) {
	_, data := readCatalogue(f)
	for _, b := range data {
		f.Add(b)
	}
	pol := testPolicy()
	check := func(t *testing.T, b []byte) {
		p, err := Decode(b, pol)
		if err != nil {
			if CodeOf(err) == Accepted {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := Encode(p, keyFor(p.Kind, p.Device))
		if err != nil {
			t.Fatalf("accepted payload does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted %d bytes that re-encode to %d different bytes", len(b), len(again))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		if len(b) >= minEnvelope {
			check(t, resign(b, keyFor(Kind(b[6]), "dev-1")))
		}
	})
}
