package world

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// atomicFile is written to a temporary file beside its destination and
// renamed into place on Commit, after an fsync of the file and then of the
// directory, so a reader never sees a half-written export.
type atomicFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
	h    hash.Hash
	n    int64
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("world: %w", err)
	}
	a := &atomicFile{path: path, f: f, h: sha256.New()}
	a.w = bufio.NewWriterSize(io.MultiWriter(f, a.h), 1<<20)
	return a, nil
}

func (a *atomicFile) Write(p []byte) (int, error) {
	n, err := a.w.Write(p)
	a.n += int64(n)
	return n, err
}

// Sum is the SHA-256 of what was written, hex-encoded.
func (a *atomicFile) Sum() string { return hex.EncodeToString(a.h.Sum(nil)) }

func (a *atomicFile) Commit() error {
	if err := a.w.Flush(); err != nil {
		a.Abort()
		return fmt.Errorf("world: writing %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		a.Abort()
		return fmt.Errorf("world: syncing %s: %w", a.path, err)
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("world: closing %s: %w", a.path, err)
	}
	if err := os.Rename(a.f.Name(), a.path); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("world: %w", err)
	}
	return syncDir(filepath.Dir(a.path))
}

// Abort discards the temporary file; it is safe after Commit.
func (a *atomicFile) Abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("world: syncing %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic writes data to path crash-safely.
func WriteFileAtomic(path string, data []byte) error {
	a, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return fmt.Errorf("world: writing %s: %w", path, err)
	}
	return a.Commit()
}
