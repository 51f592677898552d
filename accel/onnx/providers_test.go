package onnx

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

func TestProviderOptions(t *testing.T) {
	cuda := cudaOptions(accel.Provider{Name: "cuda", DeviceID: 1, Options: map[string]string{"arena_extend_strategy": "kSameAsRequested"}})
	if want := map[string]string{"device_id": "1", "arena_extend_strategy": "kSameAsRequested"}; !reflect.DeepEqual(cuda, want) {
		t.Errorf("cudaOptions = %v, want %v", cuda, want)
	}
	trt := tensorRTOptions(accel.Provider{Name: "tensorrt", DeviceID: 0, FP16: true, EngineCacheDir: "/var/cache/clipfleet/trt",
		Options: map[string]string{"trt_int8_enable": "1", "trt_max_workspace_size": "1073741824"}})
	want := map[string]string{
		"device_id": "0", "trt_fp16_enable": "1",
		"trt_int8_enable":         "1", // Options override the typed fields
		"trt_engine_cache_enable": "1", "trt_engine_cache_path": "/var/cache/clipfleet/trt",
		"trt_max_workspace_size": "1073741824",
	}
	if !reflect.DeepEqual(trt, want) {
		t.Errorf("tensorRTOptions = %v\nwant %v", trt, want)
	}
	plain := tensorRTOptions(accel.Provider{Name: "tensorrt", INT8: true})
	if _, ok := plain["trt_engine_cache_path"]; ok || plain["trt_int8_enable"] != "1" || plain["trt_fp16_enable"] != "0" {
		t.Errorf("tensorRTOptions without cache dir = %v", plain)
	}
}

type fakeAppender struct {
	cudaErr, trtErr error
	calls           []string
	opts            []map[string]string
}

func (f *fakeAppender) appendCUDA(o map[string]string) error {
	f.calls, f.opts = append(f.calls, "cuda"), append(f.opts, o)
	return f.cudaErr
}

func (f *fakeAppender) appendTensorRT(o map[string]string) error {
	f.calls, f.opts = append(f.calls, "tensorrt"), append(f.opts, o)
	return f.trtErr
}

func TestAppendProvidersFallsBack(t *testing.T) {
	list := []accel.Provider{{Name: "tensorrt", FP16: true}, {Name: "cuda", DeviceID: 2}, {Name: "cpu"}}
	for _, tc := range []struct {
		name        string
		app         *fakeAppender
		want        []string
		wantWarning string
	}{
		{"all present", &fakeAppender{}, []string{"tensorrt", "cuda", "cpu"}, ""},
		{"no tensorrt", &fakeAppender{trtErr: errors.New("libnvinfer.so missing")}, []string{"cuda", "cpu"}, "provider=tensorrt"},
		{"cpu-only build", &fakeAppender{trtErr: errors.New("x"), cudaErr: errors.New("CUDA not enabled")}, []string{"cpu"}, "provider=cuda"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			got := appendProviders(tc.app, list, testLogger(&logs))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("providers in effect = %v, want %v", got, tc.want)
			}
			if !reflect.DeepEqual(tc.app.calls, []string{"tensorrt", "cuda"}) {
				t.Errorf("append order = %v", tc.app.calls)
			}
			if tc.app.opts[1]["device_id"] != "2" || tc.app.opts[0]["trt_fp16_enable"] != "1" {
				t.Errorf("options passed = %v", tc.app.opts)
			}
			if tc.wantWarning == "" && strings.Contains(logs.String(), "WARN") {
				t.Errorf("unexpected warning: %s", logs.String())
			}
			if tc.wantWarning != "" && !strings.Contains(logs.String(), tc.wantWarning) {
				t.Errorf("log lacks a warning with %q: %s", tc.wantWarning, logs.String())
			}
		})
	}
}

// The library under test is a CPU build, so asking for the GPU providers
// exercises the real fallback: the encoder must still open, on CPU, with
// a warning per provider.
func TestGPUProvidersFallBackToCPU(t *testing.T) {
	cfg := testConfig(t, testModelDir(t), accel.BaseVariant)
	cfg.ONNX.Providers = []accel.Provider{{Name: "tensorrt", FP16: true, EngineCacheDir: t.TempDir()}, {Name: "cuda"}, {Name: "cpu"}}
	var logs syncBuffer
	enc, err := accel.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("Open with unavailable GPU providers: %v", err)
	}
	defer enc.Close()
	if got := enc.Info().Runtime; !strings.HasSuffix(got, "[cpu]") {
		// A GPU build of ONNX Runtime would legitimately keep cuda.
		t.Logf("runtime %q: this ONNX Runtime build has GPU providers", got)
	} else if n := strings.Count(logs.String(), "falling back"); n != 2 {
		t.Errorf("want 2 fallback warnings, got %d: %s", n, logs.String())
	}
	encodeImage(t, enc, refImage(0))
}
