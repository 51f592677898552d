package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustOpen(t *testing.T, dir string, keep int) *Store {
	t.Helper()
	s, err := Open(dir, Config{Keep: keep}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveLoadKeepsLastK(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 3)
	if _, _, err := s.Load(); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("empty store Load = %v, want ErrNoCheckpoint", err)
	}
	for i := 1; i <= 5; i++ {
		seq, err := s.Save([]byte(fmt.Sprintf("state %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint64(i) {
			t.Fatalf("seq %d, want %d", seq, i)
		}
	}
	seqs, _ := s.Sequences()
	if fmt.Sprint(seqs) != "[3 4 5]" {
		t.Fatalf("kept %v, want [3 4 5]", seqs)
	}
	p, seq, err := s.Load()
	if err != nil || seq != 5 || string(p) != "state 5" {
		t.Fatalf("Load = %q, %d, %v", p, seq, err)
	}
	// A reopened store continues the numbering.
	s2 := mustOpen(t, dir, 3)
	if seq, _ := s2.Save([]byte("state 6")); seq != 6 {
		t.Fatalf("after reopen seq %d, want 6", seq)
	}
	if _, err := Open(dir, Config{Keep: 1}, nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("keep 1 accepted: %v", err)
	}
}

// TestDamagedNewestSetAside: each kind of damage to the newest checkpoint
// makes Load fall back to the previous one and rename the damaged file.
func TestDamagedNewestSetAside(t *testing.T) {
	damages := []struct {
		name   string
		damage func(path string) error
	}{
		{"truncated payload", func(p string) error { return truncate(p, -3) }},
		{"truncated header", func(p string) error { return truncate(p, 10) }},
		{"empty file", func(p string) error { return truncate(p, 0) }},
		{"bit flip in payload", func(p string) error { return flip(p, -1) }},
		{"bit flip in header", func(p string) error { return flip(p, 9) }},
		{"appended garbage", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("xx"))
			return err
		}},
		{"other sequence under this name", func(p string) error {
			return os.WriteFile(p, Encode(1, []byte("state 1")), 0o600)
		}},
	}
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := mustOpen(t, dir, 3)
			for i := 1; i <= 3; i++ {
				if _, err := s.Save([]byte(strings.Repeat(fmt.Sprint(i), 100))); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.damage(filepath.Join(dir, fileName(3))); err != nil {
				t.Fatal(err)
			}
			p, seq, err := s.Load()
			if err != nil || seq != 2 || !bytes.Equal(p, bytes.Repeat([]byte("2"), 100)) {
				t.Fatalf("Load = seq %d, %v; want the intact checkpoint 2", seq, err)
			}
			bad, _ := s.Corrupt()
			if len(bad) != 1 || !strings.HasPrefix(bad[0], fileName(3)+".corrupt-") {
				t.Fatalf("set aside %v, want %s.corrupt-*", bad, fileName(3))
			}
			// The damaged file is never tried again; new saves do not reuse 3.
			if _, seq, _ := s.Load(); seq != 2 {
				t.Fatalf("second Load seq %d", seq)
			}
			if seq, _ := s.Save([]byte("next")); seq != 4 {
				t.Fatalf("next save seq %d, want 4", seq)
			}
		})
	}
}

func TestAllDamaged(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2)
	_, _ = s.Save([]byte("a"))
	_, _ = s.Save([]byte("b"))
	_ = truncate(filepath.Join(dir, fileName(1)), 5)
	_ = truncate(filepath.Join(dir, fileName(2)), 5)
	if _, _, err := s.Load(); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("Load with only damaged files = %v", err)
	}
	if bad, _ := s.Corrupt(); len(bad) != 2 {
		t.Fatalf("set aside %v", bad)
	}
}

func TestOpenRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	leftover := filepath.Join(dir, ".tmp-"+fileName(7)+"-123")
	if err := os.WriteFile(leftover, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir, 2)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file survived Open: %v", err)
	}
	if seqs, _ := s.Sequences(); len(seqs) != 0 {
		t.Fatalf("temp file counted as checkpoint: %v", seqs)
	}
}

func TestDecodeNeverPanics(t *testing.T) {
	b := Encode(9, []byte("payload"))
	for cut := range b {
		if _, _, err := Decode(b[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut %d: %v", cut, err)
		}
	}
	seq, p, err := Decode(b)
	if err != nil || seq != 9 || string(p) != "payload" {
		t.Fatalf("Decode = %d %q %v", seq, p, err)
	}
}

func TestSections(t *testing.T) {
	in := map[string][]byte{"labels": []byte("L"), "method": bytes.Repeat([]byte{1, 2}, 50), "empty": {}}
	b := EncodeSections(in)
	if !bytes.Equal(b, EncodeSections(in)) {
		t.Fatal("encoding not deterministic")
	}
	out, err := DecodeSections(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || string(out["labels"]) != "L" || !bytes.Equal(out["method"], in["method"]) || len(out["empty"]) != 0 {
		t.Fatalf("round trip: %v", out)
	}
	for cut := range b {
		if _, err := DecodeSections(b[:cut]); err == nil {
			t.Fatalf("truncated sections (%d/%d) accepted", cut, len(b))
		}
	}
}

func truncate(p string, n int) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if n < 0 {
		n = int(st.Size()) + n
	}
	return os.Truncate(p, int64(n))
}

func flip(p string, at int) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if at < 0 {
		at = len(b) + at
	}
	b[at] ^= 0x01
	return os.WriteFile(p, b, 0o600)
}

func ExampleStore() {
	dir, _ := os.MkdirTemp("", "ckpt-example")
	defer os.RemoveAll(dir)
	s, _ := Open(dir, DefaultConfig(), nil)
	_, _ = s.Save(EncodeSections(map[string][]byte{"method": []byte("v1")}))
	_, _ = s.Save(EncodeSections(map[string][]byte{"method": []byte("v2")}))
	p, seq, _ := s.Load()
	sec, _ := DecodeSections(p)
	fmt.Println(seq, string(sec["method"]))
	// Output: 2 v2
}
