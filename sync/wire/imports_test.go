package wire

import (
	"os"
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// TestPureGo: fleet sync must build with CGO_ENABLED=0 for any board.
func TestPureGo(t *testing.T) {
	testutil.AssertPureGo(t, "./sync/...")
}

// TestNoPackageNamedSync: a package at sync/ itself would shadow the
// standard library's sync for every importer.
func TestNoPackageNamedSync(t *testing.T) {
	entries, err := os.ReadDir(testutil.RepoPath(t, "sync"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && len(e.Name()) > 3 && e.Name()[len(e.Name())-3:] == ".go" {
			t.Errorf("sync/%s: sync/ must hold sub-packages only", e.Name())
		}
	}
}
