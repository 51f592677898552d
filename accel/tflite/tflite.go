//go:build tflite

package tflite

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"

	"github.com/clipfleet/clipfleet/accel"
	"github.com/clipfleet/clipfleet/preprocess"
	tfl "github.com/mattn/go-tflite"
	"github.com/mattn/go-tflite/delegates"
)

func init() { accel.Register(BackendName, accel.BackendFunc(Open)) }

// delegateFactory builds one delegate. The delegate files, each behind its
// own build tag, add themselves to delegateFactories.
type delegateFactory func(cfg accel.TFLiteConfig) (delegates.Delegater, error)

var delegateFactories = map[string]delegateFactory{}

// Encoder is a CLIP encoder pair on TFLite. Calls are serialised, so it is
// safe for concurrent use.
type Encoder struct {
	mu    sync.Mutex
	info  accel.ModelInfo
	image *interp
	text  *interp
	// text scratch
	ids64  []int64
	mask   []int32
	mask64 []int64
	maskIn *tfl.Tensor
}

var _ accel.Encoder = (*Encoder)(nil)

// interp is one model file on its own interpreter (and delegate: TFLite
// delegates are per interpreter).
type interp struct {
	file     string
	model    *tfl.Model
	opts     *tfl.InterpreterOptions
	it       *tfl.Interpreter
	delegate delegates.Delegater
	log      *reporter
	in, out  *tfl.Tensor
	outQ     tfl.QuantizationParams
	scratch  []float32 // dequantised output of a quantized model
}

// reporter collects TFLite's error reports so load and invoke errors can
// say what the runtime complained about.
type reporter struct {
	mu   sync.Mutex
	msgs []string
}

func (r *reporter) report(msg string, _ interface{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) < 16 {
		r.msgs = append(r.msgs, strings.TrimSpace(msg))
	}
}

func (r *reporter) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.msgs, "; ")
	r.msgs = r.msgs[:0]
	if s == "" {
		return "no detail from TFLite"
	}
	return s
}

func modelError(file, format string, args ...any) error {
	return accel.WithKind(accel.ErrBadModel, "accel/tflite: %s: %s", file, fmt.Sprintf(format, args...))
}

func newInterp(file, rel string, cfg accel.TFLiteConfig) (*interp, error) {
	p := &interp{file: rel, log: &reporter{}}
	if p.model = tfl.NewModelFromFile(file); p.model == nil {
		return nil, modelError(rel, "cannot load: not a valid TFLite flatbuffer")
	}
	if p.opts = tfl.NewInterpreterOptions(); p.opts == nil {
		p.close()
		return nil, fmt.Errorf("accel/tflite: cannot create interpreter options")
	}
	if cfg.Threads > 0 {
		p.opts.SetNumThread(cfg.Threads)
	}
	p.opts.SetErrorReporter(p.log.report, nil)
	if d := cfg.Delegate; d != "" && d != accel.DelegateNone {
		f, ok := delegateFactories[d]
		if !ok {
			p.close()
			return nil, accel.WithKind(accel.ErrBackendUnavailable,
				"accel/tflite: delegate %q is not compiled in; rebuild with `go build -tags tflite,%s` (see accel/tflite docs)", d, d)
		}
		del, err := f(cfg)
		if err != nil {
			p.close()
			return nil, err
		}
		p.delegate = del
		p.opts.AddDelegate(del)
	}
	if p.it = tfl.NewInterpreter(p.model, p.opts); p.it == nil {
		msg := p.log.take()
		p.close()
		return nil, modelError(rel, "cannot create interpreter: %s", msg)
	}
	if st := p.it.AllocateTensors(); st != tfl.OK {
		msg := p.log.take()
		p.close()
		return nil, modelError(rel, "cannot allocate tensors: %s", msg)
	}
	return p, nil
}

func (p *interp) close() {
	// The interpreter uses the delegate and the model: delete it first.
	if p.it != nil {
		p.it.Delete()
		p.it = nil
	}
	if p.delegate != nil {
		p.delegate.Delete()
		p.delegate = nil
	}
	if p.opts != nil {
		p.opts.Delete()
		p.opts = nil
	}
	if p.model != nil {
		p.model.Delete()
		p.model = nil
	}
}

