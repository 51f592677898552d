package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

// envPrefix names environment overrides: EDGE_CAPTURE_SOURCE=file sets
// capture.source. Every EDGE_* variable must name a key, so a typo fails.
const envPrefix = "EDGE_"

// configFlags are the flags every daemon-facing command shares.
type configFlags struct {
	file string
	sets multiFlag
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (c *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "config", "", "YAML config file (default: built-in defaults: synthetic camera, models/testclip)")
	fs.Var(&c.sets, "set", "override one key, e.g. --set capture.source=file --set capture.path=clip.mp4 (repeatable)")
}

// load builds the effective config: defaults, then the file, then EDGE_*
// environment variables, then --set flags, then extra (flag shortcuts).
func (c *configFlags) load(env *cliEnv, extra ...yamlstrict.Override) (daemon.Config, error) {
	cfg := daemon.DefaultConfig()
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

func newLogger(w io.Writer, c daemon.LogConfig) *slog.Logger {
	lvl, _ := daemon.ParseLevel(c.Level) // validated already
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
