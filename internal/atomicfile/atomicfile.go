package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix marks temporary files so CleanTemp can recognise the leftovers
// of a writer that died between create and rename.
const tempPrefix = ".tmp-"

// WriteFile atomically replaces path with data. On return with a nil error
// the new content is durable; on any error the previous content (if any) is
// untouched and no temporary file is left behind.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile for content produced by a callback, so large states can
// be streamed without building one byte slice. If fill fails, the target is
// untouched.
func Write(path string, perm os.FileMode, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, tempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("atomicfile: create temp for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: chmod %s: %w", path, err)
	}
	// fsync before rename: otherwise a crash can persist the rename but not
	// the data, leaving an empty or partial file under the final name.
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: fsync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: rename %s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		// The rename happened; the content is complete, only its durability
		// across power loss is in doubt. Report it but do not remove path.
		return err
	}
	return nil
}

// SyncDir fsyncs a directory so that renames, creations and removals of its
// entries survive a power loss.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("atomicfile: fsync dir %s: %w", dir, err)
	}
	return nil
}

// IsTemp reports whether name (a base name) is a temporary file left by
// Write, so directory scanners can skip it.
func IsTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }

// CleanTemp removes temporary files left in dir by writers that died before
// renaming. Call it only when no writer is active in dir. It returns how many
// files were removed.
func CleanTemp(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("atomicfile: read dir %s: %w", dir, err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !IsTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("atomicfile: remove %s: %w", e.Name(), err)
		}
		n++
	}
	return n, nil
}
