#!/usr/bin/python3
"""Build a stand-in image encoder with the compute cost of CLIP ViT-B/32.

`edge bench` compares the full pipeline with the encoder alone. With the
committed test models the encoder takes about a millisecond, so capture and
preprocessing of a 640x480 frame (2-3 ms on the same two cores) dominate and
the ratio says little about a real deployment. Real CLIP image encoders cost
billions of multiply-adds; this script writes a randomly initialised CNN of
about 4.4 G multiply-adds per image (ViT-B/32 is about 4.4 GFLOPs) so the
pipeline's overhead can be measured at a realistic encoder cost. Its weights
are random and its embeddings mean nothing. It is generated on demand
(`make bench`), never committed (about 12 MB).

    /usr/bin/python3 scripts/make_benchmodel.py OUT_DIR
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


def macs(model):
    total, size = 0, 224
    for m in model.features:
        if isinstance(m, torch.nn.Conv2d):
            size = (size + 2 * m.padding[0] - m.kernel_size[0]) // m.stride[0] + 1
            total += size * size * m.in_channels * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
    return total + 256 * DIM


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    model = Encoder().eval()
    with torch.no_grad():
        torch.onnx.export(model, torch.zeros(1, 3, 224, 224), os.path.join(out, "image.onnx"),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}, "image_embeds": {0: "batch"}},
                          opset_version=13, do_constant_folding=True)
    with open(os.path.join(out, "manifest.yaml"), "w") as f:
        f.write("# Written by scripts/make_benchmodel.py: random weights, ViT-B/32-like cost, for edge bench only.\n")
        f.write("format: clipfleet-model/v1\nid: benchclip-b32cost-random\nembedding_dim: %d\nlogit_scale: 100\n" % DIM)
        f.write("image: {file: image.onnx, input: pixel_values, output: image_embeds, size: 224, layout: NCHW, "
                "dtype: float32, mean: %s, std: %s}\n" % (MEAN, STD))
    print("benchmodel: %.2f G multiply-adds per image -> %s" % (macs(model) / 1e9, out))


if __name__ == "__main__":
    main()
