package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/boards"
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

// load builds the effective config; see loadBoard.
func (c *configFlags) load(env *cliEnv, extra ...yamlstrict.Override) (daemon.Config, error) {
	cfg, _, err := c.loadBoard(env, extra...)
	return cfg, err
}

// loadBoard builds the effective config in layers: defaults, then the
// board's accelerator and camera defaults, then the file, then EDGE_*
// environment variables, then --set flags, then extra (flag shortcuts).
// The boards section that picks the board can itself come from any of the
// user's layers, so the user's layers are decoded twice: once to learn
// the boards section, and again over the board's defaults so that every
// key the user sets wins over the board. It also returns the board
// resolved (Detection.Board is empty when detection matched nothing).
func (c *configFlags) loadBoard(env *cliEnv, extra ...yamlstrict.Override) (daemon.Config, boards.Detection, error) {
	cfg := daemon.DefaultConfig()
	var det boards.Detection
	var data []byte
	if c.file != "" {
		b, err := os.ReadFile(c.file)
		if err != nil {
			return cfg, det, fmt.Errorf("config: %w", err)
		}
		data = b
	}
	ovs, err := yamlstrict.EnvOverrides(envPrefix, env.environ(), &cfg)
	if err != nil {
		return cfg, det, fmt.Errorf("config: %w", err)
	}
	for _, s := range c.sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return cfg, det, fmt.Errorf("config: --set %q: want key.path=value", s)
		}
		ovs = append(ovs, yamlstrict.Override{Path: k, Value: v, From: "--set " + k})
	}
	ovs = append(ovs, extra...)
	decode := func(cfg *daemon.Config) error {
		if err := yamlstrict.DecodeWithOverrides(data, cfg, ovs); err != nil {
			name := c.file
			if name == "" {
				name = "config"
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := decode(&cfg); err != nil {
		return cfg, det, err
	}
	// Resolve logs nothing here: the log config is not known yet, and
	// `edge run` logs the outcome itself.
	det, err = boards.Resolve(cfg.Boards, nil)
	switch {
	case errors.Is(err, boards.ErrNotDetected) && !forcedBoard(cfg.Boards):
		// An unknown machine runs on the packages' defaults.
		det = boards.Detection{}
	case err != nil:
		return cfg, det, fmt.Errorf("config: %w", err)
	default:
		layered := daemon.DefaultConfig()
		applyBoardDefaults(&layered, det, forcedBoard(cfg.Boards))
		if err := decode(&layered); err != nil {
			return cfg, det, err
		}
		cfg = layered
	}
	if err := cfg.Validate(); err != nil {
		return cfg, det, fmt.Errorf("config: %w", err)
	}
	defaultEngineCache(&cfg, env.lookupEnv)
	return cfg, det, nil
}

// defaultEngineCache points TensorRT providers without an engine cache at
// <state_dir>/tensorrt: building engines takes minutes on a Jetson, and
// without a cache TensorRT rebuilds them at every start. A state directory
// that cannot be resolved leaves the setting empty (no cache).
func defaultEngineCache(cfg *daemon.Config, getenv func(string) string) {
	for i := range cfg.Accel.ONNX.Providers {
		p := &cfg.Accel.ONNX.Providers[i]
		if p.Name != accel.ProviderTensorRT || p.EngineCacheDir != "" {
			continue
		}
		if dir, err := cfg.ResolveStateDir(getenv); err == nil {
			p.EngineCacheDir = filepath.Join(dir, "tensorrt")
		}
	}
}

func forcedBoard(c boards.Config) bool { return c.Board != "" && c.Board != boards.Auto }

// applyBoardDefaults lays the board's defaults over the daemon's. On a
// generic machine they would only make things worse: the generic camera
// default (/dev/video0) would replace the daemon's world camera, which is
// what makes `make run` and CI work on machines without a camera, and the
// generic accelerator default is the CPU the daemon already uses. So the
// camera comes from the host board only when the host is more than an
// architecture fallback, and the accelerator from the chosen board (a
// Coral USB stick on a PC counts) only when it is; a board named in the
// config is taken at its word either way.
func applyBoardDefaults(cfg *daemon.Config, det boards.Detection, forced bool) {
	if forced || boardRank(det.Board) > boards.RankGeneric {
		det.Profile.Defaults.ApplyAccel(&cfg.Accel)
	}
	if forced || boardRank(det.Host) > boards.RankGeneric {
		det.Profile.Defaults.ApplyCapture(&cfg.Capture)
	}
}

func boardRank(name string) int {
	if b, ok := boards.Lookup(name); ok {
		return b.Rank()
	}
	return 0
}

func newLogger(w io.Writer, c daemon.LogConfig) *slog.Logger {
	lvl, _ := daemon.ParseLevel(c.Level) // validated already
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
