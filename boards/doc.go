// Package boards knows the devices clipfleet runs on: how to recognise each
// one from its root filesystem, which accelerator and camera settings suit
// it, how hot it may run, and which GPIO pins carry a status LED and a
// "teach" push-button.
//
// # Boards and detection
//
// A Board has a name, a Rank and a Detect method that reads a root
// filesystem through fs.FS (/proc/device-tree/model and compatible,
// /etc/nv_tegra_release, /sys/bus/usb/devices/*/id{Vendor,Product},
// /sys/devices/system/cpu/modalias ...), so detection is tested against
// fixture trees in testdata/ and runs in production on os.DirFS("/")
// (Config.Root). Boards register themselves with Register; the built-in
// ones are jetson-orin-nano, jetson-xavier-nx, jetson-nano, coral-dev-board,
// coral-usb, raspberry-pi-4, raspberry-pi-5, generic-x86_64 and
// generic-arm64.
//
// Detect asks every registered board, then picks by Rank, highest first:
// boards with a built-in accelerator (Jetsons, the Coral Dev Board) rank
// RankAccelerated, plug-in accelerators (the Coral USB stick) RankAccessory,
// single-board computers without one (Raspberry Pi) RankSBC, and the
// architecture fallbacks RankGeneric. Ties between matching boards of equal
// rank go to the name that sorts first, so the outcome never depends on
// registration order. An Accessory does not replace the board it is plugged
// into: Detect also picks the best non-accessory host, and when the
// accessory outranks it, lays the accessory's accelerator defaults over the
// host's camera, thermal limits and pins (a Coral USB stick on a Raspberry
// Pi keeps the Pi's limits). A host that outranks the accessory (a Jetson
// with a Coral stick) keeps its own accelerator and the accessory is
// reported as skipped. Every board's answer, matched or not, is kept in
// Detection.Candidates with its evidence, so the log can say why each one
// was or was not chosen.
//
// # Defaults
//
// Profile.Defaults holds the board's accelerator backend, execution
// providers or delegate, thread count and camera source. They are meant to
// sit between the packages' built-in defaults and the user's configuration:
// apply them (ApplyAccel, ApplyCapture) to the default config before the
// config file and overrides are decoded over it, so anything the user sets
// wins.
//
// # Thermal limits
//
// ReadSensors reads /sys/class/thermal/thermal_zone*/{type,temp} (and a
// board's extra sensors, such as the Coral Dev Board's Edge TPU) in
// millidegrees Celsius. A Thermal monitor compares the hottest watched
// sensor with the board's soft and hard limits and reports ok, throttle or
// critical with a suggested frame-rate factor, with hysteresis so a sensor
// hovering at a limit does not flap.
//
// # GPIO
//
// Indicator drives a status LED with blink patterns per Signal and Button
// calls back on a debounced press; both take a periph.io gpio pin, looked
// up by name (e.g. "GPIO17") in periph's gpioreg. This package only uses
// periph.io/x/conn, which is pure Go; the drivers that register real pins
// live in boards/host, which the daemon blank-imports. Without them every
// pin lookup fails with ErrNoPin naming the pin.
package boards
