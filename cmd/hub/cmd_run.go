package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
	"github.com/clipfleet/clipfleet/sync/hub"
	"github.com/clipfleet/clipfleet/sync/mqtt"
	"github.com/clipfleet/clipfleet/sync/mqtt/broker"
	"github.com/clipfleet/clipfleet/sync/wire"
)

func init() {
	register(command{name: "run", summary: "serve the configured fleets until SIGINT/SIGTERM", run: cmdRun})
}

func cmdRun(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("hub run", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	embedded := fs.String("embedded-broker", "", "also run an in-process MQTT broker on this address (e.g. 127.0.0.1:1883; no authentication) and connect to it")
	statsEvery := fs.Duration("stats-every", time.Minute, "log each fleet's counters this often (0: never)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var extra []yamlstrict.Override
	var b *broker.Broker
	if *embedded != "" {
		// Start the broker first so that its real address (port 0 picks
		// one) becomes the broker URL every fleet connects to.
		bootLog := slog.New(slog.NewTextHandler(env.stderr, nil))
		var err error
		if b, err = broker.Start(*embedded, nil); err != nil {
			fmt.Fprintf(env.stderr, "hub: %v\n", err)
			return 1
		}
		defer b.Close()
		if host, _, err := net.SplitHostPort(b.Addr()); err == nil && !net.ParseIP(host).IsLoopback() {
			bootLog.Warn("hub: the embedded broker has no authentication and listens beyond loopback", "addr", b.Addr())
		}
		bootLog.Info("hub: embedded broker listening", "addr", b.Addr(), "url", b.URL())
		extra = append(extra, yamlstrict.Override{Path: "broker.url", Value: b.URL(), From: "--embedded-broker"})
	}
	cfg, err := cf.load(env, extra...)
	if err != nil {
		fmt.Fprintf(env.stderr, "hub: %v\n", err)
		return 2
	}
	log := newLogger(env.stderr, cfg.Log)
	hubs, err := openHubs(cfg, log)
	if err != nil {
		log.Error("hub: start", "err", err)
		return 1
	}
	defer func() {
		for _, h := range hubs {
			h.Close()
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, len(hubs))
	for _, h := range hubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Run(ctx); err != nil {
				errs <- err
			}
		}()
	}
	log.Info("hub: running", "id", cfg.ID, "fleets", len(hubs), "broker", cfg.Broker.URL, "standby", cfg.Standby)
	var tick <-chan time.Time
	if *statsEvery > 0 {
		t := time.NewTicker(*statsEvery)
		defer t.Stop()
		tick = t.C
	}
	code := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errs:
			log.Error("hub: stopped", "err", err)
			code = 1
			break loop
		case <-tick:
			for i, h := range hubs {
				log.Info("hub: stats", "fleet", cfg.Fleets[i].Name, "stats", h.Stats().String())
			}
		}
	}
	log.Info("hub: shutting down")
	wg.Wait()
	return code
}

// openHubs loads the keys and opens every fleet's state.
func openHubs(cfg Config, log *slog.Logger) ([]*hub.Hub, error) {
	priv, err := mqtt.LoadPrivateKey(cfg.KeyFile)
	if err != nil {
		return nil, err
	}
	var peers map[string]ed25519.PublicKey
	if cfg.HubKeysDir != "" {
		if peers, err = mqtt.LoadKeyDir(cfg.HubKeysDir); err != nil {
			return nil, err
		}
	}
	var hubs []*hub.Hub
	for _, hc := range cfg.Hubs() {
		devs, err := mqtt.LoadKeyDir(hc.DeviceKeysDir)
		if err == nil && len(devs) == 0 {
			err = fmt.Errorf("no device keys (<device>.pub) in %s", hc.DeviceKeysDir)
		}
		ring := wire.NewKeyring(hc.Fleet)
		for id, k := range devs {
			err = errors.Join(err, ring.AddDevice(id, k))
		}
		for id, k := range peers {
			err = errors.Join(err, ring.AddHub(id, k))
		}
		var h *hub.Hub
		if err == nil {
			h, err = hub.Open(hc, priv, ring, log, nil)
		}
		if err != nil {
			for _, o := range hubs {
				o.Close()
			}
			return nil, fmt.Errorf("fleet %s: %w", hc.Fleet, err)
		}
		log.Info("hub: fleet loaded", "fleet", hc.Fleet, "devices", len(devs), "peer_hubs", len(peers), "version", h.Version())
		hubs = append(hubs, h)
	}
	return hubs, nil
}
