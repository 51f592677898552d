package mqtt

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func validConfig() Config {
	c := DefaultConfig()
	c.Fleet, c.Device = "f", "d1"
	return c
}

func TestConfigValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Config){
		"no device":          func(c *Config) { c.Device = "" },
		"device with slash":  func(c *Config) { c.Device = "a/b" },
		"bad scheme":         func(c *Config) { c.Broker.URL = "http://x:1" },
		"no host":            func(c *Config) { c.Broker.URL = "tcp://" },
		"password no user":   func(c *Config) { c.Broker.Password = "x" },
		"both passwords":     func(c *Config) { c.Broker.Username, c.Broker.Password, c.Broker.PasswordFile = "u", "x", "f" },
		"cert without key":   func(c *Config) { c.Broker.URL = "ssl://h:8883"; c.Broker.TLS.CertFile = "c" },
		"tls on plain url":   func(c *Config) { c.Broker.TLS.CAFile = "ca.pem" },
		"short keepalive":    func(c *Config) { c.Broker.KeepAlive = time.Millisecond },
		"zero ack timeout":   func(c *Config) { c.AckTimeout = 0 },
		"zero apply timeout": func(c *Config) { c.ApplyTimeout = 0 },
		"no state dir":       func(c *Config) { c.StateDir = "" },
		"bad wire":           func(c *Config) { c.Wire.MaxBytes = 1 },
		"bad prefix":         func(c *Config) { c.TopicPrefix = "a/b" },
	}
	for name, mutate := range cases {
		c := validConfig()
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestClientOptions(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := DefaultBroker()
	b.Username, b.PasswordFile = "robot-7", pw
	o, err := b.ClientOptions("robot-7")
	if err != nil {
		t.Fatal(err)
	}
	if o.Password != "s3cret" || o.Username != "robot-7" || o.ClientID != "robot-7" || o.CleanSession || !o.AutoReconnect {
		t.Errorf("options: user %q pw %q id %q clean %v reconnect %v", o.Username, o.Password, o.ClientID, o.CleanSession, o.AutoReconnect)
	}
	b.ClientID = "custom"
	if o, _ := b.ClientOptions("robot-7"); o.ClientID != "custom" {
		t.Errorf("client id %q", o.ClientID)
	}
	tb := DefaultBroker()
	tb.URL, tb.TLS.CAFile = "ssl://127.0.0.1:8883", filepath.Join(dir, "missing.pem")
	if _, err := tb.ClientOptions("x"); err == nil {
		t.Error("missing CA file accepted")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.pem"), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	tb.TLS.CAFile = filepath.Join(dir, "bad.pem")
	if _, err := tb.ClientOptions("x"); err == nil {
		t.Error("CA file without a certificate accepted")
	}
}
