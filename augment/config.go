package augment

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidConfig is wrapped by Config.Validate errors.
var ErrInvalidConfig = errors.New("augment: invalid config")

// Config says how many views a taught frame gets and how far they may
// stray from it. The ranges are those a robot camera plausibly produces
// between two looks at the same object: it may be a little nearer or
// further (scale), off-centre (crop position, shift), tilted (rotation),
// or under other light (colour jitter); the mirror image of an object is
// usually the same class. Set Flip to 0 for classes whose handedness
// matters (arrows pointing left vs right as different labels).
type Config struct {
	// Views is how many augmented views each taught frame adds; the frame
	// itself is always taught as well. 0 turns augmentation off.
	Views int `yaml:"views" json:"views"`
	// Flip is the probability of a horizontal mirror.
	Flip float64 `yaml:"flip" json:"flip"`
	// MinScale and MaxScale bound the crop's area as a fraction of the
	// frame's (random resized crop); MaxAspect bounds its aspect ratio
	// change (log-uniform in [1/MaxAspect, MaxAspect]).
	MinScale  float64 `yaml:"min_scale" json:"min_scale"`
	MaxScale  float64 `yaml:"max_scale" json:"max_scale"`
	MaxAspect float64 `yaml:"max_aspect" json:"max_aspect"`
	// MaxRotate is the largest rotation, in degrees either way.
	MaxRotate float64 `yaml:"max_rotate_deg" json:"max_rotate_deg"`
	// MaxShift is the largest extra translation, as a fraction of the
	// frame's side, on each axis.
	MaxShift float64 `yaml:"max_shift" json:"max_shift"`
	// Brightness, Contrast and Saturation are jitter amplitudes: each
	// factor is uniform in [1-a, 1+a].
	Brightness float64 `yaml:"brightness" json:"brightness"`
	Contrast   float64 `yaml:"contrast" json:"contrast"`
	Saturation float64 `yaml:"saturation" json:"saturation"`
	// Hue is the largest hue rotation, in turns either way (0.5: any hue).
	Hue float64 `yaml:"hue" json:"hue"`
}

// DefaultConfig is the "camera" preset: what a robot camera plausibly
// varies between two looks at an object, safe for any label. On the
// testbed's never-named shapes it does not help any head (eval/README.md).
func DefaultConfig() Config {
	return Config{
		Views:      16,
		Flip:       0.5,
		MinScale:   0.6,
		MaxScale:   1,
		MaxAspect:  4.0 / 3,
		MaxRotate:  10,
		MaxShift:   0.05,
		Brightness: 0.2,
		Contrast:   0.2,
		Saturation: 0.2,
	}
}

// ShapeConfig is the "shape" preset: the camera preset plus any rotation
// and any hue, 32 views. Use it only for labels that name a shape whatever
// its orientation and colour: it teaches a red and a blue version of the
// same frame, and an upside-down one, as the same class, which is wrong
// for "red cup" vs "blue cup" or "arrow left" vs "arrow right". On the
// testbed it lifts the analytic head's never-named 10-shot mean from 65.7
// to 75.7 (eval/README.md).
func ShapeConfig() Config {
	c := DefaultConfig()
	c.Views, c.MaxRotate, c.Hue = 32, 180, 0.5
	return c
}

// ErrUnknownPreset is returned by Preset for a name it does not know.
var ErrUnknownPreset = errors.New("augment: unknown preset")

// Presets are the names Preset knows.
func Presets() []string { return []string{"camera", "shape"} }

// Preset returns the named preset: "camera" (DefaultConfig) or "shape"
// (ShapeConfig).
func Preset(name string) (Config, error) {
	switch name {
	case "camera":
		return DefaultConfig(), nil
	case "shape":
		return ShapeConfig(), nil
	}
	return Config{}, fmt.Errorf("%w %q (have camera, shape)", ErrUnknownPreset, name)
}

// PresetViews is the named preset ("" is "camera") making views augmented
// views of each taught frame, validated; with views 0 it is the zero Config
// (no views), though the name is still checked. It is how a teach request
// or the teach button spells its augmentation.
func PresetViews(name string, views int) (Config, error) {
	if name == "" {
		name = "camera"
	}
	c, err := Preset(name)
	if err != nil || views == 0 {
		return Config{}, err
	}
	c.Views = views
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks c without side effects.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, a...)...))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if c.Views < 0 || c.Views > 256 {
		bad("views %d outside [0,256]", c.Views)
	}
	if !finite(c.Flip) || c.Flip < 0 || c.Flip > 1 {
		bad("flip %v outside [0,1]", c.Flip)
	}
	if !finite(c.MinScale) || !finite(c.MaxScale) || c.MinScale <= 0 || c.MinScale > c.MaxScale || c.MaxScale > 1 {
		bad("scale range [%v,%v] not within (0,1]", c.MinScale, c.MaxScale)
	}
	if !finite(c.MaxAspect) || c.MaxAspect < 1 || c.MaxAspect > 4 {
		bad("max_aspect %v outside [1,4]", c.MaxAspect)
	}
	if !finite(c.MaxRotate) || c.MaxRotate < 0 || c.MaxRotate > 180 {
		bad("max_rotate_deg %v outside [0,180]", c.MaxRotate)
	}
	if !finite(c.MaxShift) || c.MaxShift < 0 || c.MaxShift > 0.5 {
		bad("max_shift %v outside [0,0.5]", c.MaxShift)
	}
	for _, j := range []struct {
		name string
		v    float64
	}{{"brightness", c.Brightness}, {"contrast", c.Contrast}, {"saturation", c.Saturation}} {
		if !finite(j.v) || j.v < 0 || j.v >= 1 {
			bad("%s %v outside [0,1)", j.name, j.v)
		}
	}
	if !finite(c.Hue) || c.Hue < 0 || c.Hue > 0.5 {
		bad("hue %v outside [0,0.5]", c.Hue)
	}
	return errors.Join(errs...)
}
