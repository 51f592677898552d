package checkpoint

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// EncodeSections packs named blobs (e.g. "labels", "method", "trainer",
// "replay") into one payload, so one checkpoint captures them together and
// they can never come from different moments. Names are sorted, so equal
// inputs encode to equal bytes.
func EncodeSections(sections map[string][]byte) []byte {
	names := make([]string, 0, len(sections))
	size := 4
	for n, b := range sections {
		names = append(names, n)
		size += 2 + len(n) + 8 + len(b)
	}
	sort.Strings(names)
	out := make([]byte, 0, size)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(names)))
	for _, n := range names {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(n)))
		out = append(out, n...)
		out = binary.LittleEndian.AppendUint64(out, uint64(len(sections[n])))
		out = append(out, sections[n]...)
	}
	return out
}

// DecodeSections is the inverse of EncodeSections. The returned slices
// alias b.
func DecodeSections(b []byte) (map[string][]byte, error) {
	bad := func(what string) (map[string][]byte, error) {
		return nil, fmt.Errorf("%w: sections: %s", ErrCorrupt, what)
	}
	if len(b) < 4 {
		return bad("short")
	}
	n := binary.LittleEndian.Uint32(b)
	b = b[4:]
	out := make(map[string][]byte, min(n, 64))
	for i := uint32(0); i < n; i++ {
		if len(b) < 2 {
			return bad("short name length")
		}
		nl := int(binary.LittleEndian.Uint16(b))
		b = b[2:]
		if len(b) < nl+8 {
			return bad("short name")
		}
		name := string(b[:nl])
		dl := binary.LittleEndian.Uint64(b[nl:])
		b = b[nl+8:]
		if dl > uint64(len(b)) {
			return bad("short data")
		}
		if _, dup := out[name]; dup {
			return bad("duplicate " + name)
		}
		out[name] = b[:dl:dl]
		b = b[dl:]
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return out, nil
}
