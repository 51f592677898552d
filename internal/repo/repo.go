// Package repo locates the repository root and the read-only ../shared folder
// that sits beside it, so tests and tools can find committed models and the
// shared test data without copying them.
package repo

import (
	"errors"
	"os"
	"path/filepath"
)

// ErrNotFound is returned when no go.mod can be found above the working directory.
var ErrNotFound = errors.New("repo: go.mod not found above working directory")

// Root returns the directory holding this module's go.mod, searching upwards
// from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNotFound
		}
		dir = parent
	}
}

// Shared returns the shared data folder: $CLIPFLEET_SHARED if set, else
// ../shared beside the repository root.
func Shared() (string, error) {
	if s := os.Getenv("CLIPFLEET_SHARED"); s != "" {
		return s, nil
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared"), nil
}

// RequireAll reports whether tests must fail rather than skip when an
// external dependency (ONNX Runtime library, OpenCV, mosquitto, shared data)
// is missing. `make test` and CI set CLIPFLEET_REQUIRE_ALL=1.
func RequireAll() bool { return os.Getenv("CLIPFLEET_REQUIRE_ALL") == "1" }
