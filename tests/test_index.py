"""Tests for qa/index.py on tiny made-up corpora with the real model: save/load round trip,
incremental updates, settings mismatches and damaged files."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import ARTICLES, EXTRA_ARTICLE, SMALL_CHUNKS, write_article, write_corpus

from embeddings import MINILM, SentenceTransformerEmbedder
from qa.chunking import ChunkingConfig, embedding_text, embedding_windows, passages
from qa.corpus import load_corpus
from qa.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from qa.index import (
    build_index,
    choose_dense_kind,
    expected_manifest,
    fingerprint,
    load_index,
)
from qa.store import MANIFEST, IndexStore


@pytest.fixture
def chunking(embedder):
    return ChunkingConfig(max_tokens=embedder.max_tokens, **SMALL_CHUNKS)


@pytest.fixture
def corpus(tmp_path):
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def store(tmp_path):
    return IndexStore(tmp_path / "index")


@pytest.fixture
def indexed(tmp_path, tiny_index) -> IndexStore:
    """A copy of the session's index of these articles (same chunking), free to change."""
    return IndexStore(shutil.copytree(Path(tiny_index.folder).parent, tmp_path / "index"))


def index_chunking(index):
    return ChunkingConfig(**index.manifest["chunking"])


def data_file(store: IndexStore, name: str) -> Path:
    """The one file called `name` in the live version (its only segment's)."""
    (found,) = store.current().rglob(name)
    return found


def chunks_of(index, doc_id):
    return [c for c in index.chunks if c.doc_id == doc_id]


def windows_for(doc, embedder, chunking):
    """The embedding windows a document's passages should get."""
    count = embedder.count_tokens
    return [w for p in passages(doc, count, chunking)
            for w in embedding_windows(doc, p, count, chunking)]


