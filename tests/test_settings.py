"""Tests for qa/settings.py: QA_* variables, explicit overrides, the per-corpus index folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from embeddings import DEFAULT_MODEL
from qa.settings import INDEX_HOME, Settings, default_index_dir


def test_defaults_without_environment():
    s = Settings.from_env()
    assert s.corpus == (Path("seeds"),)
    assert s.embedding_model == DEFAULT_MODEL
    assert s.retrieval_mode == "hybrid" and s.top_k == 5
    assert s.dense_weight is None and s.reader_model is None and s.abstain_threshold is None
    assert s.index_dir == default_index_dir((Path("seeds"),))


def test_environment_variables_are_read(monkeypatch, tmp_path):
    a, b = tmp_path / "bao-a", tmp_path / "bao-b"
    env = {
        "QA_CORPUS": f"{a}{os.pathsep}{b}",
        "QA_INDEX_DIR": str(tmp_path / "chi-muc"),
        "QA_EMBEDDING_MODEL": "intfloat/multilingual-e5-small",
        "QA_DENSE_WEIGHT": "0.45",
        "QA_RETRIEVAL_MODE": "bm25",
        "QA_TOP_K": "7",
        "QA_CHUNK_TOKENS": "120",
        "QA_DENSE_INDEX": "hnsw",
        "QA_READER_MODEL": "/models/reader",
        "QA_ABSTAIN_THRESHOLD": "0.2",
        "QA_BATCH_SIZE": "8",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = Settings.from_env()
    assert s.corpus == (a, b)
    assert s.index_dir == tmp_path / "chi-muc"
    assert s.embedding_model == "intfloat/multilingual-e5-small"
    assert s.dense_weight == 0.45 and s.abstain_threshold == 0.2
    assert (s.retrieval_mode, s.top_k, s.chunk_tokens) == ("bm25", 7, 120)
    assert (s.dense_index, s.reader_model, s.batch_size) == ("hnsw", "/models/reader", 8)


def test_explicit_values_win_over_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_TOP_K", "7")
    monkeypatch.setenv("QA_RETRIEVAL_MODE", "dense")
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "env-index"))
    s = Settings.from_env(top_k=3, retrieval_mode="bm25", index_dir=tmp_path / "cli-index")
    assert (s.top_k, s.retrieval_mode, s.index_dir) == (3, "bm25", tmp_path / "cli-index")


def test_none_means_not_given_but_zero_is_a_value(monkeypatch):
    monkeypatch.setenv("QA_DENSE_WEIGHT", "0.4")
    monkeypatch.setenv("QA_ABSTAIN_THRESHOLD", "0.3")
    assert Settings.from_env(dense_weight=None).dense_weight == 0.4
    s = Settings.from_env(dense_weight=0.0, abstain_threshold=0.0, top_k=0)
    assert (s.dense_weight, s.abstain_threshold, s.top_k) == (0.0, 0.0, 0)


def test_blank_variables_count_as_unset(monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "  ")
    monkeypatch.setenv("QA_CORPUS", "")
    s = Settings.from_env()
    assert s.top_k == 5 and s.corpus == (Path("seeds"),)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QA_TOP_K", "abc"),
        ("QA_TOP_K", "2.5"),
        ("QA_DENSE_WEIGHT", "nhiều"),
        ("QA_BATCH_SIZE", "32x"),
    ],
)
def test_bad_numbers_raise_value_error_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings.from_env()


def test_unknown_override_is_refused():
    with pytest.raises(TypeError, match="top_kk"):
        Settings.from_env(top_kk=3)


def test_index_dir_depends_on_the_corpus(tmp_path):
    a, b = tmp_path / "seeds", tmp_path / "other" / "seeds"
    a.mkdir()
    b.mkdir(parents=True)
    dir_a, dir_b = Settings(corpus=(a,)).index_dir, Settings(corpus=(b,)).index_dir
    assert dir_a != dir_b  # same folder name, different corpus
    assert dir_a.parent == dir_b.parent == INDEX_HOME
    assert dir_a.name.startswith("seeds-")
    assert Settings(corpus=(a, b)).index_dir not in (dir_a, dir_b)
    assert Settings(corpus=(a,)).index_dir == dir_a  # stable


def test_same_corpus_written_differently_shares_the_index(tmp_path, monkeypatch):
    (tmp_path / "seeds").mkdir()
    monkeypatch.chdir(tmp_path)
    relative = Settings(corpus=(Path("seeds"),)).index_dir
    assert Settings(corpus=(tmp_path / "seeds",)).index_dir == relative
    assert Settings(corpus=("seeds/",)).index_dir == relative
    assert Settings(corpus=(Path("./seeds"),)).index_dir == relative


def test_corpus_order_does_not_matter(tmp_path):
    a, b = tmp_path / "tin-a", tmp_path / "tin-b"
    assert Settings(corpus=(a, b)).index_dir == Settings(corpus=(b, a)).index_dir


def test_explicit_index_dir_and_corpus_types(tmp_path):
    s = Settings(corpus=[str(tmp_path)], index_dir=str(tmp_path / "i"))
    assert s.corpus == (tmp_path,) and isinstance(s.corpus, tuple)
    assert s.index_dir == tmp_path / "i" and isinstance(s.index_dir, Path)
