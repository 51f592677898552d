package onnx

import (
	"context"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	ort "github.com/yalue/onnxruntime_go"
)

func TestSetSpinningWritesBothPools(t *testing.T) {
	if _, _, err := ensureEnv(ortLibrary(t)); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false} {
		opts, err := ort.NewSessionOptions()
		if err != nil {
			t.Fatal(err)
		}
		if err := setSpinning(opts, on); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{keyIntraOpSpinning, keyInterOpSpinning} {
			got, err := opts.GetSessionConfigEntry(key)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if want := boolOpt(on); got != want {
				t.Errorf("spinning %v: %s = %q, want %q", on, key, got, want)
			}
		}
		opts.Destroy()
	}
}

// Sessions built either way load and give the same embedding.
func TestSpinningDoesNotChangeResults(t *testing.T) {
	img := refImage(3)
	var embs [2][]float32
	for i, on := range []bool{false, true} {
		cfg := testConfig(t, testModelDir(t), accel.BaseVariant)
		cfg.ONNX.IntraOpThreads = 2
		cfg.ONNX.Spinning = on
		e, err := accel.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatalf("spinning %v: %v", on, err)
		}
		embs[i] = encodeImage(t, e, img)
		e.Close()
	}
	if cos := accel.Cosine(embs[0], embs[1]); cos < 0.99999 {
		t.Errorf("spinning off and on disagree: cosine %.7f", cos)
	}
}
