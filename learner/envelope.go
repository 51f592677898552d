package learner

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// envelopeMagic starts every snapshot so a checkpoint of something else is
// refused before any field is trusted.
var envelopeMagic = [4]byte{'C', 'F', 'L', 'N'}

// EnvelopeFormat is the layout version of Envelope's binary form.
const EnvelopeFormat = 1

// maxHeader bounds the JSON header so a corrupt length cannot make Decode
// allocate gigabytes.
const maxHeader = 16 << 20

// Tensor is a named float32 array with a shape (row-major). It is the unit
// of Delta and of snapshots.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Tensor64 is Tensor in float64, for sufficient statistics that must add up
// exactly across devices.
type Tensor64 struct {
	Name  string
	Shape []int
	Data  []float64
}

// Envelope is the self-describing container of every snapshot: what made it
// (Kind, Method, Dim, Version), method-specific JSON Meta, and tensors.
// Layout: magic "CFLN", uint16 format, uint16 zero, uint32 header length,
// JSON header, then the tensors' little-endian data in header order.
// Integrity (checksums) is the checkpoint file's job, not the envelope's.
type Envelope struct {
	Kind      string // "method" or "labels"
	Method    string
	Dim       int
	Version   int // the method's own state layout version
	Meta      json.RawMessage
	Tensors   []Tensor
	Tensors64 []Tensor64
}

type envHeader struct {
	Kind    string          `json:"kind"`
	Method  string          `json:"method,omitempty"`
	Dim     int             `json:"dim"`
	Version int             `json:"version"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	Blobs   []blobHeader    `json:"blobs"`
}

type blobHeader struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Shape []int  `json:"shape"`
}

func shapeLen(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return 0, fmt.Errorf("%w: bad shape %v", ErrCorrupt, shape)
		}
		n *= d
	}
	return n, nil
}

// MarshalBinary encodes the envelope.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	h := envHeader{Kind: e.Kind, Method: e.Method, Dim: e.Dim, Version: e.Version, Meta: e.Meta}
	size := 0
	for _, t := range e.Tensors {
		n, err := shapeLen(t.Shape)
		if err != nil || n != len(t.Data) {
			return nil, fmt.Errorf("learner: tensor %q: shape %v does not hold %d values", t.Name, t.Shape, len(t.Data))
		}
		h.Blobs = append(h.Blobs, blobHeader{t.Name, "f32", t.Shape})
		size += 4 * n
	}
	for _, t := range e.Tensors64 {
		n, err := shapeLen(t.Shape)
		if err != nil || n != len(t.Data) {
			return nil, fmt.Errorf("learner: tensor %q: shape %v does not hold %d values", t.Name, t.Shape, len(t.Data))
		}
		h.Blobs = append(h.Blobs, blobHeader{t.Name, "f64", t.Shape})
		size += 8 * n
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("learner: encode header: %w", err)
	}
	out := make([]byte, 0, 12+len(hj)+size)
	out = append(out, envelopeMagic[:]...)
	out = binary.LittleEndian.AppendUint16(out, EnvelopeFormat)
	out = binary.LittleEndian.AppendUint16(out, 0)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hj)))
	out = append(out, hj...)
	for _, t := range e.Tensors {
		for _, v := range t.Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	for _, t := range e.Tensors64 {
		for _, v := range t.Data {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	}
	return out, nil
}

// DecodeEnvelope parses an envelope, checking every length against the
// buffer so truncated or corrupt input returns ErrCorrupt, never panics.
func DecodeEnvelope(b []byte) (*Envelope, error) {
	if len(b) < 12 || !bytes.Equal(b[:4], envelopeMagic[:]) {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	if f := binary.LittleEndian.Uint16(b[4:]); f != EnvelopeFormat {
		return nil, fmt.Errorf("%w: envelope format %d, want %d", ErrIncompatible, f, EnvelopeFormat)
	}
	hl := binary.LittleEndian.Uint32(b[8:])
	if hl > maxHeader || int(hl) > len(b)-12 {
		return nil, fmt.Errorf("%w: header length %d", ErrCorrupt, hl)
	}
	var h envHeader
	if err := json.Unmarshal(b[12:12+hl], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	e := &Envelope{Kind: h.Kind, Method: h.Method, Dim: h.Dim, Version: h.Version, Meta: h.Meta}
	rest := b[12+hl:]
	for _, bh := range h.Blobs {
		n, err := shapeLen(bh.Shape)
		if err != nil {
			return nil, err
		}
		switch bh.DType {
		case "f32":
			if len(rest) < 4*n {
				return nil, fmt.Errorf("%w: tensor %q truncated", ErrCorrupt, bh.Name)
			}
			d := make([]float32, n)
			for i := range d {
				d[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
			}
			rest = rest[4*n:]
			e.Tensors = append(e.Tensors, Tensor{bh.Name, bh.Shape, d})
		case "f64":
			if len(rest) < 8*n {
				return nil, fmt.Errorf("%w: tensor %q truncated", ErrCorrupt, bh.Name)
			}
			d := make([]float64, n)
			for i := range d {
				d[i] = math.Float64frombits(binary.LittleEndian.Uint64(rest[8*i:]))
			}
			rest = rest[8*n:]
			e.Tensors64 = append(e.Tensors64, Tensor64{bh.Name, bh.Shape, d})
		default:
			return nil, fmt.Errorf("%w: tensor %q has dtype %q", ErrCorrupt, bh.Name, bh.DType)
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	return e, nil
}

// F32 returns the float32 tensor called name.
func (e *Envelope) F32(name string) (Tensor, bool) {
	for _, t := range e.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// F64 returns the float64 tensor called name.
func (e *Envelope) F64(name string) (Tensor64, bool) {
	for _, t := range e.Tensors64 {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor64{}, false
}

// check refuses an envelope made by another kind, method or dimension.
func (e *Envelope) check(kind, method string, dim, version int) error {
	if e.Kind != kind || e.Method != method || e.Dim != dim {
		return fmt.Errorf("%w: snapshot is %s/%s dim %d, want %s/%s dim %d",
			ErrIncompatible, e.Kind, e.Method, e.Dim, kind, method, dim)
	}
	if e.Version != version {
		return fmt.Errorf("%w: %s state version %d, want %d", ErrIncompatible, method, e.Version, version)
	}
	return nil
}
