"""qa/lexical.py: the BM25 index built from term ids scores exactly as bm25s built from the
terms themselves, on a tiny made-up corpus."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
from conftest import ARTICLES

from qa.lexical import LexicalIndex, passage_terms, question_terms


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
