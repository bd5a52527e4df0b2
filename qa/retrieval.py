"""Hybrid retrieval: max-normalized BM25 plus a model-dependent multiple of the cosine.

Why not reciprocal rank fusion: with an English model that is weak on Vietnamese, RRF lets
the dense ranking drag good BM25 hits down (measured on XQuAD-vi: 92% → 67% paragraph hit@1).
Adding `w · cosine` to BM25 scaled to [0, 1] keeps BM25's order wherever the dense model is
unsure, while a stronger configured model (larger `w` in its registry entry) pulls its weight.

A passage whose article was just added may have no vectors yet (`SearchIndex.ready`). Its
cosine is then estimated from where it stands by its words: between the typical cosine of the
candidates (a passage no word of the question finds) and the best one (the passage BM25 ranks
first), so that with a cosine-heavy weight it is neither buried nor put above what is truly
better. Every passage returned carries its calibrated relevance (qa/relevance.py).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from embeddings import Embedder
from qa.index import SearchIndex
from qa.lexical import question_terms
from qa.reader.question import qualified_names
from qa.relevance import calibration, features
from qa.text import is_accented_query, query_terms
from qa.types import Passage

MODES = ("hybrid", "bm25", "dense")
# Added to a candidate passage that names what the question names, with its body or level
# ("Thành ủy Lai Châu"): chosen on dev (docs/benchmarks.md).
NAME_BONUS = 0.2


def top_ids(scores: np.ndarray, m: int) -> np.ndarray:
    """Positions of the `m` highest scores, best first (ties by position): a partial sort, as
    a full one costs milliseconds a query at 100,000 passages."""
    m = min(m, len(scores))
    if m <= 0:
        return np.zeros(0, dtype=np.int64)
    if m < len(scores):  # the m-th best score; ties at it go to the earliest positions
        cut = scores[np.argpartition(-scores, m - 1)[m - 1]]
        above = np.flatnonzero(scores > cut)
        part = np.concatenate([above, np.flatnonzero(scores == cut)[: m - len(above)]])
    else:
        part = np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]


class Retriever(Protocol):
    def search(self, query: str, k: int = 5) -> list[Passage]: ...


class HybridRetriever:
    def __init__(self, index: SearchIndex, embedder: Embedder, *, mode: str = "hybrid",
                 dense_weight: float | None = None, candidates: int = 100,
                 name_bonus: float = NAME_BONUS):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.index = index
        self.embedder = embedder
        self.mode = mode
        spec = embedder.spec
        self.dense_weight = spec.dense_weight if dense_weight is None else dense_weight
        unaccented = getattr(spec, "dense_weight_unaccented", None)
        self.dense_weight_unaccented = (
            dense_weight if dense_weight is not None  # an explicit weight is for every question
            else spec.dense_weight if unaccented is None else unaccented)
        self.candidates = candidates
        self.name_bonus = name_bonus

    def search(self, query: str, k: int = 5) -> list[Passage]:
        return [p for p, _ in self.search_with_features(query, k)]

    def search_with_features(self, query: str, k: int = 5) -> list[tuple[Passage, dict]]:
        """The passages, each with the features its relevance was estimated from (what
        bench/fit_relevance.py fits on)."""
        n = len(self.index.chunks)
        if n == 0 or k <= 0:
            return []
        terms = question_terms(query)
        lexical = self.index.lexical.scores(terms)  # in every mode: relevance reads it too
        dense = self._dense(query, lexical) if self.mode != "bm25" else {}
        top = lexical.max(initial=0.0)
        norm = lexical / top if top > 0 else lexical
        estimated: dict[int, float] = {}
        if self.mode == "bm25":
            fused = {int(i): float(norm[i]) for i in top_ids(norm, k) if norm[i] > 0}
        elif self.mode == "dense":
            fused = dict(dense)
        else:
            ids = set(dense) | set(top_ids(norm, self.candidates).tolist())
            estimated = self._estimate(ids, dense, norm)
            w = self.weight_for(query)
            fused = {i: float(norm[i]) + w * dense.get(i, estimated.get(i, 0.0)) for i in ids}
        if self.name_bonus and self.mode == "hybrid":
            for i in self._naming(query) & set(fused):
                fused[i] += self.name_bonus
        best = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        cal = calibration(getattr(self.embedder, "name", None))
        most = sum(self.index.lexical.idf(t) for t in terms)
        best_cos = max(dense.values(), default=None)
        out = []
        for rank, (i, score) in enumerate(best):
            cos = dense.get(i)
            x = features(rank, float(lexical[i]), float(top), most, cos,
                         best_cos if cos is not None else None)
            used = float(lexical[i]) if self.mode != "dense" else 0.0  # what the fusion used
            out.append((self._passage(i, score, used,
                                      cos if cos is not None else estimated.get(i, 0.0),
                                      cal.probability(x) if cal else None, i in estimated), x))
        return out

    def weight_for(self, query: str) -> float:
        """The cosine's weight for this question: lower for one typed without diacritics
        (embeddings/models.py)."""
        return self.dense_weight if is_accented_query(query) else self.dense_weight_unaccented

    @staticmethod
    def _estimate(ids, dense: dict[int, float], norm: np.ndarray) -> dict[int, float]:
        """Cosines for the candidates without vectors, from their standing by BM25 (see the
        module's docstring): the median candidate cosine at 0, the best one at 1."""
        missing = [i for i in ids if i not in dense]
        if not dense:  # nothing has vectors yet (a first build): BM25 alone decides
            return dict.fromkeys(missing, 0.0)
        cos = np.fromiter(dense.values(), np.float32)
        low, high = float(np.median(cos)), float(cos.max())
        return {i: low + (high - low) * float(norm[i]) for i in missing}

    def _naming(self, query: str) -> set[int]:
        """Passages that hold every syllable pair of a name the question qualifies ("Thành ủy
        Lai Châu", "phường Kỳ Sơn"): in bigrams "Tỉnh ủy Lai Châu" differs from it by one
        common pair only, so a ranking by BM25 alone can put the other body first."""
        found: set[int] = set()
        for name in qualified_names(query):
            pairs = [t for t in query_terms(name) if "_" in t]
            if pairs:
                found.update(self.index.lexical.containing(pairs).tolist())
        return found

    def _dense(self, query: str, lexical: np.ndarray) -> dict[int, float]:
        """Cosine of each candidate passage (its best embedding window), for the dense top
        windows and for the BM25 top passages."""
        idx = self.index
        q = self.embedder.embed_batch([query], kind="query")
        m = min(2 * self.candidates, len(idx.window_owner))
        scores, ids = idx.dense.search(q, m)
        out: dict[int, float] = {}

        def keep_best(windows, sims) -> None:  # a passage scores its best window's cosine
            for w, s in zip(windows, sims):
                p = int(idx.window_owner[w])
                out[p] = max(out.get(p, -1.0), float(s))

        found = ids[0] >= 0
        keep_best(ids[0][found], scores[0][found])
        if self.mode == "hybrid":
            extra = [i for i in top_ids(lexical, self.candidates).tolist()
                     if i not in out and idx.ready[i]]
            rows = [w for p in extra for w in idx.passage_windows[p]]
            if rows:
                keep_best(rows, idx.window_vectors(rows) @ q[0])
        return out

    def _passage(self, i: int, score: float, lexical: float, dense: float,
                 relevance: float | None, estimated: bool) -> Passage:
        chunk = self.index.chunks[i]
        doc = self.index.docs[chunk.doc_id]
        return Passage(chunk=chunk, score=score, title=doc.title, date=doc.date, url=doc.url,
                       lexical_score=lexical, dense_score=dense, relevance=relevance,
                       dense_estimated=estimated)
