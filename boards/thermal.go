package boards

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// ThermalLimits are a board's temperature thresholds and the sensors they
// apply to. Temperatures are in degrees Celsius.
type ThermalLimits struct {
	// SoftC is where the daemon should start shedding load (throttle);
	// HardC where it should do the minimum (critical). Both sit below the
	// SoC's own throttling and shutdown points so the daemon slows down
	// before the hardware clocks down under it.
	SoftC float64 `json:"soft_c"`
	HardC float64 `json:"hard_c"`
	// HysteresisC is how far below a limit the hottest sensor must fall
	// before the state steps back down.
	HysteresisC float64 `json:"hysteresis_c"`
	// Watch lists the thermal zone types that count, as path.Match
	// patterns ("cpu-thermal", "CPU-therm", "tj-*"); empty watches all.
	Watch []string `json:"watch,omitempty"`
	// Ignore lists zone types that never count because they do not report
	// a real die temperature (Jetson's PMIC-Die reads a constant 100 °C,
	// Orin Nano's cv*-thermal -256 °C as it has no DLA).
	Ignore []string `json:"ignore,omitempty"`
	// Extra are additional sensor files in millidegrees, by name, such as
	// the Coral Dev Board's Edge TPU (sys/class/apex/apex_0/temp).
	Extra []Sensor `json:"extra,omitempty"`
}

// Sensor is a temperature file outside /sys/class/thermal.
type Sensor struct {
	Name string `json:"name"` // shown as the reading's type, e.g. "edgetpu"
	Path string `json:"path"` // relative to the root, e.g. "sys/class/apex/apex_0/temp"
}

// DefaultHysteresisC is used when ThermalLimits.HysteresisC is 0.
const DefaultHysteresisC = 3.0

// watches reports whether a zone of type typ counts toward the state.
func (l ThermalLimits) watches(typ string) bool {
	for _, p := range l.Ignore {
		if ok, _ := path.Match(p, typ); ok {
			return false
		}
	}
	if len(l.Watch) == 0 {
		return true
	}
	for _, p := range l.Watch {
		if ok, _ := path.Match(p, typ); ok {
			return true
		}
	}
	return false
}

// Reading is one sensor's temperature.
type Reading struct {
	Zone    string  `json:"zone"` // "thermal_zone3", or an extra sensor's name
	Type    string  `json:"type"` // the zone's type file, e.g. "cpu-thermal"
	Path    string  `json:"path"` // the temp file, relative to the root
	TempC   float64 `json:"temp_c"`
	Watched bool    `json:"watched"` // counts toward the thermal state
	Err     error   `json:"-"`       // set when the file could not be read or parsed
}

// ErrBadSensor is wrapped by errors about a temperature file whose content
// is not a plausible temperature.
var ErrBadSensor = errors.New("boards: bad temperature reading")

// Plausible range: sensors that are off or absent report values like
// -256 °C or 511 °C, which must not pass for real temperatures.
const (
	minPlausibleC = -40
	maxPlausibleC = 150
)

// ReadSensors reads every thermal zone under /sys/class/thermal and the
// limits' extra sensors, in zone number order. A sensor that cannot be read
// or holds a malformed value gets a Reading with Err naming the file; only
// a failure to list the zones is returned as an error (a machine without
// any, like most VMs, gives no readings and no error).
func ReadSensors(fsys fs.FS, l ThermalLimits) ([]Reading, error) {
	ents, err := fs.ReadDir(fsys, pathThermal)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("boards: listing /%s: %w", pathThermal, err)
	}
	var zones []string
	for _, e := range ents {
		if n, ok := zoneNumber(e.Name()); ok && n >= 0 {
			zones = append(zones, e.Name())
		}
	}
	sort.Slice(zones, func(i, j int) bool {
		a, _ := zoneNumber(zones[i])
		b, _ := zoneNumber(zones[j])
		return a < b
	})
	out := make([]Reading, 0, len(zones)+len(l.Extra))
	for _, z := range zones {
		dir := path.Join(pathThermal, z)
		r := Reading{Zone: z, Path: path.Join(dir, "temp")}
		typ, err := readTrim(fsys, path.Join(dir, "type"))
		if err != nil {
			r.Err = fmt.Errorf("boards: /%s/type: %w", dir, err)
		}
		r.Type = typ
		r.Watched = l.watches(typ)
		if r.Err == nil {
			r.TempC, r.Err = readMilliC(fsys, r.Path)
		}
		out = append(out, r)
	}
	for _, s := range l.Extra {
		r := Reading{Zone: s.Name, Type: s.Name, Path: s.Path, Watched: true}
		r.TempC, r.Err = readMilliC(fsys, s.Path)
		if errors.Is(r.Err, fs.ErrNotExist) {
			// Extra sensors belong to optional drivers (the apex driver is
			// absent until the Edge TPU is probed); absence is not a fault.
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func zoneNumber(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "thermal_zone")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// readMilliC reads a temperature file in millidegrees Celsius.
func readMilliC(fsys fs.FS, name string) (float64, error) {
	s, err := readTrim(fsys, name)
	if err != nil {
		return 0, fmt.Errorf("boards: /%s: %w", name, err)
	}
	return parseMilliC(name, s)
}

func parseMilliC(name, s string) (float64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: /%s: %q is not an integer number of millidegrees", ErrBadSensor, name, s)
	}
	c := float64(v) / 1000
	if c < minPlausibleC || c > maxPlausibleC {
		return 0, fmt.Errorf("%w: /%s: %g °C is outside [%d, %d] (sensor off or absent?)", ErrBadSensor, name, c, minPlausibleC, maxPlausibleC)
	}
	return c, nil
}
