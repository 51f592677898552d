package capture_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/capturetest"
	_ "github.com/clipfleet/clipfleet/capture/synthetic"
)

func TestRegistry(t *testing.T) {
	var gotCfg capture.Config
	capture.Register("test-registry", func(cfg capture.Config, _ *slog.Logger) (capture.Source, error) {
		gotCfg = cfg
		return capturetest.New("registered"), nil
	})
	if kinds := capture.Kinds(); !slices.Contains(kinds, "test-registry") || !slices.Contains(kinds, capture.KindSynthetic) || !slices.IsSorted(kinds) {
		t.Fatalf("Kinds() = %v, want sorted and holding test-registry and synthetic", kinds)
	}

	cfg := capture.DefaultConfig()
	cfg.Source, cfg.Seed = "test-registry", 42
	src, err := capture.New(cfg, nil)
	if err != nil {
		t.Fatalf("New(registered kind) = %v", err)
	}
	if src.Name() != "fake:registered" || gotCfg.Seed != 42 {
		t.Errorf("New built %q with seed %d, want the registered factory's source with the caller's config", src.Name(), gotCfg.Seed)
	}

	t.Run("unknown kind lists registered ones", func(t *testing.T) {
		cfg := capture.DefaultConfig() // camera: built in, but capture/cv is not linked into this test
		_, err := capture.New(cfg, nil)
		if !errors.Is(err, capture.ErrUnknownKind) {
			t.Fatalf("New(camera without capture/cv) = %v, want ErrUnknownKind", err)
		}
		for _, want := range []string{`"camera"`, "synthetic", "test-registry", "capture/cv"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		cfg := capture.DefaultConfig()
		cfg.Source, cfg.ReconnectMin = "test-registry", 0
		if _, err := capture.New(cfg, nil); !errors.Is(err, capture.ErrInvalidConfig) {
			t.Errorf("New(bad config) = %v, want ErrInvalidConfig", err)
		}
	})
	t.Run("factory error is wrapped", func(t *testing.T) {
		boom := errors.New("boom")
		capture.Register("test-failing", func(capture.Config, *slog.Logger) (capture.Source, error) { return nil, boom })
		cfg := capture.DefaultConfig()
		cfg.Source = "test-failing"
		if _, err := capture.New(cfg, nil); !errors.Is(err, boom) || !strings.Contains(err.Error(), "test-failing") {
			t.Errorf("New = %v, want wrapped boom naming the kind", err)
		}
	})
	t.Run("duplicate registration panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("second Register of the same kind did not panic")
			}
		}()
		capture.Register(capture.KindSynthetic, func(capture.Config, *slog.Logger) (capture.Source, error) { return nil, nil })
	})
	t.Run("synthetic through registry", func(t *testing.T) {
		cfg := capture.DefaultConfig()
		cfg.Source, cfg.Width, cfg.Height, cfg.FPS = capture.KindSynthetic, 8, 6, 0
		src, err := capture.New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := src.Open(ctx); err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var f capture.Frame
		if err := src.Read(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if f.Width != 8 || f.Height != 6 || len(f.RGB) != 8*6*3 {
			t.Errorf("frame %dx%d with %d bytes, want 8x6 with 144", f.Width, f.Height, len(f.RGB))
		}
	})
}
