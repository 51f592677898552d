package hub

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/clipfleet/clipfleet/sync/mqtt"
)

// noteState reads a device's retained state for the refusal it reports
// (mqtt.DeviceState.Refused): a global adapter that devices refuse (failed
// health checks, failed applies) is a bad push the operator must see, so
// each new report is logged once and counted per version. The state is
// unsigned: a forged one can only add a log line.
func (h *Hub) noteState(dev string, payload []byte) {
	var st mqtt.DeviceState
	if len(payload) == 0 || json.Unmarshal(payload, &st) != nil || st.Device != dev || st.Refused == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refusedBy == nil {
		h.refusedBy = map[string]mqtt.Refusal{}
	}
	if old, ok := h.refusedBy[dev]; ok && old.Version == st.Refused.Version {
		return
	}
	h.refusedBy[dev] = *st.Refused
	h.stats.Refusals++
	n := 0
	for _, r := range h.refusedBy {
		if r.Version == st.Refused.Version {
			n++
		}
	}
	h.log.Warn("hub: a device refused a global adapter", "device", dev, "version", st.Refused.Version,
		"reason", st.Refused.Reason, "devices_refusing_this_version", n)
}

// Refusals returns, per global adapter version, the devices whose latest
// reported refusal is that version.
func (h *Hub) Refusals() map[uint64][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[uint64][]string{}
	for _, dev := range slices.Sorted(maps.Keys(h.refusedBy)) {
		v := h.refusedBy[dev].Version
		out[v] = append(out[v], dev)
	}
	return out
}
