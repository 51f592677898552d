package outbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/internal/atomicfile"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrFull: the reject-new policy refused a Put.
	ErrFull = errors.New("outbox: full")
	// ErrTooLarge: the entry alone exceeds MaxBytes.
	ErrTooLarge = errors.New("outbox: entry larger than the outbox")
	// ErrSeq: Put with a seq not above every seq put before.
	ErrSeq = errors.New("outbox: sequence number not increasing")
	// ErrEmpty: nothing (more) to hand out.
	ErrEmpty = errors.New("outbox: empty")
	// ErrClosed: the outbox was closed.
	ErrClosed = errors.New("outbox: closed")
	// ErrCorrupt: an entry file failed verification; it was set aside.
	ErrCorrupt = errors.New("outbox: corrupt entry")
	// ErrInvalidConfig wraps every Validate failure.
	ErrInvalidConfig = errors.New("outbox: invalid config")
)

const (
	entrySuffix = ".msg"
	floorName   = "seq"
	corruptDir  = "corrupt"
)

// Entry is one stored payload.
type Entry struct {
	Seq     uint64
	Created time.Time
	Data    []byte
}

// Stats are counters since Open plus the current size.
type Stats struct {
	Entries  int
	Bytes    int64
	InFlight int // handed out by Next, not yet acknowledged

	Puts        uint64
	Acks        uint64
	UnknownAcks uint64 // Acks of seqs not (or no longer) stored: duplicates, evicted
	Dropped     uint64 // evicted by drop-oldest
	DropBytes   uint64
	Expired     uint64 // removed for exceeding MaxAge
	Rejected    uint64 // Puts refused: reject-new when full, or too large
	Corrupt     uint64 // files set aside
}

type meta struct {
	seq     uint64
	size    int64
	created time.Time
}

// Outbox is a directory of payloads waiting for the hub's acknowledgement.
// Safe for concurrent use within one process; one process per directory.
type Outbox struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	notify chan struct{}

	mu      sync.Mutex
	entries []meta // ascending seq
	bytes   int64
	last    uint64 // highest seq ever put
	floor   uint64 // value in the floor file
	cursor  uint64 // Next hands out seqs above this
	closed  bool
	stats   Stats
	corrupt []string
}

// Open loads the outbox in cfg.Dir (creating it), removing unfinished
// writes and setting aside corrupt entries. log may be nil.
func Open(cfg Config, log *slog.Logger) (*Outbox, error) { return openAt(cfg, log, time.Now) }

func openAt(cfg Config, log *slog.Logger, now func() time.Time) (*Outbox, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, corruptDir), 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if n, err := atomicfile.CleanTemp(cfg.Dir); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	} else if n > 0 {
		log.Info("outbox: removed unfinished writes", "dir", cfg.Dir, "files", n)
	}
	o := &Outbox{cfg: cfg, log: log, now: now, notify: make(chan struct{}, 1)}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.loadFloor(); err != nil {
		return nil, err
	}
	if err := o.scan(); err != nil {
		return nil, err
	}
	o.expireLocked()
	if len(o.entries) > 0 {
		log.Info("outbox: entries waiting from a previous run", "entries", len(o.entries), "bytes", o.bytes,
			"oldest_seq", o.entries[0].seq)
	}
	return o, nil
}

func (o *Outbox) path(seq uint64) string {
	return filepath.Join(o.cfg.Dir, fmt.Sprintf("%020d%s", seq, entrySuffix))
}

