package outbox

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for age tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testConfig(dir string) Config {
	c := DefaultConfig()
	c.Dir = dir
	return c
}

func open(t *testing.T, cfg Config) *Outbox {
	t.Helper()
	o, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func put(t *testing.T, o *Outbox, data string) uint64 {
	t.Helper()
	seq := o.NextSeq()
	if err := o.Put(seq, []byte(data)); err != nil {
		t.Fatalf("Put %d: %v", seq, err)
	}
	return seq
}

func TestOrderAndAck(t *testing.T) {
	o := open(t, testConfig(t.TempDir()))
	var seqs []uint64
	for _, s := range []string{"a", "b", "c"} {
		seqs = append(seqs, put(t, o, s))
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3}) {
		t.Fatalf("seqs %v", seqs)
	}
	// Next hands each out once, in order; Peek always shows the oldest.
	for i, want := range []string{"a", "b"} {
		e, err := o.Next()
		if err != nil || string(e.Data) != want || e.Seq != seqs[i] {
			t.Fatalf("Next = %d %q, %v; want %q", e.Seq, e.Data, err, want)
		}
	}
	if e, _ := o.Peek(); string(e.Data) != "a" {
		t.Fatalf("Peek = %q", e.Data)
	}
	if s := o.Stats(); s.InFlight != 2 || s.Entries != 3 {
		t.Fatalf("stats %+v", s)
	}
	// Acks may come out of order; only the acknowledged entry goes.
	if err := o.Ack(2); err != nil {
		t.Fatal(err)
	}
	if got := o.Seqs(); !slices.Equal(got, []uint64{1, 3}) {
		t.Fatalf("after Ack(2): %v", got)
	}
	if e, err := o.Next(); err != nil || string(e.Data) != "c" {
		t.Fatalf("Next = %q, %v", e.Data, err)
	}
	if _, err := o.Next(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Next past the end: %v", err)
	}
	o.Rewind()
	if e, _ := o.Next(); string(e.Data) != "a" {
		t.Fatalf("after Rewind: %q", e.Data)
	}
	// A duplicate ack is harmless.
	if err := o.Ack(2); err != nil || o.Stats().UnknownAcks != 1 {
		t.Fatalf("duplicate ack: %v, %+v", err, o.Stats())
	}
	if err := o.Ack(1); err != nil {
		t.Fatal(err)
	}
	if err := o.Ack(3); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Peek(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Peek on empty: %v", err)
	}
}

func TestRestartResendsUnacknowledged(t *testing.T) {
	dir := t.TempDir()
	o := open(t, testConfig(dir))
	for _, s := range []string{"a", "b", "c"} {
		put(t, o, s)
	}
	// a and b were sent; only a was acknowledged before the crash.
	o.Next()
	o.Next()
	if err := o.Ack(1); err != nil {
		t.Fatal(err)
	}
	o = open(t, testConfig(dir))
	var got []string
	for {
		e, err := o.Next()
		if errors.Is(err, ErrEmpty) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(e.Data))
	}
	if !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("after restart Next gave %v, want the in-flight b and the unsent c", got)
	}
}

