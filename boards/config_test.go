package boards

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config invalid: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" = valid
	}{
		{"named board", func(c *Config) { c.Board = "raspberry-pi-5" }, ""},
		{"unknown board", func(c *Config) { c.Board = "raspberry-pi-6" }, "boards.board"},
		{"soft only", func(c *Config) { c.Thermal.SoftC = 70 }, ""},
		{"soft too low", func(c *Config) { c.Thermal.SoftC = 5 }, "boards.thermal.soft_c"},
		{"hard too high", func(c *Config) { c.Thermal.HardC = 200 }, "boards.thermal.hard_c"},
		{"hard below soft", func(c *Config) { c.Thermal.SoftC, c.Thermal.HardC = 80, 80 }, "boards.thermal.hard_c"},
		{"negative hysteresis", func(c *Config) { c.Thermal.HysteresisC = -1 }, "boards.thermal.hysteresis_c"},
		{"bad watch pattern", func(c *Config) { c.Thermal.Watch = []string{"cpu-["} }, "boards.thermal.watch[0]"},
		{"empty watch pattern", func(c *Config) { c.Thermal.Watch = []string{"tj-thermal", " "} }, "boards.thermal.watch[1]"},
		{"fast interval", func(c *Config) { c.Thermal.Interval = 10 * time.Millisecond }, "boards.thermal.interval"},
		{"pin with space", func(c *Config) { c.GPIO.LED = "GPIO 17" }, "boards.gpio.led"},
		{"same pin twice", func(c *Config) { c.GPIO.LED, c.GPIO.Button = "GPIO5", "GPIO5" }, "boards.gpio.button"},
		{"both none", func(c *Config) { c.GPIO.LED, c.GPIO.Button = PinNone, PinNone }, ""},
		{"long debounce", func(c *Config) { c.GPIO.Debounce = 2 * time.Second }, "boards.gpio.debounce"},
		{"blank button label", func(c *Config) { c.GPIO.ButtonLabel = "  " }, "boards.gpio.button_label"},
		{"button frames", func(c *Config) { c.GPIO.ButtonFrames = 1000 }, "boards.gpio.button_frames"},
		{"button views", func(c *Config) { c.GPIO.ButtonViews = 65 }, "boards.gpio.button_views"},
		{"button augment", func(c *Config) { c.GPIO.ButtonAugment = "fancy" }, "boards.gpio.button_augment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("err = %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
		})
	}
}

// The yaml tags are the documented config keys; a strict decode proves
// every one of them maps to a field.
func TestConfigYAML(t *testing.T) {
	src := `
board: jetson-nano
root: /mnt/robot
thermal:
  soft_c: 70
  hard_c: 80
  hysteresis_c: 2
  watch: [CPU-therm, GPU-therm]
  interval: 2s
gpio:
  led: GPIO17
  led_active_low: true
  button: GPIO27
  button_active_high: true
  debounce: 30ms
`
	c := DefaultConfig()
	if err := yamlstrict.Decode([]byte(src), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Board: "jetson-nano", Root: "/mnt/robot",
		Thermal: ThermalConfig{SoftC: 70, HardC: 80, HysteresisC: 2, Watch: []string{"CPU-therm", "GPU-therm"}, Interval: 2 * time.Second},
		GPIO:    GPIOConfig{LED: "GPIO17", LEDActiveLow: true, Button: "GPIO27", ButtonActiveHigh: true, Debounce: 30 * time.Millisecond},
	}
	if c.Board != want.Board || c.Root != want.Root || c.GPIO != want.GPIO ||
		c.Thermal.SoftC != 70 || c.Thermal.HardC != 80 || c.Thermal.HysteresisC != 2 ||
		strings.Join(c.Thermal.Watch, ",") != "CPU-therm,GPU-therm" || c.Thermal.Interval != want.Thermal.Interval {
		t.Fatalf("decoded %+v\nwant %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := yamlstrict.Decode([]byte("thermal:\n  softc: 70\n"), &c); err == nil || !strings.Contains(err.Error(), "thermal.softc") {
		t.Fatalf("misspelt key: %v", err)
	}
}
