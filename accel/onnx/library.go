package onnx

import (
	"os"
	"path/filepath"

	"github.com/clipfleet/clipfleet/internal/repo"
)

// LibraryRelPath is where `make deps` installs ONNX Runtime, relative to the
// repository (and to an installed tree: bin/edge sits beside third_party/).
const LibraryRelPath = "third_party/onnxruntime/libonnxruntime.so.1"

// ResolveLibrary picks the ONNX Runtime shared library: the configured
// path; else $CLIPFLEET_ORT_LIB; else $ONNXRUNTIME_SHARED_LIBRARY_PATH;
// else LibraryRelPath found next to the executable (or up to three
// directories above it) or in the repository holding the working
// directory. It returns the first candidate that exists, or "" and the
// candidates it tried so the error can list them.
func ResolveLibrary(configured string) (string, []string) {
	return resolveLibrary(configured, os.Getenv, os.Executable, repo.Root)
}

func resolveLibrary(configured string, getenv func(string) string, exe func() (string, error), root func() (string, error)) (string, []string) {
	// An explicit setting is never second-guessed: if it is wrong, say so
	// rather than silently loading some other copy.
	for _, p := range []string{configured, getenv("CLIPFLEET_ORT_LIB"), getenv("ONNXRUNTIME_SHARED_LIBRARY_PATH")} {
		if p != "" {
			return ifExists(p), []string{p}
		}
	}
	var tried []string
	if e, err := exe(); err == nil {
		dir := filepath.Dir(e)
		for i := 0; i < 4; i++ {
			tried = append(tried, filepath.Join(dir, LibraryRelPath))
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if r, err := root(); err == nil {
		tried = append(tried, filepath.Join(r, LibraryRelPath))
	}
	for _, p := range tried {
		if ifExists(p) != "" {
			return p, tried
		}
	}
	return "", tried
}

func ifExists(p string) string {
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	return ""
}
