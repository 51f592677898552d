package learner

import (
	"errors"
	"math"
	"sync"
	"testing"
)

func TestIDForCanonical(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Red Mug", "  red   mug ", true},
		{"mug", "MUG", true},
		{"mug", "mugs", false},
		{"red mug", "redmug", false},
		{"Background", "background", true},
	}
	for _, tc := range tests {
		if got := IDFor(tc.a) == IDFor(tc.b); got != tc.same {
			t.Errorf("IDFor(%q)==IDFor(%q) is %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
	if IDFor("background") != Background {
		t.Errorf("background name does not map to Background")
	}
	for _, n := range []string{"a", "b", "cat", "dog", "x y z"} {
		id := IDFor(n)
		if id < 2 || id.Unnamed() {
			t.Errorf("IDFor(%q) = %v: reserved or unnamed range", n, id)
		}
		back, err := ParseID(id.String())
		if err != nil || back != id {
			t.Errorf("ParseID(String()) = %v, %v; want %v", back, err, id)
		}
	}
}

func TestLabelsRegistry(t *testing.T) {
	l := NewLabels(3)
	if l.Len() != 1 || l.Current().ID(0) != Background {
		t.Fatalf("new registry should hold only Background at 0")
	}
	mug, err := l.Add("Mug")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := l.Add(" mug ")
	if again != mug || l.Len() != 2 {
		t.Fatalf("Add is not idempotent: %v vs %v, len %d", again, mug, l.Len())
	}
	cup, _ := l.Add("cup")
	s := l.Current()
	if i, _ := s.Index(mug); i != 1 {
		t.Errorf("mug at index %d, want 1", i)
	}
	if i, _ := s.Index(cup); i != 2 {
		t.Errorf("cup at index %d, want 2", i)
	}
	if err := l.SetText(mug, []float32{3, 0, 4}); err != nil {
		t.Fatal(err)
	}
	if s.Text(1) != nil {
		t.Errorf("old view changed after SetText: views must be immutable")
	}
	txt := l.Current().Text(1)
	if math.Abs(float64(txt[0])-0.6) > 1e-6 || math.Abs(float64(txt[2])-0.8) > 1e-6 {
		t.Errorf("text not normalised: %v", txt)
	}
	if err := l.SetText(mug, []float32{1, 2}); !errors.Is(err, ErrDim) {
		t.Errorf("SetText wrong dim: %v, want ErrDim", err)
	}
	if err := l.SetText(mug, []float32{0, 0, 0}); !errors.Is(err, ErrBadEmbedding) {
		t.Errorf("SetText zero vector: %v, want ErrBadEmbedding", err)
	}
	if err := l.SetText(IDFor("nope"), []float32{1, 0, 0}); !errors.Is(err, ErrUnknownLabel) {
		t.Errorf("SetText unknown: %v, want ErrUnknownLabel", err)
	}

	un, err := l.AddUnnamed()
	if err != nil || !un.Unnamed() {
		t.Fatalf("AddUnnamed = %v, %v", un, err)
	}
	if err := l.Rename(un, "cup"); err == nil {
		t.Errorf("renaming to a taken name succeeded")
	}
	if err := l.Rename(un, "Spoon"); err != nil {
		t.Fatal(err)
	}
	if id, ok := l.Current().Lookup("spoon"); !ok || id != un {
		t.Errorf("Lookup(spoon) = %v,%v; want the unnamed id %v kept", id, ok, un)
	}
	if err := l.Rename(mug, "beaker"); err != nil {
		t.Fatal(err)
	}
	if l.Current().Text(1) != nil {
		t.Errorf("Rename kept the old name's text embedding")
	}
	if _, ok := l.Current().Lookup("mug"); ok {
		t.Errorf("old name still resolves after rename")
	}
	if err := l.AddID(0, "x"); !errors.Is(err, ErrInvalidID) {
		t.Errorf("AddID(0) = %v, want ErrInvalidID", err)
	}
	if err := l.AddID(cup, "other"); err == nil {
		t.Errorf("AddID with a conflicting name succeeded")
	}
}

func TestLabelsSnapshotRoundTrip(t *testing.T) {
	l := NewLabels(2)
	a, _ := l.Add("a")
	b, _ := l.AddUnnamed()
	c, _ := l.Add("c")
	_ = l.SetText(a, []float32{1, 1})
	_ = l.SetText(c, []float32{0, 2})
	data, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := NewLabels(2)
	if err := r.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	want, got := l.Current(), r.Current()
	if got.Len() != want.Len() {
		t.Fatalf("len %d, want %d", got.Len(), want.Len())
	}
	for i := 0; i < want.Len(); i++ {
		if got.ID(i) != want.ID(i) || got.Name(i) != want.Name(i) {
			t.Errorf("class %d = %v/%q, want %v/%q", i, got.ID(i), got.Name(i), want.ID(i), want.Name(i))
		}
		if (got.Text(i) == nil) != (want.Text(i) == nil) {
			t.Errorf("class %d text presence differs", i)
		}
	}
	if got.Text(1)[0] != want.Text(1)[0] {
		t.Errorf("text differs")
	}
	_ = b
	for cut := 0; cut < len(data); cut += 7 {
		if err := NewLabels(2).UnmarshalBinary(data[:cut]); err == nil {
			t.Fatalf("truncated labels snapshot (%d/%d bytes) accepted", cut, len(data))
		}
	}
}

func TestLabelsConcurrent(t *testing.T) {
	l := NewLabels(4)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id, err := l.Add(string(rune('a'+g)) + string(rune('a'+i%26)) + string(rune('0'+i/26)))
				if err != nil {
					t.Error(err)
					return
				}
				_ = l.SetText(id, []float32{1, float32(i), 0, 1})
				s := l.Current()
				if _, ok := s.Index(id); !ok {
					t.Error("own label missing from a later view")
				}
			}
		}()
	}
	wg.Wait()
	if l.Len() != 1+4*50 {
		t.Fatalf("len %d, want %d", l.Len(), 1+4*50)
	}
}
