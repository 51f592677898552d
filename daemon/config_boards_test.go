package daemon

import (
	"errors"
	"testing"
	"time"

	"github.com/clipfleet/clipfleet/boards"
)

func TestConfigValidatesBoardsSection(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"default detects", func(*Config) {}, true},
		{"named board", func(c *Config) { c.Boards.Board = "raspberry-pi-5" }, true},
		{"unknown board", func(c *Config) { c.Boards.Board = "pdp-11" }, false},
		{"interval too short", func(c *Config) { c.Boards.Thermal.Interval = time.Millisecond }, false},
		{"hard below soft", func(c *Config) { c.Boards.Thermal.SoftC, c.Boards.Thermal.HardC = 80, 70 }, false},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if (err == nil) != tc.ok || (!tc.ok && !errors.Is(err, boards.ErrInvalidConfig)) {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if DefaultConfig().Boards.Board != boards.Auto {
		t.Error("the default config does not detect the board")
	}
}
