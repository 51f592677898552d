package boards

import (
	"fmt"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
)

// Defaults are a board's suggested accelerator and camera settings: the
// fields of accel.Config and capture.Config that depend on the hardware,
// and nothing else (the model, pacing and reconnect policy stay the
// user's and the packages').
type Defaults struct {
	Accel  AccelDefaults  `json:"accel"`
	Camera CameraDefaults `json:"camera"`
}

// AccelDefaults select the accel backend and how it uses the hardware.
type AccelDefaults struct {
	Backend string `json:"backend"` // onnx | tflite
	// Providers are ONNX Runtime execution providers, most preferred
	// first; accel falls back along the list to cpu.
	Providers []string `json:"providers,omitempty"`
	// FP16 builds TensorRT engines in half precision: Jetson GPUs run them
	// about twice as fast and CLIP embeddings barely change.
	FP16 bool `json:"fp16,omitempty"`
	// Delegate is the TFLite delegate, for boards whose backend is tflite
	// or that suggest one should the user switch to tflite.
	Delegate string `json:"delegate,omitempty"`
	// Threads is the intra-op thread count for ONNX Runtime and TFLite
	// (0 = the runtime's default).
	Threads int `json:"threads"`
}

// CameraDefaults select the board's usual camera.
type CameraDefaults struct {
	Source   string  `json:"source"`             // capture kind: camera or gstreamer
	Device   string  `json:"device,omitempty"`   // camera
	Pipeline string  `json:"pipeline,omitempty"` // gstreamer
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	FPS      float64 `json:"fps"`
}

// ApplyAccel writes the board's accelerator settings into c. Call it on
// the default config before the user's configuration is decoded over it,
// so that the user's settings win.
func (d Defaults) ApplyAccel(c *accel.Config) {
	a := d.Accel
	if a.Backend != "" {
		c.Backend = a.Backend
	}
	if len(a.Providers) > 0 {
		ps := make([]accel.Provider, 0, len(a.Providers))
		for _, name := range a.Providers {
			p := accel.Provider{Name: name}
			if name == accel.ProviderTensorRT {
				p.FP16 = a.FP16
			}
			ps = append(ps, p)
		}
		c.ONNX.Providers = ps
	}
	if a.Delegate != "" {
		c.TFLite.Delegate = a.Delegate
	}
	if a.Threads > 0 {
		c.ONNX.IntraOpThreads = a.Threads
		c.TFLite.Threads = a.Threads
	}
}

// ApplyCapture writes the board's camera into c, like ApplyAccel. Fields
// of other source kinds (url, path, ...) are left alone.
func (d Defaults) ApplyCapture(c *capture.Config) {
	cam := d.Camera
	if cam.Source == "" {
		return
	}
	c.Source = cam.Source
	switch cam.Source {
	case capture.KindCamera:
		c.Device = cam.Device
	case capture.KindGStreamer:
		c.Pipeline = cam.Pipeline
	}
	if cam.Width > 0 && cam.Height > 0 {
		c.Width, c.Height = cam.Width, cam.Height
	}
	if cam.FPS > 0 {
		c.FPS = cam.FPS
	}
}

// threadsFor picks an intra-op thread count for n online CPUs. It leaves
// one core to capture, preprocessing and the learner once there are more
// than two, because an inference pool spinning on every core starves the
// capture goroutine and frames queue up; 0 (unknown) keeps the runtime's
// default.
func threadsFor(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= 2:
		return n
	case n > 9:
		// Beyond 8 threads a single CLIP image encode gains little and
		// the pool's synchronisation costs grow.
		return 8
	}
	return n - 1
}

// jetsonCSIPipeline is the GStreamer launch string for a Jetson CSI camera
// (Raspberry Pi camera v2 / IMX219 and the like): the ISP and nvvidconv
// scale on the VIC, so the CPU only converts the small BGR frames OpenCV
// needs.
func jetsonCSIPipeline(sensorW, sensorH, outW, outH, fps int) string {
	return fmt.Sprintf("nvarguscamerasrc sensor-id=0 ! "+
		"video/x-raw(memory:NVMM),width=%d,height=%d,framerate=%d/1 ! "+
		"nvvidconv ! video/x-raw,width=%d,height=%d,format=BGRx ! "+
		"videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1",
		sensorW, sensorH, fps, outW, outH)
}

// usbCamera is the first V4L2 camera at a size every webcam offers.
func usbCamera() CameraDefaults {
	return CameraDefaults{Source: capture.KindCamera, Device: "/dev/video0", Width: 640, Height: 480, FPS: 30}
}
