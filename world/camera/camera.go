package camera

import (
	"fmt"

	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/world"
)

// Config is a world stream plus the frame size used when the capture source
// does not set one.
type Config struct {
	world.Config `yaml:",inline"`
	Width        int `yaml:"width"`
	Height       int `yaml:"height"`
}

// DefaultConfig plays the default scenario at VGA size.
func DefaultConfig() Config {
	return Config{Config: world.DefaultConfig(), Width: 640, Height: 480}
}

// Validate checks the config without reading the scenario.
func (c Config) Validate() error {
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("camera: %w", err)
	}
	if !validSize(c.Width, c.Height) {
		return fmt.Errorf("camera: frame size %dx%d outside [1,8192]", c.Width, c.Height)
	}
	return nil
}

// New opens the configured stream and returns its render callback.
func New(cfg Config) (func(seq uint64, dst *capture.Frame), *world.Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	st, err := world.OpenStream(cfg.Config)
	if err != nil {
		return nil, nil, fmt.Errorf("camera: %w", err)
	}
	render, err := Render(st, cfg.Width, cfg.Height)
	if err != nil {
		return nil, nil, err
	}
	return render, st, nil
}

// Render returns a callback that draws frame seq of st into dst, reusing
// dst.RGB. It uses dst.Width×dst.Height when the source has set them and
// width×height otherwise; it sets Width, Height and RGB, and leaves Seq and
// Time to the source. Safe for concurrent use.
func Render(st *world.Stream, width, height int) (func(seq uint64, dst *capture.Frame), error) {
	if !validSize(width, height) {
		return nil, fmt.Errorf("camera: frame size %dx%d outside [1,8192]", width, height)
	}
	return func(seq uint64, dst *capture.Frame) {
		if !validSize(dst.Width, dst.Height) {
			dst.Width, dst.Height = width, height
		}
		n := dst.Width * dst.Height * 3
		if cap(dst.RGB) < n {
			dst.RGB = make([]byte, n)
		}
		dst.RGB = dst.RGB[:n]
		// The size is valid and the buffer large enough, which is all
		// that world.Stream.Render checks.
		_, _ = st.Render(seq, dst.Width, dst.Height, dst.RGB)
	}, nil
}

func validSize(w, h int) bool { return w >= 1 && h >= 1 && w <= 8192 && h <= 8192 }
