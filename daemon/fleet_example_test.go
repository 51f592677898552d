package daemon_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/learner"
)

// A device joins its fleet: the learner's deltas go to the hub through the
// durable outbox, and the fleet's merged adapters come back through the
// learner's A/B apply. (Not run: it needs a broker and enrolled keys.)
func ExampleOpenFleet() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	info := accel.ModelInfo{ID: "tinyclip-world-v2", EmbeddingDim: 256} // from the loaded encoder
	lrn, err := daemon.OpenLearner(daemon.LearnerOptions{Config: learner.DefaultConfig(), Learn: daemon.DefaultLearnConfig(),
		Dir: "/var/lib/clipfleet/learner", Info: info, Log: log})
	if err != nil {
		log.Error("learner", "err", err)
		return
	}
	cfg := daemon.DefaultSyncConfig()
	cfg.Enabled, cfg.Fleet, cfg.Device = true, "warehouse", "forklift-12"
	cfg.Broker.URL = "ssl://mqtt.example:8883"
	cfg.Broker.TLS.CAFile = "/etc/clipfleet/ca.pem"
	cfg.KeyFile, cfg.HubKeysDir = "/etc/clipfleet/device.key", "/etc/clipfleet/hubs"
	fleet, err := daemon.OpenFleet(daemon.FleetOptions{Config: cfg, StateDir: "/var/lib/clipfleet", Learner: lrn, Info: info, Log: log})
	if err != nil {
		log.Error("fleet sync", "err", err)
		return
	}
	// Runs until the context ends; what was not acked stays in the outbox.
	_ = fleet.Run(context.Background())
}
