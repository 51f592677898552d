package wire

import (
	"testing"

	"github.com/clipfleet/clipfleet/learner"
)

// benchDelta is a 512×64 adapter export, the size the brief budgets for.
func benchDelta() *learner.Delta {
	rng := newRand(5)
	return &learner.Delta{
		Method: "finetune", Dim: 512, ModelID: testModel, BaseVersion: 3, ID: 42, Examples: 100,
		Tensors: []learner.Tensor{{Name: "adapter.w", Shape: []int{512, 64}, Data: randVec(rng, 512*64, 0.01)}},
	}
}

var benchCompressions = []struct {
	name string
	c    Compression
}{
	{"f32", Compression{}},
	{"int8", Compression{Int8: true}},
	{"int8-top10", Compression{Int8: true, TopK: 0.1}},
}

func benchPayload(b *testing.B, c Compression) *Payload {
	p, err := FromDelta(benchDelta(), c, nil)
	if err != nil {
		b.Fatal(err)
	}
	p.Fleet, p.Device, p.Seq, p.PreprocessHash, p.CreatedAt = testFleet, "dev-1", 11, testHash, testNow
	return p
}

func BenchmarkEncode(b *testing.B) {
	key := testKey("dev-1")
	for _, bc := range benchCompressions {
		b.Run(bc.name, func(b *testing.B) {
			p := benchPayload(b, bc.c)
			var n int
			for b.Loop() {
				out, err := Encode(p, key)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "B/delta")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	pol := testPolicy()
	pol.Dim, pol.MaxNorm = 512, 0
	for _, bc := range benchCompressions {
		b.Run(bc.name, func(b *testing.B) {
			enc := mustEncode(benchPayload(b, bc.c), testKey("dev-1"))
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := Decode(enc, pol); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "B/delta")
		})
	}
}

// BenchmarkFromDelta is the device's compression step with error feedback.
func BenchmarkFromDelta(b *testing.B) {
	d := benchDelta()
	for _, bc := range benchCompressions {
		b.Run(bc.name, func(b *testing.B) {
			ef := NewErrorFeedback()
			for b.Loop() {
				if _, err := FromDelta(d, bc.c, ef); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
