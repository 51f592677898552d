package onnx

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/clipfleet/clipfleet/accel"
	ort "github.com/yalue/onnxruntime_go"
)

// cudaOptions is the key/value form ONNX Runtime's CUDA provider takes.
func cudaOptions(p accel.Provider) map[string]string {
	o := map[string]string{"device_id": strconv.Itoa(p.DeviceID)}
	for k, v := range p.Options {
		o[k] = v
	}
	return o
}

// tensorRTOptions is the key/value form of ONNX Runtime's TensorRT provider
// options. The engine cache matters on Jetson: building an engine for a
// CLIP ViT takes minutes, and without the cache it happens at every start.
func tensorRTOptions(p accel.Provider) map[string]string {
	o := map[string]string{
		"device_id":       strconv.Itoa(p.DeviceID),
		"trt_fp16_enable": boolOpt(p.FP16),
		"trt_int8_enable": boolOpt(p.INT8),
	}
	if p.EngineCacheDir != "" {
		o["trt_engine_cache_enable"] = "1"
		o["trt_engine_cache_path"] = p.EngineCacheDir
	}
	for k, v := range p.Options {
		o[k] = v
	}
	return o
}

func boolOpt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// providerAppender is the part of ort.SessionOptions appendProviders uses,
// so tests can check the fallback without a GPU build of ONNX Runtime.
type providerAppender interface {
	appendCUDA(map[string]string) error
	appendTensorRT(map[string]string) error
}

type sessionOptions struct{ o *ort.SessionOptions }

func (s sessionOptions) appendCUDA(opts map[string]string) error {
	c, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer c.Destroy()
	if err := c.Update(opts); err != nil {
		return err
	}
	return s.o.AppendExecutionProviderCUDA(c)
}

func (s sessionOptions) appendTensorRT(opts map[string]string) error {
	t, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return err
	}
	defer t.Destroy()
	if err := t.Update(opts); err != nil {
		return err
	}
	return s.o.AppendExecutionProviderTensorRT(t)
}

// appendProviders adds the configured providers in order and returns the
// names in effect, always ending with cpu. A provider that cannot be
// appended (a CPU-only ONNX Runtime build, no GPU, bad option) is skipped
// with a warning: a robot with a broken CUDA install should still see,
// just slower.
func appendProviders(a providerAppender, providers []accel.Provider, log *slog.Logger) []string {
	var used []string
	for _, p := range providers {
		var err error
		switch p.Name {
		case accel.ProviderCPU:
			continue // ONNX Runtime always keeps CPU as the last provider
		case accel.ProviderCUDA:
			err = a.appendCUDA(cudaOptions(p))
		case accel.ProviderTensorRT:
			err = a.appendTensorRT(tensorRTOptions(p))
		default:
			err = fmt.Errorf("unknown provider %q", p.Name)
		}
		if err != nil {
			log.Warn("accel/onnx: execution provider unavailable, falling back", "provider", p.Name, "device_id", p.DeviceID, "err", err)
			continue
		}
		used = append(used, p.Name)
	}
	return append(used, accel.ProviderCPU)
}
