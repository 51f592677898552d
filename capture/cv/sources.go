package cv

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

func init() {
	capture.Register(capture.KindCamera, func(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
		return NewCamera(cfg, log)
	})
	capture.Register(capture.KindGStreamer, func(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
		return NewGStreamer(cfg, log)
	})
	capture.Register(capture.KindURL, func(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
		return NewURL(cfg, log)
	})
	capture.Register(capture.KindFile, func(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
		return NewFile(cfg, log)
	})
	capture.Register(capture.KindFolder, func(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
		return NewFolder(cfg, log)
	})
}

// ErrNoDevice is wrapped by the error opening a camera whose device node
// does not exist: unplugged, or a wrong index.
var ErrNoDevice = errors.New("no such video device (unplugged?)")

// ErrBackendMissing is wrapped when OpenCV was built without the video
// backend a source needs (see Doctor).
var ErrBackendMissing = errors.New("OpenCV was built without this video backend")

func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

// devicePath maps a camera index to its V4L2 node; paths pass through.
func devicePath(dev string) (path string, index int, isIndex bool) {
	if n, err := strconv.Atoi(dev); err == nil && n >= 0 {
		return "/dev/video" + dev, n, true
	}
	return dev, 0, false
}

// NewCamera returns a V4L2 camera source for cfg.Device ("0" or
// "/dev/video0"), asking it for cfg.Width×cfg.Height at cfg.FPS and for a
// one-frame driver queue, so a read returns the newest frame rather than
// one that waited in the driver.
func NewCamera(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
	if cfg.Device == "" {
		return nil, errors.New("capture/cv: camera: no device")
	}
	path, index, isIndex := devicePath(cfg.Device)
	s := &videoSource{kind: "camera", target: path, name: "v4l2:" + path, log: orDiscard(log)}
	s.open = func() (capturer, error) {
		// Checked first: OpenCV's answer for a missing node is a bare false
		// (and a warning on stderr).
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNoDevice, err)
		}
		var vc *gocv.VideoCapture
		var err error
		if isIndex {
			vc, err = gocv.VideoCaptureDeviceWithAPI(index, gocv.VideoCaptureV4L2)
		} else {
			vc, err = gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureV4L2)
		}
		if err != nil {
			vc.Close() // gocv returns the capture object even when open fails
			return nil, fmt.Errorf("V4L2 could not open it (busy, not a capture device, or no permission)")
		}
		if cfg.Width > 0 {
			vc.Set(gocv.VideoCaptureFrameWidth, float64(cfg.Width))
			vc.Set(gocv.VideoCaptureFrameHeight, float64(cfg.Height))
		}
		if cfg.FPS > 0 {
			vc.Set(gocv.VideoCaptureFPS, cfg.FPS)
		}
		vc.Set(gocv.VideoCaptureBufferSize, 1)
		return vc, nil
	}
	s.readFailed = func() error {
		return fmt.Errorf("capture/cv: read camera %s: no frame (unplugged or driver error)", path)
	}
	return s, nil
}

// NewGStreamer returns a source for a GStreamer launch string ending in
// appsink, e.g. a Jetson CSI camera:
//
//	nvarguscamerasrc ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1 !
//	nvvidconv ! video/x-raw,format=BGRx ! videoconvert ! video/x-raw,format=BGR !
//	appsink drop=true max-buffers=1
func NewGStreamer(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
	pipeline := strings.TrimSpace(cfg.Pipeline)
	if pipeline == "" {
		return nil, errors.New("capture/cv: gstreamer: no pipeline")
	}
	short := pipeline
	if len(short) > 60 {
		short = short[:57] + "..."
	}
	s := &videoSource{kind: "gstreamer pipeline", target: strconv.Quote(pipeline), name: "gstreamer:" + short, log: orDiscard(log)}
	s.open = func() (capturer, error) {
		if !Doctor().GStreamer.Available {
			return nil, fmt.Errorf("GStreamer: %w", ErrBackendMissing)
		}
		vc, err := gocv.VideoCaptureFileWithAPI(pipeline, gocv.VideoCaptureGstreamer)
		if err != nil {
			vc.Close()
			return nil, errors.New("GStreamer could not start the pipeline (run it with gst-launch-1.0 to see why)")
		}
		return vc, nil
	}
	s.readFailed = func() error {
		return fmt.Errorf("capture/cv: read gstreamer pipeline %s: pipeline stopped: %w", s.target, capture.ErrEndOfStream)
	}
	return s, nil
}

// NewURL returns a network stream source (rtsp://, http:// MJPEG, ...)
// decoded by FFMPEG. Credentials in the URL are hidden in names and errors.
func NewURL(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
	if cfg.URL == "" {
		return nil, errors.New("capture/cv: url: no url")
	}
	safe := capture.Redact(cfg.URL)
	s := &videoSource{kind: "url", target: safe, name: safe, log: orDiscard(log)}
	s.open = func() (capturer, error) {
		if !Doctor().FFMPEG.Available {
			return nil, fmt.Errorf("FFMPEG: %w", ErrBackendMissing)
		}
		vc, err := gocv.VideoCaptureFileWithAPI(cfg.URL, gocv.VideoCaptureFFmpeg)
		if err != nil {
			vc.Close()
			return nil, errors.New("FFMPEG could not open the stream (unreachable, wrong path or credentials)")
		}
		return vc, nil
	}
	s.readFailed = func() error {
		return fmt.Errorf("capture/cv: read url %s: stream ended or dropped: %w", safe, capture.ErrEndOfStream)
	}
	return s, nil
}

// NewFile returns a video file source, paced to cfg.FPS (0 = as fast as it
// decodes) and starting over at the end if cfg.Loop.
func NewFile(cfg capture.Config, log *slog.Logger) (capture.Source, error) {
	path := cfg.Path
	if path == "" {
		return nil, errors.New("capture/cv: file: no path")
	}
	s := &videoSource{kind: "file", target: path, name: "file:" + path, log: orDiscard(log), loop: cfg.Loop}
	if cfg.FPS > 0 {
		s.pacer = capture.NewPacer(cfg.FPS, nil)
	}
	s.open = func() (capturer, error) {
		if st, err := os.Stat(path); err != nil {
			return nil, err
		} else if st.IsDir() {
			return nil, errors.New(`is a directory (use source "folder")`)
		}
		vc, err := gocv.VideoCaptureFile(path)
		if err != nil {
			vc.Close()
			return nil, errors.New("no video backend could decode it")
		}
		return vc, nil
	}
	s.readFailed = func() error {
		if s.passReads == 0 { // a file without a single frame is broken, not finished
			return fmt.Errorf("capture/cv: read file %s: no decodable frame", path)
		}
		return fmt.Errorf("capture/cv: file %s: %w", path, capture.ErrEndOfStream)
	}
	return s, nil
}
