package testutil

import "testing"

// recorder captures failures so the test can assert that the check fires.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Helper()               {}

func TestAssertPureGoDetectsNativeDependency(t *testing.T) {
	r := &recorder{TB: t}
	AssertPureGo(r, "./capture/cv") // cgo + gocv
	if !r.failed {
		t.Fatal("AssertPureGo accepted capture/cv, which uses cgo and gocv")
	}
	r = &recorder{TB: t}
	AssertPureGo(r, "./preprocess")
	if r.failed {
		t.Fatal("AssertPureGo rejected preprocess, which is pure Go")
	}
}
