package wire

import (
	"fmt"
	"math"
)

// Config holds the decoder's limits and the encoder's compression. It is
// the `wire:` section of the sync configuration.
type Config struct {
	// MaxBytes is the largest encoded payload Decode accepts; checked
	// before anything is parsed or allocated.
	MaxBytes int `yaml:"max_bytes"`
	// MaxElements bounds the dense elements of all tensors together (a
	// sparse tensor counts its full shape, since converting it to a
	// learner.Delta expands it).
	MaxElements int `yaml:"max_elements"`
	// MaxNorm bounds every tensor's L2 norm; 0 disables the bound. A device
	// whose learner diverged (or an attacker with a device key) cannot push
	// the fleet's adapter arbitrarily far in one round.
	MaxNorm     float64     `yaml:"max_norm"`
	Compression Compression `yaml:"compression"`
}

// Compression says how FromDelta encodes tensors. Class statistics,
// samples and label texts are always exact: sums must add up across the
// fleet.
type Compression struct {
	// Int8 quantises tensors to int8 with one scale per row, with error
	// feedback if the caller passes an ErrorFeedback.
	Int8 bool `yaml:"int8"`
	// TopK, in (0, 1), keeps only that fraction of each tensor's entries,
	// the largest in magnitude; 0 (or 1) sends tensors dense.
	TopK float64 `yaml:"top_k"`
}

// DefaultConfig accepts payloads up to 16 MiB holding up to 4 M tensor
// elements, without a norm bound, and sends int8 dense tensors.
func DefaultConfig() Config {
	return Config{
		MaxBytes:    16 << 20,
		MaxElements: 4 << 20,
		Compression: Compression{Int8: true},
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	switch {
	case c.MaxBytes < minEnvelope || c.MaxBytes > math.MaxUint32:
		return fmt.Errorf("%w: max_bytes %d outside [%d, 4 GiB)", ErrInvalidConfig, c.MaxBytes, minEnvelope)
	case c.MaxElements < 1 || c.MaxElements > math.MaxInt32:
		return fmt.Errorf("%w: max_elements %d outside [1, 2^31)", ErrInvalidConfig, c.MaxElements)
	case !finite64(c.MaxNorm) || c.MaxNorm < 0:
		return fmt.Errorf("%w: max_norm %v must be finite and ≥ 0", ErrInvalidConfig, c.MaxNorm)
	}
	return c.Compression.Validate()
}

// Validate checks the compression settings.
func (c Compression) Validate() error {
	if !finite64(c.TopK) || c.TopK < 0 || c.TopK > 1 {
		return fmt.Errorf("%w: top_k %v outside [0, 1]", ErrInvalidConfig, c.TopK)
	}
	return nil
}
