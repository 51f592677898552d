// Command worldgen is the procedural world's command line without the rest
// of the edge binary: `go run ./world/cmd/worldgen export --out DIR` builds
// in seconds and needs no cgo, which is why scripts/tinyclip/build.sh uses
// it. `edge world` runs the same code.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/clipfleet/clipfleet/world/worldcli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := worldcli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
