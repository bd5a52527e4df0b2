"""One piece of the search index: some articles, their passages, their embedding windows, the
windows' vectors (not there yet while they are being computed) and the BM25 postings.

A segment is written once and never changed: an index version is a list of segments, so adding
an article writes one small segment and links the others in unchanged (see `qa/index.py`).
A segment whose vectors are pending is already searchable by its words.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from qa.chunking import ChunkingConfig, embedding_text, embedding_windows, passages
from qa.lexical import Postings, passage_terms
from qa.types import Chunk, Document

# Exact search up to this many windows a segment, HNSW above: docs/benchmarks.md, "Scale".
HNSW_FROM = 500_000


def new_name() -> str:
    return f"s-{uuid.uuid4().hex[:10]}"


def make_dense_index(vectors: np.ndarray, kind: str = "flat") -> faiss.Index:
    """Inner product over L2-normalized vectors (= cosine)."""
    dim = vectors.shape[1]
    if kind == "hnsw":  # parameters: docs/benchmarks.md, "FAISS index type"
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
        index.hnsw.efSearch = 2048
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def choose_dense_kind(n_vectors: int, requested: str = "auto", threshold: int = HNSW_FROM) -> str:
    """Exact search up to `threshold` windows (11 ms a query at 162,000 on 2 cores, so about
    35 ms at 500,000), HNSW above. Measured on seeds + vietnews-20k (bench/scale.py): with
    MiniLM's crowded vectors for Vietnamese, HNSW needs efSearch 2048 for recall@10 >= 0.99."""
    if requested != "auto":
        return requested
    return "hnsw" if n_vectors >= threshold else "flat"


@dataclass(frozen=True, eq=False)  # one segment is one object: arrays are not compared
class Segment:
    """`windows[i]` = (passage, start, end): window i of passage `chunks[passage]`, as offsets
    in its article's text; `vectors[i]` its embedding (None: not computed yet)."""

    name: str
    docs: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    windows: np.ndarray
    postings: Postings
    vectors: np.ndarray | None = None
    dense: faiss.Index | None = None
    dense_kind: str = "flat"

    @property
    def pending(self) -> bool:
        return self.vectors is None and len(self.windows) > 0

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self.docs]

    def window_texts(self) -> list[str]:
        """What the model embeds for each window: the article's title, then the window."""
        by_id = {d.doc_id: d for d in self.docs}
        out = []
        for p, start, end in self.windows.tolist():
            doc = by_id[self.chunks[p].doc_id]
            out.append(embedding_text(doc.title, doc.text[start:end]))
        return out

    def with_vectors(self, vectors: np.ndarray, requested: str = "auto") -> Segment:
        """This segment, searchable by meaning too (a new segment: it is saved anew)."""
        kind = choose_dense_kind(len(vectors), requested)
        return replace(self, name=new_name(), vectors=vectors,
                       dense=make_dense_index(vectors, kind), dense_kind=kind)

    def without(self, doc_ids: set[str], requested: str = "auto") -> Segment:
        """A copy without the articles `doc_ids` (their passages, windows and postings)."""
        keep_p = np.array([i for i, c in enumerate(self.chunks) if c.doc_id not in doc_ids],
                          dtype=np.int64)
        new_p = np.full(len(self.chunks), -1, np.int64)
        new_p[keep_p] = np.arange(len(keep_p))
        rows = np.flatnonzero(new_p[self.windows[:, 0]] >= 0) if len(self.windows) else \
            np.zeros(0, np.int64)
        windows = self.windows[rows].copy()
        windows[:, 0] = new_p[windows[:, 0]]
        vectors = None if self.vectors is None else np.asarray(self.vectors[rows])
        kind = choose_dense_kind(len(rows), requested)
        return Segment(new_name(), tuple(d for d in self.docs if d.doc_id not in doc_ids),
                       tuple(self.chunks[i] for i in keep_p.tolist()), windows,
                       self.postings.keep(keep_p), vectors,
                       None if vectors is None else make_dense_index(vectors, kind), kind)

    # --- on disk ------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        with open(folder / "docs.jsonl", "w", encoding="utf-8") as f:
            for d in self.docs:
                f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
        order = {d.doc_id: i for i, d in enumerate(self.docs)}
        rows = [[order[c.doc_id], c.start, c.end] for c in self.chunks]
        (folder / "chunks.json").write_text(json.dumps(rows), encoding="utf-8")
        np.save(folder / "windows.npy", self.windows)
        self.postings.save(folder / "lexical")
        if self.vectors is not None:
            np.save(folder / "vectors.npy", np.asarray(self.vectors, dtype=np.float32))
            if self.dense_kind != "flat":  # a flat index is rebuilt from vectors.npy on load
                faiss.write_index(self.dense, str(folder / "dense.faiss"))

    def meta(self) -> dict:
        return {"name": self.name, "documents": len(self.docs), "passages": len(self.chunks),
                "windows": len(self.windows), "vectors": self.vectors is not None,
                "dense_index": self.dense_kind}

    @classmethod
    def load(cls, folder: Path, meta: dict) -> Segment:
        docs = []
        with open(folder / "docs.jsonl", encoding="utf-8") as f:
            for line in f:
                docs.append(Document(**json.loads(line)))
        rows = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        chunks = tuple(Chunk(docs[i].doc_id, s, e, docs[i].text[s:e]) for i, s, e in rows)
        windows = np.load(folder / "windows.npy")
        postings = Postings.load(folder / "lexical")
        vectors = dense = None
        kind = meta.get("dense_index", "flat")
        if meta.get("vectors"):
            vectors = np.load(folder / "vectors.npy", mmap_mode="r")
            dense = (faiss.read_index(str(folder / "dense.faiss")) if kind != "flat"
                     else make_dense_index(vectors, "flat"))
        segment = cls(meta["name"], tuple(docs), chunks, windows, postings, vectors, dense, kind)
        segment.check()
        return segment

    def check(self) -> None:
        """The parts agree with each other (sizes, ids in range); ValueError where not."""
        n, w = len(self.chunks), len(self.windows)
        if (self.windows.ndim != 2 or self.windows.shape[1] != 3 or self.postings.size != n
                or (w and (self.windows[:, 0].min() < 0 or self.windows[:, 0].max() >= n))):
            raise ValueError(f"segment {self.name}: windows and passages do not match")
        if self.vectors is not None and (len(self.vectors) != w or self.dense.ntotal != w):
            raise ValueError(f"segment {self.name}: vectors and windows do not match")


