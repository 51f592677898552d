package fleetdemo_test

import (
	"context"
	"fmt"
	"os"

	"github.com/clipfleet/clipfleet/accel"
	_ "github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/fleetdemo"
)

// The story of `make run`, printed as it happens. (Not run: it needs the
// ONNX Runtime library; TestFleetDemoStory runs it.)
func ExampleRun() {
	enc, err := accel.Open(context.Background(), accel.DefaultConfig(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer enc.Close()
	res, err := fleetdemo.Run(context.Background(), fleetdemo.Options{Encoder: enc, Out: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	last := res.Checks[len(res.Checks)-1]
	fmt.Printf("robot-2 names %.0f%% of what it sees, never taught\n", 100*last.Overall["robot-2"])
}
