package accel

import (
	"errors"

	"github.com/clipfleet/clipfleet/internal/errkind"
)

// Sentinel errors let the daemon decide what to do with a failure: try
// another backend, refuse a model, or fix its configuration.
var (
	// ErrUnknownBackend: no backend of that name is registered (usually a
	// missing blank import of the backend package).
	ErrUnknownBackend = errors.New("accel: unknown backend")
	// ErrBackendUnavailable: the backend exists but cannot run in this
	// process (shared library missing, support not compiled in, no device).
	// The wrapping error says why and how to fix it.
	ErrBackendUnavailable = errors.New("accel: backend unavailable")
	// ErrInvalidConfig is wrapped by every Config.Validate error.
	ErrInvalidConfig = errors.New("accel: invalid config")
	// ErrInvalidManifest is wrapped by every manifest parse or validation error.
	ErrInvalidManifest = errors.New("accel: invalid manifest")
	// ErrBadModel: a model file is missing, corrupt, or its inputs and
	// outputs do not match what the manifest declares.
	ErrBadModel = errors.New("accel: model does not match manifest")
	// ErrSpecMismatch: the tensor handed to EncodeImage was preprocessed
	// for a different spec than the loaded model takes.
	ErrSpecMismatch = errors.New("accel: tensor does not match model input")
	// ErrBadOutput: the runtime produced a non-finite or all-zero embedding,
	// which cannot be normalised and would poison similarity scores.
	ErrBadOutput = errors.New("accel: bad embedding output")
	// ErrClosed is returned by an encoder used after Close.
	ErrClosed = errors.New("accel: encoder closed")
)

// WithKind returns an error whose message is the formatted text alone (so
// it can start with the package that raised it and name the file) but
// which still matches kind with errors.Is, as well as any error wrapped
// with %w in the format.
func WithKind(kind error, format string, args ...any) error {
	return errkind.New(kind, format, args...)
}
