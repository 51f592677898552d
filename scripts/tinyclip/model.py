"""The tiny CLIP's two encoders and their ONNX export.

The image encoder uses only what int8 runtimes and the Edge TPU handle well:
strided convolutions with batch norm (folded into the convolutions at
export), ReLU, global average pooling and one linear projection. The text
encoder embeds words, runs two 1-D convolutions (so "red star" is more than
a bag of words) and mean-pools over the tokens up to the first
<|endoftext|>, ignoring whatever padding follows.
"""

import copy
import os

import onnx
import torch
from torch import nn

import tokenizer as tok

# (in, out, kernel, stride, padding) per convolution: 224 -> 56 -> 28 -> 14 -> 14 -> 7.
# The 4x4/4 stem keeps the cost at about 40M multiply-adds per picture, so
# training fits in minutes on two cores.
IMAGE_LAYERS = [(3, 24, 4, 4, 0), (24, 48, 3, 2, 1), (48, 96, 3, 2, 1), (96, 96, 3, 1, 1), (96, 128, 3, 2, 1)]


class ImageEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        layers = []
        for i, o, k, s, p in IMAGE_LAYERS:
            layers += [nn.Conv2d(i, o, k, s, p, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.proj = nn.Linear(IMAGE_LAYERS[-1][1], dim)

    def forward(self, pixel_values):
        h = self.pool(self.features(pixel_values))
        return self.proj(torch.flatten(h, 1))


class TextEncoder(nn.Module):
    def __init__(self, vocab_size, dim, embed=96, width=128):
        super().__init__()
        self.pad_id, self.eot_id = 0, 3  # tokenizer.SPECIALS order
        self.embed = nn.Embedding(vocab_size, embed)
        self.conv1 = nn.Conv1d(embed, width, 3, padding=1)
        self.conv2 = nn.Conv1d(width, width, 3, padding=1)
        self.proj = nn.Linear(width, dim)

    def mask(self, input_ids):
        eot = (input_ids == self.eot_id).to(torch.int64)
        upto_eot = (torch.cumsum(eot, dim=1) - eot) == 0
        return (upto_eot & (input_ids != self.pad_id)).to(torch.float32)

    def forward(self, input_ids):
        m = self.mask(input_ids).unsqueeze(1)  # N,1,L
        # Zeroing embeddings past the text makes the result independent of
        # the padding token a runtime chooses.
        h = self.embed(input_ids).transpose(1, 2) * m
        h = torch.relu(self.conv1(h))
        h = torch.relu(self.conv2(h))
        h = (h * m).sum(dim=2) / m.sum(dim=2).clamp(min=1.0)
        return self.proj(h)


def fold_batchnorm(model):
    """A copy of the image encoder with every BatchNorm folded into its conv."""
    m = copy.deepcopy(model).eval()
    seq = list(m.features)
    out = []
    i = 0
    while i < len(seq):
        if isinstance(seq[i], nn.Conv2d) and i + 1 < len(seq) and isinstance(seq[i + 1], nn.BatchNorm2d):
            out.append(torch.nn.utils.fusion.fuse_conv_bn_eval(seq[i], seq[i + 1]))
            i += 2
        else:
            out.append(seq[i])
            i += 1
    m.features = nn.Sequential(*out)
    return m


def export_onnx(image_model, text_model, out_dir):
    image = fold_batchnorm(image_model)
    x = torch.zeros(2, 3, 224, 224)
    with torch.no_grad():
        if not torch.allclose(image(x), image_model.eval()(x), atol=1e-4):
            raise RuntimeError("folding batch norm changed the image encoder's output")
    _export(image, x, os.path.join(out_dir, "image.onnx"), "pixel_values", "image_embeds")
    ids = torch.tensor([tok.encode("a photo of a red star.", {tok.PAD: 0, tok.UNK: 1, tok.SOT: 2, tok.EOT: 3})] * 2)
    _export(text_model.eval(), ids, os.path.join(out_dir, "text.onnx"), "input_ids", "text_embeds")


def _export(model, example, path, input_name, output_name):
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (example,), tmp, input_names=[input_name], output_names=[output_name],
                          dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                          opset_version=13, do_constant_folding=True)
    m = onnx.load(tmp)
    onnx.checker.check_model(m, full_check=True)
    ops = {n.op_type for n in m.graph.node}
    if "BatchNormalization" in ops:
        raise RuntimeError(f"{path}: batch norm survived export")
    os.replace(tmp, path)
