"""Incremental index updates (qa/index.py, qa/segment.py) with the real model on the tiny
corpus: an unchanged corpus writes nothing and builds no BM25, an added article is one new
segment while the others are linked in as they are, the words of a new article are searchable
before its vectors (and rank where they should meanwhile), a stopped build resumes, and many
small segments are merged without changing a score."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTICLES, EXTRA_ARTICLE, SMALL_CHUNKS, write_article

from qa.chunking import ChunkingConfig
from qa.corpus import load_corpus
from qa.index import MAX_SEGMENTS, STAGE_SAVE, STAGE_WORDS, build_index, load_index
from qa.lexical import question_terms
from qa.retrieval import HybridRetriever
from qa.store import IndexStore

pytestmark = pytest.mark.slow

RICE = "Giá lúa tươi tại ruộng ở xã Mỹ Xuyên là bao nhiêu?"  # answered by EXTRA_ARTICLE only


@pytest.fixture
def chunking(embedder):
    return ChunkingConfig(max_tokens=embedder.max_tokens, **SMALL_CHUNKS)


@pytest.fixture
def corpus(tmp_path, tiny_corpus_dir):
    return Path(shutil.copytree(tiny_corpus_dir, tmp_path / "corpus"))


@pytest.fixture
def store(tmp_path, tiny_index):
    """A copy of the session's index of the tiny corpus (same chunking), free to change."""
    return IndexStore(shutil.copytree(Path(tiny_index.folder).parent, tmp_path / "index"))


class Recorder:
    def __init__(self):
        self.messages: list[str] = []

    def __call__(self, fraction: float, message: str) -> None:
        self.messages.append(message)


def inodes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def test_an_unchanged_corpus_writes_nothing_and_builds_no_bm25(corpus, store, embedder,
                                                               chunking):
    before, files = store.current(), inodes(store.current())
    seen = Recorder()
    index, report = build_index(load_corpus(corpus), store, embedder, chunking, progress=seen)
    assert report.written == 0 and report.embedded_chunks == 0
    assert report.unchanged == len(ARTICLES)
    assert store.current() == before and inodes(before) == files
    assert sorted(p.name for p in store.root.iterdir()) == ["CURRENT", before.name]
    assert not any(m.startswith((STAGE_WORDS, STAGE_SAVE)) for m in seen.messages), seen.messages
    assert len(index.chunks) == len(load_index(store).chunks)


def test_an_added_article_is_one_new_segment_beside_the_others_linked_in(
        corpus, store, embedder, chunking):
    old = load_index(store, deep=True)
    old_files = inodes(store.current())
    write_article(corpus, "lua.txt", *EXTRA_ARTICLE)
    index, report = build_index(load_corpus(corpus), store, embedder, chunking)
    assert report.added == ["lua.txt"] and report.written == 1
    assert [s.doc_ids for s in index.segments] == [old.segments[0].doc_ids, ["lua.txt"]]
    # the old segment is the same object (its BM25 postings and FAISS index not rebuilt) and
    # the same files on disk (hard links: not rewritten, and their digests not recomputed)
    assert index.segments[0] is old.segments[0]
    kept = old.segments[0].name
    linked = old_files_of(inodes(store.current()), kept)
    assert linked and linked == old_files_of(old_files, kept)
    loaded = load_index(store, deep=True)
    assert set(loaded.docs) == set(ARTICLES) | {"lua.txt"}
    top = HybridRetriever(loaded, embedder).search(RICE, k=1)[0]
    assert top.doc_id == "lua.txt"


def old_files_of(files: dict[str, int], segment: str) -> dict[str, int]:
    return {k: v for k, v in files.items() if k.startswith(segment)}


