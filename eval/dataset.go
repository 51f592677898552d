package eval

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/augment"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/preprocess"
	"github.com/clipfleet/clipfleet/tokenizer"
	"github.com/clipfleet/clipfleet/world"
)

// Split is one embedded split of a task or zero-shot set: item i has the
// embedding Emb[i*dim:(i+1)*dim], the class index Class[i] into the set's
// Classes and the day index Day[i].
type Split struct {
	Emb   []float32
	Class []int32
	Day   []int32
}

// Len is the number of items.
func (s *Split) Len() int { return len(s.Class) }

// Set is an embedded task (Train and Test) or zero-shot set (Test only).
type Set struct {
	Name    string
	Kind    string
	Classes []string // canonical label names, in the set's class order
	Train   Split
	Test    Split
}

// Dataset is a scenario run through one encoder: everything a method needs
// to be evaluated without touching the encoder again.
type Dataset struct {
	ModelID  string
	Key      string // cache key: model, preprocessing, scenario, templates
	Scenario string
	Dim      int
	// LogitScale is the model's; methods score with it so probabilities
	// match the daemon's.
	LogitScale float32
	Tasks      []Set
	ZeroShot   []Set
	// Text holds the prompt-ensemble text embedding of each label name;
	// labels without one (no text encoder) are absent.
	Text map[string][]float32
	// Views are the teach-time augmented views the never-named
	// measurement teaches (Config.TeachAugment); nil when it teaches none.
	Views *TeachViews
}

// TeachViews are augmented views of the pictures the never-named few-shot
// measurement teaches: view v of Items[k] (an index into the task's
// training split) has the embedding Emb[(k*Views+v)*dim:][:dim].
type TeachViews struct {
	Task  string
	Items []int32
	Views int
	Emb   []float32
}

// Of returns the embeddings of the views of training item i, or nil if it
// has none.
func (tv *TeachViews) Of(i, dim int) [][]float32 {
	if tv == nil {
		return nil
	}
	k := slices.Index(tv.Items, int32(i))
	if k < 0 {
		return nil
	}
	out := make([][]float32, tv.Views)
	for v := range out {
		o := (k*tv.Views + v) * dim
		out[v] = tv.Emb[o : o+dim]
	}
	return out
}

// EncodeStats counts encoder work done to build a Dataset.
type EncodeStats struct {
	ImageCalls int
	TextCalls  int
	Took       time.Duration
}

// embedder renders and encodes scenario items.
type embedder struct {
	enc    accel.Encoder
	info   accel.ModelInfo
	tok    *tokenizer.Tokenizer
	pre    *preprocess.Preprocessor
	tensor preprocess.Tensor
	stats  EncodeStats
	aug    []byte // scratch view
}

// render draws training or test item i of it at the encoder's input size.
func (e *embedder) render(it *world.Items, i int) ([]byte, world.Sample, error) {
	s := it.Sample(i)
	size := e.info.Image.Size
	rgb, err := world.RenderRGB(&s.Scene, size, size)
	if err != nil {
		return nil, s, fmt.Errorf("eval: render %s/%s/%d: %w", it.Name, it.Split, i, err)
	}
	return rgb, s, nil
}

// encode preprocesses and embeds one square picture into dst.
func (e *embedder) encode(ctx context.Context, rgb []byte, dst []float32) error {
	size := e.info.Image.Size
	if err := e.pre.Image(&e.tensor, rgb, size, size); err != nil {
		return fmt.Errorf("eval: preprocess: %w", err)
	}
	if err := e.enc.EncodeImage(ctx, &e.tensor, dst); err != nil {
		return fmt.Errorf("eval: encode: %w", err)
	}
	e.stats.ImageCalls++
	return nil
}

func (e *embedder) split(ctx context.Context, sc *world.Scenario, name string, sp world.Split) (Split, []string, string, error) {
	it, err := sc.Items(name, sp)
	if err != nil {
		return Split{}, nil, "", fmt.Errorf("eval: %w", err)
	}
	var classes []string
	for _, c := range it.Classes() {
		classes = append(classes, learner.CanonicalName(c.Label))
	}
	dim := e.info.EmbeddingDim
	out := Split{Emb: make([]float32, it.N*dim), Class: make([]int32, it.N), Day: make([]int32, it.N)}
	for i := 0; i < it.N; i++ {
		if err := ctx.Err(); err != nil {
			return Split{}, nil, "", fmt.Errorf("eval: %w", context.Cause(ctx))
		}
		rgb, s, err := e.render(it, i)
		if err != nil {
			return Split{}, nil, "", err
		}
		if err := e.encode(ctx, rgb, out.Emb[i*dim:(i+1)*dim]); err != nil {
			return Split{}, nil, "", fmt.Errorf("%w (%s/%s/%d)", err, name, sp, i)
		}
		out.Class[i], out.Day[i] = int32(s.Class), int32(s.Scene.Day)
	}
	return out, classes, it.Kind, nil
}

