package wire

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"github.com/clipfleet/clipfleet/learner"
)

// Decode verifies and parses a payload under a policy. A refused payload
// returns a *RejectError (errors.Is(err, ErrRejected) and the code's
// sentinel); any other error is operational (a Verifier or SeqStore that
// failed, an incomplete Policy) and says nothing about the payload. The
// check order is documented in doc.go. Decode never records the sequence
// number: see SeqStore.
func Decode(b []byte, pol Policy) (*Payload, error) {
	if pol.Keys == nil || !ValidID(pol.Fleet) {
		return nil, errors.New("wire: decode: policy needs a valid Fleet and Keys")
	}
	maxBytes, maxElems := pol.limits()

	// Envelope: every length is checked against the buffer and the limits
	// before anything is allocated.
	if len(b) < headerSize {
		return nil, reject(Truncated, "header", "%d bytes, header needs %d", len(b), headerSize)
	}
	if !bytes.Equal(b[:4], magic[:]) {
		return nil, reject(BadMagic, "magic", "%q", b[:4])
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != FormatVersion {
		return nil, reject(UnsupportedVersion, "version", "format %d, this build reads %d", v, FormatVersion)
	}
	if len(b) > maxBytes {
		return nil, reject(Oversize, "", "%d bytes > limit %d", len(b), maxBytes)
	}
	n := uint64(binary.LittleEndian.Uint32(b[8:]))
	if n+minEnvelope > uint64(maxBytes) {
		return nil, reject(Oversize, "body_length", "declared body of %d bytes > limit %d", n, maxBytes)
	}
	total := int(n) + minEnvelope
	if len(b) < total {
		return nil, reject(Truncated, "", "%d bytes, declared %d", len(b), total)
	}
	if len(b) > total {
		return nil, reject(Malformed, "", "%d bytes after the signature", len(b)-total)
	}
	kind := Kind(b[6])
	if !kind.valid() || b[7] != 0 {
		return nil, reject(Malformed, "kind", "kind %d, reserved %d", b[6], b[7])
	}
	signed := b[:headerSize+int(n)+crcSize]
	if got, want := binary.LittleEndian.Uint32(signed[headerSize+n:]), crc32.Checksum(signed[:headerSize+n], castagnoli); got != want {
		return nil, reject(BadChecksum, "crc", "stored %08x, computed %08x", got, want)
	}

	// Identity, then the signature: nothing else is trusted before it.
	r := &reader{b: b[headerSize : headerSize+n]}
	p := &Payload{Kind: kind}
	p.Fleet = r.str("fleet")
	p.Device = r.str("device")
	p.Seq = r.u64("seq")
	if r.err != nil {
		return nil, r.err
	}
	if !pol.acceptsKind(kind) {
		return nil, reject(WrongKind, "kind", "%v not accepted", kind)
	}
	if p.Fleet != pol.Fleet {
		return nil, reject(UnknownKey, "fleet", "fleet %q, expected %q", p.Fleet, pol.Fleet)
	}
	pub, err := pol.Keys.PublicKey(p.Fleet, p.Device, kind)
	if err != nil {
		if isUnknownKey(err) {
			return nil, reject(UnknownKey, "device", "%v", err)
		}
		return nil, fmt.Errorf("wire: decode: key lookup: %w", err)
	}
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, signed, b[len(signed):]) {
		return nil, reject(BadSignature, "signature", "%v %q", kind, p.Device)
	}
	ident := func(e *RejectError) error {
		e.Device, e.Seq = p.Device, p.Seq
		return e
	}

	r.header(p)
	if r.err != nil {
		return nil, ident(r.err)
	}
	if e := p.validateHeader(); e != nil {
		return nil, ident(e)
	}
	if pol.Seqs != nil {
		last, err := pol.Seqs.LastSeq(p.Fleet, p.Device)
		if err != nil {
			return nil, fmt.Errorf("wire: decode: seq store: %w", err)
		}
		if p.Seq <= last {
			return nil, ident(reject(Replayed, "seq", "seq %d ≤ last accepted %d", p.Seq, last))
		}
	}
	if now := pol.now(); !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
		return nil, ident(reject(Expired, "expires_at", "expired %v, now %v", p.ExpiresAt, now))
	}
	if kind != KindAck {
		if e := pol.checkModel(p); e != nil {
			return nil, ident(e)
		}
	}

	r.sections(p, maxElems)
	if r.err != nil {
		return nil, ident(r.err)
	}
	if e := p.validateContent(); e != nil {
		return nil, ident(e)
	}
	if e := p.validateFinite(); e != nil {
		return nil, ident(e)
	}
	if pol.MaxNorm > 0 {
		for i := range p.Tensors {
			if nrm := p.Tensors[i].Norm(); nrm > pol.MaxNorm {
				return nil, ident(reject(NormTooLarge, fmt.Sprintf("tensors[%d]", i), "%q norm %.4g > %.4g", p.Tensors[i].Name, nrm, pol.MaxNorm))
			}
		}
	}
	return p, nil
}

