// Package testutil holds helpers shared by the project's tests.
package testutil

import (
	"path/filepath"
	"testing"

	"github.com/clipfleet/clipfleet/internal/repo"
)

// Missing reports an absent external dependency: under `make test` and CI
// (CLIPFLEET_REQUIRE_ALL=1) the test fails, because the Makefile installs
// everything; under a bare `go test` it skips with the reason.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if repo.RequireAll() {
		t.Fatalf("missing dependency (CLIPFLEET_REQUIRE_ALL=1): "+format, args...)
	}
	t.Skipf("skipping, missing dependency: "+format, args...)
}

// SharedPath returns a path inside the read-only ../shared folder.
func SharedPath(t testing.TB, elem ...string) string {
	t.Helper()
	s, err := repo.Shared()
	if err != nil {
		t.Fatalf("locating shared folder: %v", err)
	}
	return filepath.Join(append([]string{s}, elem...)...)
}

// RepoPath returns a path inside the repository.
func RepoPath(t testing.TB, elem ...string) string {
	t.Helper()
	r, err := repo.Root()
	if err != nil {
		t.Fatalf("locating repository root: %v", err)
	}
	return filepath.Join(append([]string{r}, elem...)...)
}