def test_words_are_searchable_before_the_vectors(corpus, store, embedder, chunking):
    """The version published first holds the new article without vectors; a question about it
    finds it first even with a fusion weight that lets the cosine dominate, and its relevance
    is estimated from its words. Then the vectors come, in a second version."""
    write_article(corpus, "lua.txt", *EXTRA_ARTICLE)
    early = {}

    def searchable(index):
        early["index"] = index
        early["on_disk"] = load_index(store)

    index, report = build_index(load_corpus(corpus), store, embedder, chunking,
                                on_lexical=searchable)
    assert report.written == 2
    first = early["on_disk"]
    assert first.pending_docs() == ["lua.txt"] and not first.ready[-1]
    for weight in (0.6, 15.0):  # the registry's weight, and one where the cosine dominates
        hits = HybridRetriever(first, embedder, dense_weight=weight).search(RICE, k=3)
        assert hits[0].doc_id == "lua.txt" and hits[0].dense_estimated, weight
        assert all(not h.dense_estimated for h in hits if h.doc_id != "lua.txt")
        assert 0 <= hits[0].relevance <= 1
    # and a question about an old article still finds that one first
    flood = HybridRetriever(first, embedder, dense_weight=15.0).search(
        "Lũ quét làm bao nhiêu người mất tích?", k=1)
    assert flood[0].doc_id == "lu-lut.txt"
    assert index.pending_docs() == [] and load_index(store).pending_docs() == []


def test_a_stopped_build_leaves_the_words_and_resumes_the_vectors(corpus, store, embedder,
                                                                   chunking):
    write_article(corpus, "lua.txt", *EXTRA_ARTICLE)
    docs = load_corpus(corpus)
    batches = []

    def stop() -> bool:  # after two batches, as a new upload would
        batches.append(1)
        return len(batches) > 2

    index, report = build_index(docs, store, embedder, chunking, batch_size=2,
                                on_lexical=lambda _: None, stop=stop)
    assert report.stopped and index.pending_docs() == ["lua.txt"]
    assert load_index(store).pending_docs() == ["lua.txt"]
    index, report = build_index(docs, store, embedder, chunking, batch_size=2)
    assert not report.stopped and index.pending_docs() == []
    assert report.resumed_chunks == 4  # the two batches embedded before the stop
    assert report.embedded_chunks > report.resumed_chunks
    assert not list(store.root.glob(".partial-*"))  # the checkpoint is cleared once complete


def test_many_small_segments_are_merged_and_score_the_same(tmp_path, embedder, chunking):
    folder = tmp_path / "c"
    store = IndexStore(tmp_path / "i")
    names = list(ARTICLES)
    for n in range(len(names)):  # one article at a time: one segment each
        for name in names[: n + 1]:
            write_article(folder, name, *ARTICLES[name])
        index, _ = build_index(load_corpus(folder), store, embedder, chunking)
    for k in range(MAX_SEGMENTS):
        write_article(folder, f"them-{k}.txt", f"{EXTRA_ARTICLE[0]} {k}", EXTRA_ARTICLE[1])
        index, _ = build_index(load_corpus(folder), store, embedder, chunking)
    assert len(index.segments) <= MAX_SEGMENTS
    fresh, _ = build_index(load_corpus(folder), IndexStore(tmp_path / "fresh"), embedder,
                           chunking)
    assert len(fresh.segments) == 1
    loaded = load_index(store, deep=True)
    order = {(c.doc_id, c.start): i for i, c in enumerate(fresh.chunks)}
    perm = [order[(c.doc_id, c.start)] for c in loaded.chunks]
    for question in (RICE, "Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?"):
        terms = question_terms(question)
        np.testing.assert_allclose(loaded.lexical.scores(terms),
                                   fresh.lexical.scores(terms)[perm], rtol=1e-5)


def test_small_segments_are_merged_beside_a_large_one(monkeypatch, tiny_index):
    """The large one is kept as it is (its graph or vectors not rebuilt); the small ones merge."""
    import qa.index

    segments = list(tiny_index.segments)
    one = segments[0]
    many = [one.without({d}) for d in one.doc_ids] + [one.without(set(one.doc_ids[:2]))] * 4
    monkeypatch.setattr(qa.index, "SMALL_SEGMENT", len(one.windows))  # `one` counts as large
    kept = qa.index._compact([one, *many], "auto")
    assert kept[0] is one and len(kept) == 2
    assert [c.text for c in kept[1].chunks] == [c.text for s in many for c in s.chunks]
