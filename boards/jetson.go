package boards

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
)

// Jetson limits sit 10–15 °C under L4T's own throttling trip points
// (about 97–99 °C) and shutdown (about 104 °C).
var (
	jetsonOrinNano = &spec{
		name: "jetson-orin-nano", rank: RankAccelerated, nominalCPUs: 6,
		// Orin Nano 8 GB / 4 GB modules and the developer kit's SD module;
		// p3767-0000/0001 are the Orin NX, which is not this board.
		detect: jetsonDetect([]string{"nvidia,p3767-0003", "nvidia,p3767-0004", "nvidia,p3767-0005"}, "Orin Nano"),
		profile: func(cpus int) Profile {
			return jetsonProfile(cpus, ThermalLimits{SoftC: 85, HardC: 95,
				// The Orin Nano has no DLA or PVA; their zones read -256 °C.
				Ignore: []string{"cv*-thermal"}})
		},
	}
	jetsonXavierNX = &spec{
		name: "jetson-xavier-nx", rank: RankAccelerated, nominalCPUs: 6,
		detect: jetsonDetect([]string{"nvidia,p3668-"}, "Xavier NX"),
		profile: func(cpus int) Profile {
			return jetsonProfile(cpus, ThermalLimits{SoftC: 85, HardC: 95, Ignore: jetsonIgnore})
		},
	}
	jetsonNano = &spec{
		name: "jetson-nano", rank: RankAccelerated, nominalCPUs: 4,
		detect: jetsonDetect([]string{"nvidia,p3448-", "nvidia,jetson-nano"}, "Jetson Nano"),
		profile: func(cpus int) Profile {
			// The Nano's passive heatsink saturates sooner; throttle earlier.
			return jetsonProfile(cpus, ThermalLimits{SoftC: 80, HardC: 90, Ignore: jetsonIgnore})
		},
	}
)

// jetsonIgnore are L4T zones that are not die temperatures: PMIC-Die reads
// a constant 100 °C and thermal-fan-est is the fan governor's estimate.
var jetsonIgnore = []string{"PMIC-Die", "thermal-fan-est"}

// jetsonDetect matches the device-tree compatible list (most reliable: the
// module's part number), then the model string. /etc/nv_tegra_release is
// corroborating evidence only: it names the L4T release, not the module.
func jetsonDetect(compatible []string, model string) func(fs.FS) (bool, string) {
	return func(fsys fs.FS) (bool, string) {
		dt := readDeviceTree(fsys)
		l4t := tegraRelease(fsys)
		withL4T := func(s string) string {
			if l4t != "" {
				return s + "; " + l4t
			}
			return s
		}
		if c, ok := dt.firstCompatible(compatible...); ok {
			return true, withL4T(fmt.Sprintf("device-tree compatible %q (model %q)", c, dt.model))
		}
		if dt.model != "" && strings.Contains(dt.model, model) {
			return true, withL4T(fmt.Sprintf("device-tree model %q", dt.model))
		}
		ev := dt.mismatch(compatible...)
		if dt.err != nil && l4t != "" {
			ev += "; /" + pathTegraRelease + " says " + l4t + " but without the device tree the module is unknown (in a container, mount /proc, or set board:)"
		}
		return false, ev
	}
}

func jetsonProfile(cpus int, l ThermalLimits) Profile {
	return Profile{
		Defaults: Defaults{
			Accel: AccelDefaults{
				Backend:   "onnx",
				Providers: []string{accel.ProviderTensorRT, accel.ProviderCUDA, accel.ProviderCPU},
				FP16:      true,
				Threads:   threadsFor(cpus),
			},
			// A 1280x720 sensor mode exists on every common Jetson CSI
			// camera; 640x360 keeps its aspect and is ample for CLIP.
			Camera: CameraDefaults{
				Source:   capture.KindGStreamer,
				Pipeline: jetsonCSIPipeline(1280, 720, 640, 360, 30),
				Width:    640, Height: 360, FPS: 30,
			},
		},
		Thermal: l,
		// L4T's GPIO line names differ between releases, so Jetsons get
		// no default pins; set gpio.led and gpio.button.
	}
}
