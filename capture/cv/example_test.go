package cv_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/capture/cv"
)

// What `edge doctor` prints about video capture.
func ExampleDoctor() {
	fmt.Print(cv.Doctor())
}

// Probe answers "does the configured camera deliver frames?" without
// starting the daemon.
func ExampleProbe() {
	cfg := capture.DefaultConfig() // camera "0"
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	f, err := cv.Probe(context.Background(), cfg, log)
	if err != nil {
		fmt.Println("camera:", err) // e.g. capture/cv: open camera /dev/video0: no such video device (unplugged?): ...
		return
	}
	fmt.Printf("camera: %dx%d frames\n", f.Width, f.Height)
}
