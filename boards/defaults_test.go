package boards

import (
	"strings"
	"testing"
	"testing/fstest"

	"gopkg.in/yaml.v3"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/capture"
	"github.com/clipfleet/clipfleet/internal/testutil"
)

// Every built-in board's defaults, applied to the packages' defaults, must
// give configs those packages accept.
func TestDefaultsValidate(t *testing.T) {
	for _, b := range All() {
		t.Run(b.Name(), func(t *testing.T) {
			p := b.Profile(fstest.MapFS{"sys/devices/system/cpu/online": file("0-3\n")})
			a := accel.DefaultConfig()
			p.Defaults.ApplyAccel(&a)
			if err := a.Validate(); err != nil {
				t.Errorf("accel: %v", err)
			}
			c := capture.DefaultConfig()
			p.Defaults.ApplyCapture(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("capture: %v", err)
			}
			if a.Backend != p.Defaults.Accel.Backend || c.Source != p.Defaults.Camera.Source {
				t.Errorf("not applied: backend %s source %s", a.Backend, c.Source)
			}
			if th := p.Thermal; !(th.SoftC > 40 && th.SoftC < th.HardC && th.HardC < maxPlausibleC) {
				t.Errorf("implausible limits %+v", th)
			}
		})
	}
}

func TestApplyJetson(t *testing.T) {
	p := jetsonOrinNano.profileFor(6)
	a := accel.DefaultConfig()
	p.Defaults.ApplyAccel(&a)
	if len(a.ONNX.Providers) != 3 || a.ONNX.Providers[0].Name != accel.ProviderTensorRT || !a.ONNX.Providers[0].FP16 ||
		a.ONNX.Providers[1].Name != accel.ProviderCUDA || a.ONNX.Providers[1].FP16 || a.ONNX.Providers[2].Name != accel.ProviderCPU {
		t.Errorf("providers %+v, want tensorrt(fp16), cuda, cpu", a.ONNX.Providers)
	}
	if a.ONNX.IntraOpThreads != 5 || a.ModelDir != accel.DefaultConfig().ModelDir {
		t.Errorf("intra-op threads %d, model dir %q", a.ONNX.IntraOpThreads, a.ModelDir)
	}
	c := capture.DefaultConfig()
	p.Defaults.ApplyCapture(&c)
	for _, s := range []string{"nvarguscamerasrc", "memory:NVMM", "width=1280,height=720,framerate=30/1", "nvvidconv", "width=640,height=360", "appsink"} {
		if !strings.Contains(c.Pipeline, s) {
			t.Errorf("pipeline %q lacks %q", c.Pipeline, s)
		}
	}
	if c.Source != capture.KindGStreamer || c.Device != capture.DefaultConfig().Device {
		t.Errorf("capture %+v", c)
	}
}

// The intended layering: package defaults, then the board's, then the
// user's file; whatever the user writes wins, the rest comes from the board.
func TestUserConfigWins(t *testing.T) {
	var cfg struct {
		Accel   accel.Config   `yaml:"accel"`
		Capture capture.Config `yaml:"capture"`
	}
	cfg.Accel, cfg.Capture = accel.DefaultConfig(), capture.DefaultConfig()
	d := jetsonNano.profileFor(4).Defaults
	d.ApplyAccel(&cfg.Accel)
	d.ApplyCapture(&cfg.Capture)
	user := `
accel:
  onnx:
    providers: [{name: cpu}]
capture:
  fps: 15
`
	if err := yaml.Unmarshal([]byte(user), &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Accel.ONNX.Providers) != 1 || cfg.Accel.ONNX.Providers[0].Name != "cpu" {
		t.Errorf("providers %+v, want the user's cpu only", cfg.Accel.ONNX.Providers)
	}
	if cfg.Accel.ONNX.IntraOpThreads != 3 || cfg.Capture.Source != capture.KindGStreamer || cfg.Capture.FPS != 15 {
		t.Errorf("threads %d source %s fps %g: want the board's threads and source, the user's fps",
			cfg.Accel.ONNX.IntraOpThreads, cfg.Capture.Source, cfg.Capture.FPS)
	}
}

func TestPureGo(t *testing.T) {
	testutil.AssertPureGo(t, "./boards")
}
