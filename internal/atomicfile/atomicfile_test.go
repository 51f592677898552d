package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.bin")
	for _, content := range [][]byte{[]byte("first"), []byte("second, longer content"), {}} {
		if err := WriteFile(p, content, 0o640); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, content) {
			t.Fatalf("content = %q, want %q", got, content)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o640 {
			t.Fatalf("perm = %v, want 0640", st.Mode().Perm())
		}
	}
	assertNoTemp(t, dir)
}

func TestWriteFailureKeepsOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.bin")
	if err := WriteFile(p, []byte("good"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o600, func(w io.Writer) error {
		_, _ = w.Write([]byte("half-written garbage"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want wrapping boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "good" {
		t.Fatalf("content after failed write = %q, want %q", got, "good")
	}
	assertNoTemp(t, dir)
}

func TestWriteMissingDirFails(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "dir", "f")
	if err := WriteFile(p, []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
}

func TestCleanTempRemovesOnlyTemps(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.bin")
	if err := os.WriteFile(keep, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{tempPrefix + "a-1", tempPrefix + "b-2"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("t"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := CleanTemp(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("removed %d, want 2", n)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("non-temp file removed: %v", err)
	}
	assertNoTemp(t, dir)
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if IsTemp(e.Name()) {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "atomicfile-example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "config.json")
	if err := WriteFile(p, []byte(`{"v":1}`), 0o600); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(p)
	fmt.Println(string(b))
	// Output: {"v":1}
}
