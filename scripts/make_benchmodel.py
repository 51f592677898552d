#!/usr/bin/python3
"""Build a stand-in image encoder with the compute cost of CLIP ViT-B/32.

`edge bench` compares the full pipeline with the encoder alone. With the
committed test models the encoder takes about a millisecond, so capture and
preprocessing of a 640x480 frame (1.5-2 ms on the same two cores) dominate and
the ratio says little about a real deployment. Real CLIP image encoders cost
billions of multiply-adds. Two stand-ins, both with random weights whose
embeddings mean nothing:

  cnn  (default) a CNN of about 4.6 G multiply-adds per image (ViT-B/32 is
       about 4.4 G) in 14 large convolutions; about 12 MB.
  vit  CLIP ViT-B/32's own architecture: 32x32 patches, 12 pre-LayerNorm
       transformer blocks of width 768 with 12 attention heads, projection to
       512; about 350 MB of float32 weights. Its hundreds of small operators
       exercise ONNX Runtime's thread pool the way a real CLIP export does.

Generated on demand (`make bench`), never committed.

    /usr/bin/python3 scripts/make_benchmodel.py [--arch cnn|vit] OUT_DIR
"""

import os
import sys

import torch

SEED = 4242
DIM = 512
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]


class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layers = [torch.nn.Conv2d(3, 64, 4, 4), torch.nn.ReLU()]  # 224 -> 56
        layers += [torch.nn.Conv2d(64, 128, 3, 1, 1), torch.nn.ReLU()]
        for _ in range(6):  # 6 x 462 M MACs at 56x56x128
            layers += [torch.nn.Conv2d(128, 128, 3, 1, 1), torch.nn.ReLU()]
        layers += [torch.nn.Conv2d(128, 256, 3, 2, 1), torch.nn.ReLU()]  # -> 28
        for _ in range(3):  # 3 x 462 M MACs at 28x28x256
            layers += [torch.nn.Conv2d(256, 256, 3, 1, 1), torch.nn.ReLU()]
        self.features = torch.nn.Sequential(*layers)
        self.proj = torch.nn.Linear(256, DIM)

    def forward(self, pixel_values):
        h = self.features(pixel_values).mean(dim=(2, 3))
        return self.proj(h)


def cnn_macs(model):
    total, size = 0, 224
    for m in model.features:
        if isinstance(m, torch.nn.Conv2d):
            size = (size + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1
            total += size * size * m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
    return total + 256 * DIM


class Block(torch.nn.Module):
    """One pre-LayerNorm transformer block as in CLIP's visual encoder. The
    attention is written out (not torch.nn.MultiheadAttention, whose fused
    inference path has no ONNX export) into the MatMul/Softmax graph real
    CLIP ONNX exports have."""

    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln_1 = torch.nn.LayerNorm(width)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.out = torch.nn.Linear(width, width)
        self.ln_2 = torch.nn.LayerNorm(width)
        self.fc = torch.nn.Linear(width, 4 * width)
        self.proj = torch.nn.Linear(4 * width, width)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln_1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        a = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        x = x + self.out((a @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln_2(x))))


class ViT(torch.nn.Module):
    """CLIP ViT-B/32's image tower: 224/32 = 7x7 patches plus a class token."""

    def __init__(self, width=768, layers=12, heads=12, patch=32):
        super().__init__()
        self.patch = torch.nn.Conv2d(3, width, patch, patch, bias=False)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, width) * width ** -0.5)
        self.pos = torch.nn.Parameter(torch.randn(1, (224 // patch) ** 2 + 1, width) * width ** -0.5)
        self.ln_pre = torch.nn.LayerNorm(width)
        self.blocks = torch.nn.Sequential(*[Block(width, heads) for _ in range(layers)])
        self.ln_post = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, DIM, bias=False)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        x = self.blocks(self.ln_pre(x))
        return self.head(self.ln_post(x[:, 0]))


def vit_macs(model):
    w, n = 768, 50
    per_block = n * w * 3 * w + 2 * n * n * w + n * w * w + 2 * n * w * 4 * w
    return 49 * 3 * 32 * 32 * w + len(model.blocks) * per_block + w * DIM


def main():
    args = sys.argv[1:]
    arch = "cnn"
    if len(args) == 3 and args[0] == "--arch" and args[1] in ("cnn", "vit"):
        arch, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit(__doc__)
    out = args[0]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = (Encoder() if arch == "cnn" else ViT()).eval()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(out, "image.onnx"),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
                          opset_version=14 if arch == "vit" else 13, do_constant_folding=True)
    ident = {"cnn": "benchclip-b32cost-random", "vit": "benchclip-vitb32-random"}[arch]
    what = {"cnn": "ViT-B/32-like cost", "vit": "CLIP ViT-B/32 architecture"}[arch]
    with open(os.path.join(out, "manifest.yaml"), "w") as f:
        f.write("# Written by scripts/make_benchmodel.py: random weights, %s, for edge bench only.\n" % what)
        f.write("format: clipfleet-model/v1\nid: %s\nembedding_dim: %d\nlogit_scale: 100\n" % (ident, DIM))
        f.write("image: {file: image.onnx, input: pixel_values, output: image_embeds, size: 224, layout: NCHW, "
                "dtype: float32, mean: %s, std: %s}\n" % (MEAN, STD))
    macs = cnn_macs(model) if arch == "cnn" else vit_macs(model)
    print("benchmodel (%s): %.2f G multiply-adds per image -> %s" % (arch, macs / 1e9, out))


if __name__ == "__main__":
    main()
