// Package labels is the daemon's label vocabulary and its zero-shot CLIP
// classifier (the Continual-CLIP baseline): the names the device can say,
// the prompt templates that turn a name into text, the text embeddings of
// those prompts, and softmax(logit_scale · cos(image, label)) over them.
//
// # Vocabulary
//
// A [Vocabulary] is a list of labels, each a name in any language (UTF-8,
// compared in [learner.CanonicalName] form, identified fleet-wide by
// [learner.IDFor]) with optional per-label prompt templates. It is kept in
// the device's state directory as labels.yaml, written crash-safely:
//
//	version: 1
//	templates:                # optional: this set's templates (else labels.templates)
//	  - a photo of a {}.
//	labels:
//	  - name: circle
//	  - name: triángulo
//	    templates: [una foto de un {}.]   # optional per-label override
//
// Without that file the vocabulary is labels.default from the config.
//
// # Label embeddings
//
// A label's text embedding is the normalised mean of the normalised text
// embeddings of its prompts, one prompt per template ("a photo of a {}."
// with the name in place of "{}"), as in CLIP's prompt ensembling.
// Embeddings come, in this order of preference, from
//
//  1. labels.embeddings_file, for devices without a text encoder (JSON or
//     the binary format below; its model id and dimension must match the
//     loaded model's);
//  2. the embedding cache beside the label file, keyed per label by the
//     model id, the embedding dimension and the exact token ids of every
//     prompt (so a change of model, template, tokenizer or context length
//     misses, and nothing else does);
//  3. the model's text encoder, whose results then go into the cache.
//
// The cache is versioned and checksummed; a corrupt or foreign cache is
// logged, ignored and rebuilt.
//
// # Binary embeddings format
//
// Both the cache and exported embeddings files use one little-endian
// container: magic "CFLBLEMB", uint16 version (1), uint8 kind (1 cache,
// 2 embeddings), uint8 zero, uint32 dim, uint16-length-prefixed model id,
// uint32 count, then per entry a uint16-length-prefixed UTF-8 name, for the
// cache a 32-byte key, and dim float32 values; last a CRC-32C of all the
// preceding bytes.
//
// # Classification
//
// A [Set] is an immutable, ready-to-score label set; a [Classifier] holds
// the current Set behind an atomic pointer, so a [Manager] can rebuild and
// swap it (when the label file changes) while frames are being classified.
// Classify allocates nothing when given a result buffer.
package labels
