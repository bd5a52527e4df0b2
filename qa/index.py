"""The search index: segments of passages, with their vectors in FAISS and their terms in
BM25, saved together as one version (see `qa/segment.py`, `qa/store.py`).

`build_index` is incremental: an article whose fingerprint is unchanged stays in its segment,
which the new version links in without rewriting, rehashing or rebuilding anything; new and
changed articles make one new segment, so adding one article embeds and indexes that article
only. With nothing changed nothing is written. The build can publish a version whose new
segment is searchable by its words before its vectors are computed (`on_lexical`), then
fill them in; a build stopped half-way (`stop`) leaves that version, and the next build embeds
what is left (from the checkpoint of what was already embedded).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings import Embedder
from qa.checkpoint import EmbeddingCheckpoint, text_key
from qa.chunking import ChunkingConfig
from qa.errors import IndexCorruptError, IndexMismatchError
from qa.lexical import LEXICAL_VERSION
from qa.search_index import DenseView, SearchIndex
from qa.segment import Segment, choose_dense_kind, make_dense_index, make_segment, merge
from qa.store import IndexStore
from qa.types import Document

__all__ = ["BuildReport", "DenseView", "SearchIndex", "build_index", "choose_dense_kind",
           "expected_manifest", "fingerprint", "load_index", "make_dense_index", "mismatch"]

log = logging.getLogger(__name__)

FORMAT = 3  # 3: segments (2: one folder of passages with several embedding windows)
MAX_SEGMENTS = 8  # more, and the small ones are merged (no embedding, no tokenizing)
SMALL_SEGMENT = 50_000  # windows: a segment this small is merged freely
Progress = Callable[[float, str], None]
# How the progress messages of each stage begin (qa/progress.py reads them).
STAGE_WORDS, STAGE_VECTORS, STAGE_SAVE = "chunking and building BM25", "embedded", "saving"


def fingerprint(doc: Document) -> str:
    blob = json.dumps([doc.title, doc.text, doc.date, doc.url, doc.summary], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


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
    written: int = 0  # versions published (0: nothing changed; 2: words first, then vectors)
    stopped: bool = False  # asked to stop: vectors are left to compute


def expected_manifest(embedder: Embedder, chunking: ChunkingConfig) -> dict:
    return {"format": FORMAT, "model": embedder.name,
            "precision": getattr(embedder, "precision", "float32"),
            "chunking": chunking.as_dict(), "lexical": LEXICAL_VERSION}


def mismatch(manifest: dict, expected: dict) -> list[str]:
    """Human-readable differences that make an index on disk unusable with these settings."""
    return [f"{key}: index has {manifest.get(key)!r}, settings want {value!r}"
            for key, value in expected.items() if manifest.get(key) != value]


class _Loaded:
    """Segments this process already holds, by (index root, name): a version that links a
    segment in unchanged gets the same object, not a second copy read from disk, and its files
    are not hashed again (they were when written or first verified)."""

    def __init__(self):
        self._held: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._verified: set[tuple[str, str]] = set()

    def get(self, root: Path, name: str) -> Segment | None:
        return self._held.get((str(root), name))

    def put(self, root: Path, segment: Segment, verified: bool) -> None:
        self._held[(str(root), segment.name)] = segment
        if verified:
            self._verified.add((str(root), segment.name))

    def verified(self, root: Path, name: str) -> bool:
        return (str(root), name) in self._verified and self.get(root, name) is not None


LOADED = _Loaded()


def _corrupt(store: IndexStore, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"The index at {store.root} {what}. Rebuild it: "
                             f"`qa index --rebuild --index-dir {store.root} CORPUS`.")


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
    metas = manifest.get("segments")
    if not isinstance(metas, list) or not all(isinstance(m, dict) and "name" in m for m in metas):
        raise _corrupt(store, "has no readable list of segments in its manifest")
    store.verify(folder, manifest)  # sizes: cheap, and it finds a truncated file
    if deep:
        trusted = {m["name"] for m in metas if LOADED.verified(store.root, m["name"])}
        store.verify(folder, {"files": {k: v for k, v in manifest["files"].items()
                                        if k.split("/")[0] not in trusted}}, deep=True)
    segments = []
    for meta in metas:
        held = LOADED.get(store.root, meta["name"])
        if held is None:
            try:
                held = Segment.load(folder / meta["name"], meta)
            except Exception as e:  # any damage reads as one message with the way out
                raise _corrupt(store, f"cannot be read ({type(e).__name__}: {e})") from e
        LOADED.put(store.root, held, verified=deep or LOADED.verified(store.root, meta["name"]))
        segments.append(held)
    manifest["folder"] = str(folder)
    return SearchIndex(manifest, segments=segments)


def _previous(store: IndexStore, expected: dict,
              rebuild: bool) -> tuple[SearchIndex | None, str | None]:
    if rebuild:
        return None, "asked to rebuild"
    try:
        current = store.current() if store.exists() else None
    except IndexCorruptError as e:
        return None, str(e)
    if current is None:
        return None, None
    try:  # deep: a damaged vector would otherwise be linked into every later version; the
        # segments this process holds already are neither read nor hashed again
        return load_index(store, expected, deep=True), None
    except (IndexMismatchError, IndexCorruptError) as e:
        log.warning("rebuilding the index from scratch: %s", e)
        return None, str(e)


def build_index(docs: Sequence[Document], store: IndexStore, embedder: Embedder,
                chunking: ChunkingConfig | None = None, *, rebuild: bool = False,
                dense_kind: str = "auto", progress: Progress | None = None,
                batch_size: int = 64, checkpoint_every_s: float = 30.0,
                on_lexical: Callable[[SearchIndex], None] | None = None,
                stop: Callable[[], bool] | None = None) -> tuple[SearchIndex, BuildReport]:
    """Bring the index at `store` up to date with `docs` (the whole corpus) and save it.

    `on_lexical(index)`: called with a published version in which the new articles are
    searchable by their words, before their vectors are computed. `stop()`: checked between
    embedding batches; when true, the build returns that version with vectors still pending.
    """
    started = time.perf_counter()
    chunking = ChunkingConfig(max_tokens=embedder.max_tokens) if chunking is None else chunking
    expected = expected_manifest(embedder, chunking)
    prev, reason = _previous(store, expected, rebuild)
    report = BuildReport(documents=len(docs), rebuilt_reason=reason)
    prev_fp = prev.manifest.get("documents", {}) if prev else {}
    fps = {d.doc_id: fingerprint(d) for d in docs}
    fresh = [d for d in docs if prev_fp.get(d.doc_id) != fps[d.doc_id]]
    for d in fresh:
        (report.changed if d.doc_id in prev_fp else report.added).append(d.doc_id)
    report.removed = sorted(set(prev_fp) - set(fps))
    report.unchanged = len(docs) - len(fresh)
    gone = set(report.removed) | set(report.changed)

    segments: list[Segment] = []
    for s in prev.segments if prev else ():
        drop = gone & set(s.doc_ids)
        if not drop:
            segments.append(s)  # linked into the new version as it is
        elif len(drop) < len(s.docs):
            segments.append(s.without(drop, dense_kind))
    if fresh:
        if progress:
            progress(0.0, f"{STAGE_WORDS} for {len(fresh)} articles")
        segments.append(make_segment(fresh, embedder.count_tokens, chunking))
    manifest = {**expected, "dimension": embedder.dimension}

    if prev is not None and not fresh and not gone and not any(s.pending for s in segments):
        # nothing to write; what killed builds left is of no use any more
        store.sweep(keep=Path(prev.folder))
        EmbeddingCheckpoint(store.root, expected).clear()
        report.chunks, report.seconds = len(prev.chunks), time.perf_counter() - started
        if progress:
            progress(1.0, "index ready (nothing changed)")
        return prev, report

    latest = [prev]  # the live version: the segments it holds are linked from it

    def publish(parts: list[Segment]) -> SearchIndex:
        latest[0] = _write(store, manifest, parts, fps, latest[0])
        report.written += 1
        return latest[0]

    todo = [(k, row, text) for k, s in enumerate(segments) if s.pending
            for row, text in enumerate(s.window_texts())]
    report.embedded_chunks = len(todo)
    index = None  # the version published with the vectors still to come
    if todo and on_lexical is not None:
        # (a build that only finishes the vectors of a stopped one has nothing new to publish)
        index = publish(segments) if fresh or gone or prev is None else prev
        on_lexical(index)
    vectors = {k: np.zeros((len(s.windows), embedder.dimension), np.float32)
               for k, s in enumerate(segments) if s.pending}
    checkpoint = EmbeddingCheckpoint(store.root, expected, every_s=checkpoint_every_s)
    if todo:  # what a killed or stopped build already embedded is not embedded again
        saved = checkpoint.load()
        left = []
        for k, row, text in todo:
            if (v := saved.get(text_key(text))) is not None and len(v) == embedder.dimension:
                vectors[k][row] = v
            else:
                left.append((k, row, text))
        report.resumed_chunks = len(todo) - len(left)
        todo = left
    # longest first: batches of like lengths waste little on padding (3x faster than document
    # order on vietnews); the longest batch comes first, so memory peaks at once
    todo.sort(key=lambda item: -len(item[2]))
    if progress and todo:
        progress(0.9 * report.resumed_chunks / report.embedded_chunks,
                 f"{STAGE_VECTORS} {report.resumed_chunks}/{report.embedded_chunks} chunks")
    for n in range(0, len(todo), batch_size):
        if stop is not None and stop():
            checkpoint.flush()
            report.stopped = True
            index = index if index is not None else publish(segments)
            report.chunks, report.seconds = len(index.chunks), time.perf_counter() - started
            return index, report
        batch = todo[n:n + batch_size]
        embedded = embedder.embed_batch([t for _, _, t in batch], kind="passage")
        for (k, row, _), v in zip(batch, embedded):
            vectors[k][row] = v
        checkpoint.add([t for _, _, t in batch], embedded)
        if progress:
            done = report.resumed_chunks + min(n + batch_size, len(todo))
            progress(0.9 * done / max(report.embedded_chunks, 1),
                     f"{STAGE_VECTORS} {done}/{report.embedded_chunks} chunks")
    checkpoint.flush()  # the save may still be killed
    segments = [s.with_vectors(vectors[k], dense_kind) if s.pending else s
                for k, s in enumerate(segments)]
    segments = _compact(segments, dense_kind)
    if progress:
        progress(0.96, f"{STAGE_SAVE} the index")
    index = publish(segments)
    checkpoint.clear()
    report.chunks, report.seconds = len(index.chunks), time.perf_counter() - started
    if progress:
        progress(1.0, "index ready")
    return index, report


def _compact(segments: list[Segment], dense_kind: str) -> list[Segment]:
    """At most MAX_SEGMENTS: the small ones (all with vectors) merged into one, in order."""
    small = [s for s in segments if len(s.windows) < SMALL_SEGMENT and not s.pending]
    if len(segments) <= MAX_SEGMENTS or len(small) < 2:
        return segments
    merged = merge(small, dense_kind)
    return [s for s in segments if s not in small] + [merged]


def _write(store: IndexStore, manifest: dict, segments: list[Segment], fps: dict[str, str],
           prev: SearchIndex | None) -> SearchIndex:
    """Publish a version of `segments`: the ones the current version holds are linked in
    (their recorded sizes and digests kept), the others saved."""
    held = {s.name for s in prev.segments} if prev else set()
    old_folder = Path(prev.folder) if prev else None
    old_files = prev.manifest.get("files", {}) if prev else {}
    kinds = sorted({s.dense_kind for s in segments if s.vectors is not None})
    manifest = {**manifest, "dense_index": "+".join(kinds) or "flat",
                "documents": {d: fps[d] for s in segments for d in s.doc_ids},
                "segments": [s.meta() for s in segments],
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "counts": {"documents": sum(len(s.docs) for s in segments),
                           "chunks": sum(len(s.chunks) for s in segments),
                           "windows": sum(len(s.windows) for s in segments)}}

    def fill(tmp: Path) -> dict:
        files = {}
        for s in segments:
            mine = {k: v for k, v in old_files.items() if k.split("/")[0] == s.name}
            if s.name in held and mine and _link_all(old_folder, tmp, mine):
                files.update(mine)
            else:
                s.save(tmp / s.name)
        return {**manifest, "files": files}

    folder = store.write(fill)
    for s in segments:
        LOADED.put(store.root, s, verified=True)
    out = {**store.read_manifest(), "folder": str(folder)}
    return SearchIndex(out, segments=segments)


def _link_all(src: Path, dst: Path, files: dict) -> bool:
    """Hard-link (else copy) `files` from `src` into `dst`; False where one is missing."""
    try:
        for name in files:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src / name, dst / name)
            except OSError:
                shutil.copyfile(src / name, dst / name)
        return True
    except OSError as e:
        log.warning("saving segment files again (%s)", e)
        for name in {n.split("/")[0] for n in files}:
            shutil.rmtree(dst / name, ignore_errors=True)
        return False
