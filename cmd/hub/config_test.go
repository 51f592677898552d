package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"github.com/clipfleet/clipfleet/sync/hub"
)

func TestConfigLoad(t *testing.T) {
	path, _ := setup(t, "")
	env, _, _ := testEnv("HUB_ID=hub-b")
	cf := configFlags{file: path, sets: multiFlag{"broker.url=tcp://10.0.0.5:1883"}}
	cfg, err := cf.load(env)
	if err != nil {
		t.Fatal(err)
	}
	hubs := cfg.Hubs()
	if len(hubs) != 1 {
		t.Fatalf("%d hubs", len(hubs))
	}
	h := hubs[0]
	if h.ID != "hub-b" || h.Broker.URL != "tcp://10.0.0.5:1883" || h.Fleet != "demo" || h.Model.Dim != 4 {
		t.Errorf("hub config %+v", h)
	}
	// Omitted fleet fields take the hub defaults; set ones are kept.
	d := hub.DefaultConfig()
	if h.Merge.Interval != 100*time.Millisecond || h.Merge.Aggregator != d.Merge.Aggregator || h.GlobalTTL != d.GlobalTTL || h.Wire.MaxBytes != d.Wire.MaxBytes {
		t.Errorf("defaults: %+v ttl %v wire %+v", h.Merge, h.GlobalTTL, h.Wire)
	}
	if h.CatchUp != d.CatchUp || h.Validate() != nil {
		t.Errorf("catch_up defaults %+v, want %+v (%v)", h.CatchUp, d.CatchUp, h.Validate())
	}
	if h.Broker.KeepAlive != 2*time.Second || h.Broker.ConnectTimeout != d.Broker.ConnectTimeout {
		t.Errorf("broker %+v", h.Broker)
	}
}

func TestConfigStrict(t *testing.T) {
	path, _ := setup(t, "    merge_policy: {}\n")
	env, _, _ := testEnv()
	cf := configFlags{file: path}
	if _, err := cf.load(env); !errors.Is(err, yamlstrict.ErrUnknownKey) || !strings.Contains(err.Error(), "fleets[0].merge_policy") {
		t.Errorf("unknown key: %v", err)
	}
	env, _, _ = testEnv("HUB_BROKER_URLL=x")
	if _, err := (&configFlags{}).load(env); !errors.Is(err, yamlstrict.ErrUnknownOverride) {
		t.Errorf("unknown env override: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	path, _ := setup(t, "")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, content, want string }{
		{"no fleets", "id: hub-a\nfleets: []\n", "no fleets"},
		{"duplicate fleet", string(raw) + "  - name: demo\n    device_keys_dir: x\n    state_path: y\n    model: {method: ncm, dim: 4}\n", "used twice"},
		{"bad aggregator", strings.Replace(string(raw), "interval: 100ms", "interval: 100ms, aggregator: mean", 1), "aggregator"},
		{"no model", strings.Replace(string(raw), "model: {method: ncm, dim: 4}", "model: {}", 1), "model.method"},
		{"bad level", strings.Replace(string(raw), "level: debug", "level: loud", 1), "log.level"},
		{"standby alone", "standby: true\n" + string(raw), "standby"},
		{"shared client id", strings.Replace(string(raw), "broker:", "broker:\n  client_id: x", 1) +
			"  - name: other\n    device_keys_dir: x\n    state_path: z\n    model: {method: ncm, dim: 4}\n", "client_id"},
	}
	for _, c := range cases {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		env, _, _ := testEnv()
		if _, err := (&configFlags{file: p}).load(env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error about %q", c.name, err, c.want)
		}
	}
}

// TestExampleConfig: the shipped example parses and validates.
func TestExampleConfig(t *testing.T) {
	env, _, _ := testEnv()
	cfg, err := (&configFlags{file: filepath.Join("..", "..", "configs", "hub.yaml")}).load(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Fleets) == 0 {
		t.Error("example has no fleet")
	}
}
