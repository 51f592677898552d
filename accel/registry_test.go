package accel

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/clipfleet/clipfleet/preprocess"
)

type stubEncoder struct{ info ModelInfo }

func (s *stubEncoder) Info() ModelInfo { return s.info }
func (s *stubEncoder) EncodeImage(context.Context, *preprocess.Tensor, []float32) error {
	return nil
}
func (s *stubEncoder) EncodeText(context.Context, [][]int32) ([][]float32, error) { return nil, nil }
func (s *stubEncoder) Close() error                                               { return nil }

// Registrations are process-global, so the test backends are registered
// once even under -count=N.
var (
	registerOnce sync.Once
	gotModel     atomic.Pointer[Model]
)

func registerTestBackends() {
	registerOnce.Do(func() {
		Register("registry-test-ok", BackendFunc(func(ctx context.Context, m *Model, cfg Config, log *slog.Logger) (Encoder, error) {
			gotModel.Store(m)
			info := m.Info()
			info.Backend = cfg.Backend
			return &stubEncoder{info: info}, nil
		}))
		Register("registry-test-unavailable", BackendFunc(func(context.Context, *Model, Config, *slog.Logger) (Encoder, error) {
			return nil, WithKind(ErrBackendUnavailable, "test: library missing; install it")
		}))
		Register("registry-test-dup", BackendFunc(nil))
	})
}

func TestRegisterAndOpen(t *testing.T) {
	registerTestBackends()
	name := "registry-test-ok"
	if !slices.Contains(Backends(), name) || !slices.IsSorted(Backends()) {
		t.Fatalf("Backends() = %v", Backends())
	}

	cfg := DefaultConfig()
	cfg.Backend = name
	cfg.ModelDir = "../models/testclip"
	cfg.Variant = "base"
	enc, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := enc.Info()
	m := gotModel.Load()
	if info.Backend != name || info.ID != "testclip-random-v1" || info.Variant != "" || !strings.HasSuffix(m.ImageFile, "/image.onnx") {
		t.Errorf("Open passed model %+v, info %+v", m, info)
	}

	cfg.Backend = "registry-test-unavailable"
	if _, err := Open(context.Background(), cfg, nil); !errors.Is(err, ErrBackendUnavailable) || !strings.Contains(err.Error(), "install it") {
		t.Errorf("unavailable backend: %v", err)
	}
	cfg.Backend = "tflite" // known name, not linked into this test binary
	if _, err := Open(context.Background(), cfg, nil); !errors.Is(err, ErrUnknownBackend) || !strings.Contains(err.Error(), "accel/tflite") {
		t.Errorf("unlinked backend: %v", err)
	}
	cfg.Backend = name
	cfg.Variant = "int4"
	if _, err := Open(context.Background(), cfg, nil); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "have base, int8") {
		t.Errorf("unknown variant: %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	registerTestBackends()
	for name, f := range map[string]func(){
		"duplicate": func() { Register("registry-test-dup", BackendFunc(nil)) },
		"empty":     func() { Register("", BackendFunc(nil)) },
		"nil":       func() { Register("registry-test-nil", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			f()
		}()
	}
}
