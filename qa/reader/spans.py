"""Question + context windows for the span network, and spans read back as character offsets.

A context is tokenized once with offsets; a window is a slice of its tokens after the question:
`<s> question </s></s> context slice </s>`. Offsets of a piece include the space in front of it
("▁Hoàng" covers " Hoàng"), so spans are trimmed to the text they hold: an answer is always
`context[start:end]`, copied, never rebuilt from pieces.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Encoded:
    """A context's pieces: ids and their character offsets in the context text."""

    ids: list[int]
    offsets: list[tuple[int, int]]


@dataclass(frozen=True)
class Window:
    ids: list[int]
    first: int  # index in `ids` of the first context piece
    pieces: range  # which of the context's pieces the window holds
    start: int = 0  # target positions in `ids` (0, 0: no answer in this window)
    end: int = 0


class WindowMaker:
    def __init__(self, tokenizer, max_length: int = 192, question_tokens: int = 48):
        self.tok = tokenizer
        self.max_length = max_length
        self.question_tokens = question_tokens
        self.cls, self.sep, self.pad = (tokenizer.cls_token_id, tokenizer.sep_token_id,
                                        tokenizer.pad_token_id)

    def question(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"][: self.question_tokens]

    def context(self, text: str) -> Encoded:
        enc = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)
        return Encoded(enc["input_ids"], [tuple(o) for o in enc["offset_mapping"]])

    def room(self, question: list[int]) -> int:
        """Context pieces that fit beside `question`."""
        return self.max_length - len(question) - 4

    def window(self, question: list[int], ctx: Encoded, a: int, b: int,
               answer: tuple[int, int] | None = None) -> Window:
        """Context pieces [a, b); `answer` (piece indices, inclusive) sets the targets when
        the window holds it whole."""
        ids = [self.cls, *question, self.sep, self.sep, *ctx.ids[a:b], self.sep]
        first = len(question) + 3
        start = end = 0
        if answer is not None and a <= answer[0] and answer[1] < b:
            start, end = first + answer[0] - a, first + answer[1] - a
        return Window(ids, first, range(a, b), start, end)

    def sliding(self, question: list[int], ctx: Encoded, stride: int | None = None,
                answer: tuple[int, int] | None = None) -> list[Window]:
        """Windows covering the whole context, overlapping by half a window by default."""
        room = self.room(question)
        stride = max(1, room // 2 if stride is None else stride)
        out, a = [], 0
        while True:
            b = min(a + room, len(ctx.ids))
            out.append(self.window(question, ctx, a, b, answer))
            if b >= len(ctx.ids):
                return out
            a += stride

    def around(self, question: list[int], ctx: Encoded, answer: tuple[int, int] | None,
               rng: random.Random, negative: bool = False) -> Window:
        """A training window: the answer at a random place inside it, or (negative, or no
        answer) a random window, without the answer where one can be had."""
        room = self.room(question)
        n = len(ctx.ids)
        if answer is None or negative:
            starts = list(range(0, max(n - room, 0) + 1))
            if answer is not None:  # windows that miss the answer entirely
                starts = [a for a in starts if a + room <= answer[0] or a > answer[1]]
                if not starts:
                    return self.window(question, ctx, 0, min(room, n), answer)
            a = rng.choice(starts)
            return self.window(question, ctx, a, min(a + room, n), answer)
        length = answer[1] - answer[0] + 1
        if length > room:
            return self.window(question, ctx, answer[0], answer[0] + room, None)
        lo = max(0, answer[1] + 1 - room)
        hi = min(answer[0], max(n - room, 0))
        a = rng.randint(lo, max(lo, hi))
        return self.window(question, ctx, a, min(a + room, n), answer)


def piece_span(ctx: Encoded, start: int, end: int) -> tuple[int, int] | None:
    """The pieces [first, last] covering characters [start, end) of the context."""
    first = last = None
    for i, (a, b) in enumerate(ctx.offsets):
        if b <= start or a >= end or a == b:
            continue
        if first is None:
            first = i
        last = i
    return None if first is None else (first, last)


def collate(windows: list[Window], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and attention mask, padded to the longest window."""
    width = max(len(w.ids) for w in windows)
    ids = torch.full((len(windows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    for i, w in enumerate(windows):
        ids[i, : len(w.ids)] = torch.tensor(w.ids)
        mask[i, : len(w.ids)] = 1
    return ids, mask


@dataclass(frozen=True)
class Span:
    score: float  # start + end logit
    null: float  # the window's no-answer score (start + end logit at position 0)
    window: int
    start: int  # characters in the context
    end: int


def best_spans(windows: list[Window], ctx: Encoded, text: str, start_logits: torch.Tensor,
               end_logits: torch.Tensor, max_pieces: int = 30, top: int = 20,
               per_window: int = 1) -> list[Span]:
    """Each window's `per_window` best spans (end not before start, at most `max_pieces`
    pieces, each a different text), trimmed to its text, best first."""
    out = []
    for w_i, w in enumerate(windows):
        n = len(w.pieces)
        s = start_logits[w_i, w.first:w.first + n]
        e = end_logits[w_i, w.first:w.first + n]
        starts = torch.topk(s, min(top, n)).indices.tolist()
        ends = torch.topk(e, min(top, n)).indices.tolist()
        null = float(start_logits[w_i, 0] + end_logits[w_i, 0])
        pairs = sorted(((float(s[i] + e[j]), i, j) for i in starts for j in ends
                        if i <= j < i + max_pieces), reverse=True)
        seen: set[tuple[int, int]] = set()
        for score, i, j in pairs:
            a = ctx.offsets[w.pieces[i]][0]
            b = ctx.offsets[w.pieces[j]][1]
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if (a, b) in seen:
                continue
            seen.add((a, b))  # an empty one (whitespace only) takes its place too
            if b > a:
                out.append(Span(score, null, w_i, a, b))
            if len(seen) == per_window:
                break
    return sorted(out, key=lambda x: -x.score)
