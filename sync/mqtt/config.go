package mqtt

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/clipfleet/clipfleet/sync/wire"
)

// ErrInvalidConfig wraps every Validate failure.
var ErrInvalidConfig = errors.New("mqtt: invalid config")

// Broker says how to reach and authenticate to the MQTT broker. Devices and
// hubs share it (the `broker:` section of both configurations).
type Broker struct {
	// URL is scheme://host:port with scheme tcp or mqtt (plain) or ssl,
	// tls or mqtts (TLS).
	URL string `yaml:"url"`
	// ClientID defaults to the device id (device) or "hub-<id>" (hub). The
	// session is persistent, so it must be stable and unique.
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	// Password is used as is; PasswordFile (first line, trailing newline
	// stripped) keeps it out of the config file. At most one of the two.
	Password     string `yaml:"password"`
	PasswordFile string `yaml:"password_file"`
	TLS          TLS    `yaml:"tls"`
	// KeepAlive is the MQTT keep-alive; the broker fires the last will
	// about 1.5× this after a silent connection loss.
	KeepAlive time.Duration `yaml:"keep_alive"`
	// ConnectTimeout bounds one connection attempt.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// MaxReconnectInterval caps the reconnect back-off.
	MaxReconnectInterval time.Duration `yaml:"max_reconnect_interval"`
	// WriteTimeout bounds handing one publish to the connection.
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// TLS configures server verification and, with a certificate and key,
// client authentication (mTLS). File paths are PEM.
type TLS struct {
	CAFile   string `yaml:"ca_file"`   // trusted CAs for the broker; empty: system roots
	CertFile string `yaml:"cert_file"` // client certificate (mTLS)
	KeyFile  string `yaml:"key_file"`  // its private key
	// ServerName overrides the name checked in the broker's certificate
	// (defaults to the URL's host).
	ServerName string `yaml:"server_name"`
}

// DefaultBroker connects to a local plain-TCP broker.
func DefaultBroker() Broker {
	return Broker{
		URL:                  "tcp://127.0.0.1:1883",
		KeepAlive:            30 * time.Second,
		ConnectTimeout:       10 * time.Second,
		MaxReconnectInterval: 30 * time.Second,
		WriteTimeout:         10 * time.Second,
	}
}

// Validate checks the settings without reading any file.
func (b Broker) Validate() error {
	u, err := url.Parse(b.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: broker url %q: want scheme://host:port", ErrInvalidConfig, b.URL)
	}
	tlsURL := false
	switch u.Scheme {
	case "tcp", "mqtt":
	case "ssl", "tls", "mqtts", "tcps":
		tlsURL = true
	default:
		return fmt.Errorf("%w: broker url scheme %q: want tcp, mqtt, ssl, tls or mqtts", ErrInvalidConfig, u.Scheme)
	}
	switch {
	case b.Password != "" && b.PasswordFile != "":
		return fmt.Errorf("%w: set password or password_file, not both", ErrInvalidConfig)
	case (b.Password != "" || b.PasswordFile != "") && b.Username == "":
		return fmt.Errorf("%w: a password needs a username", ErrInvalidConfig)
	case (b.TLS.CertFile == "") != (b.TLS.KeyFile == ""):
		return fmt.Errorf("%w: tls cert_file and key_file go together", ErrInvalidConfig)
	case b.TLS != (TLS{}) && !tlsURL:
		return fmt.Errorf("%w: tls settings need an ssl://, tls:// or mqtts:// url, not %s://", ErrInvalidConfig, u.Scheme)
	case b.KeepAlive < time.Second:
		return fmt.Errorf("%w: keep_alive %v < 1s", ErrInvalidConfig, b.KeepAlive)
	case b.ConnectTimeout <= 0 || b.MaxReconnectInterval <= 0 || b.WriteTimeout <= 0:
		return fmt.Errorf("%w: connect_timeout, max_reconnect_interval and write_timeout must be > 0", ErrInvalidConfig)
	case b.ClientID != "" && len(b.ClientID) > 128:
		return fmt.Errorf("%w: client_id longer than 128 bytes", ErrInvalidConfig)
	}
	return nil
}

// Config is a device's sync transport (the `sync:` section of the edge
// configuration).
type Config struct {
	Broker Broker `yaml:"broker"`
	// TopicPrefix is the first topic level.
	TopicPrefix string `yaml:"topic_prefix"`
	Fleet       string `yaml:"fleet"`
	Device      string `yaml:"device"`
	// StateDir holds the global adapter's version floor; one per device
	// identity.
	StateDir string `yaml:"state_dir"`
	// AckTimeout: a delta without the hub's ack after this long is sent
	// again. The hub acks once the delta is merged, so it must exceed the
	// hub's merge interval; a re-send is only a duplicate the hub ignores.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// ApplyTimeout bounds applying a global adapter and its health check;
	// past it the adapter is rolled back.
	ApplyTimeout time.Duration `yaml:"apply_timeout"`
	// Wire holds the limits global adapters are decoded under.
	Wire wire.Config `yaml:"wire"`
}

// DefaultConfig needs Fleet and Device set.
func DefaultConfig() Config {
	return Config{
		Broker:       DefaultBroker(),
		TopicPrefix:  "clipfleet",
		StateDir:     "state/sync",
		AckTimeout:   90 * time.Second,
		ApplyTimeout: 60 * time.Second,
		Wire:         wire.DefaultConfig(),
	}
}

// Topics returns the topic names of this device's fleet.
func (c Config) Topics() Topics { return Topics{Prefix: c.TopicPrefix, Fleet: c.Fleet} }

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	if err := c.Broker.Validate(); err != nil {
		return err
	}
	if err := c.Topics().Validate(); err != nil {
		return err
	}
	switch {
	case !wire.ValidID(c.Device):
		return fmt.Errorf("%w: device %q must be 1–64 of [A-Za-z0-9._-]", ErrInvalidConfig, c.Device)
	case c.StateDir == "":
		return fmt.Errorf("%w: state_dir is empty", ErrInvalidConfig)
	case c.AckTimeout <= 0:
		return fmt.Errorf("%w: ack_timeout must be > 0", ErrInvalidConfig)
	case c.ApplyTimeout <= 0:
		return fmt.Errorf("%w: apply_timeout must be > 0", ErrInvalidConfig)
	}
	if err := c.Wire.Validate(); err != nil {
		return fmt.Errorf("%w: wire: %w", ErrInvalidConfig, err)
	}
	return nil
}
