//go:build !race

package labels

import "testing"

// The race detector allocates on its own, hence the build tag.
func TestClassifyAllocatesNothing(t *testing.T) {
	entries := make([]Entry, 100)
	for i := range entries {
		v := make([]float32, 64)
		v[i%64] = 1
		v[(i*7+1)%64] += float32(i % 5)
		entries[i] = Entry{Name: "label " + string(rune('a'+i%26)) + string(rune('a'+i/26)), Vector: v}
	}
	c := NewClassifier(64, 100, 5)
	if err := c.Store(mustSet(t, 64, entries...)); err != nil {
		t.Fatal(err)
	}
	img := make([]float32, 64)
	img[3], img[10] = 0.6, 0.8
	buf := make([]Scored, 0, 5)
	if n := testing.AllocsPerRun(100, func() { buf, _ = c.Classify(img, buf) }); n != 0 {
		t.Fatalf("Classify allocates %v times per call", n)
	}
	if len(buf) != 5 {
		t.Fatalf("%d results", len(buf))
	}
}
