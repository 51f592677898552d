package accel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Each file in testdata/manifests starts with "# want: ok" or "# want:
// <substring of the error>".
func TestManifestCatalogue(t *testing.T) {
	files, err := filepath.Glob("testdata/manifests/*.yaml")
	if err != nil || len(files) < 20 {
		t.Fatalf("catalogue: %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(data, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("first line %q is not a '# want:' line", first)
			}
			m, err := ParseManifest(data)
			if want == "ok" {
				if err != nil {
					t.Fatalf("valid manifest rejected: %v", err)
				}
				roundTrip(t, m)
				return
			}
			if err == nil {
				t.Fatalf("accepted; want error containing %q", want)
			}
			if !errors.Is(err, ErrInvalidManifest) {
				t.Errorf("error does not wrap ErrInvalidManifest: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "accel: manifest.yaml: ") || !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\nwant prefix %q and substring %q", err, "accel: manifest.yaml: ", want)
			}
		})
	}
}

func roundTrip(t *testing.T, m *Manifest) {
	t.Helper()
	out, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(out)
	if err != nil {
		t.Fatalf("re-parsing the marshalled manifest: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(m, back) {
		t.Fatalf("round trip changed the manifest:\n%+v\n%+v\n%s", m, back, out)
	}
}

func TestParseManifestValues(t *testing.T) {
	data, err := os.ReadFile("testdata/manifests/valid_full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	spec := m.Image.Spec()
	if m.ID != "testclip-random-v1" || m.EmbeddingDim != 64 || m.LogitScale != 100 || spec.Size != 224 ||
		spec.Mean[2] != 0.40821073 || spec.Std[0] != 0.26862954 || m.Text == nil || m.Text.ContextLength != 77 ||
		m.Text.AttentionMask != "attention_mask" || m.Variants["int8"].Text != "text_int8.onnx" ||
		m.Variants["fp16"].Image != "image_fp16.onnx" || m.DefaultVariant != "int8" {
		t.Errorf("decoded %+v (text %+v)", m, m.Text)
	}
	if err := spec.Validate(); err != nil {
		t.Error(err)
	}
}

// The committed test model's manifest must stay valid.
func TestCommittedManifests(t *testing.T) {
	for _, dir := range []string{"../models/testclip"} {
		m, err := LoadModel(dir, "")
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if m.Variant != "int8" || filepath.Base(m.ImageFile) != "image_int8.onnx" || filepath.Base(m.TextFile) != "text_int8.onnx" {
			t.Errorf("default variant resolved to %q: %s, %s", m.Variant, m.ImageFile, m.TextFile)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	files, _ := filepath.Glob("testdata/manifests/*.yaml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("error does not wrap ErrInvalidManifest: %v", err)
			}
			return
		}
		roundTrip(t, m)
	})
}
