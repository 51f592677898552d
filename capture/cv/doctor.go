package cv

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// Backend says whether OpenCV can use one video backend.
type Backend struct {
	Available bool
	Detail    string // OpenCV's own words, e.g. "YES (1.22.0)"; "" when not listed
}

// Report is what `edge doctor` shows about video capture on this machine.
type Report struct {
	GoCVVersion   string
	OpenCVVersion string
	GStreamer     Backend // Jetson CSI cameras and other pipelines
	FFMPEG        Backend // RTSP/HTTP streams and most video files
	V4L2          Backend // USB cameras
}

// Doctor reports the OpenCV version and which video backends it was built
// with. It does not touch any device.
func Doctor() Report {
	r := Report{GoCVVersion: gocv.Version(), OpenCVVersion: gocv.OpenCVVersion()}
	b := parseVideoBackends(BuildInformation())
	r.GStreamer, r.FFMPEG, r.V4L2 = b["GStreamer"], b["FFMPEG"], b["v4l/v4l2"]
	return r
}

// String renders the report as aligned lines for a terminal.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "OpenCV:    %s (gocv %s)\n", r.OpenCVVersion, r.GoCVVersion)
	for _, x := range []struct {
		name string
		b    Backend
	}{{"GStreamer", r.GStreamer}, {"FFMPEG", r.FFMPEG}, {"V4L2", r.V4L2}} {
		detail := x.b.Detail
		if detail == "" {
			detail = "not listed"
		}
		fmt.Fprintf(&b, "%-10s %s\n", x.name+":", detail)
	}
	return b.String()
}

// parseVideoBackends reads the "Video I/O:" section of OpenCV's build
// information: lines such as "    GStreamer:   YES (1.22.0)". A backend built
// as a loadable plugin counts as available.
func parseVideoBackends(info string) map[string]Backend {
	out := map[string]Backend{}
	sc := bufio.NewScanner(strings.NewReader(info))
	section := -1 // indentation of the "Video I/O:" header while inside it
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		if section < 0 {
			if trimmed == "Video I/O:" {
				section = indent
			}
			continue
		}
		if indent <= section {
			break
		}
		key, value, ok := strings.Cut(trimmed, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		upper := strings.ToUpper(value)
		out[strings.TrimSpace(key)] = Backend{
			Available: strings.HasPrefix(upper, "YES") || strings.Contains(upper, "PLUGIN"),
			Detail:    value,
		}
	}
	return out
}

// Probe builds the configured source, opens it and reads one frame within
// cfg.StallTimeout (10 s if the watchdog is off), then releases it. It
// answers "would the daemon get frames?" for `edge doctor`; its error names
// the device, URL or path that failed.
func Probe(ctx context.Context, cfg capture.Config, log *slog.Logger) (capture.Frame, error) {
	var f capture.Frame
	src, err := capture.New(cfg, log)
	if err != nil {
		return f, err
	}
	timeout := cfg.StallTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := src.Open(ctx); err != nil {
		return f, err // sources name what they failed to open
	}
	defer src.Close()
	if err := src.Read(ctx, &f); err != nil {
		return f, fmt.Errorf("capture/cv: probe %s: no first frame: %w", src.Name(), err)
	}
	return f, src.Close()
}
