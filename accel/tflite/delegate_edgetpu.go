//go:build tflite && edgetpu

package tflite

import (
	"github.com/clipfleet/clipfleet/accel"
	"github.com/mattn/go-tflite/delegates"
	"github.com/mattn/go-tflite/delegates/edgetpu"
)

func init() {
	delegateFactories[accel.DelegateEdgeTPU] = func(accel.TFLiteConfig) (delegates.Delegater, error) {
		devs, err := edgetpu.DeviceList()
		if err != nil {
			return nil, accel.WithKind(accel.ErrBackendUnavailable, "accel/tflite: listing Edge TPUs: %v", err)
		}
		if len(devs) == 0 {
			return nil, accel.WithKind(accel.ErrBackendUnavailable,
				"accel/tflite: no Edge TPU found; check the Coral is attached (lsusb shows 1a6e/18d1) and libedgetpu1-std is installed")
		}
		d := edgetpu.New(devs[0])
		if d == nil {
			return nil, accel.WithKind(accel.ErrBackendUnavailable, "accel/tflite: cannot open Edge TPU %s", devs[0].Path)
		}
		return d, nil
	}
}
