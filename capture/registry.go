package capture

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Factory builds an unopened Source from a validated Config. It must not
// touch the device: the Grabber (or the caller) opens it.
type Factory func(cfg Config, log *slog.Logger) (Source, error)

// ErrUnknownKind is returned by New for a kind no linked-in package registered.
var ErrUnknownKind = errors.New("capture: unknown source kind")

var registry = struct {
	sync.RWMutex
	m map[string]Factory
}{m: map[string]Factory{}}

// Register makes a source kind available to New. Packages call it from init;
// registering a kind twice or a nil factory is a programming error and panics.
func Register(kind string, f Factory) {
	if kind == "" || f == nil {
		panic("capture: Register with empty kind or nil factory")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[kind]; dup {
		panic("capture: Register called twice for kind " + kind)
	}
	registry.m[kind] = f
}

// Kinds lists the registered source kinds, sorted.
func Kinds() []string {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]string, 0, len(registry.m))
	for k := range registry.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New builds an unopened Source of kind cfg.Source after validating cfg.
func New(cfg Config, log *slog.Logger) (Source, error) {
	registry.RLock()
	f, ok := registry.m[cfg.Source]
	registry.RUnlock()
	if !ok {
		kinds := Kinds()
		list := "none"
		if len(kinds) > 0 {
			list = strings.Join(kinds, ", ")
		}
		return nil, fmt.Errorf("%w %q (registered: %s); blank-import capture/cv for camera, gstreamer, url, file and folder, capture/synthetic for synthetic",
			ErrUnknownKind, cfg.Source, list)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	src, err := f(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("capture: new %s source: %w", cfg.Source, err)
	}
	return src, nil
}
