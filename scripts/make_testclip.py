#!/usr/bin/python3
"""Build models/testclip: a tiny, untrained, deterministic CLIP-shaped model pair.

Run with Debian's interpreter (torch 1.13, onnx 1.12):

    /usr/bin/python3 scripts/make_testclip.py

It writes, all from a fixed seed so that re-running reproduces the same weights:

  models/testclip/image.onnx       pixel_values [N,3,224,224] f32 -> image_embeds [N,64]
  models/testclip/text.onnx        input_ids    [N,77] int64     -> text_embeds  [N,64]
  models/testclip/image_int8.onnx  image encoder in QDQ form: per-channel int8 weights,
                                   uint8 activations calibrated on synthetic images
  models/testclip/text_int8.onnx   text encoder with int8 weights (weight-only QDQ)
  models/testclip/manifest.yaml    the clipfleet-model/v1 manifest (default variant int8)
  accel/onnx/testdata/testclip_reference.json
                                   PyTorch outputs for fixed inputs, so the Go tests can
                                   check ONNX Runtime against the framework that made it

The QDQ rewrite (int8 weights + DequantizeLinear, int32 biases, Q/DQ pairs on the
image encoder's activations) lives in scripts/onnx_qdq.py, shared with
scripts/tinyclip/quantize.py.
"""

import json
import math
import os
import sys

import numpy as np
import onnx
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_qdq import qdq_rewrite  # noqa: E402

SEED = 20240611
SIZE = 224
DIM = 64
CTX = 77
VOCAB = 49408
TOKEN_DIM = 8
OPSET = 13
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]
SOT, EOT = 49406, 49407
PRODUCER = "clipfleet make_testclip.py"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "models", "testclip")
REF = os.path.join(ROOT, "accel", "onnx", "testdata", "testclip_reference.json")


class ImageEncoder(torch.nn.Module):
    """Strided CNN using only ops int8 runtimes handle well (Conv, Relu, MaxPool,
    GlobalAveragePool, Gemm)."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 16, kernel_size=4, stride=4)
        self.conv2 = torch.nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1)
        self.pool = torch.nn.MaxPool2d(2)
        self.conv3 = torch.nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.proj = torch.nn.Linear(64, DIM)

    def forward(self, x, trace=None):
        steps = []
        x = self.conv1(x); steps.append(("Conv", x))
        x = torch.relu(x); steps.append(("Relu", x))
        x = self.conv2(x); steps.append(("Conv", x))
        x = torch.relu(x); steps.append(("Relu", x))
        x = self.pool(x); steps.append(("MaxPool", x))
        x = self.conv3(x); steps.append(("Conv", x))
        x = torch.relu(x); steps.append(("Relu", x))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1); steps.append(("GlobalAveragePool", x))
        x = torch.flatten(x, 1); steps.append(("Flatten", x))
        x = self.proj(x); steps.append(("Gemm", x))
        if trace is not None:
            trace.extend(steps)
        return x


class TextEncoder(torch.nn.Module):
    """Mean of token embeddings up to and including the end-of-text token (the
    largest id, as in CLIP), then a two-layer MLP."""

    def __init__(self):
        super().__init__()
        self.tok = torch.nn.Embedding(VOCAB, TOKEN_DIM)
        self.fc1 = torch.nn.Linear(TOKEN_DIM, DIM)
        self.fc2 = torch.nn.Linear(DIM, DIM)
        self.register_buffer("pos", torch.arange(CTX, dtype=torch.float32).reshape(1, CTX))

    def forward(self, input_ids):
        e = self.tok(input_ids)
        # ArgMax on float: ORT's CPU ArgMax kernels do not all cover int64.
        eot = input_ids.to(torch.float32).argmax(dim=-1, keepdim=True).to(torch.float32)
        mask = (self.pos <= eot).to(torch.float32)
        s = (e * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        return self.fc2(torch.relu(self.fc1(s)))


def init_weights(m):
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * math.sqrt(2.0 / fan_in))
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)


def reference_image(seed):
    """A deterministic, already-normalised [3,224,224] tensor the Go tests can
    recompute: a smooth pattern per channel, different per seed."""
    c = np.arange(3, dtype=np.float64).reshape(3, 1, 1)
    y = np.arange(SIZE, dtype=np.float64).reshape(1, SIZE, 1)
    x = np.arange(SIZE, dtype=np.float64).reshape(1, 1, SIZE)
    v = 1.5 * np.sin(0.05 * (c + 1) * x + 0.07 * y + 0.3 * seed) + 0.25 * np.cos(0.011 * (x + 2 * y) * (seed + 1))
    return v.astype(np.float32)


def reference_ids(words):
    ids = np.zeros(CTX, dtype=np.int64)
    ids[0] = SOT
    ids[1:1 + len(words)] = words
    ids[1 + len(words)] = EOT
    return ids


def synthetic_calibration_images(n=24):
    """Images in pixel space [0,1], normalised as CLIP does: noise, gradients,
    checkerboards and flat colours, so activation ranges cover real frames."""
    rng = np.random.default_rng(SEED)
    imgs = []
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    for i in range(n):
        kind = i % 4
        if kind == 0:
            img = rng.random((3, SIZE, SIZE))
        elif kind == 1:
            a = rng.random(3).reshape(3, 1, 1)
            img = np.clip(a * xx + (1 - a) * yy, 0, 1)
        elif kind == 2:
            k = int(rng.integers(4, 32))
            board = ((np.floor(xx * SIZE / k) + np.floor(yy * SIZE / k)) % 2)
            img = np.stack([board * rng.random() for _ in range(3)])
        else:
            img = np.ones((3, SIZE, SIZE)) * rng.random(3).reshape(3, 1, 1)
        mean = np.array(MEAN).reshape(3, 1, 1)
        std = np.array(STD).reshape(3, 1, 1)
        imgs.append(((img - mean) / std).astype(np.float32))
    # The reference pattern is what the Go tests feed, so calibrate on it too.
    imgs += [reference_image(s) for s in range(4)]
    return np.stack(imgs)


def export(model, example, path, in_name, out_name):
    torch.onnx.export(
        model, example, path,
        input_names=[in_name], output_names=[out_name],
        dynamic_axes={in_name: {0: "batch"}, out_name: {0: "batch"}},
        opset_version=OPSET, do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def image_ranges(model, onnx_model, calib):
    """Map the torch forward's steps onto the exported graph's nodes by op type
    (asserting the order matches) and record the range of every activation the
    QDQ graph should quantize: the input and every Relu/MaxPool/pool output."""
    trace = []
    with torch.no_grad():
        model(torch.from_numpy(calib), trace=trace)
    ops = [n for n in onnx_model.graph.node if n.op_type != "Constant"]
    got = [n.op_type for n in ops]
    want = [op for op, _ in trace]
    if got != want:
        sys.exit(f"exported image graph {got} does not match the forward {want}")
    ranges = {"pixel_values": (float(calib.min()), float(calib.max()))}
    for node, (op, v) in zip(ops, trace):
        if op in ("Relu", "MaxPool", "GlobalAveragePool", "Flatten"):
            ranges[node.output[0]] = (float(v.min()), float(v.max()))
    return ranges


MANIFEST = f"""# Tiny untrained CLIP-shaped test model, written by scripts/make_testclip.py.
# See MODEL_CARD.md. Not for real recognition: its weights are random.
format: clipfleet-model/v1
id: testclip-random-v1
embedding_dim: {DIM}
logit_scale: 100
image:
  file: image.onnx
  input: pixel_values
  output: image_embeds
  size: {SIZE}
  layout: NCHW
  dtype: float32
  mean: [{", ".join(str(v) for v in MEAN)}]
  std: [{", ".join(str(v) for v in STD)}]