def assert_consistent(index, embedder):
    """Passages index their document, every passage has its windows, window rows line up
    with vectors, and FAISS holds those rows."""
    assert len(index.vectors) == len(index.window_owner) == index.dense.ntotal
    assert all(index.passage_windows[i] for i in range(len(index.chunks)))
    for c in index.chunks:
        assert index.docs[c.doc_id].text[c.start : c.end] == c.text
    norms = np.linalg.norm(np.asarray(index.vectors), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    # FAISS holds the very rows, in order, and each finds a copy of itself first
    vectors = np.ascontiguousarray(index.vectors, dtype=np.float32)
    assert np.allclose(index.dense.reconstruct_n(0, index.dense.ntotal), vectors, atol=1e-6)
    _scores, ids = index.dense.search(vectors, 1)
    assert np.allclose(vectors[ids[:, 0]], vectors, atol=1e-6)


@pytest.mark.slow
def test_build_then_load_round_trip(corpus, store, embedder, chunking):
    docs = load_corpus(corpus)
    built, report = build_index(docs, store, embedder, chunking)
    assert report.documents == len(ARTICLES) == len(built.docs)
    assert report.chunks == len(built.chunks) > len(ARTICLES)  # small chunks: several each
    assert sorted(report.added) == sorted(ARTICLES)
    assert report.embedded_chunks == len(built.window_owner) >= report.chunks
    assert report.rebuilt_reason is None
    assert_consistent(built, embedder)

    loaded = load_index(store, expected_manifest(embedder, chunking), deep=True)
    # exact search keeps the vectors once on disk: FAISS is rebuilt from vectors.npy
    assert not list(Path(loaded.folder).rglob("dense.faiss"))
    assert loaded.dense.ntotal == len(built.vectors)
    assert loaded.chunks == built.chunks
    assert loaded.docs == built.docs
    assert np.array_equal(np.asarray(loaded.vectors), built.vectors)
    assert loaded.folder == str(store.current())
    assert_consistent(loaded, embedder)
    # the BM25 half survives the round trip too
    from qa.lexical import question_terms

    terms = question_terms("mưa lũ sông Trà Khúc")
    assert np.allclose(loaded.lexical.scores(terms), built.lexical.scores(terms))


@pytest.mark.slow
def test_vectors_are_the_model_embedding_of_title_and_chunk(tiny_index, embedder):
    index = tiny_index
    c = index.chunks[3]
    doc = index.docs[c.doc_id]
    windows = embedding_windows(doc, c, embedder.count_tokens, index_chunking(index))
    rows = index.passage_windows[3]
    assert len(rows) == len(windows)
    # int8 activations are quantized per batch, so a window embedded beside others differs a
    # little from the same text embedded alone; float32 gives the same vector
    close = 1 - 1e-5 if embedder.precision == "float32" else 0.95
    for row, w in zip(rows, windows, strict=True):
        expected = embedder.embed(embedding_text(doc.title, w.text), kind="passage")
        assert float(index.vectors[row] @ expected) > close


@pytest.mark.slow
def test_unchanged_corpus_embeds_nothing(corpus, indexed, embedder, chunking):
    docs = load_corpus(corpus)
    first = load_index(indexed)
    again, report = build_index(docs, indexed, embedder, chunking)
    assert report.embedded_chunks == 0
    assert report.unchanged == len(docs)
    assert (report.added, report.changed, report.removed) == ([], [], [])
    assert again.chunks == first.chunks
    assert np.array_equal(again.vectors, first.vectors)


@pytest.mark.slow
def test_adding_an_article_embeds_only_its_chunks(corpus, indexed, embedder, chunking):
    store = indexed
    write_article(corpus, "lua.txt", *EXTRA_ARTICLE)
    docs = load_corpus(corpus)
    new_doc = next(d for d in docs if d.doc_id == "lua.txt")
    expected_chunks = passages(new_doc, embedder.count_tokens, chunking)
    assert len(windows_for(new_doc, embedder, chunking)) > 1

    index, report = build_index(docs, store, embedder, chunking)
    assert report.added == ["lua.txt"]
    assert report.embedded_chunks == len(windows_for(new_doc, embedder, chunking))
    assert report.unchanged == len(ARTICLES)
    assert chunks_of(index, "lua.txt") == expected_chunks
    assert_consistent(load_index(store), embedder)


@pytest.mark.slow
def test_changing_an_article_re_embeds_only_it(corpus, indexed, embedder, chunking):
    store = indexed
    before = load_index(store)
    title, body = ARTICLES["bong-da.txt"]
    write_article(corpus, "bong-da.txt", title, body.replace("3-1", "4-2"))
    docs = load_corpus(corpus)
    index, report = build_index(docs, store, embedder, chunking)
    changed = next(d for d in docs if d.doc_id == "bong-da.txt")
    assert report.changed == ["bong-da.txt"] and report.added == []
    assert report.embedded_chunks == len(windows_for(changed, embedder, chunking))
    assert report.unchanged == len(ARTICLES) - 1
    assert all("4-2" in c.text or "3-1" not in c.text for c in chunks_of(index, "bong-da.txt"))
    # the other articles keep their very vectors
    old = {(c.doc_id, c.start, k): before.vectors[w]
           for i, c in enumerate(before.chunks) for k, w in enumerate(before.passage_windows[i])}
    for i, c in enumerate(index.chunks):
        if c.doc_id != "bong-da.txt":
            for k, w in enumerate(index.passage_windows[i]):
                assert np.array_equal(index.vectors[w], old[(c.doc_id, c.start, k)])
    assert_consistent(load_index(store), embedder)


@pytest.mark.slow
def test_removing_an_article_removes_its_chunks(corpus, indexed, embedder, chunking):
    store = indexed
    before = load_index(store)
    (corpus / "lu-lut.txt").unlink()
    index, report = build_index(load_corpus(corpus), store, embedder, chunking)
    assert report.removed == ["lu-lut.txt"]
    assert report.embedded_chunks == 0
    assert "lu-lut.txt" not in index.docs and not chunks_of(index, "lu-lut.txt")
    assert len(index.chunks) == len(before.chunks) - len(chunks_of(before, "lu-lut.txt"))
    loaded = load_index(store)
    assert "lu-lut.txt" not in loaded.docs
    assert "lu-lut.txt" not in loaded.manifest["documents"]
    assert_consistent(loaded, embedder)


def test_fingerprint_follows_content_and_metadata(tiny_docs):
    doc = tiny_docs[0]
    assert fingerprint(doc) == fingerprint(replace(doc))
    for change in (
        dict(text=doc.text + " Thêm."),
        dict(title="Khác"),
        dict(date="2025-01-01"),
        dict(url="https://example.vn/a"),
    ):
        assert fingerprint(replace(doc, **change)) != fingerprint(doc)


@pytest.mark.slow
def test_model_mismatch_is_refused_on_load(indexed, embedder, chunking):
    store = indexed
    other = SentenceTransformerEmbedder(MINILM)  # not loaded: lazy
    with pytest.raises(IndexMismatchError, match="qa index --rebuild") as err:
        load_index(store, expected_manifest(other, chunking))
    assert "multilingual-e5-small" in str(err.value) and "all-MiniLM-L6-v2" in str(err.value)
    # the same check when the manifest on disk names another model
    manifest_path = store.current() / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["model"] = "someone/else"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="someone/else"):
        load_index(store, expected_manifest(embedder, chunking))


