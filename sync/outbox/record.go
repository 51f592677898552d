package outbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

// Entry file layout (little-endian):
//
//	0   4  magic "CFOB"
//	4   2  format 1
//	6   2  reserved 0
//	8   8  seq
//	16  8  created at, Unix nanoseconds
//	24  4  payload length
//	28  4  CRC-32C of bytes [0, 28) and the payload
//	32  …  payload
const (
	recordHeader = 32
	recordFormat = 1
)

var (
	recordMagic = [4]byte{'C', 'F', 'O', 'B'}
	floorMagic  = [4]byte{'C', 'F', 'O', 'S'}
	castagnoli  = crc32.MakeTable(crc32.Castagnoli)
)

func encodeRecord(seq uint64, created time.Time, data []byte) []byte {
	b := make([]byte, recordHeader, recordHeader+len(data))
	copy(b, recordMagic[:])
	binary.LittleEndian.PutUint16(b[4:], recordFormat)
	binary.LittleEndian.PutUint64(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(created.UnixNano()))
	binary.LittleEndian.PutUint32(b[24:], uint32(len(data)))
	crc := crc32.Update(crc32.Checksum(b[:28], castagnoli), castagnoli, data)
	binary.LittleEndian.PutUint32(b[28:], crc)
	return append(b, data...)
}

// decodeRecord verifies a file's bytes; wantSeq is the seq its name claims.
func decodeRecord(b []byte, wantSeq uint64) (Entry, error) {
	if len(b) < recordHeader {
		return Entry{}, fmt.Errorf("%w: %d bytes, header needs %d", ErrCorrupt, len(b), recordHeader)
	}
	if !bytes.Equal(b[:4], recordMagic[:]) || binary.LittleEndian.Uint16(b[4:]) != recordFormat || binary.LittleEndian.Uint16(b[6:]) != 0 {
		return Entry{}, fmt.Errorf("%w: bad magic or format", ErrCorrupt)
	}
	seq := binary.LittleEndian.Uint64(b[8:])
	if seq != wantSeq {
		return Entry{}, fmt.Errorf("%w: holds seq %d, named %d", ErrCorrupt, seq, wantSeq)
	}
	if n := binary.LittleEndian.Uint32(b[24:]); int64(n) != int64(len(b)-recordHeader) {
		return Entry{}, fmt.Errorf("%w: payload length %d, file holds %d", ErrCorrupt, n, len(b)-recordHeader)
	}
	crc := crc32.Update(crc32.Checksum(b[:28], castagnoli), castagnoli, b[recordHeader:])
	if got := binary.LittleEndian.Uint32(b[28:]); got != crc {
		return Entry{}, fmt.Errorf("%w: checksum %08x, computed %08x", ErrCorrupt, got, crc)
	}
	return Entry{Seq: seq, Created: time.Unix(0, int64(binary.LittleEndian.Uint64(b[16:]))), Data: b[recordHeader:]}, nil
}

// The seq floor file: magic "CFOS", u64 highest seq ever put, CRC-32C of
// the first 12 bytes.
func encodeFloor(seq uint64) []byte {
	b := make([]byte, 16)
	copy(b, floorMagic[:])
	binary.LittleEndian.PutUint64(b[4:], seq)
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	return b
}

func decodeFloor(b []byte) (uint64, error) {
	if len(b) != 16 || !bytes.Equal(b[:4], floorMagic[:]) || binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli) {
		return 0, fmt.Errorf("%w: seq floor file", ErrCorrupt)
	}
	return binary.LittleEndian.Uint64(b[4:]), nil
}
