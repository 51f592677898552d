package replay

import (
	"errors"
	"fmt"
)

// ErrInvalidConfig wraps every Validate failure.
var ErrInvalidConfig = errors.New("replay: invalid config")

// Config bounds and seeds the memory.
type Config struct {
	// MaxBytes bounds the stored examples (quantized embedding, scale,
	// weight, label, source); the memory never holds more.
	MaxBytes int64 `yaml:"max_bytes"`
	// Seed makes the reservoir's choices reproducible.
	Seed uint64 `yaml:"seed"`
}

// DefaultConfig keeps 4 MiB: about 7900 examples of a 512-d CLIP.
func DefaultConfig() Config { return Config{MaxBytes: 4 << 20, Seed: 1} }

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	if c.MaxBytes < 1 {
		return fmt.Errorf("%w: max_bytes %d < 1", ErrInvalidConfig, c.MaxBytes)
	}
	return nil
}