func (pol *Policy) checkModel(p *Payload) *RejectError {
	switch {
	case pol.Method != "" && p.Method != pol.Method:
		return reject(WrongModel, "method", "%q, expected %q", p.Method, pol.Method)
	case pol.ModelID != "" && p.ModelID != pol.ModelID:
		return reject(WrongModel, "model_id", "%q, expected %q", p.ModelID, pol.ModelID)
	case pol.Dim != 0 && p.Dim != pol.Dim:
		return reject(WrongDimension, "dim", "%d, expected %d", p.Dim, pol.Dim)
	case pol.PreprocessHash != "" && p.PreprocessHash != pol.PreprocessHash:
		return reject(WrongPreprocess, "preprocess_hash", "%q, expected %q", p.PreprocessHash, pol.PreprocessHash)
	}
	return nil
}

// reader walks a verified body. The first failure sticks in err and makes
// every later read return zero, so parsing code reads straight through.
// Counts are checked against the bytes left before anything is allocated.
type reader struct {
	b   []byte
	off int
	err *RejectError
}

func (r *reader) fail(field, format string, args ...any) {
	if r.err == nil {
		r.err = reject(Malformed, field, format, args...)
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.fail(field, "needs %d bytes, %d left", n, r.left())
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8(field string) uint8 {
	if s := r.take(1, field); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u16(field string) uint16 {
	if s := r.take(2, field); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if s := r.take(4, field); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if s := r.take(8, field); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *reader) f64(field string) float64 { return math.Float64frombits(r.u64(field)) }

func (r *reader) str(field string) string { return string(r.take(int(r.u16(field)), field)) }

// count reads a u32 element count and checks that that many elements of at
// least minSize bytes fit in what is left.
func (r *reader) count(field string, minSize int) int {
	c := int(r.u32(field))
	if r.err == nil && c > r.left()/minSize {
		r.fail(field, "count %d cannot fit in %d bytes", c, r.left())
		return 0
	}
	return c
}

func (r *reader) f32s(n int, field string) []float32 {
	s := r.take(4*n, field)
	if len(s) == 0 {
		return nil
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
	}
	return out
}

func (r *reader) time(field string) time.Time {
	v := int64(r.u64(field))
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// header reads the fields after the identity.
func (r *reader) header(p *Payload) {
	p.BaseVersion = r.u64("base_version")
	p.Version = r.u64("version")
	p.DeltaID = r.u64("delta_id")
	flags := r.u16("flags")
	hash := r.take(8, "preprocess_hash")
	if r.err != nil {
		return
	}
	switch {
	case flags&^knownFlags != 0:
		r.fail("flags", "unknown flags %#x", flags)
	case flags&flagPreprocess != 0:
		p.PreprocessHash = hex.EncodeToString(hash)
	case !bytes.Equal(hash, make([]byte, 8)):
		r.fail("preprocess_hash", "hash bytes without the flag")
	}
	p.CreatedAt = r.time("created_at")
	p.ExpiresAt = r.time("expires_at")
	p.Method = r.str("method")
	p.ModelID = r.str("model_id")
	p.Dim = int(r.u32("dim"))
	p.Examples = r.f64("examples")
	if m := r.count("merged", 8); m > 0 {
		p.Merged = make([]uint64, m)
		for i := range p.Merged {
			p.Merged[i] = r.u64("merged")
		}
	}
	if p.Kind == KindAck {
		p.Ack = &Ack{Device: r.str("ack.device"), Seq: r.u64("ack.seq"), Code: RejectCode(r.u8("ack.code"))}
	}
}

// sections reads tensors, classes, samples and labels, refusing tensors
// whose shapes add up to more than maxElems elements.
func (r *reader) sections(p *Payload, maxElems int) {
	elems := 0
	if c := r.count("tensors", 5); c > 0 {
		p.Tensors = make([]Tensor, c)
	}
	for i := range p.Tensors {
		f := fmt.Sprintf("tensors[%d]", i)
		t := &p.Tensors[i]
		t.Name = r.str(f + ".name")
		t.DType = DType(r.u8(f + ".dtype"))
		layout := r.u8(f + ".layout")
		rank := int(r.u8(f + ".rank"))
		if r.err != nil {
			return
		}
		if t.DType != Float32 && t.DType != Int8 {
			r.fail(f+".dtype", "unknown dtype %d", t.DType)
		}
		if layout != layoutDense && layout != layoutSparse {
			r.fail(f+".layout", "unknown layout %d", layout)
		}
		if rank > maxRank {
			r.fail(f+".rank", "rank %d > %d", rank, maxRank)
		}
		if r.err != nil {
			return
		}
		t.Shape = make([]int, rank)
		for d := range t.Shape {
			t.Shape[d] = int(r.u32(f + ".shape"))
		}
		if r.err != nil {
			return
		}
		n, ok := shapeLen(t.Shape, maxElems-elems)
		if !ok {
			if n < 0 {
				r.err = reject(Oversize, f+".shape", "shape %v exceeds the %d elements left of %d", t.Shape, maxElems-elems, maxElems)
			} else {
				r.fail(f+".shape", "bad shape %v", t.Shape)
			}
			return
		}
		elems += n
		vals := n
		if layout == layoutSparse {
			k := r.count(f+".index", 4)
			if r.err == nil && k > n {
				r.fail(f+".index", "%d indices for %d elements", k, n)
			}
			if r.err != nil {
				return
			}
			t.Index = make([]uint32, k)
			raw := r.take(4*k, f+".index")
			for j := range t.Index {
				t.Index[j] = binary.LittleEndian.Uint32(raw[4*j:])
			}
			vals = k
		}
		if t.DType == Int8 {
			t.Scales = r.f32s(rows(t.Shape), f+".scales")
			if q := r.take(vals, f+".q"); len(q) > 0 {
				t.Q = make([]int8, vals)
				for j, v := range q {
					t.Q[j] = int8(v)
				}
			}
		} else {
			t.F32 = r.f32s(vals, f+".f32")
		}
		if r.err != nil {
			return
		}
	}
	if c := r.count("classes", 28); c > 0 {
		p.Classes = make([]learner.ClassStats, c)
	}
	for i := range p.Classes {
		f := fmt.Sprintf("classes[%d]", i)
		c := &p.Classes[i]
		c.Label = learner.ID(r.u64(f + ".label"))
		c.Count = r.f64(f + ".count")
		c.Examples = int64(r.u64(f + ".examples"))
		l := r.count(f+".sum", 8)
		if raw := r.take(8*l, f+".sum"); raw != nil {
			c.Sum = make([]float64, l)
			for j := range c.Sum {
				c.Sum[j] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*j:]))
			}
		}
		if r.err != nil {
			return
		}
	}
	if c := r.count("samples", 17); c > 0 {
		p.Samples = make([]learner.Example, c)
	}
	for i := range p.Samples {
		f := fmt.Sprintf("samples[%d]", i)
		s := &p.Samples[i]
		s.Label = learner.ID(r.u64(f + ".label"))
		s.Weight = math.Float32frombits(r.u32(f + ".weight"))
		s.Source = learner.Source(r.u8(f + ".source"))
		s.Emb = r.f32s(r.count(f+".emb", 4), f+".emb")
		if r.err != nil {
			return
		}
	}
	if c := r.count("labels", 14); c > 0 {
		p.Labels = make([]learner.LabelInfo, c)
	}
	for i := range p.Labels {
		f := fmt.Sprintf("labels[%d]", i)
		l := &p.Labels[i]
		l.ID = learner.ID(r.u64(f + ".id"))
		l.Name = r.str(f + ".name")
		if k := r.count(f+".text", 4); k > 0 {
			l.Text = r.f32s(k, f+".text")
		}
		if r.err != nil {
			return
		}
	}
	if r.err == nil && r.left() != 0 {
		r.fail("body", "%d trailing bytes", r.left())
	}
}
