package boards

import "io/fs"

// Board is one kind of device clipfleet can run on.
type Board interface {
	// Name is the board's registry name, e.g. "jetson-orin-nano".
	Name() string
	// Rank orders detection (see the package documentation); use one of
	// the Rank constants.
	Rank() int
	// Detect reports whether the root filesystem fsys is this board. The
	// evidence says why in either case, naming the files it read, e.g.
	// `device-tree compatible "nvidia,p3767-0005, ..."` or
	// "no /proc/device-tree/compatible". Detect must only read.
	Detect(fsys fs.FS) (ok bool, evidence string)
	// Profile returns the board's defaults for the system at fsys (which
	// it may read, e.g. for the number of online CPUs).
	Profile(fsys fs.FS) Profile
}

// Accessory is a Board that is an accelerator plugged into another board,
// such as the Coral USB stick. When it outranks the detected host, Detect
// uses Overlay to lay it over the host's profile.
type Accessory interface {
	Board
	// Overlay returns host with the accessory's settings laid over it; it
	// keeps what the accessory does not determine (camera, thermal limits,
	// pins).
	Overlay(host Profile) Profile
}

// Ranks of the built-in boards; see the package documentation for how
// Detect uses them.
const (
	RankGeneric     = 10  // architecture fallbacks: any x86_64 or arm64 machine
	RankSBC         = 30  // single-board computers without an accelerator
	RankAccessory   = 50  // plug-in accelerators, laid over lower-ranked hosts
	RankAccelerated = 100 // boards with a built-in accelerator
)

// Profile is everything a board suggests to the daemon.
type Profile struct {
	Defaults Defaults      `json:"defaults"`
	Thermal  ThermalLimits `json:"thermal"`
	Pins     Pins          `json:"pins"`
	// CPUs is the number of online CPUs the thread defaults were derived
	// from (0 = unknown).
	CPUs int `json:"cpus"`
}

// Pins names the board's default GPIO pins in periph's gpioreg naming
// ("GPIO17"); "" means the board has no default and the pin stays unused
// unless configured.
type Pins struct {
	LED    string `json:"led,omitempty"`
	Button string `json:"button,omitempty"`
}
