package labels

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"unicode/utf8"
)

// The binary container shared by the cache and exported embeddings files;
// the layout is in the package documentation.
const (
	binMagic   = "CFLBLEMB"
	binVersion = 1

	kindCache      = 1
	kindEmbeddings = 2

	maxDim       = 1 << 16
	maxModelID   = 256
	keyLen       = 32
	binHeaderLen = 8 + 2 + 1 + 1 + 4 // magic, version, kind, zero, dim
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// binEntry is one label in the container; key is zero in embeddings files.
type binEntry struct {
	name string
	key  [keyLen]byte
	vec  []float32
}

func encodeBinary(kind uint8, modelID string, dim int, entries []binEntry) []byte {
	n := binHeaderLen + 2 + len(modelID) + 4 + 4
	for _, e := range entries {
		n += 2 + len(e.name) + 4*dim
		if kind == kindCache {
			n += keyLen
		}
	}
	b := make([]byte, 0, n)
	b = append(b, binMagic...)
	b = binary.LittleEndian.AppendUint16(b, binVersion)
	b = append(b, kind, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(dim))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(modelID)))
	b = append(b, modelID...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(entries)))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(e.name)))
		b = append(b, e.name...)
		if kind == kindCache {
			b = append(b, e.key[:]...)
		}
		for _, v := range e.vec {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32Checksum(b))
}

// isBinary reports whether data starts like the container.
func isBinary(data []byte) bool { return bytes.HasPrefix(data, []byte(binMagic)) }

// decodeBinary parses a container of the given kind. Every length is
// checked against the bytes left before anything is allocated, so a
// hostile or truncated file costs no more memory than its own size.
func decodeBinary(data []byte, kind uint8) (modelID string, dim int, entries []binEntry, err error) {
	bad := func(format string, args ...any) (string, int, []binEntry, error) {
		return "", 0, nil, errorf(ErrInvalidEmbeddings, format, args...)
	}
	if len(data) < binHeaderLen+2+4+4 || !isBinary(data) {
		return bad("not a clipfleet label embeddings file (too short or wrong magic)")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if got := crc32Checksum(body); got != sum {
		return bad("checksum mismatch (stored %08x, computed %08x): the file is damaged", sum, got)
	}
	r := reader{b: body[len(binMagic):]}
	if v := r.u16(); v != binVersion {
		return bad("version %d is not supported (want %d)", v, binVersion)
	}
	if k := r.u8(); k != kind {
		return bad("file kind %d, want %d (%s)", k, kind, map[uint8]string{kindCache: "a cache", kindEmbeddings: "an embeddings file"}[kind])
	}
	r.u8()
	dim = int(r.u32())
	if dim < 1 || dim > maxDim {
		return bad("dimension %d outside [1,%d]", dim, maxDim)
	}
	idLen := int(r.u16())
	if idLen > maxModelID {
		return bad("model id of %d bytes (max %d)", idLen, maxModelID)
	}
	modelID = string(r.bytes(idLen))
	count := int(r.u32())
	if r.err {
		return bad("truncated header")
	}
	perEntry := 2 + 4*dim
	if kind == kindCache {
		perEntry += keyLen
	}
	if count > MaxLabels || count*perEntry > len(r.b) {
		return bad("%d entries of dimension %d cannot fit in %d bytes", count, dim, len(r.b))
	}
	entries = make([]binEntry, count)
	vals := make([]float32, count*dim)
	for i := range entries {
		e := &entries[i]
		e.name = string(r.bytes(int(r.u16())))
		if kind == kindCache {
			copy(e.key[:], r.bytes(keyLen))
		}
		e.vec = vals[i*dim : (i+1)*dim : (i+1)*dim]
		raw := r.bytes(4 * dim)
		if r.err {
			return bad("entry %d: truncated", i)
		}
		if !utf8.ValidString(e.name) {
			return bad("entry %d: name is not valid UTF-8", i)
		}
		for j := range e.vec {
			e.vec[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
	}
	if len(r.b) != 0 {
		return bad("%d unexpected bytes after the last entry", len(r.b))
	}
	return modelID, dim, entries, nil
}

// reader consumes little-endian fields; past the end it returns zeros and
// sets err, so a parser checks once per record.
type reader struct {
	b   []byte
	err bool
}

func (r *reader) bytes(n int) []byte {
	if r.err || n > len(r.b) {
		r.err = true
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

func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
