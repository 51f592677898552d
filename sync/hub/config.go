package hub

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// ErrInvalidConfig wraps every Validate failure.
var ErrInvalidConfig = errors.New("hub: invalid config")

// Aggregators combine the tensors of the deltas of one round.
const (
	// FedAvg: the mean weighted by example counts (learner.MergeDeltas).
	FedAvg = "fedavg"
	// Median: the coordinate-wise median, unweighted; one device can move
	// no coordinate past the honest majority.
	Median = "median"
	// TrimmedMean: per coordinate, drop the TrimFraction largest and
	// smallest values, average the rest (unweighted).
	TrimmedMean = "trimmed_mean"
)

// Config is one hub serving one fleet.
type Config struct {
	// ID names the hub: the sender of its global adapters and acks, and
	// its status topic. Hubs of a fleet (active and standby) have
	// different ids.
	ID          string      `yaml:"id"`
	Fleet       string      `yaml:"fleet"`
	TopicPrefix string      `yaml:"topic_prefix"`
	Broker      mqtt.Broker `yaml:"broker"`
	// KeyFile is this hub's Ed25519 private key (hub keygen), mode 0600.
	KeyFile string `yaml:"key_file"`
	// DeviceKeysDir holds "<device>.pub" for every enrolled device.
	DeviceKeysDir string `yaml:"device_keys_dir"`
	// HubKeysDir holds "<hub>.pub" of the fleet's other hubs, whose
	// retained global adapter this hub adopts (failover). Optional.
	HubKeysDir string `yaml:"hub_keys_dir"`
	// StatePath is the bbolt file with the dedup marks, pending deltas
	// and the version counter; one hub process per file.
	StatePath string `yaml:"state_path"`
	// Standby makes the hub wait until every hub in Peers is offline (its
	// last will fired) before serving; see docs/sync.md.
	Standby bool     `yaml:"standby"`
	Peers   []string `yaml:"peers"`

	Model Model `yaml:"model"`
	Merge Merge `yaml:"merge"`
	// GlobalTTL is how long a global adapter stays valid; the hub
	// re-signs the current one when half of it has passed.
	GlobalTTL time.Duration `yaml:"global_ttl"`
	// Wire holds the limits deltas are decoded under (max_norm refuses a
	// delta whose tensor norm exceeds it outright; merge.clip_norm scales
	// it down instead).
	Wire wire.Config `yaml:"wire"`
	// CatchUp sends devices that missed versions for good one adapter
	// from their version to the current one.
	CatchUp CatchUp `yaml:"catch_up"`
}

// CatchUp configures full-state catch-up (docs/sync.md, "Catch-up").
type CatchUp struct {
	// Delay is how long a device's retained state must show it behind the
	// hub's version before the hub sends it a catch-up adapter. Devices
	// that are merely applying queued versions in order publish a newer
	// state meanwhile and get none.
	Delay time.Duration `yaml:"delay"`
	// MaxVersions bounds the versions kept one by one; older ones are
	// folded into one adapter from version 0, so new devices (version 0)
	// can always catch up, while a device at a version older than the
	// oldest one kept cannot (it needs a reset to version 0). 0 keeps
	// every version.
	MaxVersions int `yaml:"max_versions"`
	// Disabled sends no catch-ups (the history is still kept, so turning
	// it on later serves every version since).
	Disabled bool `yaml:"disabled"`
}

// Model pins what the fleet learns; deltas of another method, model,
// dimension or preprocessing are refused.
type Model struct {
	Method         string `yaml:"method"`
	ModelID        string `yaml:"model_id"`
	Dim            int    `yaml:"dim"`
	PreprocessHash string `yaml:"preprocess_hash"`
}

// Merge says when and how deltas are merged.
type Merge struct {
	// EveryDeltas merges as soon as this many devices have a pending
	// delta; 0 merges on Interval only.
	EveryDeltas int `yaml:"every_deltas"`
	// Interval merges whatever is pending this long after the first
	// pending delta arrived. Devices re-send an un-acked delta after their
	// ack_timeout, which should exceed this.
	Interval time.Duration `yaml:"interval"`
	// Aggregator for tensors: fedavg, median or trimmed_mean. Class
	// statistics, samples and labels are always merged exactly.
	Aggregator   string  `yaml:"aggregator"`
	TrimFraction float64 `yaml:"trim_fraction"` // trimmed_mean: share cut at each end, in [0, 0.5)
	// ClipNorm scales each delta's tensors down so their joint L2 norm
	// is at most this before aggregation; 0 disables.
	ClipNorm float64 `yaml:"clip_norm"`
	// Compression of the global adapter's tensors (default exact float32).
	Compression wire.Compression `yaml:"compression"`
}

