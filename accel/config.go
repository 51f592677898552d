package accel

import (
	"fmt"
	"strings"
)

// Config selects the backend, the model directory and the runtime options.
// It is the `accel:` section of the daemon's configuration.
type Config struct {
	Backend  string       `yaml:"backend"`   // onnx | tflite (or any registered name)
	ModelDir string       `yaml:"model_dir"` // directory with manifest.yaml, or a Hugging Face ONNX export
	Variant  string       `yaml:"variant"`   // manifest variant, e.g. "int8"; "" = manifest default; "base" = the base files
	ONNX     ONNXConfig   `yaml:"onnx"`
	TFLite   TFLiteConfig `yaml:"tflite"`
}

// ONNXConfig configures the onnx backend.
type ONNXConfig struct {
	// Library is the path of libonnxruntime.so.1. Empty: $CLIPFLEET_ORT_LIB,
	// then $ONNXRUNTIME_SHARED_LIBRARY_PATH, then
	// third_party/onnxruntime/libonnxruntime.so.1 next to the executable or
	// in the repository.
	Library string `yaml:"library"`
	// Providers are tried in order; one that cannot be appended (e.g. CUDA
	// on a CPU-only build) is skipped with a warning. CPU always remains as
	// the final fallback.
	Providers      []Provider `yaml:"providers"`
	IntraOpThreads int        `yaml:"intra_op_threads"` // 0 = ONNX Runtime's default
	InterOpThreads int        `yaml:"inter_op_threads"` // 0 = ONNX Runtime's default
	// Spinning lets ONNX Runtime's pool threads busy-wait for their next
	// piece of work instead of sleeping (session.intra_op.allow_spinning
	// and session.inter_op.allow_spinning). On by default, as in ONNX
	// Runtime: on an otherwise idle CPU it keeps the pipeline closest to
	// the encoder's own throughput. Turn it off where other processes need
	// the cores: a thread spinning while its partner is descheduled burns
	// the CPU that partner needs (under heavy load `edge bench` measured
	// 1.6-1.7x the CPU time per ViT-B/32 frame with spinning, and half the
	// encoder throughput).
	Spinning bool `yaml:"spinning"`
}

// Execution provider names accepted in ONNXConfig.Providers.
const (
	ProviderCPU      = "cpu"
	ProviderCUDA     = "cuda"
	ProviderTensorRT = "tensorrt"
)

// Provider is one ONNX Runtime execution provider with its options.
type Provider struct {
	Name     string `yaml:"name"`      // cpu | cuda | tensorrt
	DeviceID int    `yaml:"device_id"` // GPU index (cuda, tensorrt)
	// TensorRT only: build fp16 / int8 engines, and cache built engines so a
	// Jetson does not spend minutes rebuilding them at every start.
	FP16           bool   `yaml:"fp16"`
	INT8           bool   `yaml:"int8"`
	EngineCacheDir string `yaml:"engine_cache_dir"`
	// Options are passed to the provider verbatim and override the fields
	// above, for settings this struct does not name.
	Options map[string]string `yaml:"options"`
}

// TFLite delegates accepted in TFLiteConfig.Delegate.
const (
	DelegateNone    = "none"
	DelegateXNNPack = "xnnpack"
	DelegateEdgeTPU = "edgetpu"
)

// TFLiteConfig configures the tflite backend.
type TFLiteConfig struct {
	Delegate string `yaml:"delegate"` // none | xnnpack | edgetpu
	Threads  int    `yaml:"threads"`  // 0 = TFLite's default
}

// DefaultConfig runs the committed tiny CLIP (models/tinyclip, its default
// int8 variant) on ONNX Runtime's CPU provider, its threads spinning.
func DefaultConfig() Config {
	return Config{
		Backend:  "onnx",
		ModelDir: "models/tinyclip",
		ONNX: ONNXConfig{
			Providers: []Provider{{Name: ProviderCPU}},
			Spinning:  true,
		},
		TFLite: TFLiteConfig{Delegate: DelegateNone},
	}
}

// knownBackends are accepted by Validate even when their package is not
// linked, so that a config stays valid across builds; Open then reports
// ErrUnknownBackend with the import to add.
var knownBackends = []string{"onnx", "tflite"}

// Validate checks the config without side effects and names the bad field.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
	}
	if c.Backend == "" {
		return bad("backend", "empty (want %s)", strings.Join(knownBackends, " or "))
	}
	if _, ok := lookup(c.Backend); !ok && !contains(knownBackends, c.Backend) {
		return bad("backend", "unknown backend %q (want %s)", c.Backend, strings.Join(knownBackends, " or "))
	}
	if c.ModelDir == "" {
		return bad("model_dir", "empty")
	}
	if c.Variant != "" && !validName(c.Variant) {
		return bad("variant", "%q is not a variant name (letters, digits, '_', '-', '.')", c.Variant)
	}
	for i, p := range c.ONNX.Providers {
		f := fmt.Sprintf("onnx.providers[%d]", i)
		switch p.Name {
		case ProviderCPU:
			if p.DeviceID != 0 || p.FP16 || p.INT8 || p.EngineCacheDir != "" || len(p.Options) > 0 {
				return bad(f, "cpu takes no options")
			}
		case ProviderCUDA:
			if p.FP16 || p.INT8 || p.EngineCacheDir != "" {
				return bad(f, "fp16, int8 and engine_cache_dir apply to tensorrt only")
			}
		case ProviderTensorRT:
		default:
			return bad(f+".name", "unknown provider %q (want cpu, cuda or tensorrt)", p.Name)
		}
		if p.DeviceID < 0 {
			return bad(f+".device_id", "%d is negative", p.DeviceID)
		}
		for k := range p.Options {
			if k == "" {
				return bad(f+".options", "empty option name")
			}
		}
		for j := 0; j < i; j++ {
			if c.ONNX.Providers[j].Name == p.Name {
				return bad(f+".name", "%q listed twice", p.Name)
			}
		}
	}
	if c.ONNX.IntraOpThreads < 0 || c.ONNX.IntraOpThreads > 1024 {
		return bad("onnx.intra_op_threads", "%d outside [0,1024]", c.ONNX.IntraOpThreads)
	}
	if c.ONNX.InterOpThreads < 0 || c.ONNX.InterOpThreads > 1024 {
		return bad("onnx.inter_op_threads", "%d outside [0,1024]", c.ONNX.InterOpThreads)
	}
	switch c.TFLite.Delegate {
	case "", DelegateNone, DelegateXNNPack, DelegateEdgeTPU:
	default:
		return bad("tflite.delegate", "unknown delegate %q (want none, xnnpack or edgetpu)", c.TFLite.Delegate)
	}
	if c.TFLite.Threads < 0 || c.TFLite.Threads > 1024 {
		return bad("tflite.threads", "%d outside [0,1024]", c.TFLite.Threads)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// validName accepts ids and variant names: they become cache keys and file
// name parts, so they stay within a portable character set.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return s != "." && s != ".."
}
