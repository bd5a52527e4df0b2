"""The search index: chunks, their vectors in FAISS and their terms in BM25, saved together.

`build_index` is incremental: a document whose fingerprint is unchanged keeps its chunks and
vectors, so adding, changing or removing one article re-embeds only that article.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import faiss
import numpy as np

from embeddings import Embedder
from qa.checkpoint import EmbeddingCheckpoint, text_key
from qa.chunking import ChunkingConfig, embedding_text, embedding_windows, passages
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.lexical import LEXICAL_VERSION, LexicalIndex, passage_terms
from qa.store import IndexStore
from qa.types import Chunk, Document

log = logging.getLogger(__name__)

FORMAT = 2  # 2: passages with several embedding windows
Progress = Callable[[float, str], None]


def fingerprint(doc: Document) -> str:
    blob = json.dumps([doc.title, doc.text, doc.date, doc.url, doc.summary], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


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


def choose_dense_kind(n_vectors: int, requested: str = "auto", threshold: int = 500_000) -> str:
    """Exact search up to `threshold` windows (11 ms a query at 162,000 on 2 cores, so about
    35 ms at 500,000), HNSW above. Measured on seeds + vietnews-20k (bench/scale.py): with
    MiniLM's crowded vectors for Vietnamese, HNSW needs efSearch 2048 for recall@10 >= 0.99."""
    if requested != "auto":
        return requested
    return "hnsw" if n_vectors >= threshold else "flat"


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_chunks: int = 0  # embedding windows computed (a passage has one or more)
    resumed_chunks: int = 0  # of those, taken from a killed build's checkpoint
    seconds: float = 0.0
    rebuilt_reason: str | None = None


@dataclass
class SearchIndex:
    """Passages (`chunks`: BM25, retrieval, citations) and their embedding windows
    (`vectors` row i, FAISS id i) with `window_owner[i]` = the passage of window i."""

    manifest: dict
    docs: dict[str, Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: faiss.Index
    lexical: LexicalIndex
    window_owner: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self):
        owner = np.asarray(self.window_owner, dtype=np.int64)
        if len(owner) == 0 and len(self.vectors) == len(self.chunks):
            owner = np.arange(len(self.chunks), dtype=np.int64)  # one window a passage
        self.window_owner = owner
        self.passage_windows: list[list[int]] = [[] for _ in self.chunks]
        for w, pi in enumerate(owner.tolist()):
            self.passage_windows[pi].append(w)

    @property
    def folder(self) -> str:
        return self.manifest.get("folder", "")


def expected_manifest(embedder: Embedder, chunking: ChunkingConfig) -> dict:
    return {"format": FORMAT, "model": embedder.name,
            "precision": getattr(embedder, "precision", "float32"),
            "chunking": chunking.as_dict(), "lexical": LEXICAL_VERSION}


def mismatch(manifest: dict, expected: dict) -> list[str]:
    """Human-readable differences that make an index on disk unusable with these settings."""
    return [f"{key}: index has {manifest.get(key)!r}, settings want {value!r}"
            for key, value in expected.items() if manifest.get(key) != value]


def load_index(store: IndexStore, expected: dict | None = None, deep: bool = False) -> SearchIndex:
    manifest = store.read_manifest()
    folder = store.current()
    if expected is not None and (diff := mismatch(manifest, expected)):
        raise IndexMismatchError(
            f"The index at {store.root} was built with other settings ({'; '.join(diff)}). "
            f"Rebuild it: `qa index --rebuild --index-dir {store.root} CORPUS`"
            + (" (or use the model it was built with: --model "
               f"{manifest.get('model')})." if manifest.get("model") != expected.get("model")
               else ".")
        )
    store.verify(folder, manifest, deep=deep)
    try:
        docs = {}
        with open(folder / "docs.jsonl", encoding="utf-8") as f:
            for line in f:
                d = Document(**json.loads(line))
                docs[d.doc_id] = d
        order = list(docs)
        rows = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        chunks = [Chunk(order[i], s, e, docs[order[i]].text[s:e]) for i, s, e in rows]
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        owner = np.load(folder / "windows.npy")
        if "dense.faiss" in manifest.get("files", {}) or manifest.get("dense_index") != "flat":
            dense = faiss.read_index(str(folder / "dense.faiss"))
        else:  # exact search needs nothing but the vectors: not kept twice on disk
            dense = make_dense_index(vectors, "flat")
        lexical = LexicalIndex.load(folder / "bm25", len(chunks))
    except Exception as e:  # any damage reads as one message with the way out
        raise IndexCorruptError(
            f"The index at {store.root} cannot be read ({type(e).__name__}: {e}). "
            f"Rebuild it: `qa index --rebuild --index-dir {store.root} CORPUS`."
        ) from e
    if (len(vectors) != len(owner) or dense.ntotal != len(owner)
            or (len(owner) and (owner.min() < 0 or owner.max() >= len(chunks)))):
        raise IndexCorruptError(f"The index at {store.root} is inconsistent; rebuild it with "
                                f"`qa index --rebuild --index-dir {store.root} CORPUS`.")
    manifest["folder"] = str(folder)
    return SearchIndex(manifest, docs, chunks, vectors, dense, lexical, owner)


def _previous(store: IndexStore, expected: dict, rebuild: bool) -> tuple[SearchIndex | None, str | None]:
    if rebuild:
        return None, "asked to rebuild"
    if not store.exists():
        return None, None
    try:  # deep: a damaged vector would otherwise be copied into every later version
        return load_index(store, expected, deep=True), None
    except (IndexMismatchError, IndexCorruptError) as e:
        log.warning("rebuilding the index from scratch: %s", e)
        return None, str(e)


