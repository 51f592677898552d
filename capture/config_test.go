package capture_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/clipfleet/clipfleet/capture"
)

func TestDefaultConfigValidates(t *testing.T) {
	if err := capture.DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*capture.Config)
		field  string // "" = valid
		detail string
	}{
		{"camera index", func(c *capture.Config) { c.Device = "2" }, "", ""},
		{"camera path", func(c *capture.Config) { c.Device = "/dev/video0" }, "", ""},
		{"camera missing device", func(c *capture.Config) { c.Device = "" }, "capture.device", "required"},
		{"camera junk device", func(c *capture.Config) { c.Device = "webcam" }, "capture.device", `"webcam"`},
		{"camera negative index", func(c *capture.Config) { c.Device = "-1" }, "capture.device", "neither"},
		{"no source", func(c *capture.Config) { c.Source = "" }, "capture.source", "required"},
		{"unknown source", func(c *capture.Config) { c.Source = "kinect" }, "capture.source", `"kinect"`},
		{"gstreamer ok", func(c *capture.Config) {
			c.Source, c.Pipeline = capture.KindGStreamer, "nvarguscamerasrc ! nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR ! appsink"
		}, "", ""},
		{"gstreamer missing", func(c *capture.Config) { c.Source = capture.KindGStreamer }, "capture.pipeline", "required"},
		{"gstreamer no appsink", func(c *capture.Config) {
			c.Source, c.Pipeline = capture.KindGStreamer, "v4l2src ! autovideosink"
		}, "capture.pipeline", "appsink"},
		{"url ok", func(c *capture.Config) { c.Source, c.URL = capture.KindURL, "rtsp://cam.local:554/stream1" }, "", ""},
		{"url missing", func(c *capture.Config) { c.Source = capture.KindURL }, "capture.url", "required"},
		{"url scheme", func(c *capture.Config) { c.Source, c.URL = capture.KindURL, "ftp://x/y" }, "capture.url", `"ftp"`},
		{"url secret hidden", func(c *capture.Config) { c.Source, c.URL = capture.KindURL, "gopher://u:hunter2@x/" }, "capture.url", "u:xxxxx@"},
		{"url no host", func(c *capture.Config) { c.Source, c.URL = capture.KindURL, "rtsp:///stream" }, "capture.url", "no host"},
		{"file ok", func(c *capture.Config) { c.Source, c.Path = capture.KindFile, "a.avi" }, "", ""},
		{"file missing path", func(c *capture.Config) { c.Source = capture.KindFile }, "capture.path", "required"},
		{"folder missing path", func(c *capture.Config) { c.Source = capture.KindFolder }, "capture.path", "required"},
		{"synthetic ok", func(c *capture.Config) { c.Source = capture.KindSynthetic }, "", ""},
		{"synthetic needs size", func(c *capture.Config) { c.Source, c.Width, c.Height = capture.KindSynthetic, 0, 0 }, "capture.width", "required"},
		{"world ok", func(c *capture.Config) { c.Source, c.Scenario = capture.KindWorld, "default" }, "", ""},
		{"world needs scenario", func(c *capture.Config) { c.Source, c.Scenario = capture.KindWorld, " " }, "capture.scenario", "required"},
		{"world needs size", func(c *capture.Config) { c.Source, c.Scenario, c.Width, c.Height = capture.KindWorld, "default", 0, 0 }, "capture.width", "required"},
		{"device default size", func(c *capture.Config) { c.Width, c.Height = 0, 0 }, "", ""},
		{"width alone", func(c *capture.Config) { c.Height = 0 }, "capture.height", "together"},
		{"negative width", func(c *capture.Config) { c.Width = -1 }, "capture.width", "negative"},
		{"negative height", func(c *capture.Config) { c.Height = -1 }, "capture.height", "negative"},
		{"negative fps", func(c *capture.Config) { c.FPS = -1 }, "capture.fps", "negative"},
		{"watchdog off", func(c *capture.Config) { c.StallTimeout = 0 }, "", ""},
		{"negative stall", func(c *capture.Config) { c.StallTimeout = -time.Second }, "capture.stall_timeout", "negative"},
		{"stall below two frames", func(c *capture.Config) { c.FPS, c.StallTimeout = 1, 1500*time.Millisecond }, "capture.stall_timeout", "two frame periods"},
		{"stall of two frames", func(c *capture.Config) { c.FPS, c.StallTimeout = 1, 2*time.Second }, "", ""},
		{"zero reconnect_min", func(c *capture.Config) { c.ReconnectMin = 0 }, "capture.reconnect_min", "positive"},
		{"max below min", func(c *capture.Config) { c.ReconnectMax = c.ReconnectMin / 2 }, "capture.reconnect_max", "at least"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := capture.DefaultConfig()
			tt.mod(&cfg)
			err := cfg.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error naming %s", tt.field)
			}
			if !errors.Is(err, capture.ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.field+":") || !strings.Contains(err.Error(), tt.detail) {
				t.Errorf("Validate() = %q, want it to name %s and mention %q", err, tt.field, tt.detail)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("Validate() leaked a password: %q", err)
			}
		})
	}
}

func TestConfigFromYAML(t *testing.T) {
	doc := `
source: url
url: rtsp://robot:pw@10.0.0.2/stream
width: 1280
height: 720
fps: 15
stall_timeout: 3s
reconnect_min: 250ms
reconnect_max: 1m
`
	cfg := capture.DefaultConfig()
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := capture.DefaultConfig()
	want.Source, want.URL = capture.KindURL, "rtsp://robot:pw@10.0.0.2/stream"
	want.Width, want.Height, want.FPS = 1280, 720, 15
	want.StallTimeout, want.ReconnectMin, want.ReconnectMax = 3*time.Second, 250*time.Millisecond, time.Minute
	if cfg != want {
		t.Errorf("decoded %+v\nwant    %+v", cfg, want)
	}
}

func TestFinite(t *testing.T) {
	tests := []struct {
		source string
		loop   bool
		want   bool
	}{
		{capture.KindFile, false, true},
		{capture.KindFolder, false, true},
		{capture.KindFile, true, false},
		{capture.KindFolder, true, false},
		{capture.KindCamera, false, false},
		{capture.KindURL, false, false},
		{capture.KindSynthetic, false, false},
	}
	for _, tt := range tests {
		cfg := capture.Config{Source: tt.source, Loop: tt.loop}
		if got := cfg.Finite(); got != tt.want {
			t.Errorf("Config{Source: %s, Loop: %v}.Finite() = %v, want %v", tt.source, tt.loop, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"rtsp://admin:secret@cam/stream", "rtsp://admin:xxxxx@cam/stream"},
		{"rtsp://admin@cam/stream", "rtsp://admin@cam/stream"},
		{"http://cam/mjpg", "http://cam/mjpg"},
		{"/dev/video0", "/dev/video0"},
	}
	for _, tt := range tests {
		if got := capture.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
