package boards

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
)

var coralDevBoard = &spec{
	name: "coral-dev-board", rank: RankAccelerated, nominalCPUs: 4,
	detect: func(fsys fs.FS) (bool, string) {
		dt := readDeviceTree(fsys)
		if c, ok := dt.firstCompatible("fsl,imx8mq-phanbell"); ok {
			return true, fmt.Sprintf("device-tree compatible %q (model %q)", c, dt.model)
		}
		if strings.Contains(dt.model, "Phanbell") {
			return true, fmt.Sprintf("device-tree model %q", dt.model)
		}
		return false, dt.mismatch("fsl,imx8mq-phanbell")
	},
	profile: func(cpus int) Profile {
		return Profile{
			Defaults: Defaults{
				Accel:  edgeTPUAccel(threadsFor(cpus)),
				Camera: usbCamera(), // the Coral camera is /dev/video0 on Mendel too
			},
			// The i.MX8MQ trips at 85 °C and the Edge TPU driver starts
			// slowing the TPU at 85 °C as well.
			Thermal: ThermalLimits{SoftC: 80, HardC: 90,
				Extra: []Sensor{{Name: "edgetpu", Path: "sys/class/apex/apex_0/temp"}}},
		}
	},
}

// Coral USB Accelerator ids: it enumerates as Global Unichip 1a6e:089a
// until the Edge TPU runtime loads its firmware, then as Google 18d1:9302.
var coralUSBIDs = []struct{ vendor, product, state string }{
	{"1a6e", "089a", "Edge TPU before its firmware is loaded"},
	{"18d1", "9302", "Edge TPU, firmware loaded"},
}

var coralUSB = &accessorySpec{
	spec: spec{
		name: "coral-usb", rank: RankAccessory,
		detect: func(fsys fs.FS) (bool, string) {
			devs, err := usbDevices(fsys)
			if err != nil {
				return false, fmt.Sprintf("/%s unreadable: %v", pathUSBDevices, err)
			}
			for _, d := range devs {
				for _, id := range coralUSBIDs {
					if d.vendor == id.vendor && d.product == id.product {
						return true, fmt.Sprintf("USB device %s is %s:%s (%s)", d.name, d.vendor, d.product, id.state)
					}
				}
			}
			if len(devs) == 0 {
				return false, "no USB devices under /" + pathUSBDevices
			}
			return false, fmt.Sprintf("none of the %d USB devices under /%s is 1a6e:089a or 18d1:9302", len(devs), pathUSBDevices)
		},
		profile: func(cpus int) Profile {
			return Profile{
				Defaults: Defaults{Accel: edgeTPUAccel(threadsFor(cpus)), Camera: usbCamera()},
				Thermal:  genericX86.profile(cpus).Thermal,
			}
		},
	},
	overlay: func(host Profile) Profile {
		host.Defaults.Accel = edgeTPUAccel(host.Defaults.Accel.Threads)
		return host
	},
}

func edgeTPUAccel(threads int) AccelDefaults {
	return AccelDefaults{Backend: "tflite", Delegate: accel.DelegateEdgeTPU, Threads: threads}
}
