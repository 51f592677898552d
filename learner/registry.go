package learner

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
)

var (
	factoriesMu sync.RWMutex
	factories   = map[string]Factory{}
)

// Register makes a method available by name. It panics on a duplicate or
// nil factory, like database/sql.Register, because both are programming
// errors found at init time.
func Register(name string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if f == nil {
		panic("learner: Register factory is nil for " + name)
	}
	if _, dup := factories[name]; dup {
		panic("learner: Register called twice for " + name)
	}
	factories[name] = f
}

// Methods lists the registered method names, sorted.
func Methods() []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]string, 0, len(factories))
	for n := range factories {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func lookupFactory(name string) (Factory, bool) {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	f, ok := factories[name]
	return f, ok
}

// New builds the method cfg.Method over labels. log may be nil (discarded).
func New(cfg Config, labels *Labels, log *slog.Logger) (Method, error) {
	f, ok := lookupFactory(cfg.Method)
	if !ok {
		return nil, fmt.Errorf("%w: %q (have %v)", ErrUnknownMethod, cfg.Method, Methods())
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dim < 1 {
		return nil, fmt.Errorf("%w: dim must be set before New", ErrInvalidConfig)
	}
	if labels == nil || labels.Dim() != cfg.Dim {
		return nil, fmt.Errorf("%w: labels dim does not match config dim %d", ErrDim, cfg.Dim)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return f(cfg, labels, log.With("method", cfg.Method))
}