func TestSeqIsNeverReused(t *testing.T) {
	dir := t.TempDir()
	o := open(t, testConfig(dir))
	for range 3 {
		put(t, o, "x")
	}
	for _, s := range o.Seqs() {
		if err := o.Ack(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Put(2, []byte("again")); !errors.Is(err, ErrSeq) {
		t.Fatalf("Put of a used seq: %v", err)
	}
	// Empty on disk, yet the next process continues after 3.
	o = open(t, testConfig(dir))
	if n := o.NextSeq(); n != 4 {
		t.Fatalf("NextSeq after acking everything and reopening = %d, want 4", n)
	}
	// Gaps are fine.
	if err := o.Put(10, []byte("y")); err != nil {
		t.Fatal(err)
	}
	if n := open(t, testConfig(dir)).NextSeq(); n != 11 {
		t.Fatalf("NextSeq = %d, want 11", n)
	}
}

func TestDropPolicies(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	cfg := testConfig(t.TempDir())
	cfg.MaxEntries = 3
	o, err := Open(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		put(t, o, fmt.Sprint(i))
	}
	if got := o.Seqs(); !slices.Equal(got, []uint64{3, 4, 5}) {
		t.Fatalf("drop-oldest kept %v", got)
	}
	if s := o.Stats(); s.Dropped != 2 || s.DropBytes != 2*(recordHeader+1) {
		t.Fatalf("stats %+v", s)
	}
	if n := strings.Count(logs.String(), "dropped oldest"); n != 2 {
		t.Fatalf("%d drop log lines:\n%s", n, logs.String())
	}

	// Bytes bound, reject-new.
	cfg = testConfig(t.TempDir())
	cfg.MaxBytes = 3 * (recordHeader + 10)
	cfg.Drop = RejectNew
	o = open(t, cfg)
	for range 3 {
		put(t, o, "0123456789")
	}
	if err := o.Put(o.NextSeq(), []byte("0123456789")); !errors.Is(err, ErrFull) {
		t.Fatalf("Put into a full reject-new outbox: %v", err)
	}
	if err := o.Put(o.NextSeq(), []byte("")); !errors.Is(err, ErrFull) {
		t.Fatalf("even an empty entry needs its header's room: %v", err)
	}
	if s := o.Stats(); s.Rejected != 2 || s.Entries != 3 || s.Dropped != 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := o.Put(o.NextSeq(), make([]byte, cfg.MaxBytes)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized entry: %v", err)
	}
	// Room again after an ack; the refused seqs were never used.
	if err := o.Ack(1); err != nil {
		t.Fatal(err)
	}
	if seq := put(t, o, "0123456789"); seq != 4 {
		t.Fatalf("seq after refusals = %d, want 4", seq)
	}
}

func TestMaxAge(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg := testConfig(t.TempDir())
	cfg.MaxAge = time.Hour
	o, err := openAt(cfg, nil, c.now)
	if err != nil {
		t.Fatal(err)
	}
	put(t, o, "old")
	c.advance(30 * time.Minute)
	put(t, o, "newer")
	c.advance(31 * time.Minute)
	e, err := o.Peek()
	if err != nil || string(e.Data) != "newer" {
		t.Fatalf("Peek = %q, %v: the 61-minute-old entry must be gone", e.Data, err)
	}
	if s := o.Stats(); s.Expired != 1 || s.Entries != 1 {
		t.Fatalf("stats %+v", s)
	}
	// A clock set back keeps entries (they look young), and a restart
	// with time moved on expires them on open.
	c.advance(-24 * time.Hour)
	if _, err := o.Peek(); err != nil {
		t.Fatal(err)
	}
	c.advance(48 * time.Hour)
	o, err = openAt(cfg, nil, c.now)
	if err != nil {
		t.Fatal(err)
	}
	if o.Len() != 0 || o.Stats().Expired != 1 {
		t.Fatalf("after reopening a day later: %+v", o.Stats())
	}
}

func corruptFile(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[at%len(b)] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptEntriesAreSetAside(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(t *testing.T, path string)
	}{
		{"payload bit", func(t *testing.T, p string) { corruptFile(t, p, recordHeader+3) }},
		{"header bit", func(t *testing.T, p string) { corruptFile(t, p, 9) }},
		{"truncated", func(t *testing.T, p string) { _ = os.Truncate(p, 20) }},
		{"emptied", func(t *testing.T, p string) { _ = os.Truncate(p, 0) }},
		{"extended", func(t *testing.T, p string) {
			f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte("junk"))
			f.Close()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			o := open(t, testConfig(dir))
			for _, s := range []string{"a", "b", "c"} {
				put(t, o, s)
			}
			// Spoil the newest: its seq must still never be reused.
			c.spoil(t, o.path(3))
			corrupted := o.path(3)
			o = open(t, testConfig(dir))
			if got := o.Seqs(); !slices.Equal(got, []uint64{1, 2}) {
				t.Fatalf("seqs %v", got)
			}
			if bad := o.Corrupt(); len(bad) != 1 || filepath.Dir(bad[0]) != filepath.Join(dir, corruptDir) {
				t.Fatalf("Corrupt() = %v", bad)
			}
			if _, err := os.Stat(corrupted); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("corrupt file left in place")
			}
			if o.Stats().Corrupt != 1 {
				t.Fatalf("stats %+v", o.Stats())
			}
			if o.NextSeq() != 4 {
				t.Fatalf("NextSeq %d reuses the corrupt entry's seq", o.NextSeq())
			}
			// Acking everything and reopening keeps the seq too.
			o.Ack(1)
			o.Ack(2)
			if n := open(t, testConfig(dir)).NextSeq(); n != 4 {
				t.Fatalf("NextSeq after reopen = %d", n)
			}
		})
	}
}

