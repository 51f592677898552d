package errkind

import (
	"errors"
	"io/fs"
	"testing"
)

func TestNew(t *testing.T) {
	kind := errors.New("pkg: invalid thing")
	err := New(kind, "pkg: file %s: %w", "a.yaml", fs.ErrNotExist)
	if err.Error() != "pkg: file a.yaml: file does not exist" {
		t.Fatalf("message %q carries more than the formatted text", err)
	}
	if !errors.Is(err, kind) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("error matches neither its kind nor the wrapped cause")
	}
	if errors.Is(New(kind, "x"), fs.ErrNotExist) {
		t.Fatal("an error without %w matched an unrelated cause")
	}
}