text:
  file: text.onnx
  input: input_ids
  output: text_embeds
  context_length: {CTX}
  ids_dtype: int64
variants:
  int8: {{image: image_int8.onnx, text: text_int8.onnx}}
default_variant: int8
"""


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(os.path.dirname(REF), exist_ok=True)
    torch.manual_seed(SEED)

    img = ImageEncoder().eval()
    init_weights(img)
    txt = TextEncoder().eval()
    init_weights(txt)

    img_onnx = export(img, torch.zeros(1, 3, SIZE, SIZE), os.path.join(OUT, "image.onnx"),
                      "pixel_values", "image_embeds")
    txt_onnx = export(txt, torch.zeros(1, CTX, dtype=torch.int64), os.path.join(OUT, "text.onnx"),
                      "input_ids", "text_embeds")

    calib = synthetic_calibration_images()
    ranges = image_ranges(img, img_onnx, calib)
    img_w = {}
    for n in img_onnx.graph.node:
        if n.op_type in ("Conv", "Gemm"):
            img_w[n.input[1]] = 0  # Conv [out,in,kh,kw]; Gemm transB=1 [out,in]
    onnx.save(qdq_rewrite(img_onnx, img_w, ranges, PRODUCER), os.path.join(OUT, "image_int8.onnx"))

    txt_w = {}
    for n in txt_onnx.graph.node:
        if n.op_type == "Gemm":
            txt_w[n.input[1]] = 0
        elif n.op_type == "Gather" and n.input[0] in {i.name for i in txt_onnx.graph.initializer}:
            txt_w[n.input[0]] = 1  # embedding table [vocab, dim]: one scale per dim
    onnx.save(qdq_rewrite(txt_onnx, txt_w, {}, PRODUCER), os.path.join(OUT, "text_int8.onnx"))

    # Reference outputs computed by PyTorch (not by any ONNX runtime).
    ref_imgs = np.stack([reference_image(s) for s in range(2)])
    ref_ids = np.stack([reference_ids([320, 1125, 539, 320, 2368]),  # arbitrary ids
                        reference_ids([1929, 49405, 7, 12345])])
    with torch.no_grad():
        ie = img(torch.from_numpy(ref_imgs)).numpy()
        te = txt(torch.from_numpy(ref_ids)).numpy()
    ref = {
        "comment": "PyTorch outputs of models/testclip (not normalised); written by scripts/make_testclip.py",
        "image_formula": "x[c,y,x] = float32(1.5*sin(0.05*(c+1)*x + 0.07*y + 0.3*seed) + 0.25*cos(0.011*(x+2*y)*(seed+1)))",
        "image_seeds": [0, 1],
        "image_embeds": [[float(v) for v in row] for row in ie],
        "input_ids": [[int(v) for v in row] for row in ref_ids],
        "text_embeds": [[float(v) for v in row] for row in te],
    }
    with open(REF, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")

    with open(os.path.join(OUT, "manifest.yaml"), "w") as f:
        f.write(MANIFEST)

    for name in ("image.onnx", "text.onnx", "image_int8.onnx", "text_int8.onnx"):
        p = os.path.join(OUT, name)
        print(f"{p}: {os.path.getsize(p)} bytes")
    print(f"{REF}: written")


if __name__ == "__main__":
    main()
