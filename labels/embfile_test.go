package labels

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sampleEmbeddings() *Embeddings {
	return &Embeddings{ModelID: "testclip-random-v1", Dim: 3, Labels: []Embedding{
		{Name: "Circle", Vector: []float32{3, 0, 4}},
		{Name: "triángulo", Vector: []float32{0, -2, 0}},
		{Name: "三角形", Vector: []float32{1, 1, 1}},
	}}
}

func TestEmbeddingsFileRoundTrip(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatBinary} {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "emb."+format)
			in := sampleEmbeddings()
			if err := WriteEmbeddingsFile(path, in, format); err != nil {
				t.Fatal(err)
			}
			if in.Labels[0].Vector[0] != 3 || in.Labels[0].Name != "Circle" {
				t.Fatal("writing modified the caller's embeddings")
			}
			got, err := ReadEmbeddingsFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got.ModelID != in.ModelID || got.Dim != 3 || len(got.Labels) != 3 {
				t.Fatalf("got %+v", got)
			}
			want := map[string][]float32{"circle": {0.6, 0, 0.8}, "triángulo": {0, -1, 0}}
			for name, w := range want {
				v, ok := got.Lookup(name)
				if !ok {
					t.Fatalf("%q missing", name)
				}
				for i := range w {
					if math.Abs(float64(v[i]-w[i])) > 1e-6 {
						t.Fatalf("%q = %v, want %v (normalised)", name, v, w)
					}
				}
			}
			if err := got.Check("testclip-random-v1", 3); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmbeddingsCheckMismatch(t *testing.T) {
	e := sampleEmbeddings()
	for _, tc := range []struct {
		model string
		dim   int
	}{{"clip-vit-b32", 3}, {"testclip-random-v1", 64}} {
		err := e.Check(tc.model, tc.dim)
		if !errors.Is(err, ErrModelMismatch) || !strings.Contains(err.Error(), `"testclip-random-v1" (dim 3)`) ||
			!strings.Contains(err.Error(), tc.model) {
			t.Errorf("Check(%s, %d) = %v", tc.model, tc.dim, err)
		}
	}
}

func TestDecodeEmbeddingsRejects(t *testing.T) {
	good, err := sampleEmbeddings().Encode(FormatBinary)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[30] ^= 0x40
	cacheKind := encodeBinary(kindCache, "m", 2, []binEntry{{name: "a", vec: []float32{1, 0}}})
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "neither JSON"},
		{"text", "circle 1 2 3\n", "neither JSON"},
		{"wrong format", `{"format":"clipfleet-label-embeddings/v9","model_id":"m","dim":1,"labels":[]}`, "format:"},
		{"unknown field", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":1,"labels":[],"extra":1}`, `unknown field "extra"`},
		{"trailing data", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":1,"labels":[]} {}`, "after the top-level"},
		{"no model", `{"format":"clipfleet-label-embeddings/v1","dim":1,"labels":[]}`, "model_id"},
		{"zero dim", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":0,"labels":[]}`, "dim: 0"},
		{"short vector", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":2,"labels":[{"name":"a","embedding":[1]}]}`, `labels[0] "a": embedding has 1 values, dim is 2`},
		{"zero vector", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":2,"labels":[{"name":"a","embedding":[0,0]}]}`, "zero"},
		{"duplicate", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":1,"labels":[{"name":"A","embedding":[1]},{"name":"a","embedding":[2]}]}`, `labels[1].name: "a" repeats labels[0]`},
		{"bad name", `{"format":"clipfleet-label-embeddings/v1","model_id":"m","dim":1,"labels":[{"name":" ","embedding":[1]}]}`, "labels[0].name: invalid label name"},
		{"checksum", string(flipped), "checksum mismatch"},
		{"truncated", string(good[:len(good)-9]), "checksum mismatch"},
		{"cache given as embeddings", string(cacheKind), "file kind 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEmbeddings([]byte(tc.in))
			if !errors.Is(err, ErrInvalidEmbeddings) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalidEmbeddings containing %q", err, tc.want)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "bad.bin")
	os.WriteFile(path, flipped, 0o644)
	if _, err := ReadEmbeddingsFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("ReadEmbeddingsFile error %v does not name the file", err)
	}
}

// A valid checksum over inconsistent lengths must still be refused without
// allocating what the header claims.
func TestDecodeBinaryLengthsChecked(t *testing.T) {
	b := encodeBinary(kindEmbeddings, "m", 4, []binEntry{{name: "a", vec: []float32{1, 0, 0, 0}}})
	body := b[:len(b)-4]
	countAt := binHeaderLen + 2 + 1
	body[countAt] = 0xff // count 255: more entries than bytes
	body[countAt+1] = 0xff
	b = appendChecksum(body)
	if _, _, _, err := decodeBinary(b, kindEmbeddings); err == nil || !strings.Contains(err.Error(), "cannot fit") {
		t.Fatalf("oversized count: %v", err)
	}
}