@pytest.mark.slow
def test_other_chunking_rebuilds_from_scratch(corpus, indexed, embedder):
    store = indexed
    docs = load_corpus(corpus)
    bigger = ChunkingConfig(max_tokens=embedder.max_tokens)
    with pytest.raises(IndexMismatchError, match="chunking"):
        load_index(store, expected_manifest(embedder, bigger))
    index, report = build_index(docs, store, embedder, bigger)
    assert report.rebuilt_reason and "chunking" in report.rebuilt_reason
    assert len(index.chunks) == len(docs)  # one passage each now
    assert report.embedded_chunks == len(index.window_owner)
    assert load_index(store, expected_manifest(embedder, bigger)).manifest["chunking"] == (
        bigger.as_dict()
    )


@pytest.mark.slow
def test_rebuild_flag_re_embeds_everything(corpus, indexed, embedder, chunking):
    first = load_index(indexed)
    _, report = build_index(load_corpus(corpus), indexed, embedder, chunking, rebuild=True)
    assert report.embedded_chunks == len(first.window_owner)
    assert report.rebuilt_reason == "asked to rebuild"


@pytest.mark.slow
def test_truncated_vectors_are_reported(indexed):
    store = indexed
    vectors = data_file(store, "vectors.npy")
    vectors.write_bytes(vectors.read_bytes()[:-100])
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        load_index(store)


@pytest.mark.slow
def test_damaged_files_of_the_same_size_are_reported(indexed):
    store = indexed
    chunks_json = data_file(store, "chunks.json")
    raw = chunks_json.read_bytes()
    chunks_json.write_bytes(b"#" + raw[1:])  # same size, not JSON any more
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        load_index(store)


@pytest.mark.slow
def test_damaged_index_is_rebuilt_by_the_next_build(corpus, indexed, embedder, chunking):
    store = indexed
    docs = load_corpus(corpus)
    vectors = data_file(store, "vectors.npy")
    vectors.write_bytes(vectors.read_bytes()[:-100])
    index, report = build_index(docs, store, embedder, chunking)
    assert report.rebuilt_reason and report.embedded_chunks == len(index.window_owner)
    assert_consistent(load_index(store, deep=True), embedder)


def test_missing_index_says_how_to_build_one(store):
    with pytest.raises(IndexMissingError, match="qa index"):
        load_index(store)


@pytest.mark.slow
def test_hnsw_index_finds_the_same_rows(corpus, tmp_path, embedder, chunking):
    docs = load_corpus(corpus)
    index, _ = build_index(
        docs, IndexStore(tmp_path / "hnsw"), embedder, chunking, dense_kind="hnsw"
    )
    assert index.manifest["dense_index"] == "hnsw"
    loaded = load_index(IndexStore(tmp_path / "hnsw"))
    assert list(Path(loaded.folder).rglob("dense.faiss"))  # the graph is saved
    assert all(isinstance(s.dense, faiss.IndexHNSWFlat) for s in loaded.segments)
    assert_consistent(loaded, embedder)


def test_choose_dense_kind():
    assert choose_dense_kind(10) == "flat"
    assert choose_dense_kind(1_000_000) == "hnsw"
    assert choose_dense_kind(10, "hnsw") == "hnsw"
    assert choose_dense_kind(1_000_000, "flat") == "flat"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.slow
def test_empty_corpus_gives_an_empty_index(store, embedder, chunking):
    index, report = build_index([], store, embedder, chunking)
    assert report.chunks == 0 and index.chunks == []
    assert load_index(store).chunks == []
