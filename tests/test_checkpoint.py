"""A killed build keeps its embedding work: the next build embeds only what is left
(qa/checkpoint.py), with the real model, on the tiny corpus."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import EXTRA_ARTICLE, ROOT, SMALL_CHUNKS, write_article, write_corpus

from qa.checkpoint import PREFIX, EmbeddingCheckpoint, text_key
from qa.chunking import ChunkingConfig
from qa.corpus import load_corpus
from qa.index import build_index
from qa.store import IndexStore

pytestmark = pytest.mark.slow


class Counting:
    """The real embedder, counting the texts it embeds; fails after `fail_after` batches."""

    def __init__(self, inner, fail_after: int | None = None):
        self.inner, self.fail_after = inner, fail_after
        self.batches, self.texts = 0, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_batch(self, texts, *, kind="passage"):
        if self.fail_after is not None and self.batches >= self.fail_after:
            raise RuntimeError("the machine went down")
        self.batches += 1
        self.texts += len(texts)
        return self.inner.embed_batch(texts, kind=kind)


@pytest.fixture
def chunking(embedder):
    return ChunkingConfig(max_tokens=embedder.max_tokens, **SMALL_CHUNKS)


@pytest.fixture
def docs(tmp_path):
    """The tiny articles and a longer one: more than three batches of four windows."""
    folder = write_corpus(tmp_path / "corpus")
    write_article(folder, "lua.txt", *EXTRA_ARTICLE)
    return load_corpus(folder)


def parts(store: IndexStore) -> list:
    return sorted(store.root.glob(f"{PREFIX}*/part-*.npz"))


def test_a_failed_build_is_resumed_where_it_stopped(tmp_path, docs, embedder, chunking):
    reference, full = build_index(docs, IndexStore(tmp_path / "ref"), embedder, chunking,
                                  batch_size=4)
    assert full.embedded_chunks > 12 and full.resumed_chunks == 0

    store = IndexStore(tmp_path / "index")
    failing = Counting(embedder, fail_after=3)
    with pytest.raises(RuntimeError, match="went down"):
        build_index(docs, store, failing, chunking, batch_size=4, checkpoint_every_s=0)
    assert not store.exists() and parts(store)  # no index yet, but the work is on disk

    counting = Counting(embedder)
    index, report = build_index(docs, store, counting, chunking, batch_size=4)
    assert report.resumed_chunks == 12  # the three batches done before the failure
    assert counting.texts == full.embedded_chunks - 12
    assert report.embedded_chunks == full.embedded_chunks
    assert [c.text for c in index.chunks] == [c.text for c in reference.chunks]
    np.testing.assert_allclose(index.vectors, reference.vectors, atol=1e-5)
    assert not parts(store) and not list(store.root.glob(f"{PREFIX}*"))  # cleared once published


def test_damaged_or_foreign_checkpoints_are_not_used(tmp_path, docs, embedder, chunking):
    store = IndexStore(tmp_path / "index")
    with pytest.raises(RuntimeError):
        build_index(docs, store, Counting(embedder, fail_after=2), chunking, batch_size=4,
                    checkpoint_every_s=0)
    first, second = parts(store)
    first.write_bytes(b"PK\x03\x04 not really a zip")  # damaged: skipped, its texts re-embedded
    # parts saved under other settings (another model) sit in another folder
    other = EmbeddingCheckpoint(store.root, {"model": "another-model"})
    other.add(["anything"], np.ones((1, embedder.dimension), np.float32))
    other.flush()

    counting = Counting(embedder)
    _, report = build_index(docs, store, counting, chunking, batch_size=4)
    assert report.resumed_chunks == 4  # only the intact part
    assert counting.texts == report.embedded_chunks - 4


def test_checkpoint_round_trip(tmp_path):
    cp = EmbeddingCheckpoint(tmp_path, {"model": "m"}, every_s=3600)
    cp.add(["một", "hai"], np.eye(2, 3, dtype=np.float32))
    assert cp.load() == {}  # buffered, not yet written
    cp.flush()
    cp.add(["ba"], np.full((1, 3), 0.5, np.float32))
    cp.flush()
    got = EmbeddingCheckpoint(tmp_path, {"model": "m"}).load()
    assert set(got) == {text_key("một"), text_key("hai"), text_key("ba")}
    np.testing.assert_array_equal(got[text_key("hai")], [0, 1, 0])
    assert EmbeddingCheckpoint(tmp_path, {"model": "other"}).load() == {}
    cp.clear()
    assert not list(tmp_path.iterdir())


KILLED_BUILD = textwrap.dedent(
    """
    import sys, time
    from qa.chunking import ChunkingConfig
    from qa.corpus import load_corpus
    from qa.index import build_index
    from qa.store import IndexStore
    from embeddings import SentenceTransformerEmbedder
    from qa.settings import Settings

    corpus, index_dir, small = sys.argv[1], sys.argv[2], eval(sys.argv[3])
    inner = SentenceTransformerEmbedder(precision=Settings.embedding_precision)

    class Slow:
        def __getattr__(self, name):
            return getattr(inner, name)

        def embed_batch(self, texts, *, kind="passage"):
            out = inner.embed_batch(texts, kind=kind)
            print("batch", flush=True)
            time.sleep(0.3)
            return out

    chunking = ChunkingConfig(max_tokens=inner.max_tokens, **small)
    build_index(load_corpus(corpus), IndexStore(index_dir), Slow(), chunking, batch_size=4,
                checkpoint_every_s=0)
    print("done", flush=True)
    """
)


def test_a_build_killed_with_sigkill_is_resumed(tmp_path, embedder, chunking):
    corpus = write_corpus(tmp_path / "corpus")
    store = IndexStore(tmp_path / "index")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(corpus), str(store.root),
                             repr(SMALL_CHUNKS)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for _ in range(3):  # three batches embedded (and saved), then killed mid-way
            assert proc.stdout.readline().strip() == "batch"
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        proc.kill()
    assert not store.exists()

    counting = Counting(embedder)
    index, report = build_index(load_corpus(corpus), store, counting, chunking, batch_size=4)
    assert report.resumed_chunks >= 8  # the third batch may have died before its save
    assert counting.texts == report.embedded_chunks - report.resumed_chunks
    assert len(index.vectors) == report.embedded_chunks
