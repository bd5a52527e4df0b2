"""The search index as the rest of the system sees it: the passages of all segments numbered
in order, their BM25 over all segments' postings, their vectors searched as one FAISS index
(the segments that have vectors), and which passages are still waiting for theirs.

Built by `qa/index.py` (`build_index`, `load_index`); segments are `qa/segment.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.lexical import LexicalIndex, Postings
from qa.segment import Segment
from qa.types import Chunk, Document


class DenseView:
    """The FAISS indexes of the segments with vectors, searched as one (global window ids)."""

    def __init__(self, parts: Sequence[tuple[object, int]], dimension: int):
        self.parts = list(parts)  # (faiss index, first global window id)
        self.d = dimension

    @property
    def ntotal(self) -> int:
        return sum(index.ntotal for index, _ in self.parts)

    def search(self, q: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        found = []
        for index, offset in self.parts:
            if index.ntotal:
                s, i = index.search(q, min(m, index.ntotal))
                found.append((s, np.where(i >= 0, i + offset, -1)))
        if not found:
            return np.full((len(q), m), -np.inf, np.float32), np.full((len(q), m), -1, np.int64)
        scores = np.concatenate([s for s, _ in found], axis=1)
        ids = np.concatenate([i for _, i in found], axis=1)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :m]
        scores, ids = np.take_along_axis(scores, order, 1), np.take_along_axis(ids, order, 1)
        if scores.shape[1] < m:  # fewer windows than asked for: padded as FAISS pads
            pad = m - scores.shape[1]
            scores = np.pad(scores, ((0, 0), (0, pad)), constant_values=-np.inf)
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)
        return scores, ids

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        rows = np.concatenate([index.reconstruct_n(0, index.ntotal) for index, _ in self.parts]) \
            if self.parts else np.zeros((0, self.d), np.float32)
        return rows[start:start + n]


class SearchIndex:
    """Passages (`chunks`: BM25, retrieval, citations) and their embedding windows, numbered
    across segments in order: window w belongs to passage `window_owner[w]`; a passage of a
    segment whose vectors are pending has windows but no vectors yet (`ready[i]` False)."""

    def __init__(self, manifest: dict, docs: dict[str, Document] | None = None,
                 chunks: Sequence[Chunk] | None = None, vectors: np.ndarray | None = None,
                 dense=None, lexical: LexicalIndex | None = None,
                 window_owner: np.ndarray | None = None, *,
                 segments: Sequence[Segment] | None = None):
        """From `segments`; or, as before segments, from one set of docs, passages, vectors
        (one window a passage unless `window_owner` says otherwise), FAISS index and BM25."""
        if segments is None:
            segments = [_one_segment(docs or {}, list(chunks or ()), vectors, dense, lexical,
                                     window_owner)]
        self.manifest = manifest
        self.segments = list(segments)
        self.docs: dict[str, Document] = {d.doc_id: d for s in self.segments for d in s.docs}
        self.chunks = [c for s in self.segments for c in s.chunks]
        owners, ready, dense, self._rows = [], [], [], []
        p_off = w_off = 0
        for s in self.segments:
            owners.append(s.windows[:, 0] + p_off)
            ready.append(np.full(len(s.chunks), s.vectors is not None))
            if s.vectors is not None:
                dense.append((s.dense, w_off))
                self._rows.append((w_off, w_off + len(s.windows), s))
            p_off, w_off = p_off + len(s.chunks), w_off + len(s.windows)
        self.window_owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
        self.ready = np.concatenate(ready) if ready else np.zeros(0, bool)
        self.passage_windows: list[list[int]] = [[] for _ in self.chunks]
        for w, p in enumerate(self.window_owner.tolist()):
            self.passage_windows[p].append(w)
        self.dense = DenseView(dense, int(manifest.get("dimension", 0)))
        self.lexical = LexicalIndex([s.postings for s in self.segments])

    @property
    def folder(self) -> str:
        return self.manifest.get("folder", "")

    def window_vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The vectors of windows `rows` (each of a segment with vectors)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), self.dense.d), np.float32)
        found = np.zeros(len(rows), bool)
        for start, end, s in self._rows:
            mine = (rows >= start) & (rows < end)
            if mine.any():
                out[mine] = np.asarray(s.vectors[rows[mine] - start])
                found |= mine
        if not found.all():
            raise IndexError(f"windows {rows[~found].tolist()} have no vectors yet")
        return out

    @property
    def vectors(self) -> np.ndarray:
        """Every window's vector in window order (zeros where pending); one segment's own
        array when there is one segment."""
        if len(self.segments) == 1 and self.segments[0].vectors is not None:
            return self.segments[0].vectors
        parts = [np.asarray(s.vectors) if s.vectors is not None
                 else np.zeros((len(s.windows), self.dense.d), np.float32) for s in self.segments]
        return np.concatenate(parts) if parts else np.zeros((0, self.dense.d), np.float32)

    def pending_docs(self) -> list[str]:
        """Articles searchable by their words only, their vectors still to come."""
        return [d for s in self.segments if s.pending for d in s.doc_ids]


def _one_segment(docs: dict[str, Document], chunks: list[Chunk], vectors, dense, lexical,
                 window_owner) -> Segment:
    owner = (np.arange(len(chunks)) if window_owner is None or not len(window_owner)
             else np.asarray(window_owner, np.int64))
    windows = np.array([[p, chunks[p].start, chunks[p].end] for p in owner.tolist()],
                       np.int64).reshape(-1, 3)
    postings = lexical.parts[0] if lexical is not None and len(lexical.parts) == 1 else \
        Postings.build([[]] * len(chunks)) if chunks else Postings.build([])
    return Segment("s-memory", tuple(docs.values()), tuple(chunks), windows, postings,
                   vectors, dense)
