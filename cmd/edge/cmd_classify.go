package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // registers the decoders image.Decode uses
	_ "image/png"
	"os"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/daemon"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/preprocess"
)

func init() {
	register(command{name: "classify", summary: "zero-shot classify image files against the label vocabulary (JSON lines)", run: runClassify})
}

// classifyResult is one output line of `edge classify`.
type classifyResult struct {
	File   string         `json:"file"`
	Labels []daemon.Label `json:"labels"`
	Error  string         `json:"error,omitempty"`
}

func runClassify(ctx context.Context, env *cliEnv, args []string) int {
	fs := flag.NewFlagSet("edge classify", flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	var cf configFlags
	cf.register(fs)
	list := fs.String("labels", "", "comma-separated labels to choose from (default: the label file, else labels.default)")
	topK := fs.Int("top-k", 0, "labels per image (default pipeline.top_k)")
	fs.Usage = func() {
		fmt.Fprint(env.stderr, "usage: edge classify [--labels a,b,c] [--top-k N] [--config FILE] [--set key=value] IMAGE...\n\n"+
			"Encodes each PNG or JPEG file with the configured model and prints one JSON line per file:\n"+
			"{\"file\": ..., \"labels\": [{\"name\": ..., \"prob\": ...}]}, probabilities from softmax(logit_scale · cosine)\n"+
			"over all labels. A file that cannot be read gets an \"error\" instead; the exit status is then 1.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(env.stderr, "edge classify: no image files given")
		return 2
	}
	cfg, err := cf.load(env)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge classify:", err)
		return 2
	}
	k := cfg.Pipeline.TopK
	if *topK != 0 {
		k = *topK
	}
	if k < 1 || k > 100 {
		fmt.Fprintf(env.stderr, "edge classify: --top-k %d outside [1,100]\n", k)
		return 2
	}
	var names []string
	if *list != "" {
		for _, n := range strings.Split(*list, ",") {
			if strings.TrimSpace(n) != "" {
				names = append(names, n)
			}
		}
	}
	log := quietLogger(env.stderr, cfg.Log)
	m, enc, closeFn, err := labelsManager(ctx, env, cfg, true, log, k)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge classify:", err)
		return 1
	}
	defer closeFn()
	clf, err := classifierFor(ctx, m, names, k)
	if err != nil {
		fmt.Fprintln(env.stderr, "edge classify:", err)
		return 1
	}

	c := &imageClassifier{info: m.Info(), enc: enc, clf: clf}
	if c.pre, err = preprocess.NewPreprocessor(c.info.Image); err != nil {
		fmt.Fprintln(env.stderr, "edge classify:", err)
		return 1
	}
	out := json.NewEncoder(env.stdout)
	code := 0
	for _, file := range fs.Args() {
		if ctx.Err() != nil {
			fmt.Fprintln(env.stderr, "edge classify:", context.Cause(ctx))
			return 1
		}
		res := classifyResult{File: file}
		lbls, err := c.classify(ctx, file)
		if err != nil {
			fmt.Fprintf(env.stderr, "edge classify: %v\n", err)
			res.Error, code = err.Error(), 1
		} else {
			res.Labels = lbls
		}
		if err := out.Encode(res); err != nil {
			fmt.Fprintln(env.stderr, "edge classify: writing:", err)
			return 1
		}
	}
	return code
}

// classifierFor builds the label set (the given names, else the
// vocabulary) and a classifier over it; no labels is an error, since
// classifying against nothing says nothing.
func classifierFor(ctx context.Context, m *labels.Manager, names []string, k int) (*labels.Classifier, error) {
	var v *labels.Vocabulary
	var err error
	if names != nil {
		v, err = labels.NewVocabulary(names)
	} else {
		v, _, err = m.Vocabulary()
	}
	if err != nil {
		return nil, err
	}
	set, statuses, _, err := m.Build(ctx, v)
	if err != nil {
		return nil, err
	}
	if set.Len() == 0 {
		reason := "the vocabulary is empty"
		if len(statuses) > 0 {
			reason = statuses[0].Reason
		}
		return nil, fmt.Errorf("no labels to classify against: %s", reason)
	}
	info := m.Info()
	clf := labels.NewClassifier(info.EmbeddingDim, info.LogitScale, k)
	return clf, clf.Store(set)
}

// imageClassifier runs one image file through the whole zero-shot path.
type imageClassifier struct {
	info   accel.ModelInfo
	enc    accel.Encoder
	pre    *preprocess.Preprocessor
	clf    *labels.Classifier
	tensor preprocess.Tensor
	emb    []float32
	buf    []labels.Scored
}

func (c *imageClassifier) classify(ctx context.Context, file string) ([]daemon.Label, error) {
	rgb, w, h, err := readRGB(file)
	if err != nil {
		return nil, err
	}
	if err := c.pre.Image(&c.tensor, rgb, w, h); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if c.emb == nil {
		c.emb = make([]float32, c.info.EmbeddingDim)
	}
	if err := c.enc.EncodeImage(ctx, &c.tensor, c.emb); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c.buf, err = c.clf.Classify(c.emb, c.buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out := make([]daemon.Label, len(c.buf))
	for i, s := range c.buf {
		out[i] = daemon.Label{Name: s.Name, Prob: s.Prob}
	}
	return out, nil
}

// readRGB decodes a PNG or JPEG into packed 8-bit RGB. Transparency is
// dropped rather than composited, as PIL's convert("RGB") does for CLIP.
func readRGB(file string) (rgb []byte, w, h int, err error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, 0, err // *PathError names the file
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", file, err)
	}
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return nil, 0, 0, fmt.Errorf("%s: empty image", file)
	}
	var pix []byte
	var stride int
	switch src := img.(type) {
	case *image.NRGBA:
		pix, stride = src.Pix[src.PixOffset(b.Min.X, b.Min.Y):], src.Stride
	default:
		if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
			// Opaque: premultiplied equals straight, and draw has fast
			// paths into RGBA for JPEG's YCbCr and paletted PNGs.
			dst := image.NewRGBA(image.Rect(0, 0, w, h))
			draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
			pix, stride = dst.Pix, dst.Stride
		} else {
			dst := image.NewNRGBA(image.Rect(0, 0, w, h))
			draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
			pix, stride = dst.Pix, dst.Stride
		}
	}
	rgb = make([]byte, w*h*3)
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+4*w]
		out := rgb[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return rgb, w, h, nil
}
