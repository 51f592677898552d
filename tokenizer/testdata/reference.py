#!/usr/bin/env python3
"""Reference CLIP tokenizer, for regenerating the expected ids in the tests.

This is OpenAI's simple_tokenizer.py (github.com/openai/CLIP, MIT licence, see
../shared/testdata/clip-bpe/LICENSE-openai-clip.txt) with NFC normalisation in
place of ftfy.fix_text, which is how ../shared/testdata/clip-bpe/vectors.jsonl
was produced. Needs the `regex` module.

    python3 testdata/reference.py 'a photo of a cat' $'a\\xe2\\x82b'
    python3 testdata/reference.py --clean 'ΟΔΟΣ &amp;amp;'

Arguments are taken as bytes and decoded as UTF-8 with errors="replace", as the
Go tokenizer treats invalid UTF-8. Prints one JSON line per argument: the ids,
or with --clean the text as cleaned before pre-tokenisation.
"""
import gzip
import html
import json
import os
import re
import sys
import unicodedata

import regex

MERGES = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "../../../shared/testdata/clip-bpe/bpe_simple_vocab_16e6.txt.gz")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def clean(text):
    text = unicodedata.normalize("NFC", text)  # ftfy.fix_text in CLIP
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


class SimpleTokenizer:
    def __init__(self, path=MERGES):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(path).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in merges[1:49152 - 256 - 2 + 1]]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = regex.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == first and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
        self.cache[token] = " ".join(word)
        return self.cache[token]

    def encode(self, text):
        ids = []
        for token in regex.findall(self.pat, clean(text)):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


if __name__ == "__main__":
    args = sys.argv[1:]
    only_clean = args[:1] == ["--clean"]
    if only_clean:
        args = args[1:]
    tok = None if only_clean else SimpleTokenizer()
    for arg in args:
        text = os.fsencode(arg).decode("utf-8", "replace")
        print(json.dumps(clean(text) if only_clean else tok.encode(text)))
