package broker

import (
	"fmt"
	"log/slog"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
)

// Broker is a running in-process broker.
type Broker struct {
	srv  *mochi.Server
	tcp  *tcpListener
	once sync.Once
}

// Start listens on addr ("127.0.0.1:1883"; port 0 picks a free one) and
// serves until Close. log may be nil.
func Start(addr string, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	caps := mochi.NewDefaultServerCapabilities()
	// mochi drops retained and queued messages older than a day by
	// default; the global adapter is retained for as long as it is valid
	// (the hub bounds that with its own expiry).
	caps.MaximumMessageExpiryInterval = 0
	srv := mochi.New(&mochi.Options{Capabilities: caps, Logger: log.With("component", "mochi")})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	tcp := newTCPListener("tcp", addr)
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("broker: listen %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("broker: %w", err)
	}
	return &Broker{srv: srv, tcp: tcp}, nil
}

// Addr is the bound host:port.
func (b *Broker) Addr() string { return b.tcp.Address() }

// URL is the broker URL for clients, tcp://host:port.
func (b *Broker) URL() string { return "tcp://" + b.Addr() }

// Close stops listening, then disconnects every client, including one
// still in its handshake; later calls do nothing.
func (b *Broker) Close() error {
	var err error
	b.once.Do(func() { err = b.srv.Close() })
	return err
}
