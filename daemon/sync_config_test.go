package daemon

import (
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

func syncOn(c *Config) {
	c.Sync.Enabled, c.Sync.Fleet, c.Sync.Device = true, "fleet-1", "robot-7"
	c.Sync.KeyFile, c.Sync.HubKeysDir = "/etc/clipfleet/device.key", "/etc/clipfleet/hubs"
}

// The sync section's failures are in TestConfigValidate's table.
func TestSyncConfigValidate(t *testing.T) {
	c := DefaultConfig()
	syncOn(&c)
	if err := c.Validate(); err != nil {
		t.Fatalf("a complete sync section is refused: %v", err)
	}
	// Off, its placeholders are not checked.
	c = DefaultConfig()
	c.Sync.Broker.URL = "not a url"
	if err := c.Validate(); err != nil {
		t.Fatalf("a disabled sync section was checked: %v", err)
	}
}

// The sync section is strict like the rest: a typo names its path, and the
// transport keys sit at the top of the section.
func TestSyncConfigYAML(t *testing.T) {
	doc := []byte(`
sync:
  enabled: true
  fleet: warehouse
  device: forklift-12
  key_file: /etc/clipfleet/device.key
  hub_keys_dir: /etc/clipfleet/hubs
  broker: {url: "ssl://mqtt.example:8883", tls: {ca_file: /etc/ca.pem}}
  export_interval: 5m
  outbox: {max_bytes: 1048576}
`)
	c := DefaultConfig()
	if err := yamlstrict.Decode(doc, &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Sync.Device != "forklift-12" || c.Sync.Broker.TLS.CAFile != "/etc/ca.pem" || c.Sync.Outbox.MaxBytes != 1<<20 || c.Sync.ExportInterval.Minutes() != 5 {
		t.Fatalf("decoded %+v", c.Sync)
	}
	c = DefaultConfig()
	err := yamlstrict.Decode([]byte("sync:\n  outbox:\n    max_byte: 5\n"), &c)
	if err == nil || !strings.Contains(err.Error(), "sync.outbox.max_byte") {
		t.Fatalf("typo: %v", err)
	}
}
