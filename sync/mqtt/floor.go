package mqtt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
)

// ErrCorruptFloor: the floor file exists but does not verify.
var ErrCorruptFloor = errors.New("mqtt: corrupt version floor file")

const floorFile = "global.floor"

var (
	floorMagic = [4]byte{'C', 'F', 'F', 'L'}
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
)

// Floor is the persisted version of the last global adapter this device
// committed: a global adapter is applied only if strictly newer, so a
// replayed or rolled-back adapter can never be installed, not even after a
// restart. The file is 16 bytes ("CFFL", version, CRC-32C), replaced
// crash-safely.
type Floor struct {
	path string
	mu   sync.Mutex
	v    uint64
}

// OpenFloor loads the floor in dir (creating dir). A missing file is floor
// 0. A corrupt file returns the Floor at 0 together with an error wrapping
// ErrCorruptFloor: the caller decides (Device raises it to the applier's
// active version and logs).
func OpenFloor(dir string) (*Floor, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mqtt: state dir: %w", err)
	}
	if _, err := atomicfile.CleanTemp(dir); err != nil {
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	f := &Floor{path: filepath.Join(dir, floorFile)}
	b, err := os.ReadFile(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("mqtt: %w", err)
	}
	v, err := decodeFloor(b)
	if err != nil {
		return f, err
	}
	f.v = v
	return f, nil
}

func encodeFloor(v uint64) []byte {
	b := make([]byte, 0, 16)
	b = append(b, floorMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, v)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

func decodeFloor(b []byte) (uint64, error) {
	if len(b) != 16 || !bytes.Equal(b[:4], floorMagic[:]) ||
		binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], crcTable) {
		return 0, fmt.Errorf("%w (%d bytes)", ErrCorruptFloor, len(b))
	}
	return binary.LittleEndian.Uint64(b[4:]), nil
}

// Version is the current floor.
func (f *Floor) Version() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.v
}

// Raise durably sets the floor to v if v is higher; a lower or equal v is
// a no-op (the floor never goes down).
func (f *Floor) Raise(v uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v <= f.v {
		return nil
	}
	if err := atomicfile.WriteFile(f.path, encodeFloor(v), 0o600); err != nil {
		return fmt.Errorf("mqtt: version floor: %w", err)
	}
	f.v = v
	return nil
}
