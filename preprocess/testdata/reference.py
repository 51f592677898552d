#!/usr/bin/python3
"""Independent reference for clipfleet's preprocess package: PIL + numpy only.

OpenAI CLIP preprocesses with (clip/clip.py, _transform):

    Compose([Resize(n_px, interpolation=BICUBIC), CenterCrop(n_px),
             _convert_image_to_rgb, ToTensor(),
             Normalize((0.48145466, 0.4578275, 0.40821073),
                       (0.26862954, 0.26130258, 0.27577711))])

torch/torchvision are deliberately not used; their arithmetic is restated here:
  * Resize(int) on a PIL image (torchvision _compute_resized_output_size, and
    functional_pil.resize before 0.13): short, long = (w, h) if w <= h else
    (h, w); new_short, new_long = n, int(n * long / short); then
    PIL Image.resize((new_w, new_h), BICUBIC).
  * CenterCrop (torchvision functional.center_crop, <=0.7 and >=0.10):
    crop_top = int(round((h - n) / 2.0)), crop_left likewise (Python 3 round:
    halves to even).
  * ToTensor: uint8 -> float32, div(255).  Normalize: (x - mean) / std, in
    float32 with mean/std as float32 tensors.
Quantized inputs follow TensorFlow Lite's reference quantizer:
  q = clamp(round_half_away_from_zero(float32(x / scale)) + zero_point).

Usage:
  reference.py generate [DIR]   rewrite the committed fixtures (index.json, *.bin)
  reference.py run REQUEST      fill in outputs for the inputs a JSON request
                                names (files relative to it); prints the
                                completed JSON.  Used by the live Go test.
Every .bin is raw little-endian data: uint8 RGB rows, float32 or int8/uint8
tensors.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

BICUBIC = getattr(Image, "Resampling", Image).BICUBIC

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def resized_size(w, h, n):
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = n, int(n * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def crop_offset(rw, rh, n):
    return int(round((rw - n) / 2.0)), int(round((rh - n) / 2.0))


def normalize(square, mean, std):
    """square: (n, n, 3) uint8 -> (3, n, n) float32, torchvision's order of operations."""
    x = square.astype(np.float32) / np.float32(255)
    m = np.asarray(mean, dtype=np.float64).astype(np.float32)
    s = np.asarray(std, dtype=np.float64).astype(np.float32)
    x = (x - m) / s
    return np.ascontiguousarray(x.transpose(2, 0, 1).astype(np.float32))


def quantize(nchw, dtype, scale, zero_point):
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    t = (nchw / np.float32(scale)).astype(np.float32).astype(np.float64)
    r = np.where(t >= 0, np.floor(t + 0.5), np.ceil(t - 0.5))  # std::round
    q = np.clip(r + zero_point, lo, hi)
    return q.astype(np.uint8 if dtype == "uint8" else np.int8)


def read_rgb(path, w, h):
    data = np.fromfile(path, dtype=np.uint8)
    if data.size != w * h * 3:
        raise SystemExit(f"{path}: {data.size} bytes, want {w * h * 3}")
    return data.reshape(h, w, 3)


def process(request, base):
    mean, std = request["mean"], request["std"]
    for case in request["cases"]:
        w, h, n = case["w"], case["h"], case["size"]
        name = case["name"]
        img = Image.fromarray(read_rgb(os.path.join(base, case["input"]), w, h), "RGB")

        rw, rh = resized_size(w, h, n)
        left, top = crop_offset(rw, rh, n)
        square = np.asarray(img.resize((rw, rh), BICUBIC).crop((left, top, left + n, top + n)))
        case["resized"], case["crop"] = [rw, rh], [left, top]

        case["square"] = name + ".square.bin"
        square.tofile(os.path.join(base, case["square"]))
        nchw = normalize(square, mean, std)
        case["nchw"] = name + ".nchw.f32.bin"
        nchw.astype("<f4").tofile(os.path.join(base, case["nchw"]))

        for i, q in enumerate(case.get("quant", [])):
            t = quantize(nchw, q["dtype"], q["scale"], q["zero_point"])
            if q["layout"] == "NHWC":
                t = t.transpose(1, 2, 0)
            q["file"] = f"{name}.q{i}.{q['dtype']}.{q['layout'].lower()}.bin"
            np.ascontiguousarray(t).tofile(os.path.join(base, q["file"]))

        if "resize_to" in case:  # plain PIL resize of the whole frame, no crop
            ow, oh = case["resize_to"]
            case["resize"] = name + ".resize.bin"
            np.asarray(img.resize((ow, oh), BICUBIC)).tofile(os.path.join(base, case["resize"]))
    return request


def make_image(w, h, seed):
    """Deterministic test frame: gradients, a sinusoid, hard 0/255 stripes
    (bicubic overshoot must clip) and noise (so values are not smooth)."""
    rs = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.stack([
        255.0 * x / max(w - 1, 1),
        255.0 * y / max(h - 1, 1),
        127.5 + 127.5 * np.sin(x * 0.37 + y * 0.21),
    ], axis=-1)
    img += rs.randint(-40, 41, size=img.shape)
    img = np.clip(np.rint(img), 0, 255)
    stripes = ((x // 3 + y // 5) % 2 == 0) & (x > w * 0.6)
    img[stripes] = 255.0
    img[((x // 2) % 2 == 1) & (x > w * 0.6) & (y < h * 0.3)] = 0.0
    return img.astype(np.uint8)


# name, w, h, size, extras. Kept small: fixtures stay well under 2 MB.
CASES = [
    ("landscape", 160, 120, 64, {"quant": [
        {"dtype": "uint8", "layout": "NHWC", "scale": 0.0186584, "zero_point": 114},
        {"dtype": "int8", "layout": "NHWC", "scale": 0.0150, "zero_point": -14},
        {"dtype": "uint8", "layout": "NCHW", "scale": 0.0078125, "zero_point": 128},
    ], "resize_to": [57, 33]}),
    ("portrait", 90, 150, 64, {}),
    ("square", 100, 100, 80, {}),
    ("tiny_upscale", 50, 30, 64, {"resize_to": [71, 97]}),
    ("odd", 127, 65, 64, {}),
    ("half_even_crop", 86, 79, 64, {}),     # long side 69 -> offset round(2.5) = 2
    ("crop_only", 69, 64, 64, {}),          # no resampling at all
    ("vertical_only", 64, 100, 64, {}),     # width already 64
    ("horizontal_only", 100, 64, 64, {}),   # height already 64
    ("wide_strip", 300, 20, 64, {"quant": [
        {"dtype": "int8", "layout": "NCHW", "scale": 0.0302, "zero_point": 3},
    ]}),
    ("clip224", 256, 240, 224, {}),
]


def generate(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    request = {"mean": CLIP_MEAN, "std": CLIP_STD, "cases": []}
    for seed, (name, w, h, n, extra) in enumerate(CASES, start=1):
        make_image(w, h, seed).tofile(os.path.join(out_dir, name + ".in.bin"))
        case = {"name": name, "w": w, "h": h, "size": n, "input": name + ".in.bin"}
        case.update(json.loads(json.dumps(extra)))
        request["cases"].append(case)
    index = process(request, out_dir)
    with open(os.path.join(out_dir, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


def main(argv):
    if len(argv) >= 2 and argv[1] == "generate":
        generate(argv[2] if len(argv) > 2 else os.path.dirname(os.path.abspath(__file__)))
    elif len(argv) == 3 and argv[1] == "run":
        with open(argv[2]) as f:
            request = json.load(f)
        json.dump(process(request, os.path.dirname(os.path.abspath(argv[2]))), sys.stdout)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
