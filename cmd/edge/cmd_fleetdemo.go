package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/fleetdemo"
)

func init() {
	register(command{name: "fleet-demo", summary: "fleet sync on one machine: embedded broker, hub and simulated robots learning from each other", run: runFleetDemo})
}

func runFleetDemo(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge fleet-demo", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	robots := fs.Int("robots", 3, "simulated robots (at least 3)")
	shots := fs.Int("shots", 20, "pictures each taught shape is shown")
	method := fs.String("method", "analytic", "learner method every robot and the hub use")
	stateDir := fs.String("state-dir", "", "keep the hub's and robots' state here (default: a temporary directory, removed)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge fleet-demo:", err)
		return 2
	}
	// The story goes to stdout; component logs only when they matter.
	lc := cfg.Log
	if lc.Level == "info" {
		lc.Level = "warn"
	}
	log := newLogger(env.stderr, lc)
	enc, err := accel.Open(ctx, cfg.Accel, log)
	if err != nil {
		log.Error("edge fleet-demo: model", "err", err)
		return 1
	}
	defer enc.Close()
	fmt.Fprintf(env.stdout, "clipfleet fleet demo: robots learn shapes the model cannot name, and teach each other through the hub\n")
	res, err := fleetdemo.Run(ctx, fleetdemo.Options{Encoder: enc, Robots: *robots, Shots: *shots, Method: *method,
		StateDir: *stateDir, Out: env.stdout, Log: log})
	if err != nil {
		log.Error("edge fleet-demo", "err", err)
		return 1
	}
	fmt.Fprintf(env.stdout, "hub: fleet version %d, %d deltas merged in %d merges, %d stale (re-sent against the new base), %d rejected\n",
		res.Hub.Version, res.Hub.MergedDeltas, res.Hub.Merges, res.Hub.Stale, res.Hub.Rejected)
	return 0
}
