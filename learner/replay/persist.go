package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
	"github.com/clipfleet/clipfleet/learner"
)

// ErrCorrupt is returned by Load for a truncated or damaged file.
var ErrCorrupt = errors.New("replay: corrupt memory file")

var (
	magic      = [4]byte{'C', 'F', 'R', 'P'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

const fileVersion = 1

// MarshalBinary encodes the memory, including the RNG state so a reloaded
// memory makes the same choices the original would have. Layout: magic,
// version u16, dim u32, capacity u32, rng state, seen counts, slots, and a
// trailing CRC32C of everything before it.
func (m *Memory) MarshalBinary() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs, err := m.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("replay: rng state: %w", err)
	}
	n := len(m.labels)
	b := make([]byte, 0, 64+len(rs)+16*len(m.seen)+n*int(ItemBytes(m.dim)))
	b = append(b, magic[:]...)
	b = binary.LittleEndian.AppendUint16(b, fileVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.dim))
	b = binary.LittleEndian.AppendUint32(b, uint32(m.capacity))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rs)))
	b = append(b, rs...)
	ids := sortedClasses(m.seen)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ids)))
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint64(b, uint64(id))
		b = binary.LittleEndian.AppendUint64(b, uint64(m.seen[id]))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for i := 0; i < n; i++ {
		b = binary.LittleEndian.AppendUint64(b, uint64(m.labels[i]))
		b = append(b, byte(m.sources[i]))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.weights[i]))
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(m.scales[i]))
		for _, q := range m.q[i*m.dim : (i+1)*m.dim] {
			b = append(b, byte(q))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// Save writes the memory to path crash-safely (temp file, fsync, rename,
// fsync dir): after a crash the file holds the previous or the new memory.
func (m *Memory) Save(path string) error {
	b, err := m.MarshalBinary()
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}

// Load reads a memory saved by Save. The file's dimension must match; if it
// holds more than cfg.MaxBytes allows, the largest classes are trimmed. A
// missing file returns an error wrapping os.ErrNotExist; a damaged one
// ErrCorrupt.
func Load(path string, cfg Config, dim int) (*Memory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return Decode(b, cfg, dim)
}

// Decode is Load from bytes.
func Decode(b []byte, cfg Config, dim int) (*Memory, error) {
	m, err := New(cfg, dim)
	if err != nil {
		return nil, err
	}
	if len(b) < 4+2+4 || !bytes.Equal(b[:4], magic[:]) {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	r := &reader{b: body[4:]}
	if v := r.u16(); v != fileVersion {
		return nil, fmt.Errorf("%w: version %d", ErrCorrupt, v)
	}
	if d := int(r.u32()); d != dim {
		return nil, fmt.Errorf("replay: %w: file dim %d, want %d", learner.ErrIncompatible, d, dim)
	}
	_ = r.u32() // capacity at save time; the current budget decides
	rs := r.bytes(int(r.u32()))
	if r.err == nil {
		if err := m.pcg.UnmarshalBinary(rs); err != nil {
			return nil, fmt.Errorf("%w: rng state: %v", ErrCorrupt, err)
		}
	}
	for n := r.u32(); r.err == nil && n > 0; n-- {
		id := learner.ID(r.u64())
		m.seen[id] = int64(r.u64())
	}
	n := int(r.u32())
	if r.err == nil && n > len(r.b)/int(ItemBytes(dim)) {
		return nil, fmt.Errorf("%w: %d slots do not fit the file", ErrCorrupt, n)
	}
	m.q = make([]int8, 0, max(n, m.capacity)*dim)
	for i := 0; i < n && r.err == nil; i++ {
		id := learner.ID(r.u64())
		src := learner.Source(r.u8())
		w := math.Float32frombits(r.u32())
		s := math.Float32frombits(r.u32())
		for _, q := range r.bytes(dim) {
			m.q = append(m.q, int8(q))
		}
		m.labels, m.sources, m.weights, m.scales = append(m.labels, id), append(m.sources, src), append(m.weights, w), append(m.scales, s)
		m.stored[id]++
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	m.shrink()
	return m, nil
}

// reader decodes little-endian fields, remembering the first short read.
type reader struct {
	b   []byte
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		if r.err == nil {
			r.err = io.ErrUnexpectedEOF
		}
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}
