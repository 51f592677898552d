#!/usr/bin/python3
"""Train the tiny CLIP on pictures exported from the Go procedural world.

Reads an export written by `worldgen export` (catalog.json, train.u8/.jsonl,
eval.u8/.jsonl, export.json), trains an image and a text encoder
contrastively, measures zero-shot accuracy on the evaluation pictures, and
writes the model directory: image.onnx, text.onnx, tokenizer.json,
manifest.yaml, metrics.json and reference.json (embeddings the Go tests
compare ONNX Runtime against).

Deterministic from --seed on a given machine: fixed thread count, fixed data
order, deterministic algorithms.

Usage: /usr/bin/python3 scripts/tinyclip/train.py --data DIR --out models/tinyclip
"""

import argparse
import hashlib
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model as tc  # noqa: E402
import tokenizer as tok  # noqa: E402

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def log(*a):
    print("tinyclip:", *a, flush=True)


def load_split(data, split, size):
    meta = [json.loads(line) for line in open(os.path.join(data, split["meta"]), encoding="utf-8")]
    n = split["n"]
    if len(meta) != n:
        raise SystemExit(f"tinyclip: {split['meta']} has {len(meta)} records, export.json says {n}")
    images = np.fromfile(os.path.join(data, split["images"]), dtype=np.uint8)
    if images.size != n * size * size * 3:
        raise SystemExit(f"tinyclip: {split['images']} has {images.size} bytes, want {n}x{size}x{size}x3")
    return images.reshape(n, size, size, 3), meta


class Normalizer:
    """uint8 NHWC batches -> CLIP-normalised float NCHW tensors."""

    def __init__(self):
        self.mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1) * 255.0
        self.inv_std = 1.0 / (torch.tensor(CLIP_STD).view(1, 3, 1, 1) * 255.0)

    def __call__(self, u8):
        x = torch.from_numpy(np.ascontiguousarray(u8)).permute(0, 3, 1, 2).float()
        return (x - self.mean) * self.inv_std


def image_key(rec):
    """What a picture shows, as far as captions can say: its colour-shape
    pairs and its domain."""
    return (tuple(sorted((o["colour"], o["shape"]) for o in rec["objects"])), rec["domain"])


def caption_key(rec, cap):
    """What a caption commits to: every object's shape, their colours if it
    names them, the domain if it names it."""
    if cap["colours"]:
        objs = tuple(sorted((o["colour"], o["shape"]) for o in rec["objects"]))
    else:
        objs = tuple(sorted((None, o["shape"]) for o in rec["objects"]))
    return (objs, rec["domain"] if cap["domain"] else None)


def caption_true_of(ck, ik):
    """Whether a caption with key ck is true of a picture with key ik: such
    pairs are positives, not negatives, in the contrastive loss."""
    objs, dom = ck
    if dom is not None and dom != ik[1]:
        return False
    if objs and objs[0][0] is None:
        return tuple(s for _, s in objs) == tuple(sorted(s for _, s in ik[0]))
    return objs == ik[0]


