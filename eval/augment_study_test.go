package eval

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/preprocess"
	"github.com/clipfleet/clipfleet/world"
)

// TestAugmentStudy reproduces the teach-time augmentation study of
// eval/README.md: each taught picture of the default scenario's
// new_classes task is followed by its first K augmented views (package
// augment; view v of training item i is Config.ViewParams(i, v), as in the
// harness), for the augmentation families of augmentFamilies, over the
// harness's draw (the first 10 per class) and 29 random draws of 10 (the
// draws of TestFewShotStudy), and each fresh head is tested on the task's
// 90 test pictures. It encodes 120·max(K) views per family with the int8
// tinyclip on ONNX Runtime, so it runs only when CLIPFLEET_AUGMENT_STUDY
// names a cache directory for the scenario's embeddings:
//
//	CLIPFLEET_AUGMENT_STUDY=/tmp/cache go test -run AugmentStudy -v -timeout 60m ./eval/
//
// Optional: CLIPFLEET_AUGMENT_FAMILIES (comma-separated names),
// CLIPFLEET_AUGMENT_K (default 4,8,16), CLIPFLEET_AUGMENT_METHODS (default
// ncm,analytic,cllclip), CLIPFLEET_AUGMENT_LAMBDA (the analytic head's λ),
// CLIPFLEET_AUGMENT_DUMP (a directory for PNGs of a few views).
func TestAugmentStudy(t *testing.T) {
	dir := os.Getenv("CLIPFLEET_AUGMENT_STUDY")
	if dir == "" {
		t.Skip("CLIPFLEET_AUGMENT_STUDY not set")
	}
	ctx := context.Background()
	acfg := accel.DefaultConfig()
	acfg.ModelDir = testutil.RepoPath(t, "models", "tinyclip")
	enc, err := accel.Open(ctx, acfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	sc, err := world.LoadScenario("default")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CacheDir = dir
	if v := os.Getenv("CLIPFLEET_AUGMENT_LAMBDA"); v != "" {
		if cfg.Learner.Analytic.Lambda, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatal(err)
		}
	}
	h, err := New(enc, nil, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, _, err := h.Dataset(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(ds.Tasks, func(s Set) bool { return s.Kind == NewClassesKind })
	task := &ds.Tasks[j]
	it, err := sc.Items(task.Name, world.TrainSplit)
	if err != nil {
		t.Fatal(err)
	}
	info := enc.Info()
	pre, err := preprocess.NewPreprocessor(info.Image)
	if err != nil {
		t.Fatal(err)
	}
	size, dim := info.Image.Size, ds.Dim
	var frames [][]byte
	for i := 0; i < it.N; i++ {
		s := it.Sample(i)
		rgb, err := world.RenderRGB(&s.Scene, size, size)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, rgb)
	}
	var tensor preprocess.Tensor
	encode := func(rgb []byte) []float32 {
		out := make([]float32, dim)
		if err := pre.Image(&tensor, rgb, size, size); err != nil {
			t.Fatal(err)
		}
		if err := enc.EncodeImage(ctx, &tensor, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	families := augmentFamilies()
	if only := os.Getenv("CLIPFLEET_AUGMENT_FAMILIES"); only != "" {
		families = slices.DeleteFunc(families, func(f augmentFamily) bool { return !strings.Contains(","+only+",", ","+f.name+",") })
	}
	dump := os.Getenv("CLIPFLEET_AUGMENT_DUMP")
	ks := []int{4, 8, 16}
	if v := os.Getenv("CLIPFLEET_AUGMENT_K"); v != "" {
		ks = nil
		for _, f := range strings.Split(v, ",") {
			k, err := strconv.Atoi(f)
			if err != nil || k < 1 {
				t.Fatalf("CLIPFLEET_AUGMENT_K %q", v)
			}
			ks = append(ks, k)
		}
	}
	methods := []string{"ncm", "analytic", "cllclip"}
	if v := os.Getenv("CLIPFLEET_AUGMENT_METHODS"); v != "" {
		methods = strings.Split(v, ",")
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%-14s %3s %-9s %5s %11s %5s %5s  %s\n", "family", "K", "method", "first", "mean ± sd", "max", ">80", "per class (first draw)")
	row := func(family string, k int, m string, r drawResult) {
		line := studyRow(family, k, m, r)
		t.Log(line)
		out.WriteString(line + "\n")
	}
	for _, m := range methods {
		row("none", 0, m, augmentDraws(t, ds, j, m, cfg, nil, 0))
	}
	for _, f := range families {
		kmax := slices.Max(ks)
		f.cfg.Views = kmax
		views := make([][][]float32, it.N) // views[i][k]
		var buf []byte
		for i, rgb := range frames {
			for k := 0; k < kmax; k++ {
				if buf, err = augment.Apply(buf, rgb, size, size, f.cfg.ViewParams(uint64(i), k)); err != nil {
					t.Fatal(err)
				}
				if dump != "" && i < 3 && k < 6 {
					dumpPNG(t, filepath.Join(dump, fmt.Sprintf("%s-%d-%d.png", f.name, i, k)), buf, size)
				}
				views[i] = append(views[i], encode(buf))
			}
		}
		for _, k := range ks {
			for _, m := range methods {
				row(f.name, k, m, augmentDraws(t, ds, j, m, cfg, views, k))
			}
		}
	}
	t.Log("\n" + out.String())
}

type augmentFamily struct {
	name string
	cfg  augment.Config
}

// augmentFamilies are the augmentations studied; "camera" and "shape" are
// augment's presets, the others take one ingredient at a time.
func augmentFamilies() []augmentFamily {
	none := augment.Config{MinScale: 1, MaxScale: 1, MaxAspect: 1}
	camera, shape := augment.DefaultConfig(), augment.ShapeConfig()
	flip := none
	flip.Flip = 0.5
	crop := none
	crop.MinScale, crop.MaxAspect = 0.6, 4.0/3
	geo := camera
	geo.Brightness, geo.Contrast, geo.Saturation = 0, 0, 0
	colour := none
	colour.Brightness, colour.Contrast, colour.Saturation = 0.2, 0.2, 0.2
	strong := camera
	strong.MinScale, strong.MaxRotate, strong.MaxShift = 0.4, 20, 0.1
	strong.Brightness, strong.Contrast, strong.Saturation = 0.4, 0.4, 0.4
	rot := none
	rot.MaxRotate = 180
	hue := none
	hue.Hue = 0.5
	rotHue := rot
	rotHue.Hue = 0.5
	geoRotHue := shape
	geoRotHue.Brightness, geoRotHue.Contrast, geoRotHue.Saturation = 0, 0, 0
	strongRotHue := strong
	strongRotHue.MaxRotate, strongRotHue.Hue = 180, 0.5
	return []augmentFamily{
		{"camera", camera}, {"flip", flip}, {"crop", crop}, {"geometric", geo}, {"colour", colour}, {"strong", strong},
		{"rotate180", rot}, {"hue", hue}, {"rot+hue", rotHue}, {"geo+rot+hue", geoRotHue},
		{"shape", shape}, {"strong+rot+hue", strongRotHue},
	}
}

type drawResult struct {
	acc      []float64   // per draw
	perClass [][]float64 // per draw, per class
	classes  []string
}

// augmentDraws teaches fresh instances of method the harness's 30 draws
// (fewShotDraws: draw 0 the first 10 per class, then seeded random ones);
// each taught picture is followed by its first k views.
func augmentDraws(t *testing.T, ds *Dataset, j int, method string, cfg Config, views [][][]float32, k int) drawResult {
	t.Helper()
	task := &ds.Tasks[j]
	picks, _ := fewShotDraws(task.Train.Class, len(task.Classes), cfg.FewShot, 30)
	res := drawResult{classes: task.Classes}
	for _, picked := range picks {
		r, err := newRunner(ds, method, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		all := r.examples(*task)
		var ex []learner.Example
		for _, i := range picked {
			ex = append(ex, all[i])
			for v := 0; v < k; v++ {
				e := all[i]
				e.Emb = views[i][v]
				ex = append(ex, e)
			}
		}
		if _, err := r.learnEpochs(ex, cfg.BatchSize, cfg.epochsFor(method)); err != nil {
			t.Fatal(err)
		}
		acc, _ := r.accuracy(&task.Test, r.taskIdx[j], nil)
		var pc []float64
		for c := range task.Classes {
			a, _ := r.accuracy(&task.Test, r.taskIdx[j], func(i int) bool { return int(task.Test.Class[i]) == c })
			pc = append(pc, a)
		}
		res.acc = append(res.acc, acc)
		res.perClass = append(res.perClass, pc)
	}
	return res
}

func studyRow(family string, k int, method string, r drawResult) string {
	mu, sd := meanSD(r.acc)
	above := 0
	for _, a := range r.acc {
		if a > 80 {
			above++
		}
	}
	pcMean := make([]float64, len(r.classes))
	for _, pc := range r.perClass {
		for c, a := range pc {
			pcMean[c] += a / float64(len(r.perClass))
		}
	}
	var pc []string
	for c, n := range r.classes {
		pc = append(pc, fmt.Sprintf("%s %.1f (mean %.1f)", n, r.perClass[0][c], pcMean[c]))
	}
	return fmt.Sprintf("%-14s %3d %-9s %5.1f %5.1f ± %3.1f %5.1f %2d/%d  %s", family, k, method, r.acc[0], mu, sd, slices.Max(r.acc), above, len(r.acc), strings.Join(pc, ", "))
}

func dumpPNG(t *testing.T, path string, rgb []byte, size int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < size*size; i++ {
		img.Pix[i*4], img.Pix[i*4+1], img.Pix[i*4+2], img.Pix[i*4+3] = rgb[i*3], rgb[i*3+1], rgb[i*3+2], 255
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
