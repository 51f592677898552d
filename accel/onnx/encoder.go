package onnx

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
	ort "github.com/yalue/onnxruntime_go"
)

// BackendName is the name this package registers with accel.
const BackendName = "onnx"

func init() { accel.Register(BackendName, accel.BackendFunc(Open)) }

// Encoder is a CLIP encoder pair on ONNX Runtime. Unlike the minimum the
// accel.Encoder contract asks for, it is safe for concurrent use: calls are
// serialised, because the bound input/output tensors are shared.
type Encoder struct {
	mu    sync.Mutex
	info  accel.ModelInfo
	image *imageSession
	text  *textSession
}

var _ accel.Encoder = (*Encoder)(nil)

// Open loads m's image (and text, if any) encoder on ONNX Runtime with
// cfg.ONNX's library, providers and threads. Declared inputs and outputs
// are checked against the manifest before any session is built, and each
// encoder gets one trial run, so a wrong model fails here, naming the file.
func Open(ctx context.Context, m *accel.Model, cfg accel.Config, log *slog.Logger) (accel.Encoder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lib, version, err := ensureEnv(cfg.ONNX.Library)
	if err != nil {
		return nil, err
	}
	man := &m.Manifest
	imgFile := m.Rel(m.ImageFile)
	imgIO, err := inspect(m.ImageFile)
	if err != nil {
		return nil, modelError(imgFile, "cannot load: %v", err)
	}
	if err := checkImageIO(imgFile, imgIO, man.Image, man.EmbeddingDim); err != nil {
		return nil, err
	}
	var tio textIO
	if m.TextFile != "" {
		txtFile := m.Rel(m.TextFile)
		txtIO, err := inspect(m.TextFile)
		if err != nil {
			return nil, modelError(txtFile, "cannot load: %v", err)
		}
		if tio, err = checkTextIO(txtFile, txtIO, man.Text, man.EmbeddingDim, m.Source == accel.SourceHuggingFace); err != nil {
			return nil, err
		}
	}

	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("accel/onnx: session options: %w", err)
	}
	defer opts.Destroy()
	if n := cfg.ONNX.IntraOpThreads; n > 0 {
		if err := opts.SetIntraOpNumThreads(n); err != nil {
			return nil, fmt.Errorf("accel/onnx: onnx.intra_op_threads=%d: %w", n, err)
		}
	}
	if n := cfg.ONNX.InterOpThreads; n > 0 {
		if err := opts.SetInterOpNumThreads(n); err != nil {
			return nil, fmt.Errorf("accel/onnx: onnx.inter_op_threads=%d: %w", n, err)
		}
	}
	if err := setSpinning(opts, cfg.ONNX.Spinning); err != nil {
		return nil, err
	}
	providers := appendProviders(sessionOptions{opts}, cfg.ONNX.Providers, log)

	e := &Encoder{info: m.Info()}
	e.info.Backend = BackendName
	e.info.Runtime = fmt.Sprintf("onnxruntime %s [%s]", version, strings.Join(providers, ","))
	if e.image, err = newImageSession(m.ImageFile, man.Image, man.EmbeddingDim, opts); err != nil {
		return nil, err
	}
	if m.TextFile != "" {
		if e.text, err = newTextSession(m.TextFile, man.Text, tio, man.EmbeddingDim, opts); err != nil {
			e.image.close()
			return nil, err
		}
		e.info.ContextLength = man.Text.ContextLength
	}
	log.Debug("accel/onnx: loaded", "library", lib, "image", m.ImageFile, "text", m.TextFile,
		"providers", providers, "text_batch", e.textBatch())
	return e, nil
}

func (e *Encoder) textBatch() int {
	if e.text == nil {
		return 0
	}
	return e.text.maxBatch
}

// Info describes the loaded model.
func (e *Encoder) Info() accel.ModelInfo { return e.info }

// EncodeImage writes img's unit-norm embedding into dst. It allocates
// nothing per call.
func (e *Encoder) EncodeImage(ctx context.Context, img *preprocess.Tensor, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(dst) != e.info.EmbeddingDim {
		return fmt.Errorf("accel/onnx: dst has %d values, want embedding dim %d", len(dst), e.info.EmbeddingDim)
	}
	if err := accel.CheckTensor(img, e.info.Image); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.image == nil {
		return accel.ErrClosed
	}
	return e.image.encode(img, dst)
}

// EncodeText returns one unit-norm embedding per zero-padded sequence of
// Info().ContextLength ids. Cancellation is checked between batches.
func (e *Encoder) EncodeText(ctx context.Context, ids [][]int32) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.image == nil {
		return nil, accel.ErrClosed
	}
	if e.text == nil {
		return nil, accel.ErrNoTextModel
	}
	return e.text.encode(ctx, ids)
}

// Close releases the sessions and tensors. It is idempotent; the ONNX
// Runtime environment stays loaded for the next encoder.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.image != nil {
		e.image.close()
		e.image = nil
	}
	if e.text != nil {
		e.text.close()
		e.text = nil
	}
	return nil
}
