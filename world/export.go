package world

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// ExportOptions sizes the training export read by scripts/tinyclip.
type ExportOptions struct {
	Seed        uint64
	Train       int   // training pictures
	Captions    int   // captions per training picture
	EvalPerPair int   // evaluation pictures per domain × colour × shape
	DriftDays   []int // days of the extra daylight drift evaluation
	Size        int   // side of the square pictures
	Workers     int   // rendering goroutines; output does not depend on it
}

// DefaultExportOptions is what `make model` trains on.
func DefaultExportOptions() ExportOptions {
	return ExportOptions{
		Seed: 1, Train: 16000, Captions: 3, EvalPerPair: 3,
		DriftDays: []int{0, 180, 365, 730}, Size: 224, Workers: runtime.GOMAXPROCS(0),
	}
}

// Validate checks the options without side effects.
func (o ExportOptions) Validate() error {
	switch {
	case o.Train < 1 || o.Train > 1_000_000:
		return fmt.Errorf("world: export: train %d outside [1,1000000]", o.Train)
	case o.Captions < 1 || o.Captions > 16:
		return fmt.Errorf("world: export: captions %d outside [1,16]", o.Captions)
	case o.EvalPerPair < 0 || o.EvalPerPair > 1000:
		return fmt.Errorf("world: export: eval per pair %d outside [0,1000]", o.EvalPerPair)
	case o.Size < 16 || o.Size > 1024:
		return fmt.Errorf("world: export: size %d outside [16,1024]", o.Size)
	case o.Workers < 1:
		return fmt.Errorf("world: export: workers %d must be positive", o.Workers)
	}
	for _, d := range o.DriftDays {
		if d < 0 || d > MaxDay {
			return fmt.Errorf("world: export: drift day %d outside [0,%d]", d, MaxDay)
		}
	}
	return nil
}

// ExportFormat identifies the export layout, recorded in export.json.
const ExportFormat = "clipfleet-world-export/v1"

// ExportManifest is export.json: what was written, with SHA-256 sums so
// that a training run can record exactly which data it saw.
type ExportManifest struct {
	Format      string            `json:"format"`
	Seed        uint64            `json:"seed"`
	EvalPerPair int               `json:"eval_per_pair"`
	DriftDays   []int             `json:"drift_days"`
	Size        int               `json:"size"`
	Layout      string            `json:"layout"` // of the .u8 files
	Catalog     string            `json:"catalog"`
	Train       ExportedSplit     `json:"train"`
	Eval        ExportedSplit     `json:"eval"`
	Sums        map[string]string `json:"sha256"`
}

// ExportedSplit names a split's pixel and metadata files.
type ExportedSplit struct {
	N      int    `json:"n"`
	Images string `json:"images"` // raw uint8, N×Size×Size×3
	Meta   string `json:"meta"`   // JSONL, one record per image, in order
}

type trainRecord struct {
	I        int            `json:"i"`
	Captions []Description  `json:"captions"`
	Domain   string         `json:"domain"`
	Day      int            `json:"day"`
	Objects  []objectRecord `json:"objects"`
}

type objectRecord struct {
	Shape  string `json:"shape"`
	Colour string `json:"colour"`
	Size   string `json:"size,omitempty"`
}

type evalRecord struct {
	I int `json:"i"`
	EvalItem
}

