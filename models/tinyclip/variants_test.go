package tinyclip_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clipfleet/clipfleet/accel"
	_ "github.com/clipfleet/clipfleet/accel/onnx"
	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/preprocess"
	"github.com/clipfleet/clipfleet/tokenizer"
	"github.com/clipfleet/clipfleet/world"
)

// openVariant loads this directory's model through accel, as the daemon
// does: "base" is the float model, "int8" the QDQ one.
func openVariant(t testing.TB, variant string) accel.Encoder {
	t.Helper()
	lib := os.Getenv("CLIPFLEET_ORT_LIB")
	if lib == "" {
		lib = testutil.RepoPath(t, "third_party", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		testutil.Missing(t, "ONNX Runtime library %s (make deps)", lib)
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	cfg := accel.DefaultConfig()
	cfg.ModelDir, cfg.Variant, cfg.ONNX.Library = dir, variant, lib
	enc, err := accel.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open variant %q: %v", variant, err)
	}
	t.Cleanup(func() { enc.Close() })
	if got := enc.Info().Variant; variant != accel.BaseVariant && got != variant {
		t.Fatalf("variant %q loaded %q", variant, got)
	}
	return enc
}

// The daemon's default, an empty variant, is the int8 pair, and both
// variants stay within the model size budget.
func TestDefaultVariantIsInt8(t *testing.T) {
	m, err := accel.LoadModel(".", "")
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if info.Variant != "int8" || info.ID != "tinyclip-world-v2" {
		t.Fatalf("default variant %q of %s, want int8 of tinyclip-world-v2", info.Variant, info.ID)
	}
	var total int64
	for _, f := range []string{"image.onnx", "text.onnx", "image_int8.onnx", "text_int8.onnx"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	if total > 10<<20 {
		t.Errorf("float and int8 encoders take %d bytes, budget 10 MB", total)
	}
}

// encodeScenes renders each scene at 224×224 and runs the daemon's
// preprocessing and the encoder on it.
func encodeScenes(t testing.TB, enc accel.Encoder, scenes []*world.Scene) [][]float32 {
	t.Helper()
	info := enc.Info()
	pp, err := preprocess.NewPreprocessor(info.Image)
	if err != nil {
		t.Fatal(err)
	}
	const size = 224
	rgb := make([]byte, size*size*3)
	var rd world.Renderer
	var img preprocess.Tensor
	out := make([][]float32, len(scenes))
	for i, sc := range scenes {
		if err := rd.Render(sc, size, size, rgb); err != nil {
			t.Fatal(err)
		}
		if err := pp.Image(&img, rgb, size, size); err != nil {
			t.Fatal(err)
		}
		out[i] = make([]float32, info.EmbeddingDim)
		if err := enc.EncodeImage(context.Background(), &img, out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func encodePrompts(t testing.TB, enc accel.Encoder, labels []string) [][]float32 {
	t.Helper()
	info := enc.Info()
	tok, err := tokenizer.Load(info.Tokenizer)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([][]int32, len(labels))
	for i, l := range labels {
		ids[i] = tok.EncodeContext(world.Prompt(l), info.ContextLength)
	}
	emb, err := enc.EncodeText(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	return emb
}

func argmax(e []float32, prompts [][]float32) int {
	best, bestDot := -1, math.Inf(-1)
	for k, p := range prompts {
		var d float64
		for i := range e {
			d += float64(e[i]) * float64(p[i])
		}
		if d > bestDot {
			best, bestDot = k, d
		}
	}
	return best
}

// cell is one accuracy figure: correct of n.
type cell struct{ correct, n int }

func (c *cell) add(ok bool) {
	c.n++
	if ok {
		c.correct++
	}
}

func (c cell) acc() float64 { return float64(c.correct) / float64(max(c.n, 1)) }

// zeroShot is a variant's zero-shot accuracy on the evaluation pictures,
// keyed "domain/pair/task" (task: shape among the 8 named shapes, pair
// among the 64 colour–shape labels).
type zeroShot map[string]*cell

func (z zeroShot) add(key string, ok bool) {
	if z[key] == nil {
		z[key] = &cell{}
	}
	z[key].add(ok)
}

type evalSet struct {
	items  []world.EvalItem
	scenes []*world.Scene
	shapes []string // named shapes
	pairs  []string // "colour shape", shape-major
}

// evalPictures is the trainer's evaluation set (the same export options as
// reference.json), domain group only; stride thins it for race builds.
func evalPictures(t *testing.T, stride int) evalSet {
	_, r := load(t)
	opt := world.DefaultExportOptions()
	opt.Seed, opt.EvalPerPair, opt.DriftDays, opt.Size = r.Export.Seed, r.Export.EvalPerPair, r.Export.DriftDays, r.Export.Size
	var es evalSet
	for _, s := range world.NamedShapes() {
		es.shapes = append(es.shapes, s.String())
		for _, c := range world.Colours() {
			es.pairs = append(es.pairs, c.String()+" "+s.String())
		}
	}
	all := world.ExportEvalItems(opt)
	for i := range all {
		it := all[i]
		if it.Group != "domain" || it.Pair == "unnamed" || i%stride != 0 {
			continue
		}
		es.items = append(es.items, it)
	}
	for i := range es.items {
		es.scenes = append(es.scenes, es.items[i].Scene())
	}
	return es
}

func measure(t *testing.T, enc accel.Encoder, es evalSet) (zeroShot, [][]float32) {
	img := encodeScenes(t, enc, es.scenes)
	tShape := encodePrompts(t, enc, es.shapes)
	tPair := encodePrompts(t, enc, es.pairs)
	z := zeroShot{}
	for i, it := range es.items {
		shape := argmax(img[i], tShape)
		pair := argmax(img[i], tPair)
		z.add(it.Domain+"/"+it.Pair+"/shape", es.shapes[shape] == it.Shape)
		z.add(it.Domain+"/"+it.Pair+"/pair", es.pairs[pair] == it.Colour+" "+it.Shape)
	}
	return z, img
}

func meanCosine(a, b [][]float32) (mean, lo float64) {
	lo = 1
	for i := range a {
		c := cosine(a[i], b[i])
		mean += c
		lo = math.Min(lo, c)
	}
	return mean / float64(len(a)), lo
}

// The int8 variant, through ONNX Runtime with the daemon's preprocessing,
// keeps the float model's zero-shot accuracy on the trainer's evaluation
// pictures, and its image embeddings stay close to the float ones. The
// float figures must also agree with the trainer's torch metrics.json,
// which ties this harness to the published numbers.
func TestInt8KeepsZeroShot(t *testing.T) {
	stride := 1
	if raceEnabled {
		stride = 3 // the race detector slows the pure-Go renderer several-fold
	}
	es := evalPictures(t, stride)
	zf, ef := measure(t, openVariant(t, accel.BaseVariant), es)
	zq, eq := measure(t, openVariant(t, "int8"), es)

	var keys []string
	for k := range zf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tab strings.Builder
	fmt.Fprintf(&tab, "\n%-28s %5s %7s %7s\n", "domain/pairs/task", "n", "float", "int8")
	for _, k := range keys {
		fmt.Fprintf(&tab, "%-28s %5d %7.3f %7.3f\n", k, zf[k].n, zf[k].acc(), zq[k].acc())
	}
	byDomain := map[string][2][][]float32{}
	for i, it := range es.items {
		d := byDomain[it.Domain]
		d[0], d[1] = append(d[0], ef[i]), append(d[1], eq[i])
		byDomain[it.Domain] = d
	}
	var domains []string
	for d := range byDomain {
		domains = append(domains, d)
	}
	sort.Strings(domains)
	for _, d := range domains {
		m, lo := meanCosine(byDomain[d][0], byDomain[d][1])
		fmt.Fprintf(&tab, "cosine(int8, float) %-6s mean %.4f min %.4f (n=%d)\n", d, m, lo, len(byDomain[d][0]))
	}
	t.Log(tab.String())

	// The training distribution's domains: int8 embeddings within 0.99
	// cosine of float ones, as calibrated (scripts/tinyclip/quantize.py).
	for _, d := range []string{"day", "rain", "glare"} {
		if m, _ := meanCosine(byDomain[d][0], byDomain[d][1]); m < 0.99 {
			t.Errorf("%s: mean int8/float image cosine %.4f, want >= 0.99", d, m)
		}
	}
	// Quantization must not cost more than a few points where the model
	// is good, and the model must stay good there.
	// Chance is 0.125 for shapes, 0.016 for colour–shape pairs.
	for k, floor := range map[string]float64{"day/captioned/shape": 0.75, "day/captioned/pair": 0.75,
		"rain/captioned/shape": 0.5, "glare/captioned/shape": 0.5} {
		if zq[k].acc() < zf[k].acc()-0.05 {
			t.Errorf("%s: int8 accuracy %.3f, float %.3f: quantization costs more than 5 points", k, zq[k].acc(), zf[k].acc())
		}
		if zq[k].acc() < floor {
			t.Errorf("%s: int8 accuracy %.3f, want >= %.2f", k, zq[k].acc(), floor)
		}
	}
	if stride == 1 {
		checkAgainstMetrics(t, zf)
	}
}

// checkAgainstMetrics compares the float model's accuracies in Go with the
// trainer's torch figures on the same pictures.
func checkAgainstMetrics(t *testing.T, zf zeroShot) {
	var m struct {
		ByDomain map[string]map[string]struct {
			N           int      `json:"n"`
			Shape       *float64 `json:"shape"`
			ColourShape *float64 `json:"colour_shape"`
		} `json:"by_domain"`
	}
	readJSON(t, "metrics.json", &m)
	for d, e := range m.ByDomain {
		for _, pair := range []string{"captioned", "heldout"} {
			want := e[pair]
			for task, w := range map[string]*float64{"shape": want.Shape, "pair": want.ColourShape} {
				got := zf[d+"/"+pair+"/"+task]
				if w == nil || got == nil {
					t.Errorf("%s/%s/%s: missing in metrics.json or here", d, pair, task)
					continue
				}
				if got.n != want.N || math.Abs(got.acc()-*w) > 0.02 {
					t.Errorf("%s/%s/%s: Go float %.4f on %d pictures, trainer %.4f on %d", d, pair, task, got.acc(), got.n, *w, want.N)
				}
			}
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// BenchmarkEncodeImage is the image encoder's latency on this CPU, float
// against int8, on a preprocessed daylight world picture (preprocessing
// not included).
func BenchmarkEncodeImage(b *testing.B) {
	sc := world.NewScene(1, world.SceneSpec{Domain: world.Day, Day: 5,
		Pairs: []world.Pair{{Colour: world.Colours()[0], Shape: world.NamedShapes()[3]}}, Layout: world.Subject})
	rgb, err := world.RenderRGB(&sc, 224, 224)
	if err != nil {
		b.Fatal(err)
	}
	for _, variant := range []string{accel.BaseVariant, "int8"} {
		b.Run(map[string]string{accel.BaseVariant: "float", "int8": "int8"}[variant], func(b *testing.B) {
			enc := openVariant(b, variant)
			var img preprocess.Tensor
			if err := preprocess.Image(&img, rgb, 224, 224, enc.Info().Image); err != nil {
				b.Fatal(err)
			}
			dst := make([]float32, enc.Info().EmbeddingDim)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := enc.EncodeImage(ctx, &img, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
