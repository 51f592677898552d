package accel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Backend opens encoders for one runtime (ONNX Runtime, TFLite, a fake).
// Backends register themselves from their package's init, so the daemon
// picks which runtimes it links by blank-importing their packages.
type Backend interface {
	// Open loads the model's files selected by m. An error wrapping
	// ErrBackendUnavailable means the runtime itself cannot run here; it
	// must say why and how to fix it. An error wrapping ErrBadModel means
	// the files do not match the manifest.
	Open(ctx context.Context, m *Model, cfg Config, log *slog.Logger) (Encoder, error)
}

// BackendFunc adapts a function to Backend.
type BackendFunc func(ctx context.Context, m *Model, cfg Config, log *slog.Logger) (Encoder, error)

// Open calls f.
func (f BackendFunc) Open(ctx context.Context, m *Model, cfg Config, log *slog.Logger) (Encoder, error) {
	return f(ctx, m, cfg, log)
}

var registry = struct {
	sync.RWMutex
	m map[string]Backend
}{m: map[string]Backend{}}

// Register makes a backend available under name. It panics on an empty
// name, a nil backend or a duplicate, which are programming errors caught at
// start-up (as database/sql does for drivers).
func Register(name string, b Backend) {
	if name == "" || b == nil {
		panic("accel: Register with empty name or nil backend")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("accel: backend registered twice: " + name)
	}
	registry.m[name] = b
}

// Backends returns the registered backend names, sorted.
func Backends() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookup(name string) (Backend, bool) {
	registry.RLock()
	defer registry.RUnlock()
	b, ok := registry.m[name]
	return b, ok
}

// Open validates cfg, loads the model directory (manifest.yaml, or a
// Hugging Face CLIP ONNX export) with the chosen variant, and opens it on
// the configured backend.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (Encoder, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b, ok := lookup(cfg.Backend)
	if !ok {
		return nil, fmt.Errorf("%w %q (registered: %s); the daemon must import its package, e.g. _ \"github.com/clipfleet/clipfleet/accel/%s\"",
			ErrUnknownBackend, cfg.Backend, strings.Join(Backends(), ", "), cfg.Backend)
	}
	m, err := LoadModel(cfg.ModelDir, cfg.Variant)
	if err != nil {
		return nil, err
	}
	enc, err := b.Open(ctx, m, cfg, log)
	if err != nil {
		return nil, err
	}
	info := enc.Info()
	log.Info("accel: encoder ready", "backend", info.Backend, "model", info.ID,
		"variant", info.Variant, "source", m.Source, "dim", info.EmbeddingDim,
		"text", info.HasText, "runtime", info.Runtime, "preprocess", info.PreprocessHash)
	return enc, nil
}
