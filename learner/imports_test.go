package learner

import (
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// TestPureGo: the learner must build with CGO_ENABLED=0 for any board.
func TestPureGo(t *testing.T) {
	testutil.AssertPureGo(t, "./learner/...", "./internal/atomicfile")
}
