//go:build tflite && xnnpack

package tflite

import (
	"github.com/clipfleet/clipfleet/accel"
	"github.com/mattn/go-tflite/delegates"
	"github.com/mattn/go-tflite/delegates/xnnpack"
)

func init() {
	delegateFactories[accel.DelegateXNNPack] = func(cfg accel.TFLiteConfig) (delegates.Delegater, error) {
		threads := cfg.Threads
		if threads < 1 {
			threads = 1
		}
		d := xnnpack.New(xnnpack.DelegateOptions{NumThreads: int32(threads)})
		if d == nil {
			return nil, accel.WithKind(accel.ErrBackendUnavailable, "accel/tflite: the XNNPACK delegate could not be created")
		}
		return d, nil
	}
}
