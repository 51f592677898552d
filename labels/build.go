package labels

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/learner"
	"github.com/clipfleet/clipfleet/tokenizer"
)

// encodeChunk is how many prompts go into one EncodeText call: large enough
// for the backend to batch, small enough that cancellation is noticed and
// the id matrix stays small.
const encodeChunk = 256

// Builder turns a Vocabulary into a Set for one model.
type Builder struct {
	Info      accel.ModelInfo
	Encoder   accel.Encoder        // nil: nothing is encoded; such labels are SourcePending
	Tokenizer *tokenizer.Tokenizer // nil: only File can supply embeddings
	File      *Embeddings          // from labels.embeddings_file, already Check-ed; may be nil
	Templates []string             // templates of a vocabulary that names none
	CachePath string               // embedding cache file; "" keeps no cache
	Log       *slog.Logger         // nil: discard
	// NoTokenizerReason explains a nil Tokenizer in Status.Reason.
	NoTokenizerReason string
}

// Status describes one vocabulary label after a build.
type Status struct {
	Name          string     `json:"name"`
	ID            learner.ID `json:"id"`
	Templates     []string   `json:"templates"`
	TemplatesFrom string     `json:"templates_from"` // TemplatesLabel, TemplatesSet or TemplatesConfig
	Source        Source     `json:"embedding"`
	Reason        string     `json:"reason,omitempty"` // why unavailable or pending
}

// BuildStats summarise a build for the log and benchmarks.
type BuildStats struct {
	FromFile, Cached, Encoded, Unavailable int
	Prompts                                int // prompts sent to the text encoder
	EncodeTime                             time.Duration
	Cache                                  string // what happened to the cache file
}

