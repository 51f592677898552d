package accel

import (
	"context"
	"errors"

	"github.com/clipfleet/clipfleet/preprocess"
)

// Encoder runs a frozen CLIP encoder pair on an accelerator. Implementations
// are safe for use by one goroutine at a time unless they document otherwise.
type Encoder interface {
	// Info describes the loaded model: ids, dimensions and the preprocessing
	// its image input requires.
	Info() ModelInfo
	// EncodeImage writes the L2-normalised embedding of one preprocessed
	// image into dst (len(dst) == Info().EmbeddingDim).
	EncodeImage(ctx context.Context, img *preprocess.Tensor, dst []float32) error
	// EncodeText returns one L2-normalised embedding per token sequence. Each
	// sequence is already padded to Info().ContextLength. Returns
	// ErrNoTextModel when the model directory has no text encoder.
	EncodeText(ctx context.Context, ids [][]int32) ([][]float32, error)
	// Close releases the runtime session and its native memory.
	Close() error
}

// ModelInfo is what the rest of the daemon needs to know about a model.
type ModelInfo struct {
	ID             string          // stable model id (manifest id), keys caches and deltas
	Backend        string          // registered backend name, e.g. "onnx"
	EmbeddingDim   int             // length of image and text embeddings
	LogitScale     float32         // multiplier on cosine similarity before softmax
	Image          preprocess.Spec // how frames must be preprocessed
	HasText        bool            // a text encoder is loaded
	ContextLength  int             // token sequence length the text encoder takes
	Tokenizer      string          // absolute path of the tokenizer file, "" if none
	PreprocessHash string          // hash of Image spec, so deltas can refuse a mismatch
	Variant        string          // manifest variant loaded ("" = the base files)
	Runtime        string          // runtime and execution providers, e.g. "onnxruntime 1.23.2 [cpu]"
}

// ErrNoTextModel is returned by EncodeText when no text encoder was loaded
// (typical on Coral, where label embeddings come from a file or the hub).
var ErrNoTextModel = errors.New("accel: model has no text encoder")
