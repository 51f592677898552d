package daemon

import (
	"errors"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/sync/mqtt"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
		is     error
	}{
		{"public listen", func(c *Config) { c.HTTP.Listen = "0.0.0.0:9310" }, "http.listen", ErrNotLoopback},
		{"lan listen", func(c *Config) { c.HTTP.Listen = "192.168.1.5:80" }, "localhost only", ErrNotLoopback},
		{"empty host", func(c *Config) { c.HTTP.Listen = ":9310" }, "http.listen", ErrNotLoopback},
		{"no port", func(c *Config) { c.HTTP.Listen = "127.0.0.1" }, "http.listen", nil},
		{"bad port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:99999" }, "port", nil},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level", ErrInvalidConfig},
		{"log format", func(c *Config) { c.Log.Format = "xml" }, "log.format", ErrInvalidConfig},
		{"events", func(c *Config) { c.Pipeline.Events = "" }, "pipeline.events", ErrInvalidConfig},
		{"event format", func(c *Config) { c.Pipeline.EventFormat = "csv" }, "pipeline.event_format", ErrInvalidConfig},
		{"top k", func(c *Config) { c.Pipeline.TopK = 0 }, "pipeline.top_k", ErrInvalidConfig},
		{"capture mode", func(c *Config) { c.Pipeline.Capture = "lazy" }, "pipeline.capture", ErrInvalidConfig},
		{"capture section", func(c *Config) { c.Capture.Source = "webcam" }, "capture", nil},
		{"accel section", func(c *Config) { c.Accel.Backend = "" }, "accel", nil},
		{"labels section", func(c *Config) { c.Labels.Templates = []string{"no placeholder"} }, "labels: templates[0]", labels.ErrInvalidConfig},
		{"no key", func(c *Config) { syncOn(c); c.Sync.KeyFile = "" }, "sync.key_file", ErrInvalidConfig},
		{"no hub keys", func(c *Config) { syncOn(c); c.Sync.HubKeysDir = "" }, "sync.hub_keys_dir", ErrInvalidConfig},
		{"no device", func(c *Config) { syncOn(c); c.Sync.Device = "" }, "device", mqtt.ErrInvalidConfig},
		{"device in topic", func(c *Config) { syncOn(c); c.Sync.Device = "a/b" }, "device", mqtt.ErrInvalidConfig},
		{"broker scheme", func(c *Config) { syncOn(c); c.Sync.Broker.URL = "http://hub:1883" }, "scheme", mqtt.ErrInvalidConfig},
		{"export interval", func(c *Config) { syncOn(c); c.Sync.ExportInterval = 0 }, "sync.export_interval", ErrInvalidConfig},
		{"max drop", func(c *Config) { syncOn(c); c.Sync.Health.MaxDrop = 1.5 }, "sync.health.max_drop", ErrInvalidConfig},
		{"outbox", func(c *Config) { syncOn(c); c.Sync.Outbox.Drop = "random" }, "sync.outbox", nil},
		{"needs learning", func(c *Config) { syncOn(c); c.Learn.Enabled = false }, "needs learn.enabled", ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Validate() = %v, want errors.Is %v", err, tc.is)
			}
		})
	}
	for _, ok := range []string{"127.0.0.1:0", "localhost:9310", "[::1]:9310", ""} {
		c := DefaultConfig()
		c.HTTP.Listen = ok
		if err := c.Validate(); err != nil {
			t.Fatalf("listen %q rejected: %v", ok, err)
		}
	}
}