func (o *Outbox) loadFloor() error {
	b, err := os.ReadFile(filepath.Join(o.cfg.Dir, floorName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if o.floor, err = decodeFloor(b); err != nil {
		// Losing the floor risks re-using sequence numbers the hub has
		// seen, which it would drop as replays. Jump past any plausible
		// earlier value instead: seqs need not be contiguous.
		o.floor = uint64(o.now().UnixMicro())
		o.log.Error("outbox: seq floor corrupt; continuing from the clock", "err", err, "floor", o.floor)
		if err := o.setAside(floorName, err); err != nil {
			return err
		}
	}
	o.last = o.floor
	return nil
}

func parseEntryName(name string) (uint64, bool) {
	s, ok := strings.CutSuffix(name, entrySuffix)
	if !ok || len(s) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil && v > 0
}

func (o *Outbox) scan() error {
	des, err := os.ReadDir(o.cfg.Dir)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		seq, ok := parseEntryName(name)
		if !ok || de.IsDir() {
			if name != floorName && name != corruptDir {
				o.log.Warn("outbox: ignoring unexpected file", "dir", o.cfg.Dir, "name", name)
			}
			continue
		}
		// Even a corrupt entry's seq may have reached the hub: never reuse it.
		o.last = max(o.last, seq)
		b, err := os.ReadFile(filepath.Join(o.cfg.Dir, name))
		if err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
		e, err := decodeRecord(b, seq)
		if err != nil {
			if err := o.raiseFloor(seq); err != nil {
				return err
			}
			if err := o.setAside(name, err); err != nil {
				return err
			}
			continue
		}
		o.entries = append(o.entries, meta{seq: seq, size: int64(len(b)), created: e.Created})
		o.bytes += int64(len(b))
	}
	sort.Slice(o.entries, func(i, j int) bool { return o.entries[i].seq < o.entries[j].seq })
	return nil
}

// setAside moves a corrupt file into corrupt/ so it is never sent, never
// read again, and still available for a post-mortem.
func (o *Outbox) setAside(name string, why error) error {
	dst := filepath.Join(o.cfg.Dir, corruptDir, name)
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = filepath.Join(o.cfg.Dir, corruptDir, fmt.Sprintf("%s.%d", name, i))
	}
	if err := os.Rename(filepath.Join(o.cfg.Dir, name), dst); err != nil {
		return fmt.Errorf("outbox: set aside %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(o.cfg.Dir); err != nil {
		return err
	}
	o.stats.Corrupt++
	o.corrupt = append(o.corrupt, dst)
	o.log.Error("outbox: corrupt entry set aside", "file", dst, "err", why)
	return nil
}

// NextSeq is the lowest seq Put accepts: one above every seq ever put to
// this directory, acknowledged or not, across restarts.
func (o *Outbox) NextSeq() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last + 1
}

// Put stores data durably under seq (≥ NextSeq(); embed it in the payload,
// e.g. wire.Payload.Seq, so the hub's ack names it). On a nil return the
// entry survives a crash or power loss. When the outbox is full, the
// drop policy either evicts the oldest entries or refuses with ErrFull.
func (o *Outbox) Put(seq uint64, data []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	if seq <= o.last {
		return fmt.Errorf("%w: seq %d, next is %d", ErrSeq, seq, o.last+1)
	}
	size := int64(len(data)) + recordHeader
	if size > o.cfg.MaxBytes {
		o.stats.Rejected++
		o.log.Warn("outbox: entry refused, larger than the outbox", "seq", seq, "bytes", size, "max_bytes", o.cfg.MaxBytes)
		return fmt.Errorf("%w: %d bytes > %d", ErrTooLarge, size, o.cfg.MaxBytes)
	}
	o.expireLocked()
	for len(o.entries) > 0 && (o.bytes+size > o.cfg.MaxBytes || o.cfg.MaxEntries > 0 && len(o.entries) >= o.cfg.MaxEntries) {
		if o.cfg.Drop == RejectNew {
			o.stats.Rejected++
			o.log.Warn("outbox: full, entry refused", "seq", seq, "entries", len(o.entries), "bytes", o.bytes)
			return fmt.Errorf("%w: %d entries, %d bytes", ErrFull, len(o.entries), o.bytes)
		}
		old := o.entries[0]
		if err := o.removeLocked(0); err != nil {
			return err
		}
		o.stats.Dropped++
		o.stats.DropBytes += uint64(old.size)
		o.log.Warn("outbox: full, dropped oldest entry", "dropped_seq", old.seq, "bytes", old.size,
			"age", o.now().Sub(old.created).Round(time.Second), "dropped_total", o.stats.Dropped)
	}
	created := o.now()
	if err := atomicfile.WriteFile(o.path(seq), encodeRecord(seq, created, data), 0o600); err != nil {
		return fmt.Errorf("outbox: put %d: %w", seq, err)
	}
	o.entries = append(o.entries, meta{seq: seq, size: size, created: created})
	o.bytes += size
	o.last = seq
	o.stats.Puts++
	select {
	case o.notify <- struct{}{}:
	default:
	}
	return nil
}

// raiseFloor durably records that seq was used, before the last file
// naming it disappears, so NextSeq never goes back.
func (o *Outbox) raiseFloor(seq uint64) error {
	if seq < o.last || seq <= o.floor {
		return nil // a higher seq is still stored or recorded
	}
	if err := atomicfile.WriteFile(filepath.Join(o.cfg.Dir, floorName), encodeFloor(seq), 0o600); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	o.floor = seq
	return nil
}

