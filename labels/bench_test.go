package labels_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clipfleet/clipfleet/labels"
)

// benchNames returns n distinct everyday label names.
func benchNames(n int) []string {
	things := []string{"mug", "chair", "forklift", "pallet", "person", "box", "door", "cable", "robot", "shelf"}
	colours := []string{"red", "green", "blue", "yellow", "black", "white", "grey", "orange", "purple", "brown"}
	out := make([]string, n)
	for i := range out {
		out[i] = colours[i/len(things)%len(colours)] + " " + things[i%len(things)]
		if i >= len(things)*len(colours) {
			out[i] += fmt.Sprint(" ", i)
		}
	}
	return out
}

// BenchmarkEncodeLabelSet is the text encoder's cost for a whole label set
// (5 templates per label) on the real ORT test model, cache disabled.
func BenchmarkEncodeLabelSet(b *testing.B) {
	enc := openTestCLIP(b)
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("labels=%d/templates=5", n), func(b *testing.B) {
			m := ortManager(b, enc, b.TempDir(), nil)
			v, err := labels.NewVocabulary(benchNames(n))
			if err != nil {
				b.Fatal(err)
			}
			bld := labels.Builder{Info: enc.Info(), Encoder: enc, Templates: labels.DefaultTemplates()}
			bld.Tokenizer, _ = m.Tokenizer()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, st, err := bld.Build(context.Background(), v); err != nil || st.Encoded != n {
					b.Fatal(err, st)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/set")
		})
	}
}

// BenchmarkCacheHit is a restart's cost for a cached set of 100 labels:
// read the cache file, tokenize 500 prompts for their keys, build the Set.
func BenchmarkCacheHit(b *testing.B) {
	enc := openTestCLIP(b)
	dir := b.TempDir()
	m := ortManager(b, enc, dir, benchNames(100))
	if _, err := m.Reload(context.Background()); err != nil {
		b.Fatal(err)
	}
	v, _, err := m.Vocabulary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _, st, err := m.Build(context.Background(), v)
		if err != nil || st.Cached != 100 {
			b.Fatal(err, st)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/set")
}

// BenchmarkClassify is the per-frame cost of zero-shot classification.
func BenchmarkClassify(b *testing.B) {
	for _, dim := range []int{64, 512} {
		b.Run(fmt.Sprintf("labels=100/dim=%d/top=3", dim), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(7, 8))
			names := benchNames(100)
			entries := make([]labels.Entry, len(names))
			for i := range entries {
				v := make([]float32, dim)
				for d := range v {
					v[d] = float32(rng.NormFloat64())
				}
				entries[i] = labels.Entry{Name: names[i], Vector: v}
			}
			set, err := labels.NewSet("bench", dim, entries)
			if err != nil {
				b.Fatal(err)
			}
			c := labels.NewClassifier(dim, 100, 3)
			if err := c.Store(set); err != nil {
				b.Fatal(err)
			}
			img := entries[17].Vector
			buf := make([]labels.Scored, 0, 3)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				buf, _ = c.Classify(img, buf)
			}
		})
	}
}
