package cv

import (
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

const sampleBuildInfo = `
General configuration for OpenCV 4.6.0 =====================================
  Media I/O:
    ZLib:                        /usr/lib/x86_64-linux-gnu/libz.so (ver 1.2.13)
    JPEG:                        /usr/lib/x86_64-linux-gnu/libjpeg.so (ver 62)

  Video I/O:
    DC1394:                      YES (2.2.6)
    FFMPEG:                      YES
      avcodec:                   YES (59.37.100)
    GStreamer:                   NO
    v4l/v4l2:                    YES (linux/videodev2.h)
    Intel Media SDK:             plugin (mfx)

  Parallel framework:            TBB (ver 2021.8 interface 12080)
    GStreamer:                   YES (not video, must be ignored)
`

func TestParseVideoBackends(t *testing.T) {
	got := parseVideoBackends(sampleBuildInfo)
	tests := []struct {
		key       string
		available bool
		detail    string
	}{
		{"FFMPEG", true, "YES"},
		{"GStreamer", false, "NO"},
		{"v4l/v4l2", true, "YES (linux/videodev2.h)"},
		{"Intel Media SDK", true, "plugin (mfx)"},
		{"avcodec", true, "YES (59.37.100)"},
	}
	for _, tt := range tests {
		if b := got[tt.key]; b.Available != tt.available || b.Detail != tt.detail {
			t.Errorf("%s = %+v, want available %v detail %q", tt.key, b, tt.available, tt.detail)
		}
	}
	if _, ok := got["ZLib"]; ok {
		t.Error("parsed a Media I/O line as a video backend")
	}
	if len(parseVideoBackends("no such section")) != 0 {
		t.Error("parsed backends out of text without a Video I/O section")
	}
}

func TestDoctor(t *testing.T) {
	r := Doctor()
	if r.OpenCVVersion != gocv.OpenCVVersion() || !strings.HasPrefix(r.OpenCVVersion, "4.") || r.GoCVVersion != "0.31.0" {
		t.Errorf("versions %q / %q", r.OpenCVVersion, r.GoCVVersion)
	}
	if !strings.Contains(BuildInformation(), "OpenCV "+r.OpenCVVersion) {
		t.Errorf("build information does not name OpenCV %s", r.OpenCVVersion)
	}
	// Every Linux OpenCV build with videoio lists V4L2 one way or the other.
	if r.V4L2.Detail == "" {
		t.Errorf("V4L2 not listed in the build information: %+v", r)
	}
	s := r.String()
	for _, want := range []string{r.OpenCVVersion, "GStreamer:", "FFMPEG:", "V4L2:"} {
		if !strings.Contains(s, want) {
			t.Errorf("Report.String() lacks %q:\n%s", want, s)
		}
	}
}