def build_index(docs: Sequence[Document], store: IndexStore, embedder: Embedder,
                chunking: ChunkingConfig | None = None, *, rebuild: bool = False,
                dense_kind: str = "auto", progress: Progress | None = None,
                batch_size: int = 64,
                checkpoint_every_s: float = 30.0) -> tuple[SearchIndex, BuildReport]:
    """Bring the index at `store` up to date with `docs` (the whole corpus) and save it."""
    started = time.perf_counter()
    chunking = ChunkingConfig(max_tokens=embedder.max_tokens) if chunking is None else chunking
    expected = expected_manifest(embedder, chunking)
    prev, reason = _previous(store, expected, rebuild)
    report = BuildReport(documents=len(docs), rebuilt_reason=reason)
    prev_fp = prev.manifest.get("documents", {}) if prev else {}
    prev_rows: dict[str, list[int]] = {}
    if prev:
        for i, c in enumerate(prev.chunks):
            prev_rows.setdefault(c.doc_id, []).append(i)

    chunks: list[Chunk] = []  # passages
    owner: list[int] = []  # window -> passage
    vectors: list[np.ndarray | None] = []  # one per window
    pending: list[tuple[int, str]] = []  # (window row, text to embed)
    fps: dict[str, str] = {}
    for doc in docs:
        fp = fps[doc.doc_id] = fingerprint(doc)
        if prev and prev_fp.get(doc.doc_id) == fp:
            report.unchanged += 1
            for i in prev_rows.get(doc.doc_id, []):
                chunks.append(prev.chunks[i])
                for w in prev.passage_windows[i]:
                    owner.append(len(chunks) - 1)
                    vectors.append(prev.vectors[w])
            continue
        (report.changed if doc.doc_id in prev_fp else report.added).append(doc.doc_id)
        for p in passages(doc, embedder.count_tokens, chunking):
            chunks.append(p)
            for w in embedding_windows(doc, p, embedder.count_tokens, chunking):
                owner.append(len(chunks) - 1)
                pending.append((len(vectors), embedding_text(doc.title, w.text)))
                vectors.append(None)
    report.removed = sorted(set(prev_fp) - set(fps))

    by_id = {d.doc_id: d for d in docs}
    report.embedded_chunks = len(pending)
    checkpoint = EmbeddingCheckpoint(store.root, expected, every_s=checkpoint_every_s)
    if pending:  # what a killed build already embedded is not embedded again
        saved = checkpoint.load()
        todo = []
        for row, text in pending:
            if (v := saved.get(text_key(text))) is not None and len(v) == embedder.dimension:
                vectors[row] = v
            else:
                todo.append((row, text))
        report.resumed_chunks = len(pending) - len(todo)
        pending = todo
    # longest first: batches of like lengths waste little on padding (3x faster than document
    # order on vietnews); the longest batch comes first, so memory peaks at once
    pending.sort(key=lambda item: -len(item[1]))
    for n in range(0, len(pending), batch_size):
        batch = pending[n:n + batch_size]
        embedded = embedder.embed_batch([t for _, t in batch], kind="passage")
        for (row, _), v in zip(batch, embedded):
            vectors[row] = v
        checkpoint.add([t for _, t in batch], embedded)
        if progress:
            done = report.resumed_chunks + min(n + batch_size, len(pending))
            progress(0.9 * done / max(report.embedded_chunks, 1),
                     f"embedded {done}/{report.embedded_chunks} chunks")
    checkpoint.flush()  # the BM25 build or the save may still be killed

    matrix = (np.vstack(vectors).astype(np.float32) if vectors
              else np.zeros((0, embedder.dimension), np.float32))
    if progress:
        progress(0.92, "building BM25")
    lexical = LexicalIndex.build(passage_terms(by_id[c.doc_id].title, c.text) for c in chunks)
    kind = choose_dense_kind(len(matrix), dense_kind)
    dense = make_dense_index(matrix, kind)
    manifest = {**expected, "dimension": int(matrix.shape[1]), "dense_index": kind,
                "documents": fps, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "counts": {"documents": len(docs), "chunks": len(chunks), "windows": len(owner)}}
    owner_arr = np.asarray(owner, dtype=np.int64)

    doc_order = {d.doc_id: i for i, d in enumerate(docs)}

    def fill(tmp: Path) -> dict:
        with open(tmp / "docs.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(asdict(d), ensure_ascii=False) + "\n")
        rows = [[doc_order[c.doc_id], c.start, c.end] for c in chunks]
        (tmp / "chunks.json").write_text(json.dumps(rows), encoding="utf-8")
        np.save(tmp / "vectors.npy", matrix)
        np.save(tmp / "windows.npy", owner_arr)
        if kind != "flat":  # a flat index is rebuilt from vectors.npy on load
            faiss.write_index(dense, str(tmp / "dense.faiss"))
        lexical.save(tmp / "bm25")
        return manifest

    if progress:
        progress(0.96, "saving the index")
    folder = store.write(fill)
    checkpoint.clear()
    manifest["folder"] = str(folder)
    report.chunks = len(chunks)
    report.seconds = time.perf_counter() - started
    if progress:
        progress(1.0, "index ready")
    return SearchIndex(manifest, by_id, chunks, matrix, dense, lexical, owner_arr), report
