// Package tinyclip_test checks the committed tiny CLIP against the world it
// was trained on: files and sizes, the tokenizer's vocabulary gaps, ONNX
// Runtime reproducing the trainer's embeddings on pictures Go re-renders,
// and real zero-shot ability end to end in Go.
package tinyclip_test

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"gopkg.in/yaml.v3"

	"github.com/clipfleet/clipfleet/internal/testutil"
	"github.com/clipfleet/clipfleet/world"
)

type manifest struct {
	Format       string  `yaml:"format"`
	ID           string  `yaml:"id"`
	EmbeddingDim int     `yaml:"embedding_dim"`
	LogitScale   float64 `yaml:"logit_scale"`
	Tokenizer    string  `yaml:"tokenizer"`
	Image        struct {
		File, Input, Output string
		Size                int
		Mean, Std           []float32
	} `yaml:"image"`
	Text struct {
		File, Input, Output string
		ContextLength       int `yaml:"context_length"`
	} `yaml:"text"`
}

type reference struct {
	Export struct {
		Seed        uint64 `json:"seed"`
		EvalPerPair int    `json:"eval_per_pair"`
		DriftDays   []int  `json:"drift_days"`
		Size        int    `json:"size"`
	} `json:"export"`
	Images []struct {
		EvalIndex int `json:"eval_index"`
		Record    struct {
			Domain, Shape, Colour string
			Day                   int
		} `json:"record"`
		ImageEmbeds []float32 `json:"image_embeds"`
	} `json:"images"`
	Texts []struct {
		Text       string    `json:"text"`
		InputIDs   []int64   `json:"input_ids"`
		TextEmbeds []float32 `json:"text_embeds"`
	} `json:"texts"`
}

func load(t *testing.T) (manifest, reference) {
	t.Helper()
	var m manifest
	data, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	var r reference
	data, err = os.ReadFile("reference.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return m, r
}

func TestFilesAndBudget(t *testing.T) {
	m, r := load(t)
	if m.Format != "clipfleet-model/v1" || m.EmbeddingDim < 16 || m.LogitScale <= 1 || m.Text.ContextLength != 77 {
		t.Errorf("manifest %+v", m)
	}
	if len(r.Images) == 0 || len(r.Images[0].ImageEmbeds) != m.EmbeddingDim || len(r.Texts[0].TextEmbeds) != m.EmbeddingDim {
		t.Errorf("reference embeddings do not have embedding_dim %d values", m.EmbeddingDim)
	}
	var total int64
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	if total > 10<<20 {
		t.Errorf("model directory holds %d bytes, budget 10 MB", total)
	}
	for _, f := range []string{m.Image.File, m.Text.File, m.Tokenizer} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
}

// The tokenizer knows exactly the world's caption vocabulary: unnamed shapes
// and foreign labels stay unknown.
func TestTokenizerVocabulary(t *testing.T) {
	var tok struct {
		Model struct {
			Type     string         `json:"type"`
			Vocab    map[string]int `json:"vocab"`
			UnkToken string         `json:"unk_token"`
		} `json:"model"`
		Padding struct {
			PadID int `json:"pad_id"`
		} `json:"padding"`
	}
	data, err := os.ReadFile("tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		t.Fatal(err)
	}
	if tok.Model.Type != "WordLevel" || tok.Model.UnkToken != "<unk>" || tok.Padding.PadID != 0 {
		t.Errorf("tokenizer model %s unk %q pad %d", tok.Model.Type, tok.Model.UnkToken, tok.Padding.PadID)
	}
	var words []string
	for w := range tok.Model.Vocab {
		switch w {
		case "<pad>", "<unk>", "<|startoftext|>", "<|endoftext|>":
		default:
			words = append(words, w)
		}
	}
	sort.Strings(words)
	want := world.Vocabulary()
	if len(words) != len(want) {
		t.Fatalf("tokenizer has %d words, world vocabulary %d", len(words), len(want))
	}
	for i := range want {
		if words[i] != want[i] {
			t.Fatalf("tokenizer word %q, world has %q", words[i], want[i])
		}
	}
	for _, s := range world.UnnamedShapes() {
		if _, ok := tok.Model.Vocab[s.String()]; ok {
			t.Errorf("unnamed shape %q is in the tokenizer", s)
		}
	}
}

func ortSessions(t *testing.T, m manifest) (img, txt *ort.DynamicAdvancedSession) {
	t.Helper()
	lib := os.Getenv("CLIPFLEET_ORT_LIB")
	if lib == "" {
		lib = testutil.RepoPath(t, "third_party", "onnxruntime", "libonnxruntime.so.1")
	}
	if _, err := os.Stat(lib); err != nil {
		testutil.Missing(t, "ONNX Runtime library %s (make deps)", lib)
	}
	if !ort.IsInitialized() {
		ort.SetSharedLibraryPath(lib)
		if err := ort.InitializeEnvironment(); err != nil {
			t.Fatal(err)
		}
	}
	img, err := ort.NewDynamicAdvancedSession(m.Image.File, []string{m.Image.Input}, []string{m.Image.Output}, nil)
	if err != nil {
		t.Fatal(err)
	}
	txt, err = ort.NewDynamicAdvancedSession(m.Text.File, []string{m.Text.Input}, []string{m.Text.Output}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Destroy(); txt.Destroy() })
	return img, txt
}

// pixels renders scenes at the model size and normalises them as the
// manifest says (the pictures are already 224×224, so resize and crop are
// identities).
func pixels(t *testing.T, m manifest, scenes []*world.Scene) []float32 {
	t.Helper()
	s := m.Image.Size
	out := make([]float32, len(scenes)*3*s*s)
	for n, sc := range scenes {
		rgb, err := world.RenderRGB(sc, s, s)
		if err != nil {
			t.Fatal(err)
		}
		for c := 0; c < 3; c++ {
			plane := out[(n*3+c)*s*s:]
			for i := 0; i < s*s; i++ {
				plane[i] = (float32(rgb[3*i+c])/255 - m.Image.Mean[c]) / m.Image.Std[c]
			}
		}
	}
	return out
}

