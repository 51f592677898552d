package capture

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Source kinds understood by Config. capture/cv registers the first five,
// capture/synthetic KindSynthetic, world/camera KindWorld.
const (
	KindCamera    = "camera"    // V4L2 device: index "0" or "/dev/video0"
	KindGStreamer = "gstreamer" // GStreamer pipeline ending in appsink (Jetson CSI cameras)
	KindURL       = "url"       // rtsp://, http:// ... network stream
	KindFile      = "file"      // video file
	KindFolder    = "folder"    // folder of .jpg/.png images, played in name order
	KindSynthetic = "synthetic" // procedurally drawn scenes, no hardware needed
	KindWorld     = "world"     // labelled pictures of the procedural world (package world)
)

// builtinKinds are accepted by Validate even when the package that registers
// them is not linked in, so a config can be checked by tools that do not
// carry cgo; New reports the missing registration instead.
var builtinKinds = []string{KindCamera, KindGStreamer, KindURL, KindFile, KindFolder, KindSynthetic, KindWorld}

// Config selects and tunes one frame source and the Grabber that runs it.
// Fields that do not apply to the selected kind are ignored, so switching
// kinds in a YAML file is a one-line change.
type Config struct {
	Source   string `yaml:"source"`   // kind: camera, gstreamer, url, file, folder, synthetic, world
	Device   string `yaml:"device"`   // camera: index ("0") or device path ("/dev/video0")
	Pipeline string `yaml:"pipeline"` // gstreamer: launch string ending in "appsink"
	URL      string `yaml:"url"`      // url: rtsp(s)://, http(s)://
	Path     string `yaml:"path"`     // file or folder

	// Width, Height and FPS are requests to cameras and the size and pace
	// of synthetic frames; files and folders are paced to FPS (0 = as fast
	// as they decode). Zero size means the device default.
	Width  int     `yaml:"width"`
	Height int     `yaml:"height"`
	FPS    float64 `yaml:"fps"`

	Loop bool  `yaml:"loop"` // file/folder: start over at the end instead of ending
	Seed int64 `yaml:"seed"` // synthetic: same seed, same frames

	// Scenario and Task select what a world source plays: a built-in
	// scenario name ("default") or a scenario YAML path, and one of its
	// tasks or zero-shot sets ("" = every task in order). The world's
	// frames are a function of the scenario alone, so Seed does not apply.
	Scenario string `yaml:"scenario"`
	Task     string `yaml:"task"`

	// StallTimeout bounds how long an Open or a Read may block before the
	// Grabber gives up on the source and reopens it; 0 disables the watchdog.
	StallTimeout time.Duration `yaml:"stall_timeout"`
	// ReconnectMin and ReconnectMax bound the exponential backoff between
	// reopen attempts of a failed live source.
	ReconnectMin time.Duration `yaml:"reconnect_min"`
	ReconnectMax time.Duration `yaml:"reconnect_max"`
}

// DefaultConfig is the first V4L2 camera at 640x480, 30 fps, with a 5 s
// stall watchdog and reconnects backing off from 0.5 s to 30 s.
func DefaultConfig() Config {
	return Config{
		Source:       KindCamera,
		Device:       "0",
		Width:        640,
		Height:       480,
		FPS:          30,
		Seed:         1,
		StallTimeout: 5 * time.Second,
		ReconnectMin: 500 * time.Millisecond,
		ReconnectMax: 30 * time.Second,
	}
}

// Finite reports whether the configured source ends by itself: files and
// folders that do not loop. The Grabber ends cleanly after such a source's
// last frame instead of reconnecting.
func (c Config) Finite() bool {
	return (c.Source == KindFile || c.Source == KindFolder) && !c.Loop
}

// ErrInvalidConfig is wrapped by every error Validate returns.
var ErrInvalidConfig = errors.New("capture: invalid config")

// Validate checks the fields the selected kind uses and names the first bad
// one in its error ("capture.device: ...").
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: capture.%s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	if c.Source == "" {
		return bad("source", "required, one of %s", strings.Join(knownKinds(), ", "))
	}
	if !isKnownKind(c.Source) {
		return bad("source", "unknown kind %q, want one of %s", c.Source, strings.Join(knownKinds(), ", "))
	}
	switch c.Source {
	case KindCamera:
		if err := checkDevice(c.Device); err != nil {
			return bad("device", "%v", err)
		}
	case KindGStreamer:
		if strings.TrimSpace(c.Pipeline) == "" {
			return bad("pipeline", "required for source %q", c.Source)
		}
		// OpenCV can only pull frames from a pipeline through an appsink.
		if !strings.Contains(c.Pipeline, "appsink") {
			return bad("pipeline", "must end in appsink (e.g. \"... ! videoconvert ! video/x-raw,format=BGR ! appsink\")")
		}
	case KindURL:
		if err := checkURL(c.URL); err != nil {
			return bad("url", "%v", err)
		}
	case KindFile, KindFolder:
		if strings.TrimSpace(c.Path) == "" {
			return bad("path", "required for source %q", c.Source)
		}
	}
	if c.Width < 0 {
		return bad("width", "must not be negative, got %d", c.Width)
	}
	if c.Height < 0 {
		return bad("height", "must not be negative, got %d", c.Height)
	}
	if (c.Width == 0) != (c.Height == 0) {
		return bad("height", "width and height must be set together, got %dx%d", c.Width, c.Height)
	}
	if c.Source == KindWorld && strings.TrimSpace(c.Scenario) == "" {
		return bad("scenario", "required for source %q (e.g. \"default\")", c.Source)
	}
	if (c.Source == KindSynthetic || c.Source == KindWorld) && c.Width == 0 {
		return bad("width", "required for source %q", c.Source)
	}
	if c.FPS < 0 {
		return bad("fps", "must not be negative, got %g", c.FPS)
	}
	if c.StallTimeout < 0 {
		return bad("stall_timeout", "must not be negative, got %s", c.StallTimeout)
	}
	// A paced source waits a frame period inside Read; a watchdog shorter
	// than two periods would take every wait for a stall.
	if c.StallTimeout > 0 && c.FPS > 0 && c.StallTimeout < time.Duration(2*float64(time.Second)/c.FPS) {
		return bad("stall_timeout", "%s is shorter than two frame periods at %g fps", c.StallTimeout, c.FPS)
	}
	if c.ReconnectMin <= 0 {
		return bad("reconnect_min", "must be positive, got %s", c.ReconnectMin)
	}
	if c.ReconnectMax < c.ReconnectMin {
		return bad("reconnect_max", "must be at least reconnect_min (%s), got %s", c.ReconnectMin, c.ReconnectMax)
	}
	return nil
}

func checkDevice(dev string) error {
	if dev == "" {
		return errors.New(`required for source "camera": an index ("0") or a device path ("/dev/video0")`)
	}
	if strings.HasPrefix(dev, "/dev/") {
		return nil
	}
	n, err := strconv.Atoi(dev)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is neither a camera index nor a /dev/ path", dev)
	}
	return nil
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New(`required for source "url"`)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp":
	default:
		return fmt.Errorf("unsupported scheme %q in %q (want rtsp, rtsps, rtmp, http, https, udp or tcp)", u.Scheme, Redact(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("no host in %q", Redact(raw))
	}
	return nil
}

// Redact hides the password of a stream URL so it can be logged; RTSP
// cameras commonly carry credentials in the URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func knownKinds() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append(append([]string(nil), builtinKinds...), Kinds()...) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

func isKnownKind(kind string) bool {
	for _, k := range knownKinds() {
		if k == kind {
			return true
		}
	}
	return false
}
