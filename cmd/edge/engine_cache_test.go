package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

// On a Jetson the TensorRT provider caches its engines under the state
// directory unless the config says where; other providers get nothing.
func TestTensorRTEngineCacheDefaultsToStateDir(t *testing.T) {
	state := t.TempDir()
	t.Setenv("CLIPFLEET_STATE_DIR", state)
	jetson := boardFixture(t, "jetson-orin-nano")
	cache := func(c accel.Config) (string, bool) {
		for _, p := range c.ONNX.Providers {
			if p.Name == accel.ProviderTensorRT {
				return p.EngineCacheDir, true
			}
			if p.EngineCacheDir != "" {
				t.Errorf("provider %s got an engine cache %q", p.Name, p.EngineCacheDir)
			}
		}
		return "", false
	}
	c := printConfig(t, nil, "--set", "boards.root="+jetson)
	got, ok := cache(c.Accel)
	if !ok {
		t.Fatalf("the Jetson's defaults have no tensorrt provider: %+v", c.Accel.ONNX.Providers)
	}
	if want := filepath.Join(state, "tensorrt"); got != want {
		t.Fatalf("engine cache %q, want %q", got, want)
	}
	c = printConfig(t, nil, "--set", "boards.root="+jetson, "--set", "state_dir="+filepath.Join(state, "other"))
	if got, _ := cache(c.Accel); got != filepath.Join(state, "other", "tensorrt") {
		t.Fatalf("with state_dir: %q", got)
	}
	// A configured cache is kept.
	file := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(file, []byte("accel:\n  onnx:\n    providers:\n      - {name: tensorrt, engine_cache_dir: /var/cache/trt}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c = printConfig(t, nil, "--config", file)
	if got, _ := cache(c.Accel); got != "/var/cache/trt" {
		t.Fatalf("configured cache replaced by %q", got)
	}
	// Off the Jetson (CPU only), nothing changes.
	cache(printConfig(t, nil).Accel)
}
