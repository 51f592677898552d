package boards

import (
	"io/fs"

	"github.com/clipfleet/clipfleet/accel"
)

var (
	genericX86 = &spec{
		name: "generic-x86_64", rank: RankGeneric,
		detect: archDetect("x86_64"),
		profile: func(cpus int) Profile {
			return genericProfile(cpus, ThermalLimits{SoftC: 85, HardC: 95,
				// Wi-Fi cards' zones fail to read while the interface is
				// down, and INT3400 is a policy zone with a placeholder
				// temperature; neither is the CPU.
				Ignore: []string{"iwlwifi*", "INT3400 Thermal"}})
		},
	}
	genericARM64 = &spec{
		name: "generic-arm64", rank: RankGeneric,
		detect: archDetect("aarch64"),
		profile: func(cpus int) Profile {
			return genericProfile(cpus, ThermalLimits{SoftC: 75, HardC: 85})
		},
	}
)

func archDetect(want string) func(fs.FS) (bool, string) {
	return func(fsys fs.FS) (bool, string) {
		arch, src := cpuArch(fsys)
		switch {
		case arch == "":
			return false, "CPU architecture unknown (no /" + pathCPUModalias + " or /" + pathCPUInfo + ")"
		case arch != want:
			return false, "CPU architecture is " + arch + " (" + src + ")"
		}
		return true, "CPU architecture " + arch + " (" + src + ")"
	}
}

func genericProfile(cpus int, l ThermalLimits) Profile {
	return Profile{
		Defaults: Defaults{
			Accel:  AccelDefaults{Backend: "onnx", Providers: []string{accel.ProviderCPU}, Threads: threadsFor(cpus)},
			Camera: usbCamera(),
		},
		Thermal: l,
	}
}