func typeName(t tfl.TensorType) string {
	switch t {
	case tfl.Float32:
		return "float32"
	case tfl.UInt8:
		return "uint8"
	case tfl.Int8:
		return "int8"
	case tfl.Int32:
		return "int32"
	case tfl.Int64:
		return "int64"
	}
	return strings.ToLower(t.String())
}

func describe(ts []*tfl.Tensor) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = fmt.Sprintf("%s %s %v", t.Name(), typeName(t.Type()), t.Shape())
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (p *interp) inputs() []*tfl.Tensor {
	ts := make([]*tfl.Tensor, p.it.GetInputTensorCount())
	for i := range ts {
		ts[i] = p.it.GetInputTensor(i)
	}
	return ts
}

func (p *interp) outputs() []*tfl.Tensor {
	ts := make([]*tfl.Tensor, p.it.GetOutputTensorCount())
	for i := range ts {
		ts[i] = p.it.GetOutputTensor(i)
	}
	return ts
}

func findTensor(ts []*tfl.Tensor, name string) *tfl.Tensor {
	for _, t := range ts {
		if t != nil && t.Name() == name {
			return t
		}
	}
	return nil
}

func shapeIs(got []int, want ...int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// bindOutput finds the embedding output and checks it is [1, dim], float32
// or quantized (dequantised with the tensor's own parameters).
func (p *interp) bindOutput(name string, dim int) error {
	outs := p.outputs()
	p.out = findTensor(outs, name)
	if p.out == nil {
		return modelError(p.file, "output %q not found; model has outputs %s", name, describe(outs))
	}
	if !shapeIs(p.out.Shape(), 1, dim) {
		return modelError(p.file, "output %q has shape %v; the manifest's embedding_dim %d needs [1 %d]", name, p.out.Shape(), dim, dim)
	}
	switch p.out.Type() {
	case tfl.Float32:
	case tfl.UInt8, tfl.Int8:
		p.outQ = p.out.QuantizationParams()
		if !(p.outQ.Scale > 0) {
			return modelError(p.file, "quantized output %q has no scale", name)
		}
		p.scratch = make([]float32, dim)
	default:
		return modelError(p.file, "output %q is %s, want float32, uint8 or int8", name, typeName(p.out.Type()))
	}
	return nil
}

// embedding returns the output as float32, dequantising into scratch.
func (p *interp) embedding() []float32 {
	switch p.out.Type() {
	case tfl.UInt8:
		for i, q := range p.out.UInt8s() {
			p.scratch[i] = float32(float64(int(q)-p.outQ.ZeroPoint) * p.outQ.Scale)
		}
		return p.scratch
	case tfl.Int8:
		for i, q := range p.out.Int8s() {
			p.scratch[i] = float32(float64(int(q)-p.outQ.ZeroPoint) * p.outQ.Scale)
		}
		return p.scratch
	}
	return p.out.Float32s()
}

func (p *interp) invoke() error {
	if st := p.it.Invoke(); st != tfl.OK {
		return fmt.Errorf("accel/tflite: %s: invoke failed: %s", p.file, p.log.take())
	}
	return nil
}

func tfliteType(d preprocess.DType) tfl.TensorType {
	switch d {
	case preprocess.Uint8:
		return tfl.UInt8
	case preprocess.Int8:
		return tfl.Int8
	}
	return tfl.Float32
}

func checkImage(p *interp, im accel.ImageModel, dim int) error {
	ins := p.inputs()
	p.in = findTensor(ins, im.Input)
	if p.in == nil {
		return modelError(p.file, "input %q not found; model has inputs %s", im.Input, describe(ins))
	}
	if len(ins) != 1 {
		return modelError(p.file, "model has inputs %s but the manifest feeds only %q", describe(ins), im.Input)
	}
	spec := im.Spec()
	if got, want := p.in.Type(), tfliteType(spec.DType); got != want {
		return modelError(p.file, "input %q is %s but the manifest says image.dtype %s", im.Input, typeName(got), spec.DType)
	}
	want := []int{1, 3, spec.Size, spec.Size}
	if spec.Layout == preprocess.NHWC {
		want = []int{1, spec.Size, spec.Size, 3}
	}
	if !shapeIs(p.in.Shape(), want...) {
		return modelError(p.file, "input %q has shape %v; the manifest (image.size %d, layout %s) needs %v",
			im.Input, p.in.Shape(), spec.Size, spec.Layout, want)
	}
	if spec.DType != preprocess.Float32 {
		q := p.in.QuantizationParams()
		if math.Abs(q.Scale-float64(spec.Scale)) > 1e-6*math.Max(1, q.Scale) || q.ZeroPoint != int(spec.ZeroPoint) {
			return modelError(p.file, "input %q is quantized with scale %g zero point %d, the manifest says image.quant {scale: %g, zero_point: %d}",
				im.Input, q.Scale, q.ZeroPoint, spec.Scale, spec.ZeroPoint)
		}
	}
	return p.bindOutput(im.Output, dim)
}

func (e *Encoder) checkText(p *interp, tm *accel.TextModel, dim int) error {
	ins := p.inputs()
	p.in = findTensor(ins, tm.Input)
	if p.in == nil {
		return modelError(p.file, "input %q not found; model has inputs %s", tm.Input, describe(ins))
	}
	wantIDs := tfl.Int64
	if tm.IDsDType == "int32" {
		wantIDs = tfl.Int32
	}
	if p.in.Type() != wantIDs {
		return modelError(p.file, "input %q is %s but the manifest says text.ids_dtype %s", tm.Input, typeName(p.in.Type()), tm.IDsDType)
	}
	if !shapeIs(p.in.Shape(), 1, tm.ContextLength) {
		return modelError(p.file, "input %q has shape %v; text.context_length %d needs [1 %d]", tm.Input, p.in.Shape(), tm.ContextLength, tm.ContextLength)
	}
	fed := 1
	if tm.AttentionMask != "" {
		e.maskIn = findTensor(ins, tm.AttentionMask)
		if e.maskIn == nil {
			return modelError(p.file, "attention-mask input %q not found; model has inputs %s", tm.AttentionMask, describe(ins))
		}
		switch e.maskIn.Type() {
		case tfl.Int32:
			e.mask = make([]int32, tm.ContextLength)
		case tfl.Int64:
			e.mask64 = make([]int64, tm.ContextLength)
		default:
			return modelError(p.file, "attention-mask input %q is %s, want int32 or int64", tm.AttentionMask, typeName(e.maskIn.Type()))
		}
		if !shapeIs(e.maskIn.Shape(), 1, tm.ContextLength) {
			return modelError(p.file, "attention-mask input %q has shape %v, want [1 %d]", tm.AttentionMask, e.maskIn.Shape(), tm.ContextLength)
		}
		fed++
	}
	if len(ins) != fed {
		return modelError(p.file, "model has inputs %s but the manifest feeds only %d of them", describe(ins), fed)
	}
	if wantIDs == tfl.Int64 {
		e.ids64 = make([]int64, tm.ContextLength)
	}
	return p.bindOutput(tm.Output, dim)
}

// Open loads m's .tflite encoders with cfg.TFLite's delegate and threads.
func Open(ctx context.Context, m *accel.Model, cfg accel.Config, log *slog.Logger) (accel.Encoder, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	man := &m.Manifest
	e := &Encoder{info: m.Info()}
	e.info.Backend = BackendName
	delegate := cfg.TFLite.Delegate
	if delegate == "" {
		delegate = accel.DelegateNone
	}
	e.info.Runtime = "tflite [" + delegate + "]"
	var err error
	if e.image, err = newInterp(m.ImageFile, m.Rel(m.ImageFile), cfg.TFLite); err != nil {
		return nil, err
	}
	if err := checkImage(e.image, man.Image, man.EmbeddingDim); err != nil {
		e.Close()
		return nil, err
	}
	if m.TextFile != "" {
		// The text encoder runs on the CPU: Edge TPU compilers rarely map a
		// text transformer, and one device is better left to the camera.
		tcfg := cfg.TFLite
		if tcfg.Delegate == accel.DelegateEdgeTPU {
			tcfg.Delegate = accel.DelegateNone
		}
		if e.text, err = newInterp(m.TextFile, m.Rel(m.TextFile), tcfg); err != nil {
			e.Close()
			return nil, err
		}
		if err := e.checkText(e.text, man.Text, man.EmbeddingDim); err != nil {
			e.Close()
			return nil, err
		}
		e.info.ContextLength = man.Text.ContextLength
	}
	log.Debug("accel/tflite: loaded", "image", m.ImageFile, "text", m.TextFile, "delegate", delegate)
	return e, nil
}

// Info describes the loaded model.
func (e *Encoder) Info() accel.ModelInfo { return e.info }

// EncodeImage writes img's unit-norm embedding into dst.
func (e *Encoder) EncodeImage(ctx context.Context, img *preprocess.Tensor, dst []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(dst) != e.info.EmbeddingDim {
		return fmt.Errorf("accel/tflite: dst has %d values, want embedding dim %d", len(dst), e.info.EmbeddingDim)
	}
	if err := accel.CheckTensor(img, e.info.Image); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.image == nil {
		return accel.ErrClosed
	}
	var err error
	switch e.info.Image.DType {
	case preprocess.Uint8:
		err = e.image.in.SetUint8s(img.U8)
	case preprocess.Int8:
		err = e.image.in.SetInt8s(img.I8)
	default:
		err = e.image.in.SetFloat32s(img.F32)
	}
	if err != nil {
		return fmt.Errorf("accel/tflite: image input: %w", err)
	}
	if err := e.image.invoke(); err != nil {
		return err
	}
	if err := accel.Normalize(dst, e.image.embedding()); err != nil {
		return fmt.Errorf("accel/tflite: image encoder: %w", err)
	}
	return nil
}

// EncodeText embeds zero-padded sequences one at a time.
func (e *Encoder) EncodeText(ctx context.Context, ids [][]int32) ([][]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.image == nil {
		return nil, accel.ErrClosed
	}
	if e.text == nil {
		return nil, accel.ErrNoTextModel
	}
	n := e.info.ContextLength
	dim := e.info.EmbeddingDim
	res := make([][]float32, len(ids))
	flat := make([]float32, len(ids)*dim)
	for k, row := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(row) != n {
			return nil, fmt.Errorf("accel/tflite: text: sequence %d has %d ids, want context length %d", k, len(row), n)
		}
		var err error
		if e.ids64 != nil {
			for j, v := range row {
				e.ids64[j] = int64(v)
			}
			err = e.text.in.SetInt64s(e.ids64)
		} else {
			err = e.text.in.SetInt32s(row)
		}
		if err == nil && e.maskIn != nil {
			last := -1
			for j, v := range row {
				if v != 0 {
					last = j
				}
			}
			for j := 0; j < n; j++ {
				var m int32
				if j <= last {
					m = 1
				}
				if e.mask != nil {
					e.mask[j] = m
				} else {
					e.mask64[j] = int64(m)
				}
			}
			if e.mask != nil {
				err = e.maskIn.SetInt32s(e.mask)
			} else {
				err = e.maskIn.SetInt64s(e.mask64)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("accel/tflite: text input: %w", err)
		}
		if err := e.text.invoke(); err != nil {
			return nil, err
		}
		res[k] = flat[k*dim : (k+1)*dim : (k+1)*dim]
		if err := accel.Normalize(res[k], e.text.embedding()); err != nil {
			return nil, fmt.Errorf("accel/tflite: text encoder, sequence %d: %w", k, err)
		}
	}
	return res, nil
}

// Close releases the interpreters, delegates and models; idempotent.
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
