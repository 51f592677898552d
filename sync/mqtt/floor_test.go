package mqtt

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFloorPersists(t *testing.T) {
	dir := t.TempDir()
	f, err := OpenFloor(dir)
	if err != nil || f.Version() != 0 {
		t.Fatalf("fresh floor %v, %v", f, err)
	}
	if err := f.Raise(7); err != nil {
		t.Fatal(err)
	}
	if err := f.Raise(3); err != nil || f.Version() != 7 {
		t.Fatalf("lowering: %v, floor %d", err, f.Version())
	}
	g, err := OpenFloor(dir)
	if err != nil || g.Version() != 7 {
		t.Fatalf("reopened floor %d, %v", g.Version(), err)
	}
	st, err := os.Stat(filepath.Join(dir, floorFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("floor file mode %v, %v", st.Mode().Perm(), err)
	}
}

func TestFloorCorrupt(t *testing.T) {
	for name, content := range map[string][]byte{
		"truncated": encodeFloor(9)[:10],
		"bit flip":  func() []byte { b := encodeFloor(9); b[5] ^= 1; return b }(),
		"empty":     {},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, floorFile), content, 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := OpenFloor(dir)
			if !errors.Is(err, ErrCorruptFloor) || f == nil || f.Version() != 0 {
				t.Fatalf("got %v, %v", f, err)
			}
			// It can be repaired by raising it.
			if err := f.Raise(4); err != nil {
				t.Fatal(err)
			}
			if g, err := OpenFloor(dir); err != nil || g.Version() != 4 {
				t.Errorf("after repair: %v, %v", g, err)
			}
		})
	}
}
