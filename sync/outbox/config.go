package outbox

import (
	"fmt"
	"time"
)

// DropPolicy says what Put does when the outbox is full.
type DropPolicy string

const (
	// DropOldest evicts the oldest entries to make room: the newest
	// learning matters most, and a newer delta for the same base replaces
	// an older one anyway.
	DropOldest DropPolicy = "drop-oldest"
	// RejectNew refuses the new entry with ErrFull and keeps the old ones.
	RejectNew DropPolicy = "reject-new"
)

// Config bounds the outbox. It is the `outbox:` section of the sync
// configuration.
type Config struct {
	Dir string `yaml:"dir"` // one directory per device identity; created if missing
	// MaxBytes bounds the files' total size (records include a 32-byte
	// header). An entry larger than this is always refused.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxEntries bounds the number of entries; 0 means no count limit.
	MaxEntries int `yaml:"max_entries"`
	// MaxAge drops entries older than this (by the wall clock at Put);
	// 0 keeps them until acknowledged or evicted.
	MaxAge time.Duration `yaml:"max_age"`
	Drop   DropPolicy    `yaml:"drop"`
}

// DefaultConfig keeps up to 64 MiB / 1024 entries for a week, evicting the
// oldest when full.
func DefaultConfig() Config {
	return Config{
		Dir:        "state/outbox",
		MaxBytes:   64 << 20,
		MaxEntries: 1024,
		MaxAge:     7 * 24 * time.Hour,
		Drop:       DropOldest,
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: dir is empty", ErrInvalidConfig)
	case c.MaxBytes <= recordHeader:
		return fmt.Errorf("%w: max_bytes %d must exceed the %d-byte record header", ErrInvalidConfig, c.MaxBytes, recordHeader)
	case c.MaxEntries < 0:
		return fmt.Errorf("%w: max_entries %d < 0", ErrInvalidConfig, c.MaxEntries)
	case c.MaxAge < 0:
		return fmt.Errorf("%w: max_age %v < 0", ErrInvalidConfig, c.MaxAge)
	case c.Drop != DropOldest && c.Drop != RejectNew:
		return fmt.Errorf("%w: drop %q, want %q or %q", ErrInvalidConfig, c.Drop, DropOldest, RejectNew)
	}
	return nil
}
