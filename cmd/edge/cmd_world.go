package main

import (
	"context"

	"github.com/clipfleet/clipfleet/world/worldcli"
)

func init() {
	register(command{
		name:    "world",
		summary: "render, export or check procedural-world scenarios (the testbed)",
		run:     runWorld,
	})
}

// runWorld hands over to the world's own command line, which the cgo-free
// world/cmd/worldgen also runs; flags are parsed there with
// flag.ContinueOnError and errors go to env.stderr.
func runWorld(ctx context.Context, env *cliEnv, args []string) int {
	return worldcli.Run(ctx, args, env.stdout, env.stderr)
}
