package learner

import "errors"

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrDim: an embedding or tensor does not have the configured dimension.
	ErrDim = errors.New("learner: dimension mismatch")
	// ErrBadEmbedding: an embedding has a NaN/Inf component or zero norm.
	ErrBadEmbedding = errors.New("learner: bad embedding")
	// ErrUnknownLabel: an example or delta refers to an ID not in Labels.
	ErrUnknownLabel = errors.New("learner: unknown label")
	// ErrInvalidID: the zero ID, which never names a class.
	ErrInvalidID = errors.New("learner: invalid label id")
	// ErrUnknownMethod: no method is registered under that name.
	ErrUnknownMethod = errors.New("learner: unknown method")
	// ErrIncompatible: a snapshot or delta was made by another method,
	// dimension, configuration or model.
	ErrIncompatible = errors.New("learner: incompatible state")
	// ErrCorrupt: a snapshot could not be decoded.
	ErrCorrupt = errors.New("learner: corrupt snapshot")
	// ErrBaseMismatch: a delta was asked or applied against a base version
	// the method is not at; the device needs a full resync.
	ErrBaseMismatch = errors.New("learner: base version mismatch")
	// ErrClassFull: the per-class example cap is reached.
	ErrClassFull = errors.New("learner: class example cap reached")
	// ErrNothingToUndo: the undo journal holds fewer actions than asked.
	ErrNothingToUndo = errors.New("learner: nothing to undo")
	// ErrInvalidConfig: Config.Validate failed.
	ErrInvalidConfig = errors.New("learner: invalid config")
)
