"""Passages and their embedding windows, sentence-aware and sized in the model's own tokens.

A *passage* (a `Chunk`: what BM25 indexes, what is retrieved and cited) is a whole paragraph,
or consecutive short paragraphs merged up to `target_tokens`; only a paragraph longer than
`passage_max_tokens` is cut, at sentences. A passage may be longer than the embedding model
reads, so it is embedded as one or more *windows* (`embedding_windows`), each within the
model's limit with the title in front, and its dense score is the best window's: the model
never truncates silently (all-MiniLM-L6-v2 stops at 256 word pieces, and a Vietnamese syllable
often takes two), and BM25 still sees whole paragraphs.

Every chunk and window keeps its character offsets in the document text
(`doc.text[c.start:c.end] == c.text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from qa.text import TOKEN_RE, sentence_spans
from qa.types import Chunk, Document

TokenCounter = Callable[[str], int]
_WORD_RE = re.compile(r"\S+")


def approx_tokens(text: str) -> int:
    """A model-free estimate (two word pieces a syllable) for tests and tools without a model."""
    return 2 * len(TOKEN_RE.findall(text)) + text.count(",")


@dataclass(frozen=True)
class ChunkingConfig:
    target_tokens: int = 250  # aim for this many model tokens per chunk
    max_tokens: int = 254  # the model's limit (special tokens excluded)
    overlap_sentences: int = 1  # sentences repeated from the previous chunk
    max_overlap_tokens: int = 60  # ...unless they are longer than this
    paragraph_break: float = 0.5  # end a chunk at a paragraph end once this share is filled
    passage_max_tokens: int = 600  # a paragraph up to this size stays one passage

    def as_dict(self) -> dict:
        return {"target_tokens": self.target_tokens, "max_tokens": self.max_tokens,
                "overlap_sentences": self.overlap_sentences,
                "max_overlap_tokens": self.max_overlap_tokens,
                "paragraph_break": self.paragraph_break,
                "passage_max_tokens": self.passage_max_tokens}


def embedding_text(title: str, chunk_text: str) -> str:
    """What the dense model sees for a chunk: the article title, then the chunk."""
    return f"{title}\n{chunk_text}" if title else chunk_text


def chunk_document(doc: Document, count: TokenCounter = approx_tokens,
                   config: ChunkingConfig | None = None) -> list[Chunk]:
    config = ChunkingConfig() if config is None else config
    title_cost = count(doc.title) + 1 if doc.title else 0
    budget = max(16, min(config.target_tokens, config.max_tokens - title_cost))
    units = list(_units(doc.text, count, budget))
    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or used + units[j][2] <= budget):
            # a chunk that is already well filled ends with its paragraph
            if j > i and config.paragraph_break and used >= config.paragraph_break * budget \
                    and _new_paragraph(doc.text, units[j - 1][1], units[j][0]):
                break
            used += units[j][2]
            j += 1
        start, end = units[i][0], units[j - 1][1]
        chunks.append(Chunk(doc.doc_id, start, end, doc.text[start:end]))
        if j >= len(units):
            break
        if _new_paragraph(doc.text, units[j - 1][1], units[j][0]):
            i = j  # a paragraph starts afresh: no overlap needed
            continue
        # step back for the overlap, but always move forward
        back = 0
        while (back < config.overlap_sentences and j - back - 1 > i
               and units[j - back - 1][2] <= config.max_overlap_tokens):
            back += 1
        # the overlap must leave room for the next new sentence, or the next chunk would
        # only repeat the end of this one
        while back and sum(u[2] for u in units[j - back:j + 1]) > budget:
            back -= 1
        i = j - back
    return chunks


def _new_paragraph(text: str, prev_end: int, next_start: int) -> bool:
    return "\n\n" in text[prev_end:next_start]


def _units(text: str, count: TokenCounter, budget: int) -> Iterable[tuple[int, int, int]]:
    """(start, end, tokens) of each sentence; sentences over budget cut at word boundaries."""
    for a, b in sentence_spans(text):
        n = count(text[a:b])
        if n <= budget:
            yield a, b, n
            continue
        yield from _split_long(text, a, b, count, budget)


def _split_long(text: str, a: int, b: int, count: TokenCounter, budget: int):
    """Cut an over-long sentence into pieces of whole words; word costs are counted once
    (a word-piece tokenizer splits on whitespace first, so the sum is exact for it)."""
    piece_start, used, last_end = None, 0, a
    for m in _WORD_RE.finditer(text, a, b):
        n = count(m.group())
        if piece_start is not None and used + n > budget:
            yield piece_start, last_end, used
            piece_start, used = None, 0
        if piece_start is None:
            piece_start = m.start()
        used += n
        last_end = m.end()
    if piece_start is not None:
        yield piece_start, last_end, used


_PARAGRAPH_RE = re.compile(r"[^\n]+(?:\n(?!\n)[^\n]+)*")


def passages(doc: Document, count: TokenCounter = approx_tokens,
             config: ChunkingConfig | None = None) -> list[Chunk]:
    """Whole paragraphs (short ones merged up to `target_tokens`); a paragraph over
    `passage_max_tokens` is cut into sentence-aligned pieces of `target_tokens`."""
    config = ChunkingConfig() if config is None else config
    out: list[Chunk] = []
    pending: list[tuple[int, int]] = []
    used = 0

    def flush():
        nonlocal pending, used
        if pending:
            a, b = pending[0][0], pending[-1][1]
            out.append(Chunk(doc.doc_id, a, b, doc.text[a:b]))
        pending, used = [], 0

    for m in _PARAGRAPH_RE.finditer(doc.text):
        a, b = m.span()
        n = count(doc.text[a:b])
        if n > config.passage_max_tokens:
            flush()
            part = Document(doc.doc_id, doc.title, doc.text[a:b])
            wide = ChunkingConfig(target_tokens=config.target_tokens,
                                  max_tokens=config.passage_max_tokens,
                                  overlap_sentences=config.overlap_sentences,
                                  max_overlap_tokens=config.max_overlap_tokens)
            for c in chunk_document(part, count, wide):
                out.append(Chunk(doc.doc_id, a + c.start, a + c.end, c.text))
            continue
        if pending and used + n > config.target_tokens:
            flush()
        pending.append((a, b))
        used += n
    flush()
    return out


def embedding_windows(doc: Document, passage: Chunk, count: TokenCounter = approx_tokens,
                      config: ChunkingConfig | None = None) -> list[Chunk]:
    """Pieces of a passage that the model reads whole (with the title in front)."""
    config = ChunkingConfig() if config is None else config
    part = Document(doc.doc_id, doc.title, passage.text)
    return [Chunk(doc.doc_id, passage.start + c.start, passage.start + c.end, c.text)
            for c in chunk_document(part, count, config)]


def chunk_documents(docs: Iterable[Document], count: TokenCounter = approx_tokens,
                    config: ChunkingConfig | None = None) -> list[Chunk]:
    return [c for d in docs for c in chunk_document(d, count, config)]