def make_segment(docs: Sequence[Document], count_tokens: Callable[[str], int],
                 chunking: ChunkingConfig) -> Segment:
    """The articles `docs` as a new segment whose vectors are still to be computed."""
    chunks: list[Chunk] = []
    windows: list[tuple[int, int, int]] = []
    for doc in docs:
        for p in passages(doc, count_tokens, chunking):
            chunks.append(p)
            windows.extend((len(chunks) - 1, w.start, w.end)
                           for w in embedding_windows(doc, p, count_tokens, chunking))
    titles = {d.doc_id: d.title for d in docs}
    postings = Postings.build(passage_terms(titles[c.doc_id], c.text) for c in chunks)
    return Segment(new_name(), tuple(docs), tuple(chunks),
                   np.asarray(windows, dtype=np.int64).reshape(-1, 3), postings)


def merge(segments: Sequence[Segment], requested: str = "auto") -> Segment:
    """One segment holding all of `segments` (all with their vectors), in order."""
    docs = tuple(d for s in segments for d in s.docs)
    chunks = tuple(c for s in segments for c in s.chunks)
    offsets = np.cumsum([0] + [len(s.chunks) for s in segments])
    windows = np.concatenate([s.windows + [o, 0, 0] for s, o in zip(segments, offsets)]) \
        .reshape(-1, 3)
    vectors = np.concatenate([np.asarray(s.vectors) for s in segments])
    postings = Postings.concat([s.postings for s in segments])
    kind = choose_dense_kind(len(vectors), requested)
    return Segment(new_name(), docs, chunks, windows, postings, vectors,
                   make_dense_index(vectors, kind), kind)