// DefaultConfig needs ID, Fleet, KeyFile, DeviceKeysDir and Model set.
func DefaultConfig() Config {
	return Config{
		TopicPrefix: "clipfleet",
		Broker:      mqtt.DefaultBroker(),
		StatePath:   "state/hub.db",
		Merge:       Merge{EveryDeltas: 0, Interval: 30 * time.Second, Aggregator: FedAvg, TrimFraction: 0.1},
		GlobalTTL:   7 * 24 * time.Hour,
		Wire:        wire.DefaultConfig(),
		CatchUp:     CatchUp{Delay: 10 * time.Second},
	}
}

// Topics returns the fleet's topics.
func (c Config) Topics() mqtt.Topics { return mqtt.Topics{Prefix: c.TopicPrefix, Fleet: c.Fleet} }

// ClientID is the hub's MQTT client id unless Broker.ClientID is set.
func (c Config) ClientID() string { return "hub-" + c.ID + "-" + c.Fleet }

// Validate checks the configuration without reading any file. Key files
// are checked when loaded.
func (c Config) Validate() error {
	if err := c.Broker.Validate(); err != nil {
		return err
	}
	if err := c.Topics().Validate(); err != nil {
		return err
	}
	if err := c.Wire.Validate(); err != nil {
		return fmt.Errorf("%w: wire: %w", ErrInvalidConfig, err)
	}
	switch {
	case !wire.ValidID(c.ID):
		return fmt.Errorf("%w: id %q must be 1–64 of [A-Za-z0-9._-]", ErrInvalidConfig, c.ID)
	case c.KeyFile == "":
		return fmt.Errorf("%w: key_file is required", ErrInvalidConfig)
	case c.DeviceKeysDir == "":
		return fmt.Errorf("%w: device_keys_dir is required", ErrInvalidConfig)
	case c.StatePath == "":
		return fmt.Errorf("%w: state_path is required", ErrInvalidConfig)
	case c.Standby && len(c.Peers) == 0:
		return fmt.Errorf("%w: a standby hub needs peers to watch", ErrInvalidConfig)
	case c.Model.Method == "" || c.Model.Dim < 1:
		return fmt.Errorf("%w: model.method and model.dim are required (every delta must be mergeable)", ErrInvalidConfig)
	case c.GlobalTTL < time.Minute:
		return fmt.Errorf("%w: global_ttl %v < 1m", ErrInvalidConfig, c.GlobalTTL)
	}
	for _, p := range c.Peers {
		if !wire.ValidID(p) || p == c.ID {
			return fmt.Errorf("%w: peer %q must be a valid id other than the hub's own", ErrInvalidConfig, p)
		}
	}
	if err := c.CatchUp.Validate(); err != nil {
		return err
	}
	return c.Merge.Validate()
}

// Validate checks the catch-up settings.
func (c CatchUp) Validate() error {
	switch {
	case c.Delay <= 0 && !c.Disabled:
		return fmt.Errorf("%w: catch_up.delay must be > 0 (or catch_up.disabled: true)", ErrInvalidConfig)
	case c.MaxVersions < 0:
		return fmt.Errorf("%w: catch_up.max_versions %d < 0", ErrInvalidConfig, c.MaxVersions)
	}
	return nil
}

// Validate checks the merge policy.
func (m Merge) Validate() error {
	switch {
	case m.EveryDeltas < 0:
		return fmt.Errorf("%w: merge.every_deltas %d < 0", ErrInvalidConfig, m.EveryDeltas)
	case m.Interval <= 0:
		return fmt.Errorf("%w: merge.interval must be > 0", ErrInvalidConfig)
	case !slices.Contains([]string{FedAvg, Median, TrimmedMean}, m.Aggregator):
		return fmt.Errorf("%w: merge.aggregator %q: want %s, %s or %s", ErrInvalidConfig, m.Aggregator, FedAvg, Median, TrimmedMean)
	case math.IsNaN(m.TrimFraction) || m.TrimFraction < 0 || m.TrimFraction >= 0.5:
		return fmt.Errorf("%w: merge.trim_fraction %v outside [0, 0.5)", ErrInvalidConfig, m.TrimFraction)
	case math.IsNaN(m.ClipNorm) || math.IsInf(m.ClipNorm, 0) || m.ClipNorm < 0:
		return fmt.Errorf("%w: merge.clip_norm %v must be finite and ≥ 0", ErrInvalidConfig, m.ClipNorm)
	}
	if err := m.Compression.Validate(); err != nil {
		return fmt.Errorf("%w: merge.compression: %w", ErrInvalidConfig, err)
	}
	return nil
}
