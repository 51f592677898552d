package learner

import "log/slog"

// Source says where an example's label came from; methods may weigh them
// differently and the fleet may refuse to ship pseudo labels.
type Source uint8

const (
	// Taught: a person named what the camera sees.
	Taught Source = iota + 1
	// Pseudo: the device labelled it itself after a consensus (PseudoLabeler).
	Pseudo
)

func (s Source) String() string {
	switch s {
	case Taught:
		return "taught"
	case Pseudo:
		return "pseudo"
	}
	return "unknown"
}

// Example is one labelled image embedding.
type Example struct {
	Emb    []float32 // image embedding, length Dim; methods copy what they keep
	Label  ID
	Weight float32 // 0 means 1; negative is invalid
	Source Source  // 0 means Taught
}

// W returns the effective weight (0 → 1).
func (e Example) W() float32 {
	if e.Weight == 0 {
		return 1
	}
	return e.Weight
}

// Method is a continual learner over a frozen CLIP encoder. Implementations
// are safe for concurrent use: the daemon predicts on the camera goroutine
// while teach commands and fleet merges arrive on others.
type Method interface {
	// Name is the registered name ("ncm", ...), recorded in snapshots and
	// deltas so state is never loaded into the wrong method.
	Name() string
	// Dim is the embedding dimension.
	Dim() int
	// Predict writes one logit per class of Labels.Current(), in its order,
	// into dst (resized; pass the previous result to avoid allocating) and
	// returns it. A class the method knows nothing about gets NoLogit.
	Predict(emb, dst []float32) ([]float32, error)
	// Learn updates the state from a mini-batch (one example is a batch of
	// one). Every label must be registered. On error the state is unchanged.
	Learn(batch []Example) error
	// Snapshot encodes the whole state (including the sync base, so deltas
	// keep working after a restart) as an Envelope.
	Snapshot() ([]byte, error)
	// Restore replaces the state with a snapshot of the same method, dim and
	// configuration, or fails with ErrIncompatible/ErrCorrupt and changes
	// nothing.
	Restore(b []byte) error
	// BaseVersion is the fleet version the local state is based on (0 before
	// the first merge).
	BaseVersion() uint64
	// Delta exports what was learned locally since base, which must equal
	// BaseVersion() (else ErrBaseMismatch). The method remembers the export
	// so that ApplyMerged does not count this device's contribution twice.
	Delta(base uint64) (*Delta, error)
	// ApplyMerged applies a fleet-merged delta (see MergeDeltas) whose
	// BaseVersion equals BaseVersion(): the new base is base+merged, and
	// what was learned locally after the last export is kept on top.
	ApplyMerged(d *Delta) error
	// Footprint reports the memory the state uses.
	Footprint() Footprint
}

// Unlearner is implemented by methods that can exactly reverse Learn for a
// batch (sufficient statistics, stored examples). Trainer uses it for undo;
// other methods are undone by restoring a snapshot.
type Unlearner interface {
	Unlearn(batch []Example) error
}

// Footprint is a method's memory use, in bytes of model state (not Go
// runtime overhead), split into what is fixed and what grows per class.
type Footprint struct {
	Classes  int   // classes with state
	Fixed    int64 // bytes independent of the number of classes
	PerClass int64 // bytes per class with state (average)
	Total    int64
}

// classFootprint is the Footprint of state that is all per class: total
// bytes over classes classes, PerClass their average.
func classFootprint(classes int, total int64) Footprint {
	f := Footprint{Classes: classes, Total: total}
	if classes > 0 {
		f.PerClass = total / int64(classes)
	}
	return f
}

// PerTask is the memory a task of classesPerTask new classes adds.
func (f Footprint) PerTask(classesPerTask int) int64 { return f.PerClass * int64(classesPerTask) }

// Factory builds a method. labels is the device's registry, shared with the
// caller; log is never nil.
type Factory func(cfg Config, labels *Labels, log *slog.Logger) (Method, error)
