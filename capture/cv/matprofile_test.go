//go:build matprofile

package cv_test

import (
	"bytes"
	"testing"

	"gocv.io/x/gocv"
)

// TestMatProfileNoLeaks checks that every gocv Mat the sources create is
// closed again. gocv tracks live Mats only when built with the tag:
//
//	go test -tags matprofile -run MatProfile ./capture/cv/
func TestMatProfileNoLeaks(t *testing.T) {
	before := gocv.MatProfile.Count()
	runMatWorkload(t)
	if after := gocv.MatProfile.Count(); after != before {
		var b bytes.Buffer
		gocv.MatProfile.WriteTo(&b, 1)
		t.Fatalf("%d gocv Mats leaked (live before %d, after %d); where they were made:\n%s", after-before, before, after, b.String())
	}
}