// removeLocked deletes entry i durably.
func (o *Outbox) removeLocked(i int) error {
	m := o.entries[i]
	if err := o.raiseFloor(m.seq); err != nil {
		return err
	}
	if err := os.Remove(o.path(m.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("outbox: remove %d: %w", m.seq, err)
	}
	if err := atomicfile.SyncDir(o.cfg.Dir); err != nil {
		return err
	}
	o.entries = slices.Delete(o.entries, i, i+1)
	o.bytes -= m.size
	return nil
}

func (o *Outbox) expireLocked() {
	if o.cfg.MaxAge <= 0 {
		return
	}
	now := o.now()
	for i := 0; i < len(o.entries); {
		m := o.entries[i]
		// A clock set back (a board without RTC before NTP) makes entries
		// look young, never old: they are kept, not lost.
		if age := now.Sub(m.created); age <= o.cfg.MaxAge {
			i++
			continue
		}
		if err := o.removeLocked(i); err != nil {
			o.log.Error("outbox: removing expired entry", "seq", m.seq, "err", err)
			return
		}
		o.stats.Expired++
		o.log.Warn("outbox: dropped expired entry", "seq", m.seq, "age", now.Sub(m.created).Round(time.Second), "max_age", o.cfg.MaxAge)
	}
}

// read loads entry i, setting it aside if it no longer verifies.
func (o *Outbox) readLocked(i int) (Entry, bool, error) {
	m := o.entries[i]
	b, err := os.ReadFile(o.path(m.seq))
	if err == nil {
		var e Entry
		if e, err = decodeRecord(b, m.seq); err == nil {
			return e, true, nil
		}
	}
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, os.ErrNotExist) {
		return Entry{}, false, fmt.Errorf("outbox: read %d: %w", m.seq, err)
	}
	if serr := o.raiseFloor(m.seq); serr != nil {
		return Entry{}, false, serr
	}
	if errors.Is(err, ErrCorrupt) {
		if serr := o.setAside(filepath.Base(o.path(m.seq)), err); serr != nil {
			return Entry{}, false, serr
		}
	} else {
		o.stats.Corrupt++
		o.log.Error("outbox: entry file vanished", "seq", m.seq)
	}
	o.entries = slices.Delete(o.entries, i, i+1)
	o.bytes -= m.size
	return Entry{}, false, nil
}

// Peek returns the oldest unacknowledged entry (ErrEmpty if none),
// whether or not it was handed out before.
func (o *Outbox) Peek() (Entry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Entry{}, ErrClosed
	}
	o.expireLocked()
	for len(o.entries) > 0 {
		e, ok, err := o.readLocked(0)
		if err != nil || ok {
			return e, err
		}
	}
	return Entry{}, ErrEmpty
}

// Next hands out the oldest entry not handed out since Open or Rewind, in
// seq order, so a sender can keep several in flight; ErrEmpty when all are
// out. Entries stay stored until Ack.
func (o *Outbox) Next() (Entry, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Entry{}, ErrClosed
	}
	o.expireLocked()
	for {
		i := sort.Search(len(o.entries), func(i int) bool { return o.entries[i].seq > o.cursor })
		if i == len(o.entries) {
			return Entry{}, ErrEmpty
		}
		e, ok, err := o.readLocked(i)
		if err != nil {
			return Entry{}, err
		}
		if ok {
			o.cursor = e.Seq
			return e, nil
		}
	}
}

// Rewind makes Next start again from the oldest entry, e.g. after a
// reconnect, when nothing in flight can be assumed delivered.
func (o *Outbox) Rewind() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.cursor = 0
}

// Ack removes the entry seq durably: call it on the hub's application-level
// acknowledgement (a wire ack naming this device and seq), never on a
// transport-level one. Acknowledging an unknown seq (a duplicate ack, an
// evicted entry) is a no-op.
func (o *Outbox) Ack(seq uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	i, found := slices.BinarySearchFunc(o.entries, seq, func(m meta, s uint64) int {
		switch {
		case m.seq < s:
			return -1
		case m.seq > s:
			return 1
		}
		return 0
	})
	if !found {
		o.stats.UnknownAcks++
		o.log.Debug("outbox: ack of an entry not stored", "seq", seq)
		return nil
	}
	if err := o.removeLocked(i); err != nil {
		return err
	}
	o.stats.Acks++
	return nil
}

// Notify returns a channel that receives after each Put, so a sender can
// sleep until there is something to send. It is never closed.
func (o *Outbox) Notify() <-chan struct{} { return o.notify }

// Seqs lists the stored seqs, ascending.
func (o *Outbox) Seqs() []uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]uint64, len(o.entries))
	for i, m := range o.entries {
		out[i] = m.seq
	}
	return out
}

// Len is the number of stored entries.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.entries)
}

// Stats returns counters and the current size.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.stats
	s.Entries, s.Bytes = len(o.entries), o.bytes
	s.InFlight = sort.Search(len(o.entries), func(i int) bool { return o.entries[i].seq > o.cursor })
	return s
}

// Corrupt lists the files set aside since Open.
func (o *Outbox) Corrupt() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.corrupt)
}

// Dir is the outbox directory.
func (o *Outbox) Dir() string { return o.cfg.Dir }

// Close makes further calls fail with ErrClosed. Everything stored is
// already durable; Close only stops use.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return nil
}
