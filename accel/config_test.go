package accel

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // "" = valid
	}{
		{"tflite backend", func(c *Config) { c.Backend = "tflite"; c.TFLite.Delegate = "edgetpu" }, ""},
		{"jetson providers", func(c *Config) {
			c.ONNX.Providers = []Provider{{Name: "tensorrt", FP16: true, EngineCacheDir: "/var/cache/trt"}, {Name: "cuda"}, {Name: "cpu"}}
		}, ""},
		{"empty backend", func(c *Config) { c.Backend = "" }, "backend: empty"},
		{"unknown backend", func(c *Config) { c.Backend = "openvino" }, `backend: unknown backend "openvino"`},
		{"empty model dir", func(c *Config) { c.ModelDir = "" }, "model_dir: empty"},
		{"bad variant", func(c *Config) { c.Variant = "../int8" }, "variant: \"../int8\""},
		{"unknown provider", func(c *Config) { c.ONNX.Providers = []Provider{{Name: "cpu"}, {Name: "rocm"}} }, `onnx.providers[1].name: unknown provider "rocm"`},
		{"cpu with options", func(c *Config) { c.ONNX.Providers = []Provider{{Name: "cpu", DeviceID: 1}} }, "onnx.providers[0]: cpu takes no options"},
		{"cuda with fp16", func(c *Config) { c.ONNX.Providers = []Provider{{Name: "cuda", FP16: true}} }, "onnx.providers[0]: fp16, int8 and engine_cache_dir apply to tensorrt only"},
		{"negative device", func(c *Config) { c.ONNX.Providers = []Provider{{Name: "cuda", DeviceID: -1}} }, "onnx.providers[0].device_id: -1 is negative"},
		{"duplicate provider", func(c *Config) { c.ONNX.Providers = []Provider{{Name: "cuda"}, {Name: "cuda", DeviceID: 1}} }, `onnx.providers[1].name: "cuda" listed twice`},
		{"negative threads", func(c *Config) { c.ONNX.IntraOpThreads = -2 }, "onnx.intra_op_threads: -2"},
		{"inter threads", func(c *Config) { c.ONNX.InterOpThreads = 5000 }, "onnx.inter_op_threads: 5000"},
		{"bad delegate", func(c *Config) { c.TFLite.Delegate = "gpu" }, `tflite.delegate: unknown delegate "gpu"`},
		{"bad tflite threads", func(c *Config) { c.TFLite.Threads = -1 }, "tflite.threads: -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid config rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	src := `
backend: onnx
model_dir: /opt/models/clip-b32
variant: int8
onnx:
  library: /usr/lib/libonnxruntime.so.1
  providers:
    - {name: tensorrt, device_id: 0, fp16: true, engine_cache_dir: /var/cache/trt, options: {trt_max_workspace_size: "2147483648"}}
    - {name: cuda}
  intra_op_threads: 2
  spinning: true
tflite: {delegate: xnnpack, threads: 4}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.ONNX.Providers[0]
	if c.Variant != "int8" || c.ONNX.Library != "/usr/lib/libonnxruntime.so.1" || p.Name != "tensorrt" || !p.FP16 ||
		p.EngineCacheDir != "/var/cache/trt" || p.Options["trt_max_workspace_size"] != "2147483648" ||
		c.ONNX.IntraOpThreads != 2 || !c.ONNX.Spinning || c.TFLite.Delegate != "xnnpack" || c.TFLite.Threads != 4 {
		t.Errorf("decoded %+v", c)
	}
}
