"""qa/lexical.py: the BM25 index scores exactly as bm25s built from the terms themselves, also
when the corpus comes in parts (one a segment), on a tiny made-up corpus."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
from conftest import ARTICLES

from qa.lexical import LexicalIndex, Postings, passage_terms, question_terms


@pytest.fixture(scope="module")
def chunk_terms() -> list[list[str]]:
    terms = [passage_terms(title, body) for title, body in ARTICLES.values()]
    return [*terms, []]  # and an empty chunk


@pytest.mark.parametrize("question", [
    "Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?",
    "lu quet lam bao nhieu nguoi mat tich",
    "Tổng thu ngân sách nhà nước tỉnh Lào Cai?",
    "một câu không liên quan gì cả xyz",
])
def test_scores_equal_bm25s_built_from_the_terms(chunk_terms, question):
    ours = LexicalIndex.build(iter(chunk_terms))  # a generator is enough
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([t or ["\u2205"] for t in chunk_terms], show_progress=False)
    q = question_terms(question)
    ids = reference.get_tokens_ids(q)
    expected = (reference.get_scores_from_ids(ids) if ids
                else np.zeros(len(chunk_terms), np.float32))
    np.testing.assert_allclose(ours.scores(q), expected, rtol=1e-6)
    assert ours.size == len(chunk_terms)


def test_idf_orders_terms_by_rarity(chunk_terms):
    index = LexicalIndex.build(chunk_terms)
    # "tân_minh" is in one article, "đươc5" (được) in several, an unseen term in none
    assert index.idf("never-seen-term") > index.idf("tân_minh") > index.idf("đươc5") > 0


def test_empty_corpus():
    index = LexicalIndex.build([])
    assert index.size == 0 and index.scores(["gì"]).shape == (0,)


QUESTIONS = ["Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?", "lu quet lam bao nhieu nguoi",
             "Tổng thu ngân sách nhà nước tỉnh Lào Cai?", "học sinh trường Lê Lợi"]


@pytest.mark.parametrize("cut", [1, 3, 5])
def test_parts_score_as_one_index_over_the_whole_corpus(chunk_terms, cut):
    """An article added as a new part (nothing rebuilt) scores exactly as if the corpus had
    been indexed at once: the corpus-wide statistics are computed at query time."""
    whole = LexicalIndex.build(chunk_terms)
    parts = LexicalIndex([Postings.build(chunk_terms[:cut]), Postings.build(chunk_terms[cut:])])
    assert parts.size == whole.size
    for question in QUESTIONS:
        q = question_terms(question)
        np.testing.assert_allclose(parts.scores(q), whole.scores(q), rtol=1e-5)
        for term in q:
            assert parts.idf(term) == pytest.approx(whole.idf(term))
    pair = [t for t in question_terms("phường Tân Minh") if "_" in t]
    assert parts.containing(pair).tolist() == whole.containing(pair).tolist() == [0]


def test_keeping_some_passages_equals_indexing_only_them(chunk_terms):
    kept = [0, 2, 4]
    filtered = LexicalIndex([Postings.build(chunk_terms).keep(np.array(kept))])
    direct = LexicalIndex.build([chunk_terms[i] for i in kept])
    for question in QUESTIONS:
        q = question_terms(question)
        np.testing.assert_allclose(filtered.scores(q), direct.scores(q), rtol=1e-6)
    assert filtered.parts[0].vocab.keys() == direct.parts[0].vocab.keys()


def test_postings_round_trip(tmp_path, chunk_terms):
    built = Postings.build(chunk_terms)
    built.save(tmp_path / "lexical")
    loaded = Postings.load(tmp_path / "lexical")
    assert loaded.vocab == built.vocab
    for name in ("indptr", "passages", "tf", "lengths"):
        assert np.array_equal(getattr(loaded, name), getattr(built, name))


def test_concatenated_postings_equal_postings_built_at_once(chunk_terms):
    joined = Postings.concat([Postings.build(chunk_terms[:2]), Postings.build(chunk_terms[2:])])
    whole = Postings.build(chunk_terms)
    assert joined.vocab == whole.vocab
    for name in ("indptr", "passages", "tf", "lengths"):
        assert np.array_equal(getattr(joined, name), getattr(whole, name))
