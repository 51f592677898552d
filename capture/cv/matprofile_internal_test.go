//go:build matprofile

package cv

import (
	"context"
	"errors"
	"testing"

	"gocv.io/x/gocv"

	"github.com/clipfleet/clipfleet/capture"
)

// TestMatProfileAbandonedRead checks the Mats of a capture that was stuck
// when its source was closed are released once the stuck call returns.
func TestMatProfileAbandonedRead(t *testing.T) {
	before := gocv.MatProfile.Count()
	release := make(chan struct{})
	hc := newHangingCapture(release)
	s := testSource(func() (capturer, error) { return hc, nil })
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := s.w
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	var f capture.Frame
	go func() { errc <- s.Read(ctx, &f) }()
	<-hc.reading
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	s.Close()
	if live := gocv.MatProfile.Count() - before; live != 2 {
		t.Errorf("%d Mats live while the capture is stuck, want its 2 (frame and scratch)", live)
	}
	close(release)
	<-w.done
	if after := gocv.MatProfile.Count(); after != before {
		t.Errorf("%d Mats leaked after the stuck read returned", after-before)
	}
}
