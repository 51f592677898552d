package boards

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
)

// ErrNoPin is wrapped by errors about a GPIO pin name that no driver has
// registered.
var ErrNoPin = errors.New("boards: gpio pin not registered")

// HostDrivers loads the host's GPIO drivers, which register real pins in
// gpioreg. It returns a one-line summary of what loaded.
type HostDrivers func() (summary string, err error)

var host struct {
	sync.Mutex
	load    HostDrivers
	done    bool
	summary string
	err     error
}

// RegisterHostDrivers installs the function that loads the host's GPIO
// drivers; boards/host calls it from init so that a blank import is all
// the daemon needs. The drivers are loaded on the first pin lookup, not at
// start-up, so a daemon without LED or button never probes the hardware.
func RegisterHostDrivers(load HostDrivers) {
	host.Lock()
	defer host.Unlock()
	if load == nil || host.load != nil {
		panic("boards: RegisterHostDrivers called with nil or twice")
	}
	host.load = load
}

// LoadHostDrivers loads the registered host drivers once and returns their
// summary; later calls return the first result. Without boards/host linked
// it returns ("", nil) and only pins registered by other code (tests,
// other drivers) exist.
func LoadHostDrivers() (string, error) {
	host.Lock()
	defer host.Unlock()
	if host.load == nil {
		return "", nil
	}
	if !host.done {
		host.summary, host.err = host.load()
		host.done = true
	}
	return host.summary, host.err
}

// LookupPin returns the pin registered under name (a name, number or alias
// gpioreg knows, e.g. "GPIO17"), loading the host drivers first. role
// names the pin's use in the error ("status LED").
func LookupPin(name, role string) (gpio.PinIO, error) {
	summary, loadErr := LoadHostDrivers()
	if p := gpioreg.ByName(name); p != nil {
		return p, nil
	}
	host.Lock()
	linked := host.load != nil
	host.Unlock()
	var why string
	switch {
	case !linked:
		why = "no GPIO host drivers are linked (the daemon must import _ \"github.com/clipfleet/clipfleet/boards/host\")"
	case loadErr != nil:
		why = fmt.Sprintf("the host drivers failed to load: %v", loadErr)
	default:
		why = "the host drivers (" + summary + ") did not register it"
	}
	return nil, fmt.Errorf("%w: %q (%s): %s; registered pins: %s", ErrNoPin, name, role, why, pinNames())
}

// pinNames lists registered pins for error messages, shortened when long.
func pinNames() string {
	all := gpioreg.All()
	if len(all) == 0 {
		return "none"
	}
	const show = 12
	names := make([]string, 0, min(len(all), show))
	for _, p := range all[:min(len(all), show)] {
		names = append(names, p.Name())
	}
	s := strings.Join(names, ", ")
	if len(all) > show {
		s += fmt.Sprintf(" and %d more", len(all)-show)
	}
	return s
}
