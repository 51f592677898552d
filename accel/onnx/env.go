package onnx

import (
	"strings"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
	ort "github.com/yalue/onnxruntime_go"
)

// ONNX Runtime's environment is process-global in onnxruntime_go: the
// library path is fixed by the first InitializeEnvironment, and destroying
// the environment dlcloses the library, after which re-initialising is not
// reliable. So the environment is created once, on first use, and kept for
// the life of the process; encoders come and go on top of it (model swaps
// and tests open many).
var env struct {
	mu      sync.Mutex
	lib     string // library initialised by us; "" if not yet (or by someone else)
	version string
}

// ensureEnv initialises ONNX Runtime from cfgLibrary (resolved with
// ResolveLibrary) and returns the library path and version.
func ensureEnv(cfgLibrary string) (lib, version string, err error) {
	env.mu.Lock()
	defer env.mu.Unlock()
	if ort.IsInitialized() {
		if env.lib == "" {
			// Initialised by other code in this process: use it as is.
			env.version = ort.GetVersion()
			return "(initialised elsewhere)", env.version, nil
		}
		if want, _ := ResolveLibrary(cfgLibrary); want != "" && want != env.lib {
			return "", "", accel.WithKind(accel.ErrBackendUnavailable, "accel/onnx: ONNX Runtime is already loaded from %s; one process cannot load a second library (%s): use one onnx.library setting",
				env.lib, want)
		}
		return env.lib, env.version, nil
	}
	path, tried := ResolveLibrary(cfgLibrary)
	if path == "" {
		return "", "", accel.WithKind(accel.ErrBackendUnavailable, "accel/onnx: ONNX Runtime library not found (tried %s); run `make deps` to install it into third_party/onnxruntime, or set accel.onnx.library or $CLIPFLEET_ORT_LIB to libonnxruntime.so.1",
			strings.Join(tried, ", "))
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", "", accel.WithKind(accel.ErrBackendUnavailable, "accel/onnx: loading ONNX Runtime from %s: %v; check it is a libonnxruntime.so.1 (1.2x) for this CPU architecture, or run `make deps`",
			path, err)
	}
	env.lib, env.version = path, ort.GetVersion()
	return env.lib, env.version, nil
}
