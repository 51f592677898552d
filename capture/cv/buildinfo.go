package cv

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "buildinfo.h"
*/
import "C"

import (
	"sync"
	"unsafe"
)

// BuildInformation returns OpenCV's own description of how it was built
// (cv::getBuildInformation), which says among other things which video
// backends it can use.
var BuildInformation = sync.OnceValue(func() string {
	p := C.clipfleet_cv_build_information()
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
})