func TestCorruptionWhileRunning(t *testing.T) {
	o := open(t, testConfig(t.TempDir()))
	put(t, o, "a")
	put(t, o, "b")
	corruptFile(t, o.path(1), recordHeader)
	e, err := o.Peek()
	if err != nil || string(e.Data) != "b" {
		t.Fatalf("Peek = %q, %v: must skip the corrupt entry", e.Data, err)
	}
	if len(o.Corrupt()) != 1 || o.Len() != 1 {
		t.Fatalf("corrupt %v, len %d", o.Corrupt(), o.Len())
	}
}

func TestCorruptFloor(t *testing.T) {
	dir := t.TempDir()
	o := open(t, testConfig(dir))
	put(t, o, "a")
	o.Ack(1)
	if err := os.WriteFile(filepath.Join(dir, floorName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := uint64(time.Now().UnixMicro())
	o = open(t, testConfig(dir))
	if n := o.NextSeq(); n <= before {
		t.Fatalf("NextSeq %d after a lost floor; want above the clock's %d", n, before)
	}
	if len(o.Corrupt()) != 1 {
		t.Fatalf("floor not reported: %v", o.Corrupt())
	}
}

func TestOpenCleansUnfinishedWrites(t *testing.T) {
	dir := t.TempDir()
	o := open(t, testConfig(dir))
	put(t, o, "a")
	tmp := filepath.Join(dir, ".tmp-00000000000000000002.msg-123")
	if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	o = open(t, testConfig(dir))
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("temp file survived Open")
	}
	if o.Len() != 1 || len(o.Corrupt()) != 0 {
		t.Fatalf("len %d, corrupt %v", o.Len(), o.Corrupt())
	}
}

func TestNotifyAndClose(t *testing.T) {
	o := open(t, testConfig(t.TempDir()))
	select {
	case <-o.Notify():
		t.Fatal("notified before any Put")
	default:
	}
	put(t, o, "a")
	put(t, o, "b")
	select {
	case <-o.Notify():
	default:
		t.Fatal("no notification after Put")
	}
	o.Close()
	for name, err := range map[string]error{
		"Put": o.Put(9, nil), "Ack": o.Ack(1),
		"Peek": func() error { _, err := o.Peek(); return err }(),
		"Next": func() error { _, err := o.Next(); return err }(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	o := open(t, testConfig(t.TempDir()))
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises NextSeq+Put, as a single producer would
	for range 4 {
		wg.Go(func() {
			for range 10 {
				mu.Lock()
				err := o.Put(o.NextSeq(), []byte("x"))
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if e, err := o.Peek(); err == nil {
					_ = o.Ack(e.Seq)
				}
				_ = o.Stats()
			}
		})
	}
	wg.Wait()
	s := o.Stats()
	if s.Puts != 40 || s.Acks+uint64(s.Entries) != 40 {
		t.Fatalf("stats %+v", s)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := testConfig("x").Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(c *Config){
		"no dir":       func(c *Config) { c.Dir = "" },
		"tiny":         func(c *Config) { c.MaxBytes = recordHeader },
		"neg entries":  func(c *Config) { c.MaxEntries = -1 },
		"neg age":      func(c *Config) { c.MaxAge = -time.Second },
		"unknown drop": func(c *Config) { c.Drop = "drop-newest" },
		"empty drop":   func(c *Config) { c.Drop = "" },
	} {
		c := testConfig("x")
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Open(Config{}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Open with a zero config: %v", err)
	}
}
