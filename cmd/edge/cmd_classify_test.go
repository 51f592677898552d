package main

import (
	"bufio"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/labels"
)

// writeImage draws a coloured disc on a gradient and saves it as PNG or
// JPEG (by extension).
func writeImage(t *testing.T, path string, disc color.NRGBA, alpha bool) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 96, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 96; x++ {
			c := color.NRGBA{uint8(x * 2), uint8(y * 3), 90, 255}
			if dx, dy := x-48, y-32; dx*dx+dy*dy < 400 {
				c = disc
			}
			if alpha && x < 10 {
				c.A = 0 // dropped, as PIL's convert("RGB") does
			}
			img.SetNRGBA(x, y, c)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func decodeResults(t *testing.T, stdout string) []classifyResult {
	t.Helper()
	var out []classifyResult
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r classifyResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

func TestClassifyImageFiles(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	red, blue := filepath.Join(dir, "red.png"), filepath.Join(dir, "blue.jpg")
	writeImage(t, red, color.NRGBA{220, 30, 30, 255}, true)
	writeImage(t, blue, color.NRGBA{30, 60, 220, 255}, false)
	corrupt := filepath.Join(dir, "corrupt.png")
	data, _ := os.ReadFile(red)
	os.WriteFile(corrupt, data[:len(data)/2], 0o644) // truncated PNG
	missing := filepath.Join(dir, "missing.png")

	names := []string{"red circle", "blue circle", "green square", "triángulo", "三角形"}
	args := append([]string{"classify", "--labels", strings.Join(names, ","), "--top-k", "2"},
		labelSets(t, filepath.Join(dir, "state"), "labels.tokenizer="+bpeVocab(t))...)
	code, stdout, stderr := runEdge(t, nil, append(args, red, corrupt, missing, blue, red)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 for the bad files\n%s", code, stderr)
	}
	for _, f := range []string{corrupt, missing} {
		if !strings.Contains(stderr, "edge classify: ") || !strings.Contains(stderr, f) {
			t.Fatalf("stderr does not name %s:\n%s", f, stderr)
		}
	}
	res := decodeResults(t, stdout)
	if len(res) != 5 {
		t.Fatalf("%d result lines, want one per file:\n%s", len(res), stdout)
	}
	known := map[string]bool{}
	for _, n := range names {
		known[n] = true
	}
	for i, r := range res {
		bad := r.File == corrupt || r.File == missing
		if bad != (r.Error != "") || bad != (len(r.Labels) == 0) || bad && !strings.Contains(r.Error, r.File) {
			t.Fatalf("line %d: %+v", i, r)
		}
		if bad {
			continue
		}
		var sum float32
		for j, l := range r.Labels {
			if !known[l.Name] || l.Prob <= 0 || j > 0 && l.Prob > r.Labels[j-1].Prob {
				t.Fatalf("line %d: labels %+v", i, r.Labels)
			}
			sum += l.Prob
		}
		if len(r.Labels) != 2 || sum > 1+1e-5 {
			t.Fatalf("line %d: %d labels summing to %v", i, len(r.Labels), sum)
		}
	}
	if res[0].File != red || res[4].File != red || res[0].Labels[0] != res[4].Labels[0] {
		t.Fatalf("the same file classified twice differs: %+v vs %+v", res[0], res[4])
	}
	if res[3].Labels[0] == res[0].Labels[0] && res[3].Labels[1] == res[0].Labels[1] {
		t.Fatalf("different images got identical scores: %+v", res[3])
	}
}

func TestClassifyUsesLabelFile(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := labels.SaveVocabulary(filepath.Join(state, labels.VocabularyFile), mustVocabulary(t, "mug", "chair")); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "a.png")
	writeImage(t, img, color.NRGBA{0, 200, 0, 255}, false)
	code, stdout, stderr := runEdge(t, nil, append(append([]string{"classify"}, labelSets(t, state, "labels.tokenizer="+bpeVocab(t))...), img)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	res := decodeResults(t, stdout)
	if len(res) != 1 || len(res[0].Labels) != 2 { // top_k 3, but only two labels exist
		t.Fatalf("%+v", res)
	}
	var sum float32
	for _, l := range res[0].Labels {
		if l.Name != "mug" && l.Name != "chair" {
			t.Fatalf("label %q not from the label file", l.Name)
		}
		sum += l.Prob
	}
	if sum < 0.9999 || sum > 1.0001 {
		t.Fatalf("all labels reported, probabilities sum to %v", sum)
	}

	t.Setenv("CLIPFLEET_VOCAB", "")
	code, _, stderr = runEdge(t, nil, append(append([]string{"classify"}, labelSets(t, state)...), img)...)
	if code != 1 || !strings.Contains(stderr, "no labels to classify against: labels need a tokenizer") {
		t.Fatalf("without tokenizer: exit %d\n%s", code, stderr)
	}
	if code, _, _ := runEdge(t, nil, "classify"); code != 2 {
		t.Fatalf("no files: exit %d", code)
	}
}

func mustVocabulary(t *testing.T, names ...string) *labels.Vocabulary {
	t.Helper()
	v, err := labels.NewVocabulary(names)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readRGB drops alpha without compositing and reads every layout the
// decoders produce.
func TestReadRGB(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.png")
	writeImage(t, p, color.NRGBA{220, 30, 30, 255}, true)
	rgb, w, h, err := readRGB(p)
	if err != nil || w != 96 || h != 64 {
		t.Fatalf("%dx%d %v", w, h, err)
	}
	// Pixel (0,0) is transparent: its colour is kept as stored.
	if rgb[0] != 0 || rgb[1] != 0 || rgb[2] != 90 {
		t.Fatalf("transparent pixel became %v", rgb[:3])
	}
	centre := (32*96 + 48) * 3
	if rgb[centre] != 220 || rgb[centre+1] != 30 || rgb[centre+2] != 30 {
		t.Fatalf("centre %v", rgb[centre:centre+3])
	}
	j := filepath.Join(dir, "a.jpg")
	writeImage(t, j, color.NRGBA{220, 30, 30, 255}, false)
	rgbJ, _, _, err := readRGB(j)
	if err != nil {
		t.Fatal(err)
	}
	if d := int(rgbJ[centre]) - 220; d < -12 || d > 12 {
		t.Fatalf("JPEG centre red %d", rgbJ[centre])
	}
	gray := filepath.Join(dir, "g.png")
	g := image.NewGray(image.Rect(0, 0, 4, 3))
	g.SetGray(1, 1, color.Gray{200})
	f, _ := os.Create(gray)
	png.Encode(f, g)
	f.Close()
	rgbG, _, _, err := readRGB(gray)
	if err != nil || rgbG[(1*4+1)*3] != 200 || rgbG[(1*4+1)*3+2] != 200 {
		t.Fatalf("grey PNG: %v %v", rgbG, err)
	}
}
