package mqtt

import (
	"fmt"
	"strings"

	"github.com/clipfleet/clipfleet/sync/wire"
)

// Topics builds the MQTT topic names of one fleet. Every device-scoped
// topic has the device id as its third level, so a broker ACL can bind it
// to the client's username or client id (Mosquitto's %u and %c, see
// docs/sync.md).
type Topics struct {
	Prefix string // first level, e.g. "clipfleet"
	Fleet  string
}

// Delta is where a device publishes its deltas (device → hub, QoS 1).
func (t Topics) Delta(device string) string { return t.dev(device, "delta") }

// Ack is where the hub acknowledges a device's deltas (hub → device, QoS 1).
func (t Topics) Ack(device string) string { return t.dev(device, "ack") }

// Status is a device's retained availability: "online", or "offline" from
// its last will.
func (t Topics) Status(device string) string { return t.dev(device, "status") }

// State is a device's retained JSON state (DeviceState).
func (t Topics) State(device string) string { return t.dev(device, "state") }

// Cmd is where operators (through the hub) send a device commands.
func (t Topics) Cmd(device string) string { return t.dev(device, "cmd") }

// CatchUp is where the hub sends one device a signed catch-up adapter
// from that device's version to the current one (hub → device, QoS 1, not
// retained), when its state shows it missed versions for good.
func (t Topics) CatchUp(device string) string { return t.dev(device, "catchup") }

// AllStates matches every device's retained state topic (for tools; the
// hub subscribes to each enrolled device's state topic instead).
func (t Topics) AllStates() string { return t.Prefix + "/" + t.Fleet + "/+/state" }

// Global is the retained, signed global adapter (hub → devices, QoS 1).
func (t Topics) Global() string { return t.Prefix + "/" + t.Fleet + "/global" }

// AllDeltas is the hub's subscription to every device's deltas.
func (t Topics) AllDeltas() string { return t.Prefix + "/" + t.Fleet + "/+/delta" }

// HubStatus is the retained status of one hub ("active", "standby",
// "offline" from its last will); standby hubs watch their peers' status.
// It lives under "hub/", a level no device topic has (device topics end
// in a fixed leaf one level below the fleet).
func (t Topics) HubStatus(hub string) string {
	return t.Prefix + "/" + t.Fleet + "/hub/" + hub + "/status"
}

// HubBarrier is a private topic a hub publishes to itself: when its own
// message comes back, the retained messages of its earlier subscriptions
// have been delivered.
func (t Topics) HubBarrier(hub string) string {
	return t.Prefix + "/" + t.Fleet + "/hub/" + hub + "/barrier"
}

func (t Topics) dev(device, leaf string) string {
	return t.Prefix + "/" + t.Fleet + "/" + device + "/" + leaf
}

// DeviceOf returns the device id of a device-scoped topic with the given
// leaf ("delta", "ack", ...), or false if the topic is not one.
func (t Topics) DeviceOf(topic, leaf string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, t.Prefix+"/"+t.Fleet+"/")
	if !ok {
		return "", false
	}
	dev, l, ok := strings.Cut(rest, "/")
	if !ok || l != leaf || !wire.ValidID(dev) {
		return "", false
	}
	return dev, true
}

// Validate checks that the names are safe topic levels.
func (t Topics) Validate() error {
	if !validLevel(t.Prefix) {
		return fmt.Errorf("%w: topic prefix %q must be 1–64 of [A-Za-z0-9._-]", ErrInvalidConfig, t.Prefix)
	}
	if !wire.ValidID(t.Fleet) {
		return fmt.Errorf("%w: fleet %q must be 1–64 of [A-Za-z0-9._-]", ErrInvalidConfig, t.Fleet)
	}
	return nil
}

// validLevel: the same alphabet as wire ids keeps wildcards (+ #), the
// level separator and $-prefixed system topics out.
func validLevel(s string) bool { return wire.ValidID(s) }
