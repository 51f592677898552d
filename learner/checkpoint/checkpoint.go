package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
)

var (
	// ErrNoCheckpoint: the directory holds no valid checkpoint.
	ErrNoCheckpoint = errors.New("checkpoint: no valid checkpoint")
	// ErrCorrupt: a checkpoint failed verification.
	ErrCorrupt = errors.New("checkpoint: corrupt checkpoint")
	// ErrInvalidConfig wraps every Validate failure.
	ErrInvalidConfig = errors.New("checkpoint: invalid config")
)

// Config configures a Store.
type Config struct {
	// Keep is how many checkpoints are kept (≥ 2, so a damaged newest one
	// always has a predecessor).
	Keep int `yaml:"keep"`
}

// DefaultConfig keeps 3 checkpoints.
func DefaultConfig() Config { return Config{Keep: 3} }

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	if c.Keep < 2 {
		return fmt.Errorf("%w: keep %d < 2", ErrInvalidConfig, c.Keep)
	}
	return nil
}

const (
	prefix     = "ckpt-"
	suffix     = ".bin"
	headerSize = 28
	format     = 1
	// maxPayload bounds what Load will allocate for a header's length.
	maxPayload = 1 << 34
)

var (
	magic      = [4]byte{'C', 'F', 'C', 'K'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// Store is a directory of checkpoints. Safe for concurrent use within one
// process.
type Store struct {
	dir string
	cfg Config
	log *slog.Logger

	mu   sync.Mutex
	last uint64 // highest sequence number seen or written
}

// Open prepares dir (created if missing), removes temporary files left by a
// writer that died mid-save, and finds the latest sequence number.
func Open(dir string, cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if n, err := atomicfile.CleanTemp(dir); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	} else if n > 0 {
		log.Info("removed unfinished checkpoint writes", "dir", dir, "files", n)
	}
	s := &Store{dir: dir, cfg: cfg, log: log}
	seqs, err := s.list()
	if err != nil {
		return nil, err
	}
	if len(seqs) > 0 {
		s.last = seqs[len(seqs)-1]
	}
	// A writer killed between its rename and its prune leaves one extra
	// checkpoint; without this, repeated crashes would accumulate them.
	if err := s.prune(); err != nil {
		return nil, fmt.Errorf("checkpoint: prune: %w", err)
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func fileName(seq uint64) string { return fmt.Sprintf("%s%020d%s", prefix, seq, suffix) }

func parseName(name string) (uint64, bool) {
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix), 10, 64)
	return v, err == nil && v > 0
}

// list returns the sequence numbers of checkpoint files, ascending.
func (s *Store) list() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseName(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

// Encode frames a payload as checkpoint seq (header + payload).
func Encode(seq uint64, payload []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(payload))
	copy(b, magic[:])
	binary.LittleEndian.PutUint16(b[4:], format)
	binary.LittleEndian.PutUint64(b[8:], seq)
	binary.LittleEndian.PutUint64(b[16:], uint64(len(payload)))
	crc := crc32.Update(crc32.Checksum(b[:24], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(b[24:], crc)
	return append(b, payload...)
}

// Decode verifies a framed checkpoint and returns its sequence number and
// payload (a sub-slice of b).
func Decode(b []byte) (uint64, []byte, error) {
	if len(b) < headerSize || !bytes.Equal(b[:4], magic[:]) {
		return 0, nil, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != format {
		return 0, nil, fmt.Errorf("%w: format %d, want %d", ErrCorrupt, v, format)
	}
	seq := binary.LittleEndian.Uint64(b[8:])
	n := binary.LittleEndian.Uint64(b[16:])
	if n > maxPayload || n != uint64(len(b)-headerSize) {
		return 0, nil, fmt.Errorf("%w: payload length %d, file holds %d", ErrCorrupt, n, len(b)-headerSize)
	}
	payload := b[headerSize:]
	crc := crc32.Update(crc32.Checksum(b[:24], castagnoli), castagnoli, payload)
	if crc != binary.LittleEndian.Uint32(b[24:]) {
		return 0, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return seq, payload, nil
}

// Save writes payload as the next checkpoint and prunes old ones. When it
// returns nil the checkpoint is durable.
func (s *Store) Save(payload []byte) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.last + 1
	if err := atomicfile.WriteFile(filepath.Join(s.dir, fileName(seq)), Encode(seq, payload), 0o600); err != nil {
		return 0, fmt.Errorf("checkpoint: save %d: %w", seq, err)
	}
	s.last = seq
	if err := s.prune(); err != nil {
		// The new checkpoint is safe; failing to delete old ones only
		// costs disk space.
		s.log.Warn("pruning old checkpoints failed", "err", err)
	}
	return seq, nil
}

// prune removes checkpoints beyond the newest Keep.
func (s *Store) prune() error {
	seqs, err := s.list()
	if err != nil {
		return err
	}
	if len(seqs) <= s.cfg.Keep {
		return nil
	}
	for _, seq := range seqs[:len(seqs)-s.cfg.Keep] {
		if err := os.Remove(filepath.Join(s.dir, fileName(seq))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return atomicfile.SyncDir(s.dir)
}

// Load returns the payload and sequence number of the newest checkpoint
// that verifies. Damaged checkpoints met on the way are renamed aside
// (*.corrupt-<unix nanos>). ErrNoCheckpoint if none is valid.
func (s *Store) Load() ([]byte, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seqs, err := s.list()
	if err != nil {
		return nil, 0, err
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		name := filepath.Join(s.dir, fileName(seqs[i]))
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, 0, fmt.Errorf("checkpoint: %w", err)
		}
		seq, payload, err := Decode(b)
		if err == nil && seq != seqs[i] {
			err = fmt.Errorf("%w: file %s holds sequence %d", ErrCorrupt, filepath.Base(name), seq)
		}
		if err != nil {
			aside := fmt.Sprintf("%s.corrupt-%d", name, time.Now().UnixNano())
			s.log.Warn("setting aside corrupt checkpoint", "file", name, "err", err, "renamed", aside)
			if rerr := os.Rename(name, aside); rerr != nil {
				return nil, 0, fmt.Errorf("checkpoint: set aside %s: %w", name, rerr)
			}
			if serr := atomicfile.SyncDir(s.dir); serr != nil {
				return nil, 0, serr
			}
			continue
		}
		return payload, seq, nil
	}
	return nil, 0, ErrNoCheckpoint
}

// Corrupt lists the files set aside as corrupt.
func (s *Store) Corrupt() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".corrupt-") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Sequences lists the checkpoints present (verified or not), ascending.
func (s *Store) Sequences() ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list()
}
