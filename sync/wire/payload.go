package wire

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/clipfleet/clipfleet/learner"
)

// Kind says what a payload carries and therefore whose key signs it.
type Kind uint8

const (
	// KindDeviceDelta: what one device learned since a base version,
	// signed by that device.
	KindDeviceDelta Kind = 1
	// KindGlobalAdapter: the merged fleet delta, signed by the hub.
	KindGlobalAdapter Kind = 2
	// KindAck: the hub's application-level receipt of one device delta,
	// signed by the hub.
	KindAck Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindDeviceDelta:
		return "device-delta"
	case KindGlobalAdapter:
		return "global-adapter"
	case KindAck:
		return "ack"
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// FromHub reports whether payloads of this kind are signed by the hub.
func (k Kind) FromHub() bool { return k == KindGlobalAdapter || k == KindAck }

func (k Kind) valid() bool { return k >= KindDeviceDelta && k <= KindAck }

// DType is a tensor's value encoding.
type DType uint8

const (
	// Float32: IEEE 754 single precision, lossless.
	Float32 DType = 1
	// Int8: symmetric int8 in [-127, 127] with one float32 scale per row;
	// value = Q × scale.
	Int8 DType = 2
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int8:
		return "int8"
	}
	return fmt.Sprintf("dtype-%d", uint8(d))
}

// Tensor is a named parameter change, dense or top-k sparse, in float32 or
// int8. A tensor is sparse when Index is non-nil (even if empty).
type Tensor struct {
	Name  string
	Shape []int // row-major; every dimension ≥ 1
	DType DType
	// Index lists the flat positions of the values of a sparse tensor,
	// strictly increasing; nil for a dense tensor.
	Index  []uint32
	F32    []float32 // Float32 values (Len() of them dense, len(Index) sparse)
	Q      []int8    // Int8 values, in [-127, 127]
	Scales []float32 // Int8: one per row (Rows()), finite and ≥ 0
}

// Sparse reports whether the tensor lists only some positions.
func (t *Tensor) Sparse() bool { return t.Index != nil }

// Len is the number of elements of the dense tensor (the product of Shape;
// 0 for an invalid shape).
func (t *Tensor) Len() int {
	n, ok := shapeLen(t.Shape, math.MaxInt32)
	if !ok {
		return 0
	}
	return n
}

// Rows is the number of int8 scales: the first dimension of a tensor of
// rank ≥ 2, else 1.
func (t *Tensor) Rows() int { return rows(t.Shape) }

// Cols is Len() / Rows().
func (t *Tensor) Cols() int {
	r := t.Rows()
	if r == 0 {
		return 0
	}
	return t.Len() / r
}

func rows(shape []int) int {
	if len(shape) >= 2 {
		return shape[0]
	}
	return 1
}

// values is how many values are stored.
func (t *Tensor) values() int {
	if t.Sparse() {
		return len(t.Index)
	}
	return t.Len()
}

// at returns stored value i (dequantised) and its flat position.
func (t *Tensor) at(i int, cols int) (pos int, v float32) {
	pos = i
	if t.Sparse() {
		pos = int(t.Index[i])
	}
	if t.DType == Int8 {
		return pos, float32(t.Q[i]) * t.Scales[pos/cols]
	}
	return pos, t.F32[i]
}

// Dense returns the dequantised dense values (Len() of them, zeros where a
// sparse tensor has none).
func (t *Tensor) Dense() []float32 {
	out := make([]float32, t.Len())
	cols := max(t.Cols(), 1)
	for i := range t.values() {
		pos, v := t.at(i, cols)
		out[pos] = v
	}
	return out
}

