//go:build !tflite

package tflite

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

func TestStubExplainsRebuild(t *testing.T) {
	cfg := accel.DefaultConfig()
	cfg.Backend = BackendName
	cfg.ModelDir = "../../models/testclip"
	enc, err := accel.Open(context.Background(), cfg, nil)
	if err == nil {
		enc.Close()
		t.Fatal("stub backend opened a model")
	}
	if !errors.Is(err, accel.ErrBackendUnavailable) {
		t.Errorf("err = %v, want ErrBackendUnavailable", err)
	}
	want := "accel/tflite: built without TFLite support; rebuild with `go build -tags tflite` and libtensorflowlite_c installed (see README)"
	if err.Error() != want {
		t.Errorf("err = %q\nwant %q", err, want)
	}
	if !slices.Contains(accel.Backends(), BackendName) {
		t.Errorf("stub not registered: %v", accel.Backends())
	}
}
