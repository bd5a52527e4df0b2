"""BM25 over Vietnamese syllables and syllable bigrams (bm25s), accent-folded forms beside
the exact ones, abbreviations expanded on both sides."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from pathlib import Path

import bm25s
import numpy as np

from qa.text import abbreviation_expansions, index_terms, query_terms

# Bump when the terms change: an index built with other terms must be rebuilt.
LEXICAL_VERSION = "syllable-uni-bi+folded+abbr-v1"

logging.getLogger("bm25s").setLevel(logging.WARNING)


def passage_terms(title: str, text: str) -> list[str]:
    """Terms of one chunk: its title (articles are often found by their title), its text,
    and the expansions of the abbreviations it uses."""
    extra = abbreviation_expansions(text)
    return index_terms(f"{title}\n{text}\n{extra}")


def question_terms(question: str) -> list[str]:
    extra = abbreviation_expansions(question)
    return query_terms(f"{question} {extra}" if extra else question)


class LexicalIndex:
    """A thin owner of a bm25s index whose document i is chunk i."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, terms: Iterable[list[str]], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """BM25 over each chunk's terms. Terms become ids as they come, so a generator keeps
        only ids in memory, 8 bytes a term instead of a string each (this step's peak: 2.6 GB
        instead of 5.3 GB at 91,799 passages, docs/benchmarks.md)."""
        vocab: dict[str, int] = {}
        ids = []
        for chunk_terms in terms:
            # an empty chunk (or corpus) still needs one token for bm25s
            ids.append([vocab.setdefault(t, len(vocab)) for t in chunk_terms or ["\u2205"]])
        size = len(ids)
        if not ids:
            ids = [[vocab.setdefault("\u2205", 0)]]
        bm25 = bm25s.BM25(k1=k1, b=b)
        bm25.index((ids, vocab), show_progress=False)
        return cls(bm25, size)

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every chunk (zeros when no term is known)."""
        ids = self.bm25.get_tokens_ids(terms)
        if not ids or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores_from_ids(ids), dtype=np.float32)

    def containing(self, terms: list[str]) -> np.ndarray:
        """Chunks that hold every one of `terms` (sorted chunk ids; empty if one is unknown)."""
        indptr, indices = self.bm25.scores["indptr"], self.bm25.scores["indices"]
        found = None
        for term in dict.fromkeys(terms):
            tid = self.bm25.vocab_dict.get(term)
            if tid is None:
                return np.zeros(0, dtype=np.int64)
            docs = np.asarray(indices[indptr[tid]:indptr[tid + 1]])
            found = docs if found is None else np.intersect1d(found, docs, assume_unique=True)
        return np.zeros(0, dtype=np.int64) if found is None else np.sort(found)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (a term never seen weighs the most)."""
        tid = self.bm25.vocab_dict.get(term)
        df = 0
        if tid is not None:
            indptr = self.bm25.scores["indptr"]
            df = int(indptr[tid + 1] - indptr[tid])
        n = max(self.size, 1)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        bm25 = bm25s.BM25.load(str(folder), mmap=False)
        return cls(bm25, size)
