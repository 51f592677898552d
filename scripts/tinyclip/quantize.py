#!/usr/bin/python3
"""Quantize the committed float tiny CLIP to int8 (QDQ) and register the
variant in its manifest.

  image_int8.onnx  per-channel int8 weights, int32 biases, uint8 activations
                   (the input and every ReLU/pool output) calibrated on 256
                   training pictures of the domains the model is meant for
                   (128 day, 64 rain, 64 glare, the first ones in the export)
  text_int8.onnx   weight-only int8 (embedding table per dimension, conv and
                   projection weights per output channel); activations stay
                   float because text is encoded once per label, not per frame

Reads only the float ONNX files and the world export's training pictures, so
it re-quantizes without retraining and is deterministic (numpy + onnx, the
calibration forward in float64 torch):

  /usr/bin/python3 scripts/tinyclip/quantize.py --data tmp/tinyclip-data --model models/tinyclip

scripts/tinyclip/build.sh runs it after training (build.sh --quantize-only
skips the training).
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from onnx_qdq import qdq_rewrite  # noqa: E402

PRODUCER = "clipfleet scripts/tinyclip/quantize.py"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CALIBRATION = (("day", 128), ("rain", 64), ("glare", 64))
# Activations whose uint8 range is calibrated: the input and what feeds each
# Conv/Gemm (ReLU and pool outputs), so every matmul runs in int8.
QUANTIZED_ACTIVATIONS = ("Relu", "GlobalAveragePool", "Flatten")


def log(*a):
    print("tinyclip quantize:", *a, flush=True)


def calibration_pictures(data):
    exp = json.load(open(os.path.join(data, "export.json")))
    split, size = exp["train"], exp["size"]
    meta = [json.loads(line) for line in open(os.path.join(data, split["meta"]), encoding="utf-8")]
    images = np.memmap(os.path.join(data, split["images"]), dtype=np.uint8, mode="r",
                       shape=(split["n"], size, size, 3))
    picks = []
    for domain, n in CALIBRATION:
        rows = [i for i, r in enumerate(meta) if r["domain"] == domain][:n]
        if len(rows) < n:
            raise SystemExit(f"tinyclip quantize: export has {len(rows)} {domain} pictures, want {n}")
        picks += rows
    u8 = np.asarray(images[sorted(picks)])
    x = u8.transpose(0, 3, 1, 2).astype(np.float64) / 255.0
    mean = np.array(CLIP_MEAN).reshape(1, 3, 1, 1)
    std = np.array(CLIP_STD).reshape(1, 3, 1, 1)
    return ((x - mean) / std).astype(np.float32)


def run_graph(model, x):
    """Every tensor of a Conv/Relu/pool/Gemm graph (float or QDQ) on input x,
    in float64: enough of an interpreter to calibrate and to check the rewrite
    without onnxruntime."""
    g = model.graph
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in g.initializer}
    env[g.input[0].name] = torch.from_numpy(x).double()
    for n in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        ins = [env[i] if i else None for i in n.input]
        if n.op_type == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            y = torch.nn.functional.conv2d(ins[0], ins[1].double(), ins[2].double() if len(ins) > 2 else None,
                                           stride=a.get("strides", [1, 1]), padding=pads[:2])
        elif n.op_type == "Relu":
            y = torch.relu(ins[0])
        elif n.op_type == "GlobalAveragePool":
            y = ins[0].mean(dim=(2, 3), keepdim=True)
        elif n.op_type == "Flatten":
            y = torch.flatten(ins[0], a.get("axis", 1))
        elif n.op_type == "Gemm":
            w = ins[1].double()
            y = ins[0] @ (w.t() if a.get("transB", 0) else w) + ins[2].double()
        elif n.op_type == "QuantizeLinear":
            s, zp = ins[1].double(), ins[2].to(torch.int64)
            y = torch.clamp(torch.round(ins[0] / s) + zp, 0, 255)
        elif n.op_type == "DequantizeLinear":
            q, s, zp = ins[0].double(), ins[1].double(), ins[2].double()
            if s.dim() == 1 and q.dim() > 1:
                shape = [1] * q.dim()
                shape[a.get("axis", 1)] = -1
                s, zp = s.reshape(shape), zp.reshape(shape)
            y = (q - zp) * s
        else:
            raise SystemExit(f"tinyclip quantize: no interpreter for {n.op_type}")
        env[n.output[0]] = y
    return env


def image_ranges(model, calib):
    env = run_graph(model, calib)
    name = model.graph.input[0].name
    ranges = {name: (float(calib.min()), float(calib.max()))}
    for n in model.graph.node:
        if n.op_type in QUANTIZED_ACTIVATIONS:
            v = env[n.output[0]]
            ranges[n.output[0]] = (float(v.min()), float(v.max()))
    return ranges


def quantize_image(model, calib):
    weights = {n.input[1]: 0 for n in model.graph.node if n.op_type in ("Conv", "Gemm")}
    for n in model.graph.node:
        if n.op_type == "Gemm":
            a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
            if not a.get("transB", 0):
                raise SystemExit("tinyclip quantize: Gemm without transB; per-channel axis would be wrong")
    return qdq_rewrite(model, weights, image_ranges(model, calib), PRODUCER)


def quantize_text(model):
    inits = {i.name for i in model.graph.initializer}
    weights = {}
    for n in model.graph.node:
        if n.op_type in ("Conv", "Gemm") and n.input[1] in inits:
            weights[n.input[1]] = 0  # [out, in, k] / [out, in] with transB
        elif n.op_type == "Gather" and n.input[0] in inits:
            weights[n.input[0]] = 1  # embedding table [vocab, dim]: one scale per dim
    return qdq_rewrite(model, weights, {}, PRODUCER)


def cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def save(model, path):
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


VARIANT_RE = re.compile(r"^variants:.*\n(?:[ \t]+.*\n)*|^default_variant:.*\n", re.M)


def update_manifest(path):
    text = VARIANT_RE.sub("", open(path, encoding="utf-8").read())
    text += "variants:\n  int8: {image: image_int8.onnx, text: text_int8.onnx}\ndefault_variant: int8\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="tmp/tinyclip-data", help="world export directory (worldgen export)")
    ap.add_argument("--model", default="models/tinyclip", help="model directory with image.onnx and text.onnx")
    args = ap.parse_args()
    torch.set_num_threads(2)

    calib = calibration_pictures(args.data)
    image = onnx.load(os.path.join(args.model, "image.onnx"))
    image_q = quantize_image(image, calib)
    text_q = quantize_text(onnx.load(os.path.join(args.model, "text.onnx")))

    # A float64 simulation of the QDQ graph, as a sanity check before Go
    # measures the real thing through ONNX Runtime (models/tinyclip tests).
    out = image.graph.output[0].name
    c = cosines(run_graph(image, calib)[out].numpy(), run_graph(image_q, calib)[out].numpy())
    log(f"calibration pictures {len(calib)}: simulated int8/float image cosine mean {c.mean():.4f} min {c.min():.4f}")

    save(image_q, os.path.join(args.model, "image_int8.onnx"))
    save(text_q, os.path.join(args.model, "text_int8.onnx"))
    update_manifest(os.path.join(args.model, "manifest.yaml"))
    for name in ("image_int8.onnx", "text_int8.onnx"):
        log(f"{name}: {os.path.getsize(os.path.join(args.model, name))} bytes")


if __name__ == "__main__":
    main()
