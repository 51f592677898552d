"""Word-level tokenizer of the tiny CLIP, and its Hugging Face tokenizer.json.

The vocabulary is the world's caption vocabulary (catalog.json), so words the
world never says — the unnamed shapes, Spanish and Chinese labels — map to
<unk>. Splitting matches the tokenizer.json written below: lowercase, then
runs of word characters or of other non-space characters (the Hugging Face
Whitespace pre-tokenizer), <|startoftext|> ... <|endoftext|>, padded with
<pad> (id 0) to 77 ids.
"""

import json
import os
import re

PAD, UNK, SOT, EOT = "<pad>", "<unk>", "<|startoftext|>", "<|endoftext|>"
SPECIALS = [PAD, UNK, SOT, EOT]
CONTEXT = 77
_SPLIT = re.compile(r"\w+|[^\w\s]+")


def build_vocab(words):
    vocab = {s: i for i, s in enumerate(SPECIALS)}
    for w in words:
        if w in vocab:
            raise ValueError(f"duplicate vocabulary word {w!r}")
        vocab[w] = len(vocab)
    return vocab


def pre_tokenize(text):
    return _SPLIT.findall(text.lower())


def encode(text, vocab):
    """Token ids, truncated so <|endoftext|> always survives, padded to CONTEXT."""
    words = pre_tokenize(text)[:CONTEXT - 2]
    ids = [vocab[SOT]] + [vocab.get(w, vocab[UNK]) for w in words] + [vocab[EOT]]
    return ids + [vocab[PAD]] * (CONTEXT - len(ids))


def write_tokenizer_json(path, vocab):
    def special(tok):
        return {"id": vocab[tok], "content": tok, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False, "special": True}

    doc = {
        "version": "1.0",
        "truncation": {"direction": "Right", "max_length": CONTEXT, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": CONTEXT}, "direction": "Right", "pad_to_multiple_of": None,
                    "pad_id": vocab[PAD], "pad_type_id": 0, "pad_token": PAD},
        "added_tokens": [special(t) for t in SPECIALS],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": SOT, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": EOT, "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": SOT, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": EOT, "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": EOT, "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab[t]], "tokens": [t]} for t in (SOT, EOT)},
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNK},
    }
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
