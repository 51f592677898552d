// Package wire is the binary format of fleet sync messages: device deltas,
// the hub's merged global adapter and the hub's acknowledgements, all in
// one signed envelope. It is pure Go and knows nothing of transports (MQTT
// lives elsewhere); a payload is a byte slice that Encode produces and
// Decode verifies.
//
// # Trust model
//
// Every payload is signed with Ed25519: device deltas by the device's key,
// global adapters and acks by the hub's key. A Verifier returns a device
// key only for device deltas and a hub key only for hub kinds, so a
// compromised device cannot forge an adapter. Decode checks the cheap
// CRC-32C first, so corruption (a flash cell, a broken transport) reports
// BadChecksum and is told apart from forgery (BadSignature), and nothing
// past the sender's identity is parsed before the signature verifies.
// Replays are refused against the caller's SeqStore: each sender numbers
// its payloads with a strictly increasing Seq (the device's outbox keeps
// the counter), and the receiver records the Seq only once it has durably
// processed the payload, so an at-least-once re-send of a payload it
// already has is reported as Replayed, which a hub answers with a
// duplicate ack.
//
// # Envelope
//
// All integers are little-endian; floats are IEEE 754 bit patterns.
//
//	offset  size  field
//	0       4     magic "CFSY" (43 46 53 59)
//	4       2     format version, uint16 = 1
//	6       1     kind: 1 device-delta, 2 global-adapter, 3 ack
//	7       1     reserved, 0
//	8       4     body length N, uint32
//	12      N     body
//	12+N    4     CRC-32C (Castagnoli) of bytes [0, 12+N)
//	16+N    64    Ed25519 signature of bytes [0, 16+N)
//
// A payload is exactly N+80 bytes; anything after the signature is
// Malformed.
//
// # Body
//
// str is a uint16 byte length and that many UTF-8 bytes. Lists are a
// uint32 count followed by the elements.
//
//	str     fleet            1–64 bytes of [A-Za-z0-9._-] (ValidID)
//	str     sender           device id, or the hub's id for hub kinds
//	u64     seq              ≥ 1, strictly increasing per (fleet, sender)
//	u64     base version     fleet version the delta is relative to
//	u64     version          0 for a device delta; > base for an adapter
//	u64     delta id         learner.Delta.ID (device export nonce)
//	u16     flags            bit 0: preprocessing hash present; others 0
//	8       preprocess hash  the 16 hex digits of accel.ModelInfo.PreprocessHash
//	                         as 8 raw bytes; all zero when bit 0 is clear
//	i64     created at       Unix nanoseconds, ≠ 0
//	i64     expires at       Unix nanoseconds, 0 = never
//	str     method           learner method name
//	str     model id
//	u32     dim              embedding dimension
//	f64     examples         example weight (FedAvg weight), finite, ≥ 0
//	list    merged           u64 export IDs a global adapter includes
//	                         (empty for a device delta)
//	ack, only when kind = 3:
//	  str   device           the device whose delta is acknowledged
//	  u64   seq              that delta's seq
//	  u8    code             RejectCode: 0 accepted, 17 stale-base (verified
//	                         but not merged: its base is not the hub's
//	                         version), else why it was refused
//	list    tensors, each:
//	  str   name             unique, non-empty
//	  u8    dtype            1 float32, 2 int8
//	  u8    layout           0 dense, 1 sparse (top-k)
//	  u8    rank R           ≤ 8
//	  R×u32 shape            every dimension ≥ 1; the product n counts toward
//	                         the policy's element limit
//	  sparse only: u32 K ≤ n, then K×u32 flat indices, strictly increasing, < n
//	  values, V = K if sparse else n:
//	    float32: V×f32
//	    int8:    rows×f32 scales (rows = shape[0] if R ≥ 2, else 1; finite,
//	             ≥ 0), then V×i8 in [-127, 127]; value = q × scale of its row
//	list    classes (learner.ClassStats), each:
//	  u64 label ≠ 0, unique; f64 count ≥ 0; i64 examples ≥ 0; list f64 sum (dim values)
//	list    samples (learner.Example), each:
//	  u64 label ≠ 0; f32 weight ≥ 0; u8 source (0–2); list f32 embedding (dim values)
//	list    labels (learner.LabelInfo), each:
//	  u64 id ≠ 0, unique; str name; list f32 text embedding (0 or dim values)
//
// Every field has exactly one valid encoding, so an accepted payload
// re-encodes to the same bytes (FuzzDecode checks this): no unverified
// information can ride along in padding, alternative encodings or slack.
//
// # Decode order
//
// Decode stops at the first failure, in this order, so that nothing is
// allocated from an unchecked length and nothing is trusted before the
// signature:
//
//  1. Truncated (< 12 bytes), BadMagic, UnsupportedVersion.
//  2. Oversize: the buffer, or the declared body length, above MaxBytes.
//  3. Truncated (shorter than declared), Malformed (longer; bad kind or
//     reserved byte).
//  4. BadChecksum.
//  5. Malformed sender fields; WrongKind; UnknownKey (other fleet, unknown
//     sender, or a sender without a key for this kind); BadSignature.
//     From here on a RejectError names the authenticated Device and Seq.
//  6. Malformed or NonFinite header fields; Replayed; Expired.
//  7. For deltas and adapters: WrongModel (method, model id),
//     WrongDimension, WrongPreprocess.
//  8. Sections: Malformed counts (each checked against the bytes left
//     before allocating), Oversize (tensor shapes above MaxElements).
//  9. Malformed or WrongDimension content, then NonFinite over every
//     float, then NormTooLarge — NaN and Inf are refused before any norm
//     is computed.
//
// # Compression and error feedback
//
// FromDelta converts a learner.Delta, optionally quantising tensors to int8
// (one scale per row: |error| ≤ scale/2) and keeping only the top-k
// entries. Float32 dense tensors, class statistics, samples and labels are
// always exact. An ErrorFeedback adds what compression dropped from the
// last merged export to the next one, so the fleet receives every change
// eventually; see its documentation for when a residual becomes due.
//
// A 512×64 float32 adapter encodes to about 131 KB as float32, 35 KB as
// int8 and 19 KB at int8 top-10%, where each index costs 4 bytes
// (go test -bench . ./sync/wire).
//
// # Fixtures
//
// testdata/catalogue.json lists payloads (testdata/fixtures/*.bin) with
// the code Decode must return for each under the test policy; they are
// generated deterministically from fixed keys and seeds by
// `go test ./sync/wire -run TestFixtures -update`, and FuzzDecode starts
// from them.
package wire
