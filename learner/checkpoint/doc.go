// Package checkpoint keeps the learner's state on disk so that no crash —
// SIGKILL, power loss, a full disk — can leave the device with a corrupt or
// half-old half-new state.
//
// Each checkpoint is one file ckpt-<seq>.bin holding a header (magic,
// format version, sequence number, payload length, CRC32C of header and
// payload) and the payload, written atomically through internal/atomicfile.
// The last Keep checkpoints are kept. Load returns the newest checkpoint
// that verifies; a damaged one is renamed *.corrupt-<time> (kept for
// inspection, never loaded again) and the previous one is tried.
//
// A Store assumes a single writing process per directory.
package checkpoint