// Norm is the L2 norm of the dequantised values, in float64.
func (t *Tensor) Norm() float64 {
	cols := max(t.Cols(), 1)
	var s float64
	for i := range t.values() {
		_, v := t.at(i, cols)
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// Ack is the body of a KindAck payload: the hub's verdict on one delta.
type Ack struct {
	Device string     // the device whose delta this acknowledges
	Seq    uint64     // that delta's sequence number
	Code   RejectCode // Accepted, or why the hub refused it for good
}

// Payload is one decoded (or to-be-encoded) sync message. Fields map 1:1 to
// the format in doc.go.
type Payload struct {
	Kind  Kind
	Fleet string
	// Device is the sender: the device id of a KindDeviceDelta, the hub's
	// id for hub kinds. The Verifier finds the public key by it.
	Device string
	// Seq is strictly increasing per (Fleet, Device); ≥ 1.
	Seq         uint64
	BaseVersion uint64
	Version     uint64 // 0 for a device delta; > BaseVersion for a global adapter
	DeltaID     uint64 // learner.Delta.ID
	Merged      []uint64
	Method      string
	ModelID     string
	Dim         int
	// PreprocessHash is accel.ModelInfo.PreprocessHash: 16 lowercase hex
	// digits, or "" if unknown.
	PreprocessHash string
	Examples       float64 // example weight, the FedAvg weight (learner.Delta.Examples)
	CreatedAt      time.Time
	ExpiresAt      time.Time // zero: never
	Ack            *Ack      // KindAck only

	Tensors []Tensor
	Classes []learner.ClassStats
	Samples []learner.Example
	Labels  []learner.LabelInfo
}

// ValidID reports whether s may name a fleet, device or hub: 1–64 bytes of
// [A-Za-z0-9._-], so it is safe in MQTT topics and file names.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validHash(s string) bool {
	if s == "" {
		return true
	}
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Unix-nanosecond range of time.Time.UnixNano.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func encodableTime(t time.Time) bool {
	return !t.Before(minTime) && !t.After(maxTime) && t.UnixNano() != 0
}

const (
	maxRank   = 8
	maxString = 1<<16 - 1
)

// shapeLen multiplies the dimensions, refusing zero or negative ones and
// products above limit (reported as ok=false with n = -1 for overflow).
func shapeLen(shape []int, limit int) (n int, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 1 || d > math.MaxUint32 {
			return 0, false
		}
		if n > limit/d {
			return -1, false
		}
		n *= d
	}
	return n, true
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }
func finite64(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validate enforces the invariants shared by Encode and Decode, so that the
// encoder never writes what the decoder would refuse and every accepted
// payload re-encodes to the same bytes. It reports the first violation:
// structure first (Malformed, WrongDimension), then NonFinite over every
// float, so a NaN is never fed into a norm.
func (p *Payload) validate() *RejectError {
	if err := p.validateHeader(); err != nil {
		return err
	}
	if err := p.validateContent(); err != nil {
		return err
	}
	return p.validateFinite()
}

func (p *Payload) validateHeader() *RejectError {
	switch {
	case !p.Kind.valid():
		return reject(Malformed, "kind", "unknown kind %d", p.Kind)
	case !ValidID(p.Fleet):
		return reject(Malformed, "fleet", "invalid id %q", p.Fleet)
	case !ValidID(p.Device):
		return reject(Malformed, "device", "invalid id %q", p.Device)
	case p.Seq == 0:
		return reject(Malformed, "seq", "sequence numbers start at 1")
	case !validHash(p.PreprocessHash):
		return reject(Malformed, "preprocess_hash", "%q is not 16 lowercase hex digits", p.PreprocessHash)
	case !encodableTime(p.CreatedAt):
		return reject(Malformed, "created_at", "%v not encodable", p.CreatedAt)
	case !p.ExpiresAt.IsZero() && !encodableTime(p.ExpiresAt):
		return reject(Malformed, "expires_at", "%v not encodable", p.ExpiresAt)
	case len(p.Method) > 255 || !utf8.ValidString(p.Method):
		return reject(Malformed, "method", "invalid method name")
	case len(p.ModelID) > 1024 || !utf8.ValidString(p.ModelID):
		return reject(Malformed, "model_id", "invalid model id")
	case p.Dim < 0 || p.Dim > math.MaxInt32:
		return reject(Malformed, "dim", "dimension %d out of range", p.Dim)
	case !finite64(p.Examples):
		return reject(NonFinite, "examples", "%v", p.Examples)
	case p.Examples < 0:
		return reject(Malformed, "examples", "negative example weight %v", p.Examples)
	}
	switch p.Kind {
	case KindDeviceDelta:
		if p.Version != 0 {
			return reject(Malformed, "version", "a device delta has version 0, got %d", p.Version)
		}
		if len(p.Merged) > 0 {
			return reject(Malformed, "merged", "a device delta merges nothing")
		}
	case KindGlobalAdapter:
		if p.Version <= p.BaseVersion {
			return reject(Malformed, "version", "version %d must exceed base %d", p.Version, p.BaseVersion)
		}
	case KindAck:
		if len(p.Merged) > 0 || p.Examples != 0 {
			return reject(Malformed, "ack", "an ack carries no learned content")
		}
	}
	if (p.Kind == KindAck) != (p.Ack != nil) {
		return reject(Malformed, "ack", "ack body present iff kind is ack")
	}
	if a := p.Ack; a != nil {
		switch {
		case !ValidID(a.Device):
			return reject(Malformed, "ack.device", "invalid id %q", a.Device)
		case a.Seq == 0:
			return reject(Malformed, "ack.seq", "sequence numbers start at 1")
		case !a.Code.Valid():
			return reject(Malformed, "ack.code", "unknown code %d", a.Code)
		}
	}
	return nil
}

func (p *Payload) validateContent() *RejectError {
	if p.Kind == KindAck && len(p.Tensors)+len(p.Classes)+len(p.Samples)+len(p.Labels) > 0 {
		return reject(Malformed, "ack", "an ack carries no learned content")
	}
	names := make(map[string]bool, len(p.Tensors))
	for i := range p.Tensors {
		t := &p.Tensors[i]
		f := fmt.Sprintf("tensors[%d]", i)
		if t.Name == "" || len(t.Name) > maxString || !utf8.ValidString(t.Name) {
			return reject(Malformed, f+".name", "invalid tensor name")
		}
		if names[t.Name] {
			return reject(Malformed, f+".name", "duplicate tensor %q", t.Name)
		}
		names[t.Name] = true
		if len(t.Shape) > maxRank {
			return reject(Malformed, f+".shape", "rank %d > %d", len(t.Shape), maxRank)
		}
		n, ok := shapeLen(t.Shape, math.MaxInt32)
		if !ok {
			return reject(Malformed, f+".shape", "bad shape %v", t.Shape)
		}
		vals := n
		if t.Sparse() {
			vals = len(t.Index)
			if vals > n {
				return reject(Malformed, f+".index", "%d indices for %d elements", vals, n)
			}
			for j, ix := range t.Index {
				if int(ix) >= n || j > 0 && ix <= t.Index[j-1] {
					return reject(Malformed, fmt.Sprintf("%s.index[%d]", f, j), "index %d not increasing or ≥ %d", ix, n)
				}
			}
		}
		switch t.DType {
		case Float32:
			if len(t.F32) != vals || len(t.Q) != 0 || len(t.Scales) != 0 {
				return reject(Malformed, f+".data", "float32 tensor needs %d F32 values and no Q/Scales", vals)
			}
		case Int8:
			if len(t.Q) != vals || len(t.Scales) != rows(t.Shape) || len(t.F32) != 0 {
				return reject(Malformed, f+".data", "int8 tensor needs %d Q values, %d scales, no F32", vals, rows(t.Shape))
			}
			for j, q := range t.Q {
				if q == math.MinInt8 {
					return reject(Malformed, fmt.Sprintf("%s.q[%d]", f, j), "-128 is outside symmetric int8")
				}
			}
			for j, s := range t.Scales {
				if s < 0 {
					return reject(Malformed, fmt.Sprintf("%s.scales[%d]", f, j), "negative scale %v", s)
				}
			}
		default:
			return reject(Malformed, f+".dtype", "unknown dtype %d", t.DType)
		}
	}
	seen := map[learner.ID]bool{}
	for i, c := range p.Classes {
		f := fmt.Sprintf("classes[%d]", i)
		switch {
		case c.Label == 0 || seen[c.Label]:
			return reject(Malformed, f+".label", "zero or duplicate label %v", c.Label)
		case c.Count < 0 || c.Examples < 0:
			return reject(Malformed, f+".count", "negative count")
		case len(c.Sum) != p.Dim:
			return reject(WrongDimension, f+".sum", "length %d, dim %d", len(c.Sum), p.Dim)
		}
		seen[c.Label] = true
	}
	for i, s := range p.Samples {
		f := fmt.Sprintf("samples[%d]", i)
		switch {
		case s.Label == 0:
			return reject(Malformed, f+".label", "zero label")
		case s.Weight < 0:
			return reject(Malformed, f+".weight", "negative weight")
		case s.Source > learner.Pseudo:
			return reject(Malformed, f+".source", "unknown source %d", s.Source)
		case len(s.Emb) != p.Dim:
			return reject(WrongDimension, f+".emb", "length %d, dim %d", len(s.Emb), p.Dim)
		}
	}
	clear(seen)
	for i, l := range p.Labels {
		f := fmt.Sprintf("labels[%d]", i)
		switch {
		case l.ID == 0 || seen[l.ID]:
			return reject(Malformed, f+".id", "zero or duplicate id %v", l.ID)
		case len(l.Name) > maxString || !utf8.ValidString(l.Name):
			return reject(Malformed, f+".name", "invalid name")
		case len(l.Text) != 0 && len(l.Text) != p.Dim:
			return reject(WrongDimension, f+".text", "length %d, dim %d", len(l.Text), p.Dim)
		}
		seen[l.ID] = true
	}
	return nil
}

func (p *Payload) validateFinite() *RejectError {
	for i := range p.Tensors {
		t := &p.Tensors[i]
		for j, v := range t.F32 {
			if !finite32(v) {
				return reject(NonFinite, fmt.Sprintf("tensors[%d].f32[%d]", i, j), "%v", v)
			}
		}
		for j, v := range t.Scales {
			if !finite32(v) {
				return reject(NonFinite, fmt.Sprintf("tensors[%d].scales[%d]", i, j), "%v", v)
			}
		}
	}
	for i, c := range p.Classes {
		if !finite64(c.Count) {
			return reject(NonFinite, fmt.Sprintf("classes[%d].count", i), "%v", c.Count)
		}
		for j, v := range c.Sum {
			if !finite64(v) {
				return reject(NonFinite, fmt.Sprintf("classes[%d].sum[%d]", i, j), "%v", v)
			}
		}
	}
	for i, s := range p.Samples {
		if !finite32(s.Weight) {
			return reject(NonFinite, fmt.Sprintf("samples[%d].weight", i), "%v", s.Weight)
		}
		for j, v := range s.Emb {
			if !finite32(v) {
				return reject(NonFinite, fmt.Sprintf("samples[%d].emb[%d]", i, j), "%v", v)
			}
		}
	}
	for i, l := range p.Labels {
		for j, v := range l.Text {
			if !finite32(v) {
				return reject(NonFinite, fmt.Sprintf("labels[%d].text[%d]", i, j), "%v", v)
			}
		}
	}
	return nil
}
