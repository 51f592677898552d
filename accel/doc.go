// Package accel runs a frozen CLIP encoder pair on whatever accelerator a
// device has, behind one Encoder interface.
//
// Backends (accel/onnx for ONNX Runtime on CPU, CUDA or TensorRT;
// accel/tflite for TFLite with XNNPACK or an Edge TPU; accel/acceltest's
// fake) register themselves by name from their package's init. The daemon
// blank-imports the ones it links, and Open picks one by Config.Backend.
// A backend that cannot run here (library missing, not compiled in, no
// device) returns an error wrapping ErrBackendUnavailable that says why and
// how to fix it.
//
// # Model directories
//
// A model directory holds the encoder files and a manifest.yaml beside
// them. The manifest is parsed strictly: an unknown or duplicate key, a
// value of the wrong kind, YAML anchors/aliases or a second document are
// errors that name the field path and line, e.g.
// "accel: models/x/manifest.yaml: image.sizee: unknown key (line 7)".
//
//	format: clipfleet-model/v1     # required, exactly this
//	id: testclip-random-v1         # required; caches and deltas key on it ([A-Za-z0-9._-], ≤128)
//	embedding_dim: 64              # required; length of image and text embeddings
//	logit_scale: 100               # required, > 0; multiplier on cosine similarity (already exp'd)
//	tokenizer: tokenizer.json      # optional; OpenAI bpe .txt.gz or HF tokenizer.json
//	image:                         # required
//	  file: image.onnx             # relative path inside the directory ('/' separators, no "..")
//	  input: pixel_values          # input tensor name; the model must have no other input
//	  output: image_embeds         # output tensor name, [N, embedding_dim] (N 1 or dynamic)
//	  size: 224                    # square input side
//	  layout: NCHW                 # or NHWC
//	  dtype: float32               # or uint8 / int8, which require quant:
//	  quant: {scale: 0.0186, zero_point: 114}   # real = (q - zero_point) * scale
//	  mean: [0.48145466, 0.4578275, 0.40821073] # RGB, in [0,1] units
//	  std: [0.26862954, 0.26130258, 0.27577711]
//	text:                          # optional (Coral models often have none)
//	  file: text.onnx
//	  input: input_ids
//	  output: text_embeds
//	  context_length: 77
//	  ids_dtype: int64             # or int32
//	  attention_mask: ""           # name of an attention-mask input, if the model has one
//	variants:                      # optional alternative files, selected by Config.Variant
//	  int8: {image: image_int8.onnx, text: text_int8.onnx}   # an omitted file keeps the base one
//	default_variant: int8          # optional; used when Config.Variant is ""
//
// Config.Variant "" selects default_variant (or the base files when there
// is none); "base" always selects the base files, so "base" cannot name a
// variant. Everything a variant loads must exist when the model is loaded.
//
// # Hugging Face exports
//
// A directory without manifest.yaml is accepted when it is a Hugging Face
// CLIP ONNX export (optimum or the Xenova/transformers.js layout):
// onnx/vision_model.onnx (pixel_values → image_embeds) and optionally
// onnx/text_model.onnx (input_ids → text_embeds), or the same names at the
// top level; vision_model_{quantized,int8,uint8}.onnx (and text_model_...)
// become variants of those names. preprocessor_config.json gives crop_size,
// image_mean and image_std; config.json gives projection_dim (the
// embedding dim) and text_config.max_position_embeddings (the context
// length); tokenizer.json is used when present. config.json only carries
// logit_scale_init_value, the scale's starting point before training: the
// library default ln(1/0.07) is taken to mean an OpenAI-style model whose
// trained scale is 100; any other value is used as exp(value). Write a
// manifest.yaml beside the export to state it exactly. The id is
// "hf-<directory name>-<hash of the configs and encoder file sizes>".
//
// # Preprocessing hash
//
// ModelInfo.PreprocessHash (see PreprocessHash) fingerprints the image
// spec so that deltas and cached embeddings made for one preprocessing are
// refused by a model that needs another.
package accel
