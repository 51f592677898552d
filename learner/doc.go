// Package learner turns L2-normalised CLIP image embeddings into labels and
// keeps learning on the device without a GPU, in pure Go.
//
// The frozen encoder (package accel) produces image embeddings of dimension
// D; the text encoder produces one embedding per label name. A Method maps an
// image embedding to logits over the labels of a shared Labels registry and
// learns from Examples (taught by a person, or pseudo-labelled by consensus).
//
// Three threats shape the design:
//   - catastrophic forgetting: methods expose exact sufficient statistics
//     where they can (ncm), and Trainer caps per-class examples;
//   - loss of zero-shot ability: the label text embeddings stay the anchor of
//     every baseline, and the zeroshot method is the reference;
//   - image/text drift: adapters start as the identity, and deltas carry the
//     base version they were computed against so stale updates are refused.
//
// Classes are identified by stable IDs (a hash of the canonical name, or a
// random ID for a class nobody has named yet) so that devices of a fleet can
// merge what they learned. Delta and MergeDeltas define the merge contract
// that package sync ships over MQTT: tensors are averaged weighted by example
// counts, sufficient statistics are added, stored samples are concatenated.
//
// Methods register themselves by name (Register, New). The baselines here
// are "zeroshot", "ncm", "knn" and "finetune"; later methods plug into the
// same interfaces.
package learner