// views embeds aug.Views augmented views of each training picture of the
// scenario's first new_classes task that one of the draws of shots per
// class teaches (fewShotItems: the pictures NeverNamed teaches). View v of training item i is
// aug.ViewParams(i, v): the same views on every run. Nil when there is
// nothing to augment; a class with fewer than shots pictures gets views of
// those it has (NeverNamed then refuses the measurement).
func (e *embedder) views(ctx context.Context, sc *world.Scenario, ds *Dataset, shots, draws int, aug augment.Config) (*TeachViews, error) {
	j := slices.IndexFunc(ds.Tasks, func(s Set) bool { return s.Kind == NewClassesKind })
	if j < 0 || shots < 1 || aug.Views < 1 {
		return nil, nil
	}
	task := &ds.Tasks[j]
	it, err := sc.Items(task.Name, world.TrainSplit)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	picked := fewShotItems(task.Train.Class, len(task.Classes), shots, draws)
	dim, size := e.info.EmbeddingDim, e.info.Image.Size
	tv := &TeachViews{Task: task.Name, Views: aug.Views, Emb: make([]float32, len(picked)*aug.Views*dim)}
	for k, i := range picked {
		tv.Items = append(tv.Items, int32(i))
		rgb, _, err := e.render(it, i)
		if err != nil {
			return nil, err
		}
		for v := 0; v < aug.Views; v++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
			}
			if e.aug, err = augment.Apply(e.aug, rgb, size, size, aug.ViewParams(uint64(i), v)); err != nil {
				return nil, fmt.Errorf("eval: %w", err)
			}
			o := (k*aug.Views + v) * dim
			if err := e.encode(ctx, e.aug, tv.Emb[o:o+dim]); err != nil {
				return nil, fmt.Errorf("%w (view %d of %s/train/%d)", err, v, task.Name, i)
			}
		}
	}
	return tv, nil
}

// text embeds every name with the prompt templates (CLIP's ensemble: the
// normalised mean of the normalised prompt embeddings). Without a text
// encoder or tokenizer it returns nothing: methods then start from no
// knowledge of a class, which is what zero-shot transfer should report.
func (e *embedder) text(ctx context.Context, names []string, templates []string) (map[string][]float32, error) {
	out := map[string][]float32{}
	if e.tok == nil || !e.info.HasText || e.info.ContextLength < 1 || len(names) == 0 {
		return out, nil
	}
	ids := make([][]int32, 0, len(names)*len(templates))
	for _, n := range names {
		for _, t := range templates {
			ids = append(ids, e.tok.EncodeContext(labels.Prompt(t, n), e.info.ContextLength))
		}
	}
	embs, err := e.enc.EncodeText(ctx, ids)
	e.stats.TextCalls++
	if err != nil {
		return nil, fmt.Errorf("eval: text encoder: %w", err)
	}
	if len(embs) != len(ids) {
		return nil, fmt.Errorf("eval: text encoder returned %d embeddings for %d prompts", len(embs), len(ids))
	}
	dim := e.info.EmbeddingDim
	for i, n := range names {
		mean := make([]float32, dim)
		for _, v := range embs[i*len(templates) : (i+1)*len(templates)] {
			u, err := learner.Normalized(v)
			if err != nil {
				return nil, fmt.Errorf("eval: text embedding of %q: %w", n, err)
			}
			for k := range mean {
				mean[k] += u[k]
			}
		}
		v, err := learner.Normalized(mean)
		if err != nil {
			continue // prompts cancelled out: no usable text for this label
		}
		out[n] = v
	}
	return out, nil
}

// build embeds the whole scenario, and the teach-time views of cfg.
func build(ctx context.Context, enc accel.Encoder, tok *tokenizer.Tokenizer, sc *world.Scenario, cfg Config, key string) (*Dataset, EncodeStats, error) {
	templates := cfg.Templates
	t0 := time.Now()
	info := enc.Info()
	pre, err := preprocess.NewPreprocessor(info.Image)
	if err != nil {
		return nil, EncodeStats{}, fmt.Errorf("eval: %w", err)
	}
	e := &embedder{enc: enc, info: info, tok: tok, pre: pre}
	ds := &Dataset{ModelID: info.ID, Key: key, Scenario: sc.Name, Dim: info.EmbeddingDim, LogitScale: info.LogitScale}
	seen := map[string]bool{}
	var names []string
	note := func(cs []string) {
		for _, c := range cs {
			if !seen[c] {
				seen[c] = true
				names = append(names, c)
			}
		}
	}
	for _, t := range sc.Tasks {
		set := Set{Name: t.Name}
		if set.Train, set.Classes, set.Kind, err = e.split(ctx, sc, t.Name, world.TrainSplit); err != nil {
			return nil, e.stats, err
		}
		if set.Test, _, _, err = e.split(ctx, sc, t.Name, world.TestSplit); err != nil {
			return nil, e.stats, err
		}
		note(set.Classes)
		ds.Tasks = append(ds.Tasks, set)
	}
	for _, z := range sc.ZeroShot {
		set := Set{Name: z.Name}
		if set.Test, set.Classes, set.Kind, err = e.split(ctx, sc, z.Name, world.TestSplit); err != nil {
			return nil, e.stats, err
		}
		note(set.Classes)
		ds.ZeroShot = append(ds.ZeroShot, set)
	}
	if ds.Text, err = e.text(ctx, names, templates); err != nil {
		return nil, e.stats, err
	}
	if ds.Views, err = e.views(ctx, sc, ds, cfg.FewShot, cfg.FewShotDraws, cfg.TeachAugment); err != nil {
		return nil, e.stats, err
	}
	e.stats.Took = time.Since(t0)
	return ds, e.stats, nil
}
