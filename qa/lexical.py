"""BM25 over Vietnamese syllables and syllable bigrams, accent-folded forms beside the exact
ones, abbreviations expanded on both sides.

The index is append-only in parts: each index segment keeps its own `Postings` (raw term
frequencies, never a score), and `LexicalIndex` scores a question over all parts with the
corpus-wide statistics (passage count, mean length, document frequency) computed at query time.
So adding an article adds one small part and leaves the others untouched, and dropping one drops
its part: nothing is rebuilt. The scores are the same as bm25s's default (Lucene) BM25 over the
whole corpus at once (tests/test_lexical.py checks it against bm25s itself).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from qa.text import abbreviation_expansions, index_terms, query_terms

# Bump when the terms change: an index built with other terms must be rebuilt.
LEXICAL_VERSION = "syllable-uni-bi+folded+abbr-v1"
EMPTY = "\u2205"  # the one term of an empty passage, so that it still has a length


def passage_terms(title: str, text: str) -> list[str]:
    """Terms of one chunk: its title (articles are often found by their title), its text,
    and the expansions of the abbreviations it uses."""
    extra = abbreviation_expansions(text)
    return index_terms(f"{title}\n{text}\n{extra}")


def question_terms(question: str) -> list[str]:
    extra = abbreviation_expansions(question)
    return query_terms(f"{question} {extra}" if extra else question)


class Postings:
    """Term frequencies of one segment's passages: for local term id t, the passages
    `passages[indptr[t]:indptr[t+1]]` hold it `tf[...]` times; `lengths[p]`: terms in p."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, passages: np.ndarray,
                 tf: np.ndarray, lengths: np.ndarray):
        self.vocab, self.indptr, self.passages, self.tf = vocab, indptr, passages, tf
        self.lengths = lengths

    @classmethod
    def build(cls, terms: Iterable[list[str]]) -> Postings:
        """From each passage's terms. Terms become ids as they come, so a generator keeps only
        counts in memory, never the strings of the whole corpus."""
        vocab: dict[str, int] = {}
        rows: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths: list[int] = []
        for chunk_terms in terms:
            chunk_terms = chunk_terms or [EMPTY]
            c = Counter(vocab.setdefault(t, len(vocab)) for t in chunk_terms)
            rows.append(np.fromiter(c.keys(), np.int64, len(c)))
            counts.append(np.fromiter(c.values(), np.float32, len(c)))
            lengths.append(len(chunk_terms))
        if not rows:
            return cls({}, np.zeros(1, np.int64), np.zeros(0, np.int32),
                       np.zeros(0, np.float32), np.zeros(0, np.int32))
        term_ids = np.concatenate(rows)
        owner = np.repeat(np.arange(len(rows), dtype=np.int32), [len(r) for r in rows])
        order = np.argsort(term_ids, kind="stable")  # by term, passages ascending within one
        indptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=indptr[1:])
        return cls(vocab, indptr, owner[order], np.concatenate(counts)[order],
                   np.asarray(lengths, np.int32))

    @property
    def size(self) -> int:
        return len(self.lengths)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        tid = self.vocab.get(term)
        if tid is None:
            return None
        a, b = self.indptr[tid], self.indptr[tid + 1]
        return self.passages[a:b], self.tf[a:b]

    def df(self, term: str) -> int:
        tid = self.vocab.get(term)
        return 0 if tid is None else int(self.indptr[tid + 1] - self.indptr[tid])

    def keep(self, passages: np.ndarray) -> Postings:
        """The postings of the passages `passages` (sorted local ids) only, renumbered 0..n-1."""
        new_id = np.full(self.size, -1, np.int64)
        new_id[passages] = np.arange(len(passages))
        kept = new_id[self.passages] >= 0
        term_of = np.repeat(np.arange(len(self.vocab)), np.diff(self.indptr))[kept]
        used = np.unique(term_of)
        remap = np.full(len(self.vocab), -1, np.int64)
        remap[used] = np.arange(len(used))
        names = list(self.vocab)
        indptr = np.zeros(len(used) + 1, np.int64)
        np.cumsum(np.bincount(remap[term_of], minlength=len(used)), out=indptr[1:])
        return Postings({names[t]: i for i, t in enumerate(used.tolist())}, indptr,
                        new_id[self.passages[kept]].astype(np.int32), self.tf[kept],
                        self.lengths[passages])

    @classmethod
    def concat(cls, parts: Sequence[Postings]) -> Postings:
        """The postings of `parts` one after the other (passages renumbered in that order)."""
        vocab: dict[str, int] = {}
        terms, rows, tfs = [], [], []
        offset = 0
        for part in parts:
            remap = np.fromiter((vocab.setdefault(t, len(vocab)) for t in part.vocab),
                                np.int64, len(part.vocab))
            terms.append(np.repeat(remap, np.diff(part.indptr)))
            rows.append(part.passages.astype(np.int64) + offset)
            tfs.append(part.tf)
            offset += part.size
        if not vocab:
            return cls.build([[] for _ in range(offset)]) if offset else cls.build([])
        term_ids = np.concatenate(terms)
        order = np.lexsort((np.concatenate(rows), term_ids))  # by term, then by passage
        indptr = np.zeros(len(vocab) + 1, np.int64)
        np.cumsum(np.bincount(term_ids, minlength=len(vocab)), out=indptr[1:])
        return cls(vocab, indptr, np.concatenate(rows)[order].astype(np.int32),
                   np.concatenate(tfs)[order], np.concatenate([p.lengths for p in parts]))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "terms.json").write_text(json.dumps(list(self.vocab), ensure_ascii=False),
                                           encoding="utf-8")
        with open(folder / "postings.npz", "wb") as f:
            np.savez(f, indptr=self.indptr, passages=self.passages, tf=self.tf,
                     lengths=self.lengths)

    @classmethod
    def load(cls, folder: Path) -> Postings:
        names = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        with np.load(folder / "postings.npz") as data:
            parts = {k: data[k] for k in ("indptr", "passages", "tf", "lengths")}
        if (len(parts["indptr"]) != len(names) + 1 or len(parts["passages"]) != len(parts["tf"])
                or int(parts["indptr"][-1]) != len(parts["tf"])
                or (len(parts["passages"]) and int(parts["passages"].max()) >= len(parts["lengths"]))):
            raise ValueError(f"the postings in {folder} do not fit together")
        return cls({t: i for i, t in enumerate(names)}, **parts)


