// Package host links periph.io's host drivers (periph.io/x/host/v3) into
// the binary so that boards' GPIO lookups find the device's real pins.
//
// It is the "cgo at the edges" half of boards: the boards package itself
// only uses periph.io/x/conn, which is pure Go and portable, while the
// drivers here probe memory-mapped registers, /dev/gpiochip* and sysfs.
// Blank-import it from the daemon's main package:
//
//	import _ "github.com/clipfleet/clipfleet/boards/host"
//
// Importing it does no I/O: the drivers load on the first pin lookup
// (boards.LookupPin, OpenIndicator, OpenButton), so a daemon configured
// without LED or button never probes the hardware.
package host