// Build embeds every label of v it can and returns the Set (labels without
// an embedding are left out) and one Status per vocabulary label. A damaged
// cache is logged and rebuilt, never an error; a failing text encoder is.
func (b *Builder) Build(ctx context.Context, v *Vocabulary) (*Set, []Status, BuildStats, error) {
	log := b.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var st BuildStats
	info := b.Info
	canEncode := b.Tokenizer != nil && info.HasText && info.ContextLength > 0

	var c *cache
	state := cacheMissing
	if b.CachePath != "" && canEncode {
		var err error
		c, state, err = loadCache(b.CachePath, info.ID, info.EmbeddingDim)
		switch state {
		case cacheCorrupt:
			log.Warn("label embedding cache unusable; rebuilding it", "path", b.CachePath, "err", err)
		case cacheForeign:
			log.Info("label embedding cache is for another model; rebuilding it", "path", b.CachePath, "model", info.ID)
		}
	} else {
		c = newCache(info.ID, info.EmbeddingDim)
	}

	statuses := make([]Status, len(v.Labels))
	vecs := make([][]float32, len(v.Labels))
	keys := make([][keyLen]byte, len(v.Labels))
	hasKey := make([]bool, len(v.Labels))
	type job struct {
		label int
		ids   [][]int32
	}
	var jobs []job
	for i, l := range v.Labels {
		tpls, from := v.TemplatesFor(i, b.Templates)
		s := &statuses[i]
		*s = Status{Name: l.Name, ID: learner.IDFor(l.Name), Templates: slices.Clone(tpls), TemplatesFrom: from}
		if b.File != nil {
			if vec, ok := b.File.Lookup(l.Name); ok {
				s.Source, vecs[i] = SourceFile, vec
				st.FromFile++
				continue
			}
		}
		switch {
		case !info.HasText || info.ContextLength <= 0:
			s.Reason = fmt.Sprintf("model %s has no text encoder and no embeddings file supplies it", info.ID)
			st.Unavailable++
			continue
		case b.Tokenizer == nil:
			s.Reason = "no tokenizer"
			if b.NoTokenizerReason != "" {
				s.Reason = b.NoTokenizerReason
			}
			st.Unavailable++
			continue
		}
		ids := make([][]int32, len(tpls))
		for j, t := range tpls {
			ids[j] = b.Tokenizer.EncodeContext(Prompt(t, l.Name), info.ContextLength)
		}
		keys[i], hasKey[i] = cacheKey(info.ID, info.EmbeddingDim, ids), true
		if vec, ok := c.get(keys[i]); ok {
			s.Source, vecs[i] = SourceCache, vec
			st.Cached++
			continue
		}
		s.Source = SourcePending
		jobs = append(jobs, job{label: i, ids: ids})
	}

	if len(jobs) > 0 && b.Encoder != nil {
		var flat [][]int32
		for _, j := range jobs {
			flat = append(flat, j.ids...)
		}
		t0 := time.Now()
		embs := make([][]float32, 0, len(flat))
		for lo := 0; lo < len(flat); lo += encodeChunk {
			out, err := b.Encoder.EncodeText(ctx, flat[lo:min(lo+encodeChunk, len(flat))])
			if err != nil {
				return nil, nil, st, fmt.Errorf("labels: encoding prompts: %w", err)
			}
			embs = append(embs, out...)
		}
		if len(embs) != len(flat) {
			return nil, nil, st, fmt.Errorf("labels: text encoder returned %d embeddings for %d prompts", len(embs), len(flat))
		}
		st.EncodeTime, st.Prompts = time.Since(t0), len(flat)
		off := 0
		for _, j := range jobs {
			vec, err := meanEmbedding(embs[off:off+len(j.ids)], info.EmbeddingDim)
			off += len(j.ids)
			if err != nil {
				return nil, nil, st, fmt.Errorf("labels: %q: %w", v.Labels[j.label].Name, err)
			}
			vecs[j.label] = vec
			statuses[j.label].Source = SourceEncoded
			c.put(keys[j.label], v.Labels[j.label].Name, vec)
			st.Encoded++
		}
	} else if len(jobs) > 0 {
		for _, j := range jobs {
			statuses[j.label].Reason = "not cached; computed when the daemon starts or with --encode"
		}
	}

	st.Cache = "unchanged"
	if b.CachePath != "" && canEncode && b.Encoder != nil {
		// Keep exactly this vocabulary's entries, so the file does not grow
		// with every label ever tried; rewrite only when that changes it
		// (a plan without an encoder never writes).
		var order [][keyLen]byte
		for i := range keys {
			if hasKey[i] && vecs[i] != nil {
				order = append(order, keys[i])
			}
		}
		rewrite := st.Encoded > 0 || state == cacheCorrupt ||
			state == cacheForeign && len(order) > 0 || state == cacheOK && len(order) != len(c.entries)
		if rewrite {
			if err := c.save(b.CachePath, order); err != nil {
				log.Warn("label embedding cache not saved", "err", err)
				st.Cache = "not saved"
			} else {
				st.Cache = "saved"
			}
		}
	}

	entries := make([]Entry, 0, len(v.Labels))
	for i, s := range statuses {
		if vecs[i] != nil {
			entries = append(entries, Entry{Name: s.Name, Vector: vecs[i], Source: s.Source})
		}
	}
	set, err := NewSet(info.ID, info.EmbeddingDim, entries)
	if err != nil {
		return nil, nil, st, err
	}
	return set, statuses, st, nil
}

// meanEmbedding is CLIP's prompt ensemble: the normalised mean of the
// normalised per-prompt embeddings.
func meanEmbedding(embs [][]float32, dim int) ([]float32, error) {
	acc := make([]float64, dim)
	for k, e := range embs {
		if len(e) != dim {
			return nil, fmt.Errorf("prompt %d: embedding has %d values, want %d", k, len(e), dim)
		}
		u := append([]float32(nil), e...)
		if err := normalize(u); err != nil {
			return nil, fmt.Errorf("prompt %d: %w", k, err)
		}
		for d, x := range u {
			acc[d] += float64(x)
		}
	}
	out := make([]float32, dim)
	for d := range out {
		out[d] = float32(acc[d] / float64(len(embs)))
	}
	if err := normalize(out); err != nil {
		return nil, fmt.Errorf("templates cancel out: %w", err)
	}
	return out, nil
}
