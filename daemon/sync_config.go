package daemon

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/outbox"
)

// SyncConfig is the `sync:` section: fleet sync of what the learner learns
// (see docs/sync.md). The transport keys (broker, topic_prefix, fleet,
// device, state_dir, ack_timeout, apply_timeout, wire) sit at the top of
// the section, beside the daemon's own.
type SyncConfig struct {
	// Enabled turns fleet sync on; it needs learn.enabled.
	Enabled     bool `yaml:"enabled"`
	mqtt.Config `yaml:",inline"`
	// KeyFile is this device's Ed25519 private key (`hub keygen` writes
	// the same format), mode 0600. Its public key is enrolled on the hub
	// as device_keys_dir/<device>.pub.
	KeyFile string `yaml:"key_file"`
	// HubKeysDir holds "<hub>.pub" of every hub of the fleet (active and
	// standby): only adapters and acks they signed are accepted.
	HubKeysDir string `yaml:"hub_keys_dir"`
	// Outbox bounds the durable queue of deltas; an empty dir means
	// <state_dir>/sync/outbox.
	Outbox outbox.Config `yaml:"outbox"`
	// ExportInterval is how often the learner's local changes are
	// exported as a delta (when the previous one has been settled).
	ExportInterval time.Duration `yaml:"export_interval"`
	// Health judges a global adapter before it is committed.
	Health SyncHealth `yaml:"health"`
}

// SyncHealth is the A/B health check of a global adapter: the taught
// examples in the replay memory are classified before and after applying
// it.
type SyncHealth struct {
	// Examples caps how many replay examples are checked.
	Examples int `yaml:"examples"`
	// MaxDrop is the largest accuracy loss on those examples (a fraction,
	// 0.25 = 25 points) tolerated before the adapter is rolled back. The
	// fleet's learning may move a few of this device's examples; an
	// adapter that forgets what this device was taught is refused.
	MaxDrop float64 `yaml:"max_drop"`
}

// DefaultSyncConfig is off; enabling it needs fleet, device, key_file and
// hub_keys_dir.
func DefaultSyncConfig() SyncConfig {
	c := SyncConfig{Config: mqtt.DefaultConfig(), Outbox: outbox.DefaultConfig(), ExportInterval: time.Minute,
		Health: SyncHealth{Examples: 256, MaxDrop: 0.25}}
	// Empty: under the daemon's state directory (see resolve).
	c.StateDir, c.Outbox.Dir = "", ""
	return c
}

// resolve fills the directories left empty from the daemon's state
// directory.
func (c SyncConfig) resolve(stateDir string) SyncConfig {
	if c.StateDir == "" {
		c.StateDir = filepath.Join(stateDir, "sync")
	}
	if c.Outbox.Dir == "" {
		c.Outbox.Dir = filepath.Join(stateDir, "sync", "outbox")
	}
	return c
}

// Validate checks the section without side effects; a disabled section is
// not checked, so its placeholders need not be filled.
func (c SyncConfig) Validate() error {
	if !c.Enabled {
		return nil
	}
	r := c.resolve("state")
	if err := r.Config.Validate(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if err := r.Outbox.Validate(); err != nil {
		return fmt.Errorf("sync.outbox: %w", err)
	}
	switch {
	case c.KeyFile == "":
		return fmt.Errorf("%w: sync.key_file is required (the device's Ed25519 key)", ErrInvalidConfig)
	case c.HubKeysDir == "":
		return fmt.Errorf("%w: sync.hub_keys_dir is required (the hubs' public keys)", ErrInvalidConfig)
	case c.ExportInterval < 100*time.Millisecond:
		return fmt.Errorf("%w: sync.export_interval %v < 100ms", ErrInvalidConfig, c.ExportInterval)
	case c.Health.Examples < 0:
		return fmt.Errorf("%w: sync.health.examples %d < 0", ErrInvalidConfig, c.Health.Examples)
	case !(c.Health.MaxDrop >= 0 && c.Health.MaxDrop <= 1):
		return fmt.Errorf("%w: sync.health.max_drop %v outside [0,1]", ErrInvalidConfig, c.Health.MaxDrop)
	}
	return nil
}