func runF32(t *testing.T, sess *ort.DynamicAdvancedSession, in ort.Value, rows, dim int) [][]float32 {
	t.Helper()
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(rows), int64(dim)))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Destroy()
	if err := sess.Run([]ort.Value{in}, []ort.Value{out}); err != nil {
		t.Fatal(err)
	}
	flat := out.GetData()
	res := make([][]float32, rows)
	for i := range res {
		res[i] = append([]float32(nil), flat[i*dim:(i+1)*dim]...)
	}
	return res
}

func embedImages(t *testing.T, m manifest, sess *ort.DynamicAdvancedSession, scenes []*world.Scene) [][]float32 {
	s := int64(m.Image.Size)
	in, err := ort.NewTensor(ort.NewShape(int64(len(scenes)), 3, s, s), pixels(t, m, scenes))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	return runF32(t, sess, in, len(scenes), m.EmbeddingDim)
}

func embedIDs(t *testing.T, m manifest, sess *ort.DynamicAdvancedSession, ids [][]int64, pad int64) [][]float32 {
	ctx := m.Text.ContextLength
	flat := make([]int64, len(ids)*ctx)
	for i, seq := range ids {
		row := flat[i*ctx : (i+1)*ctx]
		for j := range row {
			row[j] = pad
		}
		copy(row, seq)
	}
	in, err := ort.NewTensor(ort.NewShape(int64(len(ids)), int64(ctx)), flat)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	return runF32(t, sess, in, len(ids), m.EmbeddingDim)
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// ONNX Runtime on pictures Go renders again reproduces the trainer's torch
// embeddings: the exported graphs, the preprocessing and the renderer's
// determinism all agree.
func TestONNXMatchesTrainer(t *testing.T) {
	m, r := load(t)
	img, txt := ortSessions(t, m)
	opt := world.DefaultExportOptions()
	opt.Seed, opt.EvalPerPair, opt.DriftDays, opt.Size = r.Export.Seed, r.Export.EvalPerPair, r.Export.DriftDays, r.Export.Size
	items := world.ExportEvalItems(opt)
	var scenes []*world.Scene
	for _, ri := range r.Images {
		it := items[ri.EvalIndex]
		if it.Domain != ri.Record.Domain || it.Shape != ri.Record.Shape || it.Colour != ri.Record.Colour || it.Day != ri.Record.Day {
			t.Fatalf("eval item %d is %+v, the trainer saw %+v", ri.EvalIndex, it, ri.Record)
		}
		scenes = append(scenes, it.Scene())
	}
	got := embedImages(t, m, img, scenes)
	for i, ri := range r.Images {
		if c := cosine(got[i], ri.ImageEmbeds); c < 0.9999 {
			t.Errorf("image %d (%s %s %s): cosine %.6f to the trainer's embedding", i, ri.Record.Domain, ri.Record.Colour, ri.Record.Shape, c)
		}
	}
	var ids [][]int64
	for _, rt := range r.Texts {
		ids = append(ids, rt.InputIDs)
	}
	for _, pad := range []int64{0, 3} { // <pad>, and <|endoftext|> as some runtimes pad
		emb := embedIDs(t, m, txt, ids, pad)
		for i, rt := range r.Texts {
			if c := cosine(emb[i], rt.TextEmbeds); c < 0.9999 {
				t.Errorf("text %q padded with %d: cosine %.6f to the trainer's embedding", rt.Text, pad, c)
			}
		}
	}
}

// Zero-shot in Go, end to end: freshly rendered daylight pictures of named
// shapes (held-out colour pairs included) are classified among the named
// shapes' prompts far above chance.
func TestZeroShotInGo(t *testing.T) {
	m, r := load(t)
	img, txt := ortSessions(t, m)
	var prompts [][]int64
	var shapes []world.Shape
	for _, rt := range r.Texts {
		for _, s := range world.NamedShapes() {
			if rt.Text == world.Prompt(s.String()) {
				prompts = append(prompts, rt.InputIDs)
				shapes = append(shapes, s)
			}
		}
	}
	if len(shapes) != len(world.NamedShapes()) {
		t.Fatalf("reference.json has prompts for %d of %d named shapes", len(shapes), len(world.NamedShapes()))
	}
	textEmb := embedIDs(t, m, txt, prompts, 0)
	var scenes []*world.Scene
	var want []int
	for i := 0; i < 48; i++ {
		k := i % len(shapes)
		sc := world.NewScene(uint64(90000+i), world.SceneSpec{Domain: world.Day, Day: 5,
			Pairs: []world.Pair{{Colour: world.Colours()[(i/len(shapes))%len(world.Colours())], Shape: shapes[k]}}, Layout: world.Subject})
		scenes = append(scenes, &sc)
		want = append(want, k)
	}
	emb := embedImages(t, m, img, scenes)
	correct := 0
	for i, e := range emb {
		best, bestC := -1, -2.0
		for k, te := range textEmb {
			if c := cosine(e, te); c > bestC {
				best, bestC = k, c
			}
		}
		if best == want[i] {
			correct++
		}
	}
	acc := float64(correct) / float64(len(emb))
	t.Logf("zero-shot shape accuracy in Go: %.3f (chance %.3f)", acc, 1/float64(len(shapes)))
	if acc < 0.5 {
		t.Errorf("zero-shot shape accuracy %.3f, want well above chance %.3f", acc, 1/float64(len(shapes)))
	}
}