// Export renders the training and evaluation sets into dir for the Python
// trainer: catalog.json, train.u8/train.jsonl, eval.u8/eval.jsonl and
// export.json. Output is byte-identical for the same options, whatever the
// number of workers.
func Export(ctx context.Context, dir string, opt ExportOptions, log *slog.Logger) (*ExportManifest, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("world: export: %w", err)
	}
	m := &ExportManifest{
		Format: ExportFormat, Seed: opt.Seed, EvalPerPair: opt.EvalPerPair, DriftDays: opt.DriftDays,
		Size: opt.Size, Layout: "NHWC uint8 RGB",
		Catalog: "catalog.json", Sums: map[string]string{},
		Train: ExportedSplit{N: opt.Train, Images: "train.u8", Meta: "train.jsonl"},
	}
	cat, err := json.MarshalIndent(CatalogJSON(), "", " ")
	if err != nil {
		return nil, fmt.Errorf("world: export: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, m.Catalog), append(cat, '\n')); err != nil {
		return nil, err
	}
	m.Sums[m.Catalog] = sha256Hex(append(cat, '\n'))

	log.Info("world: exporting training set", "n", opt.Train, "dir", dir)
	err = exportSplit(ctx, dir, m.Train, opt, m.Sums, log, func(i int) (Scene, any) {
		s := TrainingScene(opt.Seed, i)
		rec := trainRecord{I: i, Captions: TrainingCaptions(&s, opt.Seed, i, opt.Captions),
			Domain: s.Domain.String(), Day: s.Day}
		for _, o := range s.Objects {
			rec.Objects = append(rec.Objects, objectRecord{Shape: o.Shape.String(), Colour: o.Colour.String(), Size: o.SizeWord()})
		}
		return s, rec
	})
	if err != nil {
		return nil, err
	}

	items := ExportEvalItems(opt)
	m.Eval = ExportedSplit{N: len(items), Images: "eval.u8", Meta: "eval.jsonl"}
	log.Info("world: exporting evaluation set", "n", len(items))
	err = exportSplit(ctx, dir, m.Eval, opt, m.Sums, log, func(i int) (Scene, any) {
		return items[i].scene, evalRecord{I: i, EvalItem: items[i]}
	})
	if err != nil {
		return nil, err
	}
	data, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("world: export: %w", err)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "export.json"), append(data, '\n')); err != nil {
		return nil, err
	}
	return m, nil
}

// ExportEvalItems is the evaluation set Export writes for these options, so
// a test can re-render any picture the trainer evaluated on.
func ExportEvalItems(opt ExportOptions) []EvalItem {
	return EvalItems(opt.Seed^0xe7a1, opt.EvalPerPair, opt.DriftDays)
}

// exportSplit renders items in chunks, in parallel within a chunk, and
// writes them in index order.
func exportSplit(ctx context.Context, dir string, sp ExportedSplit, opt ExportOptions, sums map[string]string,
	log *slog.Logger, item func(i int) (Scene, any)) error {
	img, err := createAtomic(filepath.Join(dir, sp.Images))
	if err != nil {
		return err
	}
	defer img.Abort()
	meta, err := createAtomic(filepath.Join(dir, sp.Meta))
	if err != nil {
		return err
	}
	defer meta.Abort()

	frame := opt.Size * opt.Size * 3
	chunk := 16 * opt.Workers
	buf := make([]byte, chunk*frame)
	recs := make([][]byte, chunk)
	errs := make([]error, opt.Workers)
	renderers := make([]Renderer, opt.Workers)
	for start := 0; start < sp.N; start += chunk {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("world: export: %w", err)
		}
		n := min(chunk, sp.N-start)
		var wg sync.WaitGroup
		for w := 0; w < opt.Workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := w; k < n; k += opt.Workers {
					s, rec := item(start + k)
					if err := renderers[w].Render(&s, opt.Size, opt.Size, buf[k*frame:(k+1)*frame]); err != nil {
						errs[w] = err
						return
					}
					line, err := json.Marshal(rec)
					if err != nil {
						errs[w] = err
						return
					}
					recs[k] = append(line, '\n')
				}
			}(w)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("world: export: %w", err)
			}
		}
		if _, err := img.Write(buf[:n*frame]); err != nil {
			return fmt.Errorf("world: export: %w", err)
		}
		for _, r := range recs[:n] {
			if _, err := meta.Write(r); err != nil {
				return fmt.Errorf("world: export: %w", err)
			}
		}
		if done := start + n; done%2048 < chunk || done == sp.N {
			log.Debug("world: export progress", "file", sp.Images, "done", done, "of", sp.N)
		}
	}
	if err := img.Commit(); err != nil {
		return err
	}
	if err := meta.Commit(); err != nil {
		return err
	}
	sums[sp.Images], sums[sp.Meta] = img.Sum(), meta.Sum()
	return nil
}
