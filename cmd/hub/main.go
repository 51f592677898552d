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
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
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

var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("hub: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runCLI(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ}, os.Args[1:])
	stop()
	os.Exit(code)
}

func runCLI(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "hub: unknown command %q\n\n", args[0])
		usage(env.stderr)
		return 2
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hub <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
}
