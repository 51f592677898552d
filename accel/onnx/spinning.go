package onnx

import (
	"fmt"

	ort "github.com/yalue/onnxruntime_go"
)

// Session config keys of ONNX Runtime's thread pools
// (onnxruntime_session_options_config_keys.h).
const (
	keyIntraOpSpinning = "session.intra_op.allow_spinning"
	keyInterOpSpinning = "session.inter_op.allow_spinning"
)

// setSpinning sets both pools' busy-waiting. Both keys are always written,
// so the session's behaviour does not depend on ONNX Runtime's default.
func setSpinning(opts *ort.SessionOptions, on bool) error {
	v := boolOpt(on)
	for _, k := range []string{keyIntraOpSpinning, keyInterOpSpinning} {
		if err := opts.AddSessionConfigEntry(k, v); err != nil {
			return fmt.Errorf("accel/onnx: onnx.spinning: setting %s=%s: %w", k, v, err)
		}
	}
	return nil
}
