package labels

import (
	"errors"

	"github.com/clipfleet/clipfleet/internal/errkind"
)

// Sentinel errors for decisions callers make.
var (
	// ErrInvalidConfig is wrapped by every Config.Validate error.
	ErrInvalidConfig = errors.New("labels: invalid config")
	// ErrInvalidName: a label name is empty, too long, not UTF-8, contains
	// control characters or is reserved.
	ErrInvalidName = errors.New("labels: invalid label name")
	// ErrInvalidTemplate: a prompt template is empty, too long or lacks "{}".
	ErrInvalidTemplate = errors.New("labels: invalid template")
	// ErrInvalidFile: a label file cannot be parsed or breaks a rule.
	ErrInvalidFile = errors.New("labels: invalid label file")
	// ErrInvalidEmbeddings: an embeddings file or cache is malformed,
	// truncated or fails its checksum.
	ErrInvalidEmbeddings = errors.New("labels: invalid embeddings")
	// ErrModelMismatch: embeddings were made by another model, or have
	// another dimension, than the one loaded.
	ErrModelMismatch = errors.New("labels: embeddings do not match the model")
	// ErrUnknownLabel: a name is not in the vocabulary.
	ErrUnknownLabel = errors.New("labels: unknown label")
	// ErrNoTokenizer: prompts cannot be encoded because no tokenizer is
	// configured for a model whose manifest names none.
	ErrNoTokenizer = errors.New("labels: no tokenizer")
	// ErrDimMismatch: an embedding has a different length than the set's.
	ErrDimMismatch = errors.New("labels: embedding dimension mismatch")
)

// errorf returns an error whose message is the formatted text alone (so a
// message built from nested context does not repeat "labels:" and the
// sentinel's words) but which matches kind with errors.Is, as well as any
// error wrapped with %w in format.
func errorf(kind error, format string, args ...any) error {
	return errkind.New(kind, format, args...)
}
