package augment

import (
	"errors"
	"math"
	"testing"
)

func TestPresets(t *testing.T) {
	for _, name := range Presets() {
		c, err := Preset(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if c.Views < 1 {
			t.Errorf("%s: %d views", name, c.Views)
		}
	}
	cam, _ := Preset("camera")
	shape, _ := Preset("shape")
	// Only the shape preset may change what an object looks like beyond
	// what a camera does: its orientation and its colour.
	if cam.Hue != 0 || cam.MaxRotate > 30 || shape.Hue == 0 || shape.MaxRotate < 180 {
		t.Errorf("camera hue %v rotate %v; shape hue %v rotate %v", cam.Hue, cam.MaxRotate, shape.Hue, shape.MaxRotate)
	}
	if _, err := Preset("fancy"); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("unknown preset: %v", err)
	}
}

// PresetViews: "" is camera, views 0 is no augmentation (the name still
// checked), out-of-range views are refused.
func TestPresetViews(t *testing.T) {
	cam, _ := Preset("camera")
	cam.Views = 3
	if c, err := PresetViews("", 3); err != nil || c != cam {
		t.Errorf(`PresetViews("", 3) = %+v, %v; want camera with 3 views`, c, err)
	}
	shape, _ := Preset("shape")
	shape.Views = 4
	if c, err := PresetViews("shape", 4); err != nil || c != shape {
		t.Errorf(`PresetViews("shape", 4) = %+v, %v`, c, err)
	}
	if c, err := PresetViews("shape", 0); err != nil || c != (Config{}) {
		t.Errorf(`PresetViews("shape", 0) = %+v, %v; want the zero Config`, c, err)
	}
	if _, err := PresetViews("fancy", 0); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("unknown preset with no views: %v", err)
	}
	for _, v := range []int{-1, 257} {
		if _, err := PresetViews("camera", v); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%d views: %v", v, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	cases := []struct {
		name string
		set  func(*Config)
	}{
		{"negative views", func(c *Config) { c.Views = -1 }},
		{"flip above 1", func(c *Config) { c.Flip = 1.5 }},
		{"scale zero", func(c *Config) { c.MinScale = 0 }},
		{"scale inverted", func(c *Config) { c.MinScale, c.MaxScale = 0.9, 0.8 }},
		{"aspect below 1", func(c *Config) { c.MaxAspect = 0.5 }},
		{"rotate NaN", func(c *Config) { c.MaxRotate = math.NaN() }},
		{"shift too far", func(c *Config) { c.MaxShift = 0.6 }},
		{"brightness 1", func(c *Config) { c.Brightness = 1 }},
		{"hue above half", func(c *Config) { c.Hue = 0.7 }},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.set(&cfg)
		if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err %v, want ErrInvalidConfig", c.name, err)
		}
	}
}
