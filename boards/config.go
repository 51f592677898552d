package boards

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"

	"github.com/clipfleet/clipfleet/augment"
)

// Config is the `boards:` section of the daemon's configuration.
type Config struct {
	// Board is "auto" (or empty) to detect, or a registered board name to
	// skip detection, e.g. in a container without /proc/device-tree.
	Board string `yaml:"board"`
	// Root is the directory the board's /proc, /sys and /etc are read
	// from; empty means "/". Tests and `edge board --root` point it at a
	// fixture tree.
	Root    string        `yaml:"root"`
	Thermal ThermalConfig `yaml:"thermal"`
	GPIO    GPIOConfig    `yaml:"gpio"`
}

// ThermalConfig overrides the board's thermal limits; zero values keep the
// board's.
type ThermalConfig struct {
	SoftC       float64 `yaml:"soft_c"`
	HardC       float64 `yaml:"hard_c"`
	HysteresisC float64 `yaml:"hysteresis_c"`
	// Watch replaces the board's list of zone types that count
	// (path.Match patterns such as "cpu-thermal" or "tj-*").
	Watch []string `yaml:"watch"`
	// Interval is how often the monitor reads the sensors.
	Interval time.Duration `yaml:"interval"`
}

// GPIOConfig selects the status LED and teach button pins. A pin name is
// whatever periph's gpioreg knows ("GPIO17", "P1_11", "17"); empty keeps
// the board's default, "none" disables the pin.
type GPIOConfig struct {
	LED          string `yaml:"led"`
	LEDActiveLow bool   `yaml:"led_active_low"`
	Button       string `yaml:"button"`
	// ButtonActiveHigh is for buttons wired to 3.3 V; the default is a
	// button to ground with the internal pull-up.
	ButtonActiveHigh bool          `yaml:"button_active_high"`
	Debounce         time.Duration `yaml:"debounce"`
	// ButtonLabel is what a press of the teach button teaches: the next
	// ButtonFrames frames (default 5) become examples of this label. A
	// robot's button means one thing ("obstacle", "dock"); empty leaves
	// the button unused.
	ButtonLabel  string `yaml:"button_label"`
	ButtonFrames int    `yaml:"button_frames"`
	// ButtonViews augmented views of each of those frames are taught
	// after it (0: none), made with the augment preset ButtonAugment
	// ("camera" when empty; "shape" also turns and recolours — only for a
	// label that stays true when turned and recoloured).
	ButtonViews   int    `yaml:"button_views"`
	ButtonAugment string `yaml:"button_augment"`
}

// ButtonViewConfig is the augmentation a press teaches with (Views 0:
// none).
func (g GPIOConfig) ButtonViewConfig() (augment.Config, error) {
	return augment.PresetViews(g.ButtonAugment, g.ButtonViews)
}

// Auto is Config.Board's value for detection; PinNone disables a pin.
const (
	Auto    = "auto"
	PinNone = "none"
)