class LexicalIndex:
    """BM25 over the passages of several `Postings`, in order (global passage i is passage
    i - offset of the part holding it)."""

    def __init__(self, parts: Sequence[Postings], k1: float = 1.2, b: float = 0.75):
        self.parts = list(parts)
        self.k1, self.b = k1, b
        sizes = [p.size for p in self.parts]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        lengths = (np.concatenate([p.lengths for p in self.parts]).astype(np.float64)
                   if self.size else np.ones(1))
        # bm25s scores an empty corpus as one empty passage
        self._n = max(self.size, 1)
        avg = float(lengths.mean())
        self._norm = (k1 * (1 - b + b * lengths / avg)).astype(np.float32)

    @classmethod
    def build(cls, terms: Iterable[list[str]], k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """BM25 over each chunk's terms, as one part."""
        return cls([Postings.build(terms)], k1, b)

    def df(self, term: str) -> int:
        return sum(p.df(term) for p in self.parts)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (a term never seen weighs the most)."""
        return self._idf(self.df(term))

    def _idf(self, df: int) -> float:
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every passage (zeros when no term is known); a term repeated in the
        question counts again, as in bm25s."""
        out = np.zeros(self.size, dtype=np.float32)
        idf: dict[str, float] = {}
        for term in terms:
            if term not in idf:
                df = self.df(term)
                idf[term] = 0.0 if df == 0 else self._idf(df)
            if idf[term] == 0.0:
                continue
            weight = np.float32(idf[term])
            for part, offset in zip(self.parts, self.offsets.tolist()):
                found = part.postings(term)
                if found is None:
                    continue
                rows = found[0] + offset
                out[rows] += weight * (found[1] / (found[1] + self._norm[rows]))
        return out

    def containing(self, terms: list[str]) -> np.ndarray:
        """Passages that hold every one of `terms` (sorted ids; empty if one is unknown)."""
        hits = []
        unique = list(dict.fromkeys(terms))
        for part, offset in zip(self.parts, self.offsets.tolist()):
            found = None
            for term in unique:
                got = part.postings(term)
                if got is None:
                    found = np.zeros(0, np.int64)
                    break
                docs = got[0].astype(np.int64)
                found = docs if found is None else np.intersect1d(found, docs,
                                                                  assume_unique=True)
            if found is not None and len(found):
                hits.append(found + offset)
        return np.sort(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.int64)