def soft_clip_loss(img, txt, scale, match):
    """Symmetric InfoNCE where match[i, j] = 1 when caption j is true of
    picture i (always on the diagonal): the targets spread over every true
    pairing instead of calling duplicates negatives."""
    logits = scale * img @ txt.t()
    ti = match / match.sum(dim=1, keepdim=True)
    tt = match.t() / match.t().sum(dim=1, keepdim=True)
    li = -(ti * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    lt = -(tt * torch.log_softmax(logits.t(), dim=1)).sum(dim=1).mean()
    return (li + lt) / 2


def train(args, cat, images, meta, vocab):
    torch.manual_seed(args.seed)
    rng = np.random.RandomState(args.seed)
    norm = Normalizer()
    image_model = tc.ImageEncoder(args.dim)
    text_model = tc.TextEncoder(len(vocab), args.dim)
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    # Pictures and captions reduced to keys; a batch's match matrix costs
    # about 10 ms, against a second for the step.
    ikeys = [image_key(r) for r in meta]
    ckeys = [[caption_key(r, c) for c in r["captions"]] for r in meta]

    def match_matrix(idx, choice):
        m = np.empty((len(idx), len(idx)), dtype=np.float32)
        caps = [ckeys[j][choice[j]] for j in idx]
        for a, i in enumerate(idx):
            ik = ikeys[i]
            for b, ck in enumerate(caps):
                m[a, b] = caption_true_of(ck, ik)
        return torch.from_numpy(m)
    # Every caption of every picture, tokenized once.
    ncap = len(meta[0]["captions"])
    ids = torch.tensor([[tok.encode(c["text"], vocab) for c in r["captions"]] for r in meta], dtype=torch.long)
    unk = (ids == vocab[tok.UNK]).sum().item()
    if unk:
        raise SystemExit(f"tinyclip: {unk} caption tokens are not in the vocabulary")

    decay, no_decay = [], []
    for m in (image_model, text_model):
        for name, p in m.named_parameters():
            (no_decay if p.ndim < 2 else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.wd}, {"params": no_decay + [logit_scale], "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    n = len(meta)
    steps_per_epoch = n // args.batch
    total = steps_per_epoch * args.epochs
    warmup = min(100, total // 10)

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    image_model.train()
    text_model.train()
    step = 0
    t0 = time.time()
    for epoch in range(args.epochs):
        order = rng.permutation(n)
        cap_choice = rng.randint(0, ncap, size=n)
        flips = rng.rand(n) < 0.5
        running = 0.0
        for b in range(steps_per_epoch):
            idx = np.sort(order[b * args.batch:(b + 1) * args.batch])
            x = norm(images[idx])
            f = torch.from_numpy(flips[idx])
            # Horizontal flips keep every named shape's identity and its
            # caption true.
            x = torch.where(f.view(-1, 1, 1, 1), x.flip(3), x)
            t = ids[torch.from_numpy(idx), torch.from_numpy(cap_choice[idx])]
            match = match_matrix(idx, cap_choice)
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            img = torch.nn.functional.normalize(image_model(x), dim=-1)
            txt = torch.nn.functional.normalize(text_model(t), dim=-1)
            loss = soft_clip_loss(img, txt, logit_scale.exp(), match)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                logit_scale.clamp_(0, math.log(100))
            running += loss.item()
            step += 1
            if step % args.log_every == 0:
                el = time.time() - t0
                log(f"epoch {epoch + 1}/{args.epochs} step {step}/{total} loss {running / (b + 1):.4f} "
                    f"scale {logit_scale.exp().item():.1f} {el:.0f}s (eta {el / step * (total - step):.0f}s)")
    elapsed = time.time() - t0
    log(f"trained {total} steps in {elapsed:.0f}s")
    return image_model.eval(), text_model.eval(), logit_scale.exp().item(), elapsed, total


@torch.no_grad()
def embed_images(model, images, batch=128):
    norm = Normalizer()
    out = []
    for i in range(0, len(images), batch):
        out.append(torch.nn.functional.normalize(model(norm(images[i:i + batch])), dim=-1))
    return torch.cat(out)


@torch.no_grad()
def embed_texts(model, texts, vocab):
    ids = torch.tensor([tok.encode(t, vocab) for t in texts], dtype=torch.long)
    return torch.nn.functional.normalize(model(ids), dim=-1)


def accuracy(img, txt, labels, rows, reduce=1):
    """Top-1 accuracy of rows against prompts txt; with reduce=k, prediction
    and label are compared after integer division by k (pair index -> shape
    index, since pairs are ordered shape-major)."""
    if len(rows) == 0:
        return None
    pred = (img[rows] @ txt.t()).argmax(dim=1) // reduce
    want = torch.tensor([labels[r] for r in rows]) // reduce
    return round((pred == want).float().mean().item(), 4)


def evaluate(image_model, text_model, cat, images, meta, vocab):
    # Pre-training-only shapes are named in captions but belong to no task;
    # zero-shot is measured among the task shapes.
    named = [s["name"] for s in cat["shapes"] if s["named"] and not s.get("pretraining_only")]
    unnamed = [s["name"] for s in cat["shapes"] if not s["named"]]
    colours = cat["colours"]
    pairs = [f"{c} {s}" for s in named for c in colours]
    prompts = cat["prompts"]
    img = embed_images(image_model, images)
    t_shape = embed_texts(text_model, [prompts[s] for s in named], vocab)
    t_pair = embed_texts(text_model, [prompts[p] for p in pairs], vocab)
    t_colour = embed_texts(text_model, [prompts[c] for c in colours], vocab)
    t_unnamed = embed_texts(text_model, [prompts[s] for s in unnamed], vocab)

    shape_lab = [named.index(r["shape"]) if r["shape"] in named else -1 for r in meta]
    pair_lab = [pairs.index(f"{r['colour']} {r['shape']}") if r["shape"] in named else -1 for r in meta]
    colour_lab = [colours.index(r["colour"]) for r in meta]
    unnamed_lab = [unnamed.index(r["shape"]) if r["shape"] in unnamed else -1 for r in meta]

    def rows(**want):
        return [i for i, r in enumerate(meta) if all(r[k] == v for k, v in want.items())]

    m = {"chance": {"shape": round(1 / len(named), 4), "colour_shape": round(1 / len(pairs), 4),
                    "colour": round(1 / len(colours), 4), "unnamed_shape": round(1 / len(unnamed), 4)}}
    m["by_domain"] = {}
    for d in [x["name"] for x in cat["domains"]]:
        e = {}
        for kind in ("captioned", "heldout"):
            r = rows(group="domain", domain=d, pair=kind)
            e[kind] = {"n": len(r), "shape": accuracy(img, t_shape, shape_lab, r),
                       "colour_shape": accuracy(img, t_pair, pair_lab, r),
                       "colour": accuracy(img, t_colour, colour_lab, r),
                       # The shape of the best colour-shape prompt: prompt
                       # ensembling over colours.
                       "shape_via_pairs": accuracy(img, t_pair, pair_lab, r, reduce=len(colours))}
        r = rows(group="domain", domain=d, pair="unnamed")
        e["unnamed"] = {"n": len(r), "unnamed_shape": accuracy(img, t_unnamed, unnamed_lab, r),
                        "colour": accuracy(img, t_colour, colour_lab, r)}
        m["by_domain"][d] = e
    m["drift_day_domain"] = {}
    for day in sorted({r["day"] for r in meta if r["group"] == "drift"}):
        r = rows(group="drift", day=day)
        m["drift_day_domain"][str(day)] = {"n": len(r), "shape": accuracy(img, t_shape, shape_lab, r),
                                           "colour_shape": accuracy(img, t_pair, pair_lab, r)}
    # Unnamed shapes' names are not in the vocabulary: their prompts differ
    # only by <unk> and the article, so the text model cannot tell them apart.
    m["unnamed_names_unknown"] = all(
        tok.encode(s, vocab)[1] == vocab[tok.UNK] and tok.encode(s, vocab)[2] == vocab[tok.EOT] for s in unnamed)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="world export directory")
    ap.add_argument("--out", required=True, help="model directory to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.02)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N pictures only (smoke tests)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--id", default="tinyclip-world-v2")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    exp = json.load(open(os.path.join(args.data, "export.json")))
    if exp["format"] != "clipfleet-world-export/v1":
        raise SystemExit(f"tinyclip: unsupported export format {exp['format']}")
    cat = json.load(open(os.path.join(args.data, exp["catalog"]), encoding="utf-8"))
    size = exp["size"]
    if size != 224:
        raise SystemExit(f"tinyclip: export size {size}, the model takes 224")
    vocab = tok.build_vocab(cat["vocabulary"])
    images, meta = load_split(args.data, exp["train"], size)
    if args.limit:
        images, meta = images[:args.limit], meta[:args.limit]
    eval_images, eval_meta = load_split(args.data, exp["eval"], size)
    log(f"{len(meta)} training and {len(eval_meta)} evaluation pictures, vocabulary {len(vocab)}, "
        f"torch {torch.__version__}, {args.threads} threads")

    image_model, text_model, scale, elapsed, steps = train(args, cat, images, meta, vocab)
    metrics = evaluate(image_model, text_model, cat, eval_images, eval_meta, vocab)

    os.makedirs(args.out, exist_ok=True)
    tok.write_tokenizer_json(os.path.join(args.out, "tokenizer.json"), vocab)
    tc.export_onnx(image_model, text_model, args.out)
    ref = reference(image_model, text_model, cat, eval_images, eval_meta, vocab)
    ref["export"] = {k: exp.get(k) for k in ("format", "seed", "eval_per_pair", "drift_days", "size")}
    ref["logit_scale"] = scale
    write_json(os.path.join(args.out, "reference.json"), ref)
    write_manifest(os.path.join(args.out, "manifest.yaml"), args, scale)
    metrics["training"] = {
        "seconds": round(elapsed, 1), "steps": steps, "epochs": args.epochs, "batch": args.batch,
        "pictures": len(meta), "seed": args.seed, "threads": args.threads, "logit_scale": round(scale, 3),
        "torch": torch.__version__, "machine": platform.machine(), "data_sha256": exp["sha256"],
        "image_params": sum(p.numel() for p in image_model.parameters()),
        "text_params": sum(p.numel() for p in text_model.parameters()),
    }
    write_json(os.path.join(args.out, "metrics.json"), metrics)
    summarize(metrics)


def reference(image_model, text_model, cat, images, meta, vocab):
    """A few evaluation pictures and prompts with their torch embeddings, so
    Go can check ONNX Runtime and the world renderer against the trainer."""
    picks = []
    for want in ({"domain": "day", "pair": "captioned"}, {"domain": "night", "pair": "heldout"},
                 {"domain": "fog", "pair": "unnamed"}):
        picks.append(next(i for i, r in enumerate(meta) if r["group"] == "domain" and
                          all(r[k] == v for k, v in want.items())))
    img = image_model(Normalizer()(images[picks])).detach()
    texts = [cat["prompts"][s["name"]] for s in cat["shapes"]]
    ids = [tok.encode(t, vocab) for t in texts]
    txt = text_model(torch.tensor(ids, dtype=torch.long)).detach()
    return {
        "images": [{"eval_index": i, "record": meta[i], "image_embeds": [round(v, 6) for v in e.tolist()]}
                   for i, e in zip(picks, img)],
        "texts": [{"text": t, "input_ids": x[:x.index(vocab[tok.EOT]) + 1], "text_embeds": [round(v, 6) for v in e.tolist()]}
                  for t, x, e in zip(texts, ids, txt)],
    }


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_manifest(path, args, scale):
    mean = ", ".join(repr(v) for v in CLIP_MEAN)
    std = ", ".join(repr(v) for v in CLIP_STD)
    text = f"""# Tiny CLIP trained on the procedural world (scripts/tinyclip/build.sh).
# Outputs are unnormalised projections; the runtime L2-normalises them.
format: clipfleet-model/v1
id: {args.id}
embedding_dim: {args.dim}
logit_scale: {scale:.4f}
tokenizer: tokenizer.json
image: {{file: image.onnx, input: pixel_values, output: image_embeds, size: 224, layout: NCHW, dtype: float32, mean: [{mean}], std: [{std}]}}
text: {{file: text.onnx, input: input_ids, output: text_embeds, context_length: {tok.CONTEXT}, ids_dtype: int64}}
"""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def summarize(m):
    log("zero-shot accuracy (chance: shape %.3f, colour_shape %.3f, colour %.3f)" % (
        m["chance"]["shape"], m["chance"]["colour_shape"], m["chance"]["colour"]))
    for d, e in m["by_domain"].items():
        c, h = e["captioned"], e["heldout"]
        log(f"  {d:6s} captioned shape {c['shape']} (via pairs {c['shape_via_pairs']}) pair {c['colour_shape']} "
            f"colour {c['colour']} | heldout shape {h['shape']} (via pairs {h['shape_via_pairs']}) "
            f"pair {h['colour_shape']} colour {h['colour']} | unnamed 3-way {e['unnamed']['unnamed_shape']}")
    for day, e in m["drift_day_domain"].items():
        log(f"  day {day:>4s} shape {e['shape']} pair {e['colour_shape']}")
    log(f"  unnamed shape names all <unk>: {m['unnamed_names_unknown']}")


if __name__ == "__main__":
    main()
