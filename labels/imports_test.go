package labels

import (
	"testing"

	"github.com/clipfleet/clipfleet/internal/testutil"
)

// TestPureGo: a Coral without a text encoder still classifies with labels/,
// so it must build with CGO_ENABLED=0.
func TestPureGo(t *testing.T) {
	testutil.AssertPureGo(t, "./labels")
}
