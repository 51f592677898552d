// Package mqtt is the device side of fleet sync over MQTT 3.1.1 (paho),
// plus what device and hub share: topic names (Topics), broker connection
// settings with TLS/mTLS and credentials (Broker), and Ed25519 key files.
//
// A Device publishes its outbox (sync/outbox) one delta at a time at QoS 1
// on a persistent session with automatic reconnect, and removes an entry
// only when the hub's signed application-level ack for that seq arrives:
// a PUBACK only proves that the broker took the message. Un-acked entries
// are sent again after a reconnect or AckTimeout. Enqueue works before the
// first connection.
//
// The Device also subscribes to the fleet's retained global adapter,
// verifies it with the hub keys only (wire.Decode: signature, expiry,
// model), refuses anything not strictly newer than the version floor kept
// on disk (no rollback, no replay, even across restarts), and installs it
// through an Applier A/B: apply, health check, then commit, or roll back
// to the previous adapter. The floor advances only on commit, so a failed
// adapter leaves both the adapter in use and the floor unchanged. A
// catch-up adapter, which the hub sends on the device's own catch-up topic
// when the device missed versions for good, goes through the same checks;
// among queued adapters the one starting at the active version and
// reaching furthest is applied first.
//
// docs/sync.md describes the topics, the protocol and the security model.
package mqtt
