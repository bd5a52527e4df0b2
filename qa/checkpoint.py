"""Embeddings of a build that has not finished yet, saved as it goes.

Embedding is nearly all of a build's time (about an hour for 20,000 articles on two cores). A
build killed half-way keeps the last complete index (see `qa.store`), and with this it keeps its
embedding work too: the next build takes every vector already computed for the same text, model
and settings, and embeds only the rest. Parts are written whole and renamed into place, so a
kill leaves complete parts or none; a damaged part is skipped. The folder is removed once the
new index is published.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PREFIX = ".partial-"  # not swept by IndexStore: it outlives a killed build on purpose


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


class EmbeddingCheckpoint:
    def __init__(self, root: Path | str, settings: dict, every_s: float = 30.0):
        """`settings`: what the vectors depend on (model, precision, ...); another settings'
        parts live in another folder and are never mixed in."""
        tag = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        self.root = Path(root)
        self.folder = self.root / f"{PREFIX}{tag}"
        self.every_s = every_s
        self._keys: list[bytes] = []
        self._vectors: list[np.ndarray] = []
        self._last = time.monotonic()

    def load(self) -> dict[bytes, np.ndarray]:
        """Vectors saved by earlier, unfinished builds, by `text_key`."""
        found: dict[bytes, np.ndarray] = {}
        for part in sorted(self.folder.glob("part-*.npz")) if self.folder.is_dir() else []:
            try:
                with np.load(part) as data:
                    keys, vectors = data["keys"], data["vectors"]
                if len(keys) != len(vectors) or keys.ndim != 2 or keys.shape[1] != 20:
                    raise ValueError("keys and vectors do not match")
            except Exception as e:  # damaged: embed those texts again
                log.warning("ignoring damaged embedding checkpoint %s: %s", part, e)
                continue
            for k, v in zip(keys, vectors):
                found[k.tobytes()] = v
        if found:
            log.info("resuming: %d embeddings saved by an unfinished build", len(found))
        return found

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        self._keys.extend(text_key(t) for t in texts)
        self._vectors.append(np.asarray(vectors, dtype=np.float32))
        if time.monotonic() - self._last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self._keys:
            return
        keys = np.frombuffer(b"".join(self._keys), dtype=np.uint8).reshape(-1, 20)
        vectors = np.vstack(self._vectors)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
        tmp = self.folder / f".{name}.npz"
        try:
            with open(tmp, "wb") as f:
                np.savez(f, keys=keys, vectors=vectors)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / f"{name}.npz")
        except OSError as e:  # a full disk must not fail the build: only the resume is lost
            log.warning("could not save an embedding checkpoint in %s: %s", self.folder, e)
            tmp.unlink(missing_ok=True)
            return
        self._keys, self._vectors = [], []

    def clear(self) -> None:
        """Drop every checkpoint under the root (this settings' and stale ones)."""
        self._keys, self._vectors = [], []
        if self.root.is_dir():
            for p in self.root.glob(f"{PREFIX}*"):
                shutil.rmtree(p, ignore_errors=True)
