"""A fast (Rust `tokenizers`) XLM-R Unigram tokenizer rebuilt from the pieces, scores and
normalization map of the 4-bit file, so offsets come for free (the reader needs them).

The pipeline is the one Hugging Face's XLM-R converter builds and the one `e5.c` runs:
per-code-point normalization, runs of spaces collapsed, spaces made "▁" with one in front,
then the most probable split into pieces (Viterbi over the piece scores; an unknown character
costs the lowest score minus 10). The normalization map becomes a SentencePiece
"precompiled charsmap": a darts-clone double-array trie from the UTF-8 bytes of each code point
to its replacement, which `normalizers.Precompiled` reads.

One known difference with `e5.c`: `Precompiled` looks up a whole grapheme shorter than six
bytes first, so a grapheme that starts with a mapped code point and continues with combining
marks ("ﬁ" + U+0301) is replaced by the first code point's mapping alone. Text in NFC (what
`qa.text.normalize` gives) has no such graphemes in Vietnamese.
"""

from __future__ import annotations

import struct

from embeddings.q4file import Vocabulary

_LEAF = 1 << 31
_HAS_LEAF = 1 << 8


def precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """SentencePiece's binary charsmap: u32 trie size in bytes, the trie units, then the
    replacement strings, each NUL-terminated."""
    strings = bytearray()
    at: dict[str, int] = {}
    for out in sorted(set(mapping.values())):
        at[out] = len(strings)
        strings += out.encode("utf-8") + b"\0"
    trie: dict = {}
    for key, out in mapping.items():
        node = trie
        for byte in key.encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = at[out]
    units = _double_array(trie)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(strings)


def _double_array(trie: dict) -> list[int]:
    """darts-clone layout: a node at position p with children base b stores offset p ^ b
    (bits 10+), its byte label (bits 0-7) and a has-leaf flag (bit 8); child c sits at b ^ c
    and the leaf value at b ^ 0 with bit 31 set. Every base is distinct, so a lookup can only
    meet its own children; the array is padded so that b ^ c is always inside it."""
    size = 1 << 12
    units = [0] * size
    used = bytearray(size)
    used[0] = 1
    bases: set[int] = set()
    queue = [(trie, 0)]
    search_from = 256
    while queue:
        node, pos = queue.pop(0)
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        if not slots:
            continue
        q = search_from  # try each free position for the first slot, as darts does
        while True:
            base = q ^ slots[0]
            if base not in bases and all(
                    (base ^ c) >= len(used) or not used[base ^ c] for c in slots):
                break
            q += 1
            while q < len(used) and used[q]:
                q += 1
        bases.add(base)
        while (base | 0xFF) + 1 > len(units):
            units.extend([0] * len(units))
            used.extend(bytearray(len(used)))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalization map too large for a simple double array")
        units[pos] |= offset << 10
        if None in node:
            units[pos] |= _HAS_LEAF
            units[base] = node[None] | _LEAF
            used[base] = 1
        for c in labels:
            units[base ^ c] = c
            used[base ^ c] = 1
            queue.append((node[c], base ^ c))
        while search_from < len(used) and used[search_from]:
            search_from += 1
    last = max(i for i, u in enumerate(used) if u)
    return units[: (last | 0xFF) + 1]


def build_tokenizer(vocab: Vocabulary, model_max_length: int = 512):
    """A `transformers` fast tokenizer equivalent to the file's (special tokens <s> </s>)."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(vocab.pieces, vocab.scores)],
                                   unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(vocab.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=vocab.pieces[vocab.unk], pad_token=vocab.pieces[vocab.pad],
        mask_token="<mask>" if "<mask>" in vocab.pieces else None,
        model_max_length=model_max_length)
