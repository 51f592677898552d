// Package hub is the fleet-sync hub: it receives device deltas over MQTT,
// verifies them (sync/wire, the device keyring), deduplicates them, merges
// them per base version into signed global adapters with strictly
// increasing versions, and acks every delta.
//
// # Protocol
//
// A new delta against the hub's current version is stored as pending and
// acked only once it is merged, so that a hub that dies before merging
// loses nothing: the device still holds the delta and sends it again.
// Each device's export holds everything it learned since its base, so a
// newer pending delta of the same device replaces the older one. A delta
// against an older version is acked but not merged: the device learns from
// the Merged lists of the global adapters up to the ack's version that its
// export was not included and sends the content again (learner.Delta's
// contract); the ack's code is StaleBase. A replay (seq at or below the
// device's high-water mark) is acked as Replayed; a re-send of the pending
// delta is silent.
//
// Deltas are merged with learner.MergeDeltas (FedAvg weighted by example
// counts, exact sums of class statistics, union of samples and labels),
// optionally after clipping each delta's tensor norm, and with the
// coordinate-wise median or a trimmed mean instead of the mean for
// tensors (Merge.Aggregator).
//
// # State and failover
//
// The version, the last global adapter, the pending deltas and the
// per-device high-water marks live in one bbolt file, written in the same
// transaction as each decision, so a SIGKILL at any point loses nothing
// and merges nothing twice (TestHubSIGKILL). Only base versions decide
// what can still be merged: a delta is mergeable only into the version
// after its base, and merging advances the version, so a standby hub that
// adopts the retained global adapter (its version and Merged list) cannot
// merge a delta the failed hub merged, while deltas the failed hub held
// pending were never acked and are sent again (TestMosquittoFailover).
//
// # Catch-up
//
// Global adapters are increments, applied in order. A device that missed
// one for good (it joined after several merges and only the latest is
// retained, or its broker session was lost) gets a catch-up: one signed
// adapter from its version to the current one, composed exactly from the
// history of increments the hub keeps in the same bbolt file (tensors and
// class statistics summed, samples concatenated, labels united, the
// Merged list of the version right after the device's), sent on the
// device's own catch-up topic. The device applies it like any global
// adapter (version floor, A/B, health check). The hub reads the devices'
// retained state to see who stays behind (CatchUp.Delay). With
// CatchUp.MaxVersions, old increments are folded into one adapter from
// version 0, so new devices can always join; a device at a folded version
// gets ErrCatchUpUnavailable and must reset its fleet state.
//
// See docs/sync.md.
package hub
