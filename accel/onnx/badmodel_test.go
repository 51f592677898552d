package onnx

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
)

// copyModel copies the test model's files into a temp dir and writes
// manifest there after applying edit to the committed manifest text.
func copyModel(t *testing.T, edit func(string) string) string {
	t.Helper()
	src := testModelDir(t)
	dir := filepath.Join(t.TempDir(), "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"image.onnx", "text.onnx", "image_int8.onnx", "text_int8.onnx"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dir, f))
	}
	man, err := os.ReadFile(filepath.Join(src, accel.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, accel.ManifestFile), []byte(edit(string(man))), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test manifest lacks " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestBadModelsFailAtLoad(t *testing.T) {
	ortLibrary(t)
	cases := []struct {
		name    string
		edit    func(string) string
		files   func(t *testing.T, dir string) // corrupt files after copying
		variant string
		want    []string
	}{
		{name: "garbage image file", variant: "base",
			files: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "image.onnx"), []byte("this is not a protobuf"), 0o644)
			},
			want: []string{"accel/onnx: m/image.onnx: cannot load"}},
		{name: "truncated image file", variant: "base",
			files: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "image.onnx")
				data, _ := os.ReadFile(p)
				os.WriteFile(p, data[:len(data)/2], 0o644)
			},
			want: []string{"m/image.onnx: cannot load"}},
		{name: "truncated int8 text file", variant: "int8",
			files: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "text_int8.onnx")
				data, _ := os.ReadFile(p)
				os.WriteFile(p, data[:len(data)-100], 0o644)
			},
			want: []string{"m/text_int8.onnx: cannot load"}},
		{name: "wrong input name", edit: replace("input: pixel_values", "input: input.1"),
			want: []string{`m/image_int8.onnx: input "input.1" not found; model has inputs [pixel_values float32 [-1 3 224 224]]`}},
		{name: "wrong output name", edit: replace("output: image_embeds", "output: embeds"),
			want: []string{`output "embeds" not found; model has outputs [image_embeds float32 [-1 64]]`}},
		{name: "wrong image size", edit: replace("size: 224", "size: 256"),
			want: []string{`input "pixel_values" has shape [-1 3 224 224]`, "image.size 256"}},
		{name: "wrong layout", edit: replace("layout: NCHW", "layout: NHWC"),
			want: []string{`has shape [-1 3 224 224]`, "layout NHWC"}},
		{name: "wrong embedding dim", edit: replace("embedding_dim: 64", "embedding_dim: 32"),
			want: []string{`output "image_embeds" has shape [-1 64]`, "embedding_dim 32"}},
		{name: "wrong image dtype",
			edit: replace("dtype: float32", "dtype: uint8\n  quant: {scale: 0.02, zero_point: 128}"),
			want: []string{`input "pixel_values" is float32 but the manifest says image.dtype uint8`}},
		{name: "wrong ids dtype", edit: replace("ids_dtype: int64", "ids_dtype: int32"),
			want: []string{`m/text_int8.onnx: input "input_ids" is int64 but the manifest says text.ids_dtype int32`}},
		{name: "wrong context length", edit: replace("context_length: 77", "context_length: 64"),
			want: []string{`input "input_ids" has shape [-1 77]`, "context_length 64"}},
		{name: "declared mask missing", edit: replace("ids_dtype: int64", "ids_dtype: int64\n  attention_mask: attention_mask"),
			want: []string{`attention-mask input "attention_mask" not found; model has inputs [input_ids int64 [-1 77]]`}},
		{name: "text model in image slot", edit: replace("file: image.onnx", "file: text.onnx"), variant: "base",
			want: []string{`m/text.onnx: input "pixel_values" not found; model has inputs [input_ids int64 [-1 77]]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			edit := tc.edit
			if edit == nil {
				edit = func(s string) string { return s }
			}
			dir := copyModel(t, edit)
			if tc.files != nil {
				tc.files(t, dir)
			}
			enc, err := accel.Open(context.Background(), testConfig(t, dir, tc.variant), nil)
			if err == nil {
				enc.Close()
				t.Fatal("Open succeeded, want a load error")
			}
			t.Log(err)
			if !errors.Is(err, accel.ErrBadModel) {
				t.Errorf("error does not wrap ErrBadModel: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n  lacks %q", err, w)
				}
			}
		})
	}
}

func TestMissingModelFileNamed(t *testing.T) {
	dir := copyModel(t, func(s string) string { return s })
	os.Remove(filepath.Join(dir, "image_int8.onnx"))
	_, err := accel.Open(context.Background(), testConfig(t, dir, ""), nil)
	if !errors.Is(err, accel.ErrBadModel) || !strings.Contains(err.Error(), "image_int8.onnx") {
		t.Errorf("err = %v, want ErrBadModel naming image_int8.onnx", err)
	}
}
