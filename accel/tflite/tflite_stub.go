//go:build !tflite

package tflite

import (
	"context"
	"log/slog"

	"github.com/clipfleet/clipfleet/accel"
)

// errNotCompiled is the cause Open reports in builds without the tflite tag.
var errNotCompiled = accel.WithKind(accel.ErrBackendUnavailable,
	"accel/tflite: built without TFLite support; rebuild with `go build -tags tflite` and libtensorflowlite_c installed (see README)")

func init() {
	accel.Register(BackendName, accel.BackendFunc(func(context.Context, *accel.Model, accel.Config, *slog.Logger) (accel.Encoder, error) {
		return nil, errNotCompiled
	}))
}
