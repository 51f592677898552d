package fleetdemo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	aonnx "github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

func openEncoder(t *testing.T) accel.Encoder {
	t.Helper()
	if p, _ := aonnx.ResolveLibrary(""); p == "" {
		testutil.Missing(t, "ONNX Runtime library (make deps)")
	}
	cfg := accel.DefaultConfig()
	cfg.ModelDir = testutil.RepoPath(t, "models", "tinyclip")
	enc, err := accel.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = enc.Close() })
	return enc
}

// The story holds: nobody names the new shapes before teaching; what
// robot-1 was taught, robot-2 names without being taught; what robot-3
// learned offline reaches robot-1 and robot-2 once it is back; every robot
// ends on the hub's version, and the hub merged nothing twice.
func TestFleetDemoStory(t *testing.T) {
	enc := openEncoder(t)
	var out bytes.Buffer
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{Encoder: enc, StateDir: dir, Out: &out, Views: 45, Timeout: 90 * time.Second})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Checks) != 3 || len(res.Shapes) != 3 {
		t.Fatalf("checks %d shapes %v", len(res.Checks), res.Shapes)
	}
	before, middle, after := res.Checks[0], res.Checks[1], res.Checks[2]
	taught1, taught3 := res.Shapes[:2], res.Shapes[2]
	const good = 0.5 // chance among three shapes is 1/3
	for _, r := range res.Robots {
		for _, s := range res.Shapes {
			if a := before.Accuracy[r][s]; a != 0 {
				t.Errorf("before teaching %s names %s right %.0f%% of the time", r, s, 100*a)
			}
			if a := after.Accuracy[r][s]; a < good {
				t.Errorf("at the end %s names %s right only %.0f%%", r, s, 100*a)
			}
		}
		if a := after.Overall[r]; a < 0.65 {
			t.Errorf("at the end %s names %.0f%% of its pictures right", r, 100*a)
		}
	}
	for _, s := range taught1 {
		if a := middle.Accuracy["robot-2"][s]; a < good {
			t.Errorf("robot-2 (never taught) names %s right only %.0f%% after the merge", s, 100*a)
		}
		if a := middle.Accuracy["robot-3"][s]; a != 0 {
			t.Errorf("offline robot-3 names %s (%.0f%%) before it reconnected", s, 100*a)
		}
	}
	if a := middle.Accuracy["robot-2"][taught3]; a != 0 {
		t.Errorf("robot-2 names %s (%.0f%%) before robot-3 was back", taught3, 100*a)
	}
	v := res.Hub.Version
	for _, r := range res.Robots {
		if after.Version[r] != v {
			t.Errorf("%s ends at version %d, hub at %d", r, after.Version[r], v)
		}
	}
	// One delta of robot-1 and one of robot-3 (a first export against the
	// old base may have been dropped as stale and sent again) merged.
	if res.Hub.MergedDeltas != 2 {
		t.Errorf("hub merged %d deltas, want 2: %+v", res.Hub.MergedDeltas, res.Hub)
	}
	if !strings.Contains(out.String(), "robot-3 comes back") {
		t.Errorf("story output lacks the reconnect:\n%s", out.String())
	}
	// The robots' learning is on disk: checkpoints and outboxes.
	for _, r := range res.Robots {
		if _, err := os.Stat(filepath.Join(dir, r, "learner")); err != nil {
			t.Error(err)
		}
	}
}
