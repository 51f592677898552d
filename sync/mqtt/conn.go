package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// ClientOptions turns the broker settings into paho options: persistent
// session (CleanSession false), automatic reconnect and connect retry,
// MQTT 3.1.1, in-order delivery to handlers. It reads the password and TLS
// files. The caller adds handlers and the will.
func (b Broker) ClientOptions(defaultClientID string) (*paho.ClientOptions, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	id := b.ClientID
	if id == "" {
		id = defaultClientID
	}
	o := paho.NewClientOptions().
		AddBroker(b.URL).
		SetClientID(id).
		SetProtocolVersion(4).
		SetCleanSession(false).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(max(b.MaxReconnectInterval/4, 10*time.Millisecond)).
		SetMaxReconnectInterval(b.MaxReconnectInterval).
		SetKeepAlive(b.KeepAlive).
		SetPingTimeout(b.KeepAlive / 2).
		SetConnectTimeout(b.ConnectTimeout).
		SetWriteTimeout(b.WriteTimeout).
		SetOrderMatters(true).
		SetStore(newPacketStore())
	if b.Username != "" {
		o.SetUsername(b.Username)
		pw := b.Password
		if b.PasswordFile != "" {
			raw, err := os.ReadFile(b.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("mqtt: password file: %w", err)
			}
			pw, _, _ = strings.Cut(string(raw), "\n")
			pw = strings.TrimSuffix(pw, "\r")
		}
		o.SetPassword(pw)
	}
	u, _ := url.Parse(b.URL) // validated
	switch u.Scheme {
	case "ssl", "tls", "mqtts", "tcps":
		tc, err := b.TLS.config(u.Hostname())
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(tc)
	}
	return o, nil
}

func (t TLS) config(host string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if t.ServerName != "" {
		tc.ServerName = t.ServerName
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt: tls ca_file %s: no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt: tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// SubscribeAll subscribes to every topic at QoS 1, retrying a failed or
// unanswered subscription every retry while the connection stays open:
// called from an OnConnect handler, giving up would leave the client
// connected but deaf until some later reconnect. It returns false if the
// connection closed or ctx ended first (the next OnConnect starts over).
func SubscribeAll(ctx context.Context, c paho.Client, subs map[string]paho.MessageHandler, timeout time.Duration, log *slog.Logger) bool {
	topics := slices.Sorted(maps.Keys(subs))
	for _, topic := range topics {
		for {
			t := c.Subscribe(topic, 1, subs[topic])
			err := wait(ctx, t, timeout)
			if err == nil {
				// MQTT 3.1.1 reports a refused subscription (ACL) as
				// return code 0x80, not as an error.
				if st, ok := t.(*paho.SubscribeToken); ok && st.Result()[topic] == 0x80 {
					err = fmt.Errorf("mqtt: subscription to %s refused by the broker", topic)
				} else {
					break
				}
			}
			if ctx.Err() != nil || !c.IsConnectionOpen() {
				return false
			}
			log.Error("mqtt: subscribe failed; retrying", "topic", topic, "err", err)
			select {
			case <-ctx.Done():
				return false
			case <-time.After(timeout):
			}
		}
	}
	return true
}