// DefaultConfig detects the board under "/" and keeps its limits and
// pins, reading the sensors every 5 s.
func DefaultConfig() Config {
	return Config{
		Board:   Auto,
		Root:    "/",
		Thermal: ThermalConfig{Interval: 5 * time.Second},
		GPIO:    GPIOConfig{Debounce: DefaultDebounce},
	}
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("boards: invalid config")

// Validate checks the config without touching the filesystem and names the
// first bad field.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: boards.%s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	if c.Board != "" && c.Board != Auto {
		if _, ok := Lookup(c.Board); !ok {
			return bad("board", "unknown board %q (want auto or one of %s)", c.Board, strings.Join(Names(), ", "))
		}
	}
	t := c.Thermal
	for _, f := range []struct {
		name string
		v    float64
	}{{"thermal.soft_c", t.SoftC}, {"thermal.hard_c", t.HardC}} {
		if f.v != 0 && (f.v < 20 || f.v > maxPlausibleC) {
			return bad(f.name, "%g °C outside [20, %d] (0 keeps the board's)", f.v, maxPlausibleC)
		}
	}
	if t.SoftC != 0 && t.HardC != 0 && t.HardC <= t.SoftC {
		return bad("thermal.hard_c", "%g °C must be above soft_c (%g °C)", t.HardC, t.SoftC)
	}
	if t.HysteresisC < 0 || t.HysteresisC > 20 {
		return bad("thermal.hysteresis_c", "%g outside [0, 20] (0 keeps the board's)", t.HysteresisC)
	}
	for i, w := range t.Watch {
		if _, err := path.Match(w, ""); err != nil || strings.TrimSpace(w) == "" {
			return bad(fmt.Sprintf("thermal.watch[%d]", i), "%q is not a zone type pattern", w)
		}
	}
	if t.Interval != 0 && t.Interval < 100*time.Millisecond {
		return bad("thermal.interval", "%s is below 100ms", t.Interval)
	}
	g := c.GPIO
	for _, f := range []struct{ name, v string }{{"gpio.led", g.LED}, {"gpio.button", g.Button}} {
		if strings.ContainsAny(f.v, " \t\n") {
			return bad(f.name, "pin name %q contains spaces", f.v)
		}
	}
	if g.LED != "" && g.LED != PinNone && g.LED == g.Button {
		return bad("gpio.button", "pin %q is also the LED", g.Button)
	}
	if g.Debounce < 0 || g.Debounce > time.Second {
		return bad("gpio.debounce", "%s outside [0, 1s]", g.Debounce)
	}
	if g.ButtonLabel != "" && strings.TrimSpace(g.ButtonLabel) == "" {
		return bad("gpio.button_label", "%q is blank", g.ButtonLabel)
	}
	if g.ButtonFrames < 0 || g.ButtonFrames > 100 {
		return bad("gpio.button_frames", "%d outside [0, 100] (0: 5)", g.ButtonFrames)
	}
	if g.ButtonViews < 0 || g.ButtonViews > 64 {
		return bad("gpio.button_views", "%d outside [0, 64]", g.ButtonViews)
	}
	// With the views in range, only the preset name can be wrong.
	if _, err := g.ButtonViewConfig(); err != nil {
		return bad("gpio.button_augment", "%v", err)
	}
	return nil
}

// root returns the root directory, "/" when unset.
func (c Config) root() string {
	if c.Root == "" {
		return "/"
	}
	return c.Root
}

// FS returns the root filesystem the config reads boards from.
func (c Config) FS() fs.FS { return os.DirFS(c.root()) }

// apply lays the config's overrides over a board's profile and checks the
// limits that result from mixing the two.
func (c Config) apply(p Profile) (Profile, error) {
	t := c.Thermal
	if t.SoftC != 0 {
		p.Thermal.SoftC = t.SoftC
	}
	if t.HardC != 0 {
		p.Thermal.HardC = t.HardC
	}
	if t.HysteresisC != 0 {
		p.Thermal.HysteresisC = t.HysteresisC
	}
	if p.Thermal.HysteresisC == 0 {
		p.Thermal.HysteresisC = DefaultHysteresisC
	}
	if len(t.Watch) > 0 {
		p.Thermal.Watch = append([]string(nil), t.Watch...)
	}
	if p.Thermal.HardC <= p.Thermal.SoftC {
		return p, fmt.Errorf("%w: boards.thermal: hard limit %g °C is not above soft limit %g °C once the board's limits are filled in",
			ErrInvalidConfig, p.Thermal.HardC, p.Thermal.SoftC)
	}
	p.Pins.LED = pick(c.GPIO.LED, p.Pins.LED)
	p.Pins.Button = pick(c.GPIO.Button, p.Pins.Button)
	if p.Pins.LED != "" && p.Pins.LED == p.Pins.Button {
		return p, fmt.Errorf("%w: boards.gpio: pin %q would be both the LED and the button once the board's defaults are filled in",
			ErrInvalidConfig, p.Pins.LED)
	}
	return p, nil
}

func pick(configured, board string) string {
	switch configured {
	case "":
		return board
	case PinNone:
		return ""
	}
	return configured
}
