"""Tests for qa/sources.py on hand-made answers: citations grouped by article, the evidence first
and marked, the rest folded, relevance in words (the fitted calibration, qa/relevance.json), a
refusal with every passage folded."""

from __future__ import annotations

import re

import pytest
from test_formatting import ANS_START, ANSWER, EV_START, EVIDENCE, answered, citation

from qa.relevance import calibration
from qa.sources import cited_articles, render_sources

MODEL = "intfloat/multilingual-e5-small"


def cites():
    """[1] the answer in article A, [2] another article, [3] A again, [4] B again."""
    first = citation(1, relevance=0.9, answer_start=ANS_START, answer_end=ANS_START + len(ANSWER),
                     evidence_start=EV_START, evidence_end=EV_START + len(EVIDENCE),
                     date="2025-07-23", url="https://example.vn/a")
    return (first,
            citation(2, "Ông Hoàng Văn Minh phát biểu.", "b.txt", "Bài B", relevance=0.3),
            citation(3, "Đảng bộ có 1.789 đảng viên.", relevance=0.2, start=300, end=330),
            citation(4, "Không liên quan.", "b.txt", "Bài B", relevance=0.01, start=50, end=66))


def test_the_evidence_is_first_and_marked_and_the_rest_folded():
    html = render_sources(answered(citations=cites()), also=[2], model_name=MODEL)
    main, fold = html.split('<details class="qa-more">')
    assert main.count('class="qa-source"') == 1  # only the evidence is open
    assert "Căn cứ của câu trả lời" in main and main.count("<mark>") == 1
    assert 'href="https://example.vn/a"' in main and "23/07/2025" in main
    assert fold.startswith("<summary>Các đoạn liên quan khác (3)</summary>")
    # grouped by article: B's two passages under one head; A's other one says it is the same
    assert fold.count("Bài B") == 1 and fold.count("Cùng bài với câu trả lời") == 1
    assert re.findall(r'qa-rank">\[(\d)\]', fold) == ["2", "4", "3"]
    assert "cũng nêu câu trả lời" in fold  # [2] holds the answer's words too
    assert html.count("Đảng bộ phường Kỳ Sơn") == 1  # the title once


def test_relevance_is_said_in_words_never_as_a_score():
    html = render_sources(answered(citations=cites()), model_name=MODEL)
    cal = calibration(MODEL)
    said = re.findall(r'class="qa-rel qa-rel-\w+"[^>]*>([^<]+)<', html)
    c1, c2, c3, c4 = cites()
    assert said == [cal.label(c.relevance)[0] for c in (c1, c2, c4, c3)]  # as shown
    assert "điểm" not in html and "1.2345" not in html and "1.23" not in html
    assert re.search(r'style="width:90%"', html)  # the bar follows the probability


def test_labels_follow_the_fitted_thresholds():
    cal = calibration(MODEL)
    high, mid = cal.thresholds
    assert 0 < mid < high < 1
    assert cal.label(high)[0] == "rất liên quan" and cal.label(mid)[0] == "liên quan"
    assert cal.label(mid / 2)[0] == "ít liên quan"


def test_a_refusal_folds_every_passage_and_marks_none_as_evidence():
    html = render_sources(answered(abstained=True, text="", evidence="", span=None,
                                   citations=cites()), model_name=MODEL)
    head, fold = html.split('<details class="qa-more">')
    assert "Không tìm thấy câu trả lời" in head and 'class="qa-source"' not in head
    assert fold.startswith("<summary>Các đoạn gần nhất (4)</summary>")
    assert "Căn cứ" not in html and "qa-main" not in html


def test_a_clarification_has_no_sources():
    html = render_sources(answered(clarification="Bạn hỏi về phường nào?", citations=()))
    assert "Chưa có nguồn" in html


def test_without_relevance_no_label_is_shown():
    html = render_sources(answered(citations=(citation(1), citation(2, doc_id="b.txt"))))
    assert "qa-rel" not in html


@pytest.mark.parametrize("abstained", [False, True])
def test_text_is_escaped(abstained):
    evil = '<script>alert(1)</script> <img src=x onerror="alert(2)">'
    c = citation(text=evil, title="<b>T</b>", url="javascript:alert(3)")
    html = render_sources(answered(citations=(c, citation(2, text=evil, doc_id="x")),
                                   abstained=abstained))
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "javascript:" not in html and "&lt;script&gt;" in html


def test_cited_articles_groups_ranks_by_document():
    ans = answered(citations=(citation(1), citation(2, doc_id="b.txt", title="B"), citation(3)))
    assert cited_articles(ans) == [("[1][3] Đảng bộ phường Kỳ Sơn", "ky-son.txt"),
                                   ("[2] B", "b.txt")]
    assert cited_articles(None) == []
