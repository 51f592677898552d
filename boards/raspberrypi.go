package boards

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
)

// Raspberry Pi firmware caps the clock from 80 °C and harder at 85 °C;
// throttling ourselves first keeps inference latency predictable.
var (
	raspberryPi4 = &spec{
		name: "raspberry-pi-4", rank: RankSBC, nominalCPUs: 4,
		// bcm2711 also covers the Pi 400 and the Compute Module 4.
		detect:  piDetect([]string{"raspberrypi,4-model-b", "brcm,bcm2711"}, "Raspberry Pi 4"),
		profile: piProfile,
	}
	raspberryPi5 = &spec{
		name: "raspberry-pi-5", rank: RankSBC, nominalCPUs: 4,
		// bcm2712 also covers the Pi 500 and the Compute Module 5.
		detect:  piDetect([]string{"raspberrypi,5-model-b", "brcm,bcm2712"}, "Raspberry Pi 5"),
		profile: piProfile,
	}
)

func piDetect(compatible []string, model string) func(fs.FS) (bool, string) {
	return func(fsys fs.FS) (bool, string) {
		dt := readDeviceTree(fsys)
		if c, ok := dt.firstCompatible(compatible...); ok {
			return true, fmt.Sprintf("device-tree compatible %q (model %q)", c, dt.model)
		}
		if strings.HasPrefix(dt.model, model) {
			return true, fmt.Sprintf("device-tree model %q", dt.model)
		}
		return false, dt.mismatch(compatible...)
	}
}

func piProfile(cpus int) Profile {
	return Profile{
		Defaults: Defaults{
			// ONNX Runtime on the CPU runs every model directory clipfleet
			// ships; XNNPACK is preselected for a switch to tflite models.
			Accel: AccelDefaults{
				Backend:   "onnx",
				Providers: []string{accel.ProviderCPU},
				Delegate:  accel.DelegateXNNPack,
				Threads:   threadsFor(cpus),
			},
			// A USB webcam. A CSI camera needs libcamera instead:
			// source gstreamer, pipeline "libcamerasrc ! video/x-raw,width=640,height=480 !
			// videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1".
			Camera: usbCamera(),
		},
		Thermal: ThermalLimits{SoftC: 75, HardC: 82, Watch: []string{"cpu-thermal"}},
		// Header pins 11 and 13, next to a ground on pin 9 and 14.
		Pins: Pins{LED: "GPIO17", Button: "GPIO27"},
	}
}
