package preprocess

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkImage measures one camera frame to one CLIP input tensor. Goal:
// far below the encoder's 10-30 ms; < 3 ms for 640x480 -> 224 NCHW float32.
// cpu-ns/op is the process's CPU time per frame (see processCPU).
func BenchmarkImage(b *testing.B) {
	quant := CLIPSpec(224)
	quant.Layout, quant.DType, quant.Scale, quant.ZeroPoint = NHWC, Uint8, 0.0186, 114
	for _, bc := range []struct {
		w, h int
		spec Spec
	}{
		{640, 480, CLIPSpec(224)},
		{1280, 720, CLIPSpec(224)},
		{640, 480, quant},
	} {
		name := fmt.Sprintf("%dx%d-%s-%s", bc.w, bc.h, bc.spec.Layout, bc.spec.DType)
		rng := rand.New(rand.NewPCG(uint64(bc.w), uint64(bc.h)))
		rgb := randomFrame(rng, bc.w, bc.h)
		for _, workers := range []int{1, 2} {
			bname := name
			if workers > 1 {
				bname = fmt.Sprintf("%s-%dworkers", name, workers)
			}
			b.Run(bname, func(b *testing.B) {
				p, err := NewPreprocessor(bc.spec)
				if err != nil {
					b.Fatal(err)
				}
				p.SetWorkers(workers)
				var dst Tensor
				b.ReportAllocs()
				b.SetBytes(int64(len(rgb)))
				cpu0 := processCPU()
				for b.Loop() {
					if err := p.Image(&dst, rgb, bc.w, bc.h); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, cpu0)
			})
		}
		b.Run(name+"-pooled", func(b *testing.B) {
			var dst Tensor
			b.ReportAllocs()
			b.SetBytes(int64(len(rgb)))
			cpu0 := processCPU()
			for b.Loop() {
				if err := Image(&dst, rgb, bc.w, bc.h, bc.spec); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// reportCPU adds the process CPU time per op since cpu0; on a one-goroutine
// benchmark it is the op's own cost, free of the time other processes took.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 == 0 {
		return
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
