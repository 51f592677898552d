// Command hub is the clipfleet fleet-sync hub: it merges the deltas devices
// publish over MQTT into signed global adapters (see docs/sync.md).
//
//	hub run --config hub.yaml                      serve the configured fleets
//	hub run --config hub.yaml --embedded-broker 127.0.0.1:1883
//	hub keygen --out /etc/clipfleet/hub            write hub.key (0600) and hub.pub
//
// Each subcommand lives in its own file and registers itself in init.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/clipfleet/clipfleet/internal/cli"
)

// command is one `hub` subcommand; run returns the exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv carries the process's streams so commands can be tested in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	environ        func() []string // KEY=VALUE pairs for HUB_* overrides
}

var commands = cli.New[*cliEnv]("hub")

func register(c command) { commands.Register(c.name, c.summary, c.run) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ}, os.Args[1:])
	stop()
	os.Exit(code)
}

func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	return commands.Run(ctx, env, env.stderr, args)
}
