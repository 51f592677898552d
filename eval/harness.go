package eval

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/labels"
	"github.com/clipfleet/clipfleet/tokenizer"
	"github.com/clipfleet/clipfleet/world"
)

func containsPlaceholder(t string) bool { return strings.Contains(t, labels.Placeholder) }

// Harness evaluates learner methods on scenarios embedded by one encoder.
type Harness struct {
	enc accel.Encoder
	tok *tokenizer.Tokenizer
	cfg Config
	log *slog.Logger
}

// New returns a harness over enc. tok is the tokenizer for class prompts;
// nil loads the one the model's manifest names, if any (without one,
// classes have no text embeddings). log may be nil.
func New(enc accel.Encoder, tok *tokenizer.Tokenizer, cfg Config, log *slog.Logger) (*Harness, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	info := enc.Info()
	if tok == nil && info.HasText && info.Tokenizer != "" {
		var err error
		if tok, err = tokenizer.Load(info.Tokenizer); err != nil {
			return nil, fmt.Errorf("eval: tokenizer: %w", err)
		}
	}
	return &Harness{enc: enc, tok: tok, cfg: cfg, log: log}, nil
}

// Dataset embeds sc, or loads it from the cache. A corrupt or mismatched
// cache file is rebuilt and replaced; failing to write the cache is logged,
// not fatal, since the evaluation itself can still run.
func (h *Harness) Dataset(ctx context.Context, sc *world.Scenario) (*Dataset, CacheStatus, EncodeStats, error) {
	info := h.enc.Info()
	key, err := CacheKey(info, sc, h.cfg.Templates)
	if err != nil {
		return nil, "", EncodeStats{}, err
	}
	if key, err = viewsKey(key, h.cfg); err != nil {
		return nil, "", EncodeStats{}, err
	}
	status := CacheOff
	var path string
	if h.cfg.CacheDir != "" {
		path = CachePath(h.cfg.CacheDir, info.ID, sc.Name, key)
		ds, err := loadCache(path, key)
		switch {
		case err == nil:
			h.log.Info("embeddings from cache", "path", path)
			return ds, CacheHit, EncodeStats{}, nil
		case errors.Is(err, fs.ErrNotExist):
			status = CacheMiss
		default:
			h.log.Warn("embedding cache unusable; rebuilding", "path", path, "err", err)
			status = CacheCorrupt
		}
	}
	ds, st, err := build(ctx, h.enc, h.tok, sc, h.cfg, key)
	if err != nil {
		return nil, status, st, err
	}
	h.log.Info("scenario embedded", "scenario", sc.Name, "images", st.ImageCalls, "took", st.Took)
	if path != "" {
		if err := saveCache(path, ds); err != nil {
			h.log.Warn("embedding cache not written", "err", err)
		}
	}
	return ds, status, st, nil
}

// Run evaluates one registered method (or JointName) on ds.
func (h *Harness) Run(ctx context.Context, ds *Dataset, name string) (*Result, error) {
	if name == JointName {
		return RunJoint(ctx, ds, h.cfg, h.log)
	}
	return Run(ctx, ds, name, h.cfg, h.log)
}
