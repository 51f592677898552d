// Package outbox is a device's durable queue of encoded sync payloads
// (sync/wire device deltas) waiting for the hub's acknowledgement. It is
// pure Go and transport-agnostic: the MQTT client takes entries out with
// Next, publishes them, and calls Ack when the hub's signed wire ack for
// that seq arrives.
//
// # Guarantees
//
//   - Put is durable on return: the entry survives SIGKILL and power loss
//     (temp file in the directory, fsync, rename, fsync of the directory,
//     via internal/atomicfile). Put works with no connection at all.
//   - An entry is removed only by Ack (or by the drop policy / MaxAge,
//     which are counted and logged). Ack is durable on return: the file
//     is unlinked and the directory fsynced, so an acknowledged entry
//     never comes back after a crash.
//   - Delivery is at least once. Next hands entries out in seq order;
//     after a restart (or Rewind) everything not acknowledged is handed
//     out again, including entries that were in flight. The hub
//     deduplicates by (device, seq): wire.Decode reports a re-sent seq as
//     Replayed and the hub acks it again.
//   - Sequence numbers are never reused, even after every entry was
//     acknowledged and the process restarted: before the file holding the
//     highest seq ever put is deleted, that seq is written to a small floor
//     file ("seq"). Reusing one would make the hub drop a new delta as a
//     replay.
//   - Corruption is detected, not propagated: each file carries a CRC-32C
//     over its header and payload and its seq in both name and header. A
//     file that fails (bit rot, a truncated file from a broken filesystem)
//     is moved to corrupt/ for a post-mortem, logged, counted in Stats and
//     listed by Corrupt, and the rest of the outbox is used normally. Its
//     seq is still never reused. A corrupt floor file makes NextSeq jump to
//     the clock in microseconds, far above any count a device reaches.
//
// TestSIGKILL checks the first three against a worker killed at random
// points dozens of times.
//
// # Why the hub's ack and not the broker's
//
// An MQTT QoS 1 PUBACK proves only that the broker took the message. The
// broker may lose it (a restart without persistence), the hub may be
// offline with a non-persistent session, or the hub may receive it and
// crash before storing the delta, or refuse it. Only the hub knows it has
// durably recorded a delta, so only its application-level ack (a signed
// wire.KindAck naming this device and seq, sent after it stored the delta
// or refused it for good) may remove the entry. A refusal is acked too, with
// its reason in Ack.Code, so that a delta the hub will never take does not
// block the outbox forever.
//
// # Layout
//
// One file per entry, named by the zero-padded seq ("%020d.msg") so a
// directory listing is in seq order. A segment log with checksummed
// records would need compaction to reclaim acknowledged records and
// tombstones for acks out of order; here entries are few and large (a
// delta is tens of kilobytes, produced minutes apart), so a file each
// costs little, makes Ack a single unlink, and confines any corruption to
// one entry. Entry files are:
//
//	0   4  magic "CFOB"
//	4   2  format 1
//	6   2  reserved 0
//	8   8  seq
//	16  8  created at, Unix nanoseconds (wall clock, for MaxAge)
//	24  4  payload length
//	28  4  CRC-32C of bytes [0, 28) and the payload
//	32  …  payload
//
// MaxAge uses the wall clock at Put. A clock set back (a board without an
// RTC before NTP) keeps entries longer; one jumping forward after entries
// were stored with a 1970 clock expires them early — choose MaxAge with
// that in mind, or 0.
//
// One process per directory: there is no lock file.
package outbox
