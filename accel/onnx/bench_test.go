package onnx

import (
	"context"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

func benchmarkEncodeImage(b *testing.B, variant string) {
	e := openTest(b, testModelDir(b), variant)
	img, dst := refImage(0), make([]float32, 64)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.EncodeImage(ctx, img, dst); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeImage(b *testing.B) {
	b.Run("float", func(b *testing.B) { benchmarkEncodeImage(b, accel.BaseVariant) })
	b.Run("int8", func(b *testing.B) { benchmarkEncodeImage(b, "int8") })
}

func BenchmarkEncodeText(b *testing.B) {
	for _, n := range []int{1, textBatch} {
		b.Run(map[int]string{1: "batch1", textBatch: "batch16"}[n], func(b *testing.B) {
			e := openTest(b, testModelDir(b), accel.BaseVariant)
			ids := make([][]int32, n)
			for i := range ids {
				ids[i] = sequence(int32(300+i), 2368, 539)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := e.EncodeText(ctx, ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
