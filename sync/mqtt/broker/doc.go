// Package broker runs an in-process MQTT broker (mochi-mqtt) for small
// deployments, demos and tests: `hub run --embedded-broker`.
//
// It has no authentication and no ACL: anyone who can reach the port can
// publish as any device (the hub still verifies every delta's signature,
// but a device could flood another's topics). Bind it to loopback or a
// trusted network; production fleets use Mosquitto with per-device
// credentials and ACLs (docs/sync.md). State is in memory: sessions,
// queued messages and retained messages are lost when the process exits,
// which the sync protocol tolerates (un-acked deltas are re-sent, the hub
// re-publishes its global adapter on connect).
package broker
