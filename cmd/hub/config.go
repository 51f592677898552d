package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/wire"
)

// envPrefix names environment overrides: HUB_BROKER_URL sets broker.url.
const envPrefix = "HUB_"

// ErrInvalidConfig wraps every Validate failure.
var ErrInvalidConfig = errors.New("hub: invalid config")

// Config is the hub process: one identity and broker connection, serving
// one or more fleets (each with its own devices, state file and model).
type Config struct {
	Log         LogConfig   `yaml:"log"`
	ID          string      `yaml:"id"`
	Broker      mqtt.Broker `yaml:"broker"`
	TopicPrefix string      `yaml:"topic_prefix"`
	KeyFile     string      `yaml:"key_file"`
	// HubKeysDir holds "<hub>.pub" of the other hubs of the fleets (for
	// failover); optional.
	HubKeysDir string   `yaml:"hub_keys_dir"`
	Standby    bool     `yaml:"standby"`
	Peers      []string `yaml:"peers"`
	Fleets     []Fleet  `yaml:"fleets"`
}

// Fleet is one fleet the hub serves. Omitted merge, global_ttl, wire and
// catch_up fields take the hub package's defaults.
type Fleet struct {
	Name          string        `yaml:"name"`
	DeviceKeysDir string        `yaml:"device_keys_dir"`
	StatePath     string        `yaml:"state_path"`
	Model         hub.Model     `yaml:"model"`
	Merge         hub.Merge     `yaml:"merge"`
	GlobalTTL     time.Duration `yaml:"global_ttl"`
	Wire          wire.Config   `yaml:"wire"`
	CatchUp       hub.CatchUp   `yaml:"catch_up"`
}

// LogConfig selects the slog output.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// DefaultConfig is a hub "hub" on a local broker, with no fleet yet.
func DefaultConfig() Config {
	d := hub.DefaultConfig()
	return Config{
		Log: LogConfig{Level: "info", Format: "text"}, ID: "hub", Broker: d.Broker,
		TopicPrefix: d.TopicPrefix, KeyFile: "hub.key",
	}
}

// withDefaults fills what a fleet entry left out.
func (f Fleet) withDefaults() Fleet {
	d := hub.DefaultConfig()
	if f.Merge.Interval == 0 {
		f.Merge.Interval = d.Merge.Interval
	}
	if f.Merge.Aggregator == "" {
		f.Merge.Aggregator = d.Merge.Aggregator
	}
	if f.GlobalTTL == 0 {
		f.GlobalTTL = d.GlobalTTL
	}
	if f.Wire.MaxBytes == 0 {
		f.Wire.MaxBytes = d.Wire.MaxBytes
	}
	if f.Wire.MaxElements == 0 {
		f.Wire.MaxElements = d.Wire.MaxElements
	}
	if f.CatchUp.Delay == 0 {
		f.CatchUp.Delay = d.CatchUp.Delay
	}
	return f
}

// Hubs returns the hub.Config of every fleet.
func (c Config) Hubs() []hub.Config {
	out := make([]hub.Config, 0, len(c.Fleets))
	for _, f := range c.Fleets {
		f = f.withDefaults()
		out = append(out, hub.Config{
			ID: c.ID, Fleet: f.Name, TopicPrefix: c.TopicPrefix, Broker: c.Broker,
			KeyFile: c.KeyFile, DeviceKeysDir: f.DeviceKeysDir, HubKeysDir: c.HubKeysDir,
			StatePath: f.StatePath, Standby: c.Standby, Peers: c.Peers,
			Model: f.Model, Merge: f.Merge, GlobalTTL: f.GlobalTTL, Wire: f.Wire, CatchUp: f.CatchUp,
		})
	}
	return out
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		return fmt.Errorf("%w: log.format %q (want text or json)", ErrInvalidConfig, c.Log.Format)
	}
	if len(c.Fleets) == 0 {
		return fmt.Errorf("%w: no fleets configured", ErrInvalidConfig)
	}
	if len(c.Fleets) > 1 && c.Broker.ClientID != "" {
		// Each fleet has its own MQTT session; one client id would make
		// the broker disconnect one for the other.
		return fmt.Errorf("%w: broker.client_id must be empty when serving several fleets", ErrInvalidConfig)
	}
	seen := map[string]bool{}
	states := map[string]bool{}
	for i, h := range c.Hubs() {
		if err := h.Validate(); err != nil {
			return fmt.Errorf("fleets[%d] (%s): %w", i, h.Fleet, err)
		}
		if seen[h.Fleet] || states[h.StatePath] {
			return fmt.Errorf("%w: fleets[%d]: fleet %q or state_path %q used twice", ErrInvalidConfig, i, h.Fleet, h.StatePath)
		}
		seen[h.Fleet], states[h.StatePath] = true, true
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%w: log.level %q (want debug, info, warn or error)", ErrInvalidConfig, s)
}

func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	lvl, _ := parseLevel(c.Level) // validated
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// configFlags are the flags of commands that read the configuration.
type configFlags struct {
	file string
	sets multiFlag
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "YAML config file (see configs/hub.yaml)")
	fs.Var(&c.sets, "set", "override one key, e.g. --set broker.url=tcp://10.0.0.5:1883 (repeatable)")
}

// load builds the effective config: defaults, the file, HUB_* environment
// variables, --set flags, then extra (flag shortcuts). Unknown keys fail.
func (c *configFlags) load(env *cliEnv, extra ...yamlstrict.Override) (Config, error) {
	cfg := DefaultConfig()
	var data []byte
	if c.file != "" {
		b, err := os.ReadFile(c.file)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		data = b
	}
	ovs, err := yamlstrict.EnvOverrides(envPrefix, env.environ(), &cfg)
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	for _, s := range c.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return cfg, fmt.Errorf("config: --set %q: want key.path=value", s)
		}
		ovs = append(ovs, yamlstrict.Override{Path: k, Value: v, From: "--set " + k})
	}
	ovs = append(ovs, extra...)
	if err := yamlstrict.DecodeWithOverrides(data, &cfg, ovs); err != nil {
		name := c.file
		if name == "" {
			name = "config"
		}
		return cfg, fmt.Errorf("%s: %w", name, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}
