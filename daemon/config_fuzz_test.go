package daemon

import (
	"testing"

	"github.com/clipfleet/clipfleet/internal/yamlstrict"
)

// FuzzConfig feeds arbitrary YAML through the daemon's strict loader and
// validator: whatever the bytes, they are rejected with an error or give a
// config that validates, never a panic.
func FuzzConfig(f *testing.F) {
	f.Add([]byte("capture:\n  source: file\n  path: a.mp4\n  fps: 0\n"))
	f.Add([]byte("http: {listen: '0.0.0.0:1'}\n"))
	f.Add([]byte("accel:\n  onnx:\n    providers: [{name: tensorrt, fp16: true}, {name: cuda}]\n"))
	f.Add([]byte("capture: {stall_timeout: -1s, reconnect_min: 1h, reconnect_max: 1s}\n"))
	f.Add([]byte("pipeline: {max_frames: -3}\n"))
	f.Add([]byte("log: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := DefaultConfig()
		if err := yamlstrict.Decode(data, &c); err != nil {
			return
		}
		_ = c.Validate()
	})
}
