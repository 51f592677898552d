package wire

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"time"
)

// Envelope layout constants; doc.go describes the format byte by byte.
const (
	// FormatVersion is the envelope layout version this package writes and
	// reads.
	FormatVersion = 1
	headerSize    = 12
	crcSize       = 4
	sigSize       = ed25519.SignatureSize
	minEnvelope   = headerSize + crcSize + sigSize
)

var (
	magic      = [4]byte{'C', 'F', 'S', 'Y'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

const (
	flagPreprocess = 1 << 0
	knownFlags     = flagPreprocess
	layoutDense    = 0
	layoutSparse   = 1
)

// Encode validates p, serialises it and signs it with priv (the device's
// key for a device delta, the hub's for hub kinds). Equal payloads encode to
// equal bytes: Ed25519 signatures are deterministic.
func Encode(p *Payload, priv ed25519.PrivateKey) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("wire: encode: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("wire: encode: %w", err)
	}
	out := make([]byte, headerSize, minEnvelope+p.sizeHint())
	out = appendBody(out, p)
	if len(out)-headerSize > math.MaxUint32-minEnvelope {
		return nil, fmt.Errorf("wire: encode: body of %d bytes too large", len(out)-headerSize)
	}
	return seal(out, p.Kind, priv), nil
}

// seal fills the header of out (header space + body) and appends the
// checksum and the signature.
func seal(out []byte, kind Kind, priv ed25519.PrivateKey) []byte {
	copy(out, magic[:])
	binary.LittleEndian.PutUint16(out[4:], FormatVersion)
	out[6] = byte(kind)
	out[7] = 0
	binary.LittleEndian.PutUint32(out[8:], uint32(len(out)-headerSize))
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
	return append(out, ed25519.Sign(priv, out)...)
}

func (p *Payload) sizeHint() int {
	n := 256 + 8*len(p.Merged)
	for i := range p.Tensors {
		t := &p.Tensors[i]
		n += 64 + len(t.Name) + 4*len(t.Index) + 4*len(t.F32) + len(t.Q) + 4*len(t.Scales)
	}
	for _, c := range p.Classes {
		n += 28 + 8*len(c.Sum)
	}
	for _, s := range p.Samples {
		n += 17 + 4*len(s.Emb)
	}
	for _, l := range p.Labels {
		n += 14 + len(l.Name) + 4*len(l.Text)
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendF32(b []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}
func appendF64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func appendF32s(b []byte, vs []float32) []byte {
	for _, v := range vs {
		b = appendF32(b, v)
	}
	return b
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// appendBody appends the body without validating p (fixtures use it to
// build signed payloads the decoder must refuse).
func appendBody(b []byte, p *Payload) []byte {
	b = appendHeaderFields(b, p)
	return appendSections(b, p)
}

func appendHeaderFields(b []byte, p *Payload) []byte {
	b = appendStr(b, p.Fleet)
	b = appendStr(b, p.Device)
	b = appendU64(b, p.Seq)
	b = appendU64(b, p.BaseVersion)
	b = appendU64(b, p.Version)
	b = appendU64(b, p.DeltaID)
	var flags uint16
	var hash [8]byte
	if p.PreprocessHash != "" {
		flags |= flagPreprocess
		_, _ = hex.Decode(hash[:], []byte(p.PreprocessHash))
	}
	b = binary.LittleEndian.AppendUint16(b, flags)
	b = append(b, hash[:]...)
	b = appendU64(b, uint64(unixNano(p.CreatedAt)))
	b = appendU64(b, uint64(unixNano(p.ExpiresAt)))
	b = appendStr(b, p.Method)
	b = appendStr(b, p.ModelID)
	b = appendU32(b, uint32(p.Dim))
	b = appendF64(b, p.Examples)
	b = appendU32(b, uint32(len(p.Merged)))
	for _, m := range p.Merged {
		b = appendU64(b, m)
	}
	if p.Kind == KindAck && p.Ack != nil {
		b = appendStr(b, p.Ack.Device)
		b = appendU64(b, p.Ack.Seq)
		b = append(b, byte(p.Ack.Code))
	}
	return b
}

func appendSections(b []byte, p *Payload) []byte {
	b = appendU32(b, uint32(len(p.Tensors)))
	for i := range p.Tensors {
		t := &p.Tensors[i]
		b = appendStr(b, t.Name)
		b = append(b, byte(t.DType))
		if t.Sparse() {
			b = append(b, layoutSparse)
		} else {
			b = append(b, layoutDense)
		}
		b = append(b, byte(len(t.Shape)))
		for _, d := range t.Shape {
			b = appendU32(b, uint32(d))
		}
		if t.Sparse() {
			b = appendU32(b, uint32(len(t.Index)))
			for _, ix := range t.Index {
				b = appendU32(b, ix)
			}
		}
		if t.DType == Int8 {
			b = appendF32s(b, t.Scales)
			for _, q := range t.Q {
				b = append(b, byte(q))
			}
		} else {
			b = appendF32s(b, t.F32)
		}
	}
	b = appendU32(b, uint32(len(p.Classes)))
	for _, c := range p.Classes {
		b = appendU64(b, uint64(c.Label))
		b = appendF64(b, c.Count)
		b = appendU64(b, uint64(c.Examples))
		b = appendU32(b, uint32(len(c.Sum)))
		for _, v := range c.Sum {
			b = appendF64(b, v)
		}
	}
	b = appendU32(b, uint32(len(p.Samples)))
	for _, s := range p.Samples {
		b = appendU64(b, uint64(s.Label))
		b = appendF32(b, s.Weight)
		b = append(b, byte(s.Source))
		b = appendU32(b, uint32(len(s.Emb)))
		b = appendF32s(b, s.Emb)
	}
	b = appendU32(b, uint32(len(p.Labels)))
	for _, l := range p.Labels {
		b = appendU64(b, uint64(l.ID))
		b = appendStr(b, l.Name)
		b = appendU32(b, uint32(len(l.Text)))
		b = appendF32s(b, l.Text)
	}
	return b
}
