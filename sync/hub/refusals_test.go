package hub

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

// Devices' reported refusals are counted once per device and version, by
// version; states without a refusal, of another device, or garbage change
// nothing.
func TestHubCountsReportedRefusals(t *testing.T) {
	h, err := Open(testConfig(t, "hub-a"), tKey("hub-a"), testRing("d1", "d2"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	state := func(dev string, ref *mqtt.Refusal) []byte {
		b, err := json.Marshal(mqtt.DeviceState{Device: dev, ActiveVersion: 2, Refused: ref})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bad := &mqtt.Refusal{Version: 3, Reason: "health check", At: time.Unix(1, 0)}
	h.noteState("d1", state("d1", nil))
	h.noteState("d1", []byte("{not json"))
	h.noteState("d1", state("d2", bad)) // another device's state on d1's topic
	if n := h.Stats().Refusals; n != 0 {
		t.Fatalf("%d refusals counted from states without one", n)
	}
	h.noteState("d1", state("d1", bad))
	h.noteState("d1", state("d1", bad)) // the retained copy again
	h.noteState("d2", state("d2", bad))
	if n := h.Stats().Refusals; n != 2 {
		t.Fatalf("refusals %d, want 2", n)
	}
	if got := h.Refusals()[3]; !slices.Equal(got, []string{"d1", "d2"}) {
		t.Fatalf("version 3 refused by %v", got)
	}
	h.noteState("d1", state("d1", &mqtt.Refusal{Version: 4, Reason: "x"}))
	if r := h.Refusals(); !slices.Equal(r[3], []string{"d2"}) || !slices.Equal(r[4], []string{"d1"}) || h.Stats().Refusals != 3 {
		t.Fatalf("after d1 refused 4: %v, %d", r, h.Stats().Refusals)
	}
}
