"""Tests for qa/formatting.py on hand-made answers: escaping, highlighting, numbering (the
sources panel: tests/test_sources.py)."""

from __future__ import annotations

import re

from qa.formatting import (
    confidence_level,
    esc,
    format_date,
    highlight,
    render_article,
    render_error,
    render_question,
    render_reply,
    safe_url,
    supporting_ranks,
)
from qa.sources import render_sources
from qa.types import NOT_FOUND, Answer, Citation, Document

TEXT = "Đại hội đã bầu Ban Chấp hành. Đồng chí Hoàng Văn Minh được chỉ định làm Bí thư."
ANSWER = "Hoàng Văn Minh"
EVIDENCE = "Đồng chí Hoàng Văn Minh được chỉ định làm Bí thư."
EV_START = TEXT.index(EVIDENCE)
ANS_START = TEXT.index(ANSWER)


def citation(rank=1, text=TEXT, doc_id="ky-son.txt", title="Đảng bộ phường Kỳ Sơn", **kw):
    return Citation(rank=rank, doc_id=doc_id, title=title, text=text, start=kw.pop("start", 100),
                    end=kw.pop("end", 100 + len(text)), score=kw.pop("score", 1.2345), **kw)


def answered(**kw) -> Answer:
    first = citation(answer_start=ANS_START, answer_end=ANS_START + len(ANSWER),
                     evidence_start=EV_START, evidence_end=EV_START + len(EVIDENCE),
                     date="2025-07-23", url="https://example.vn/bai")
    others = (citation(2, "Ông Hoàng Văn Minh phát biểu.", "other.txt", "Bài khác"),
              citation(3, "Không liên quan.", "third.txt", "Bài thứ ba"))
    values = dict(question="Ai là Bí thư?", text=ANSWER, confidence=0.93, abstained=False,
                  evidence=EVIDENCE, citations=(first, *others), span=(ANS_START, ANS_START + 14))
    return Answer(**{**values, **kw})


def test_esc_neutralises_html_markdown_and_latex():
    out = esc('<script>alert("x")</script> <img src=x onerror=alert(1)> **b** $x$ [a](b)')
    assert "<" not in out and ">" not in out and "*" not in out and "$" not in out
    assert "&lt;script&gt;" in out and "&lt;img" in out and "[" not in out


def test_question_html_is_escaped():
    assert render_question("<b>Ai</b> là?") == "&lt;b&gt;Ai&lt;/b&gt; là?"


def test_reply_shows_bold_answer_confidence_and_evidence_with_markers():
    html = render_reply(answered())
    assert f"<strong>{ANSWER}</strong>" in html
    assert "độ tin cậy: cao (93%)" in html
    assert EVIDENCE.replace(".", ".") in html
    assert re.findall(r"\[(\d)\]</sup>", html) == ["1", "2"]  # [3] does not hold the answer
    assert "Đảng bộ phường Kỳ Sơn" in html and "23/07/2025" in html


def test_confidence_levels():
    assert confidence_level(0.9)[0] == "cao"
    assert confidence_level(0.6)[0] == "trung bình"
    assert confidence_level(0.1)[0] == "thấp"
    assert "độ tin cậy: thấp (40%)" in render_reply(answered(confidence=0.4))


def test_abstention_reads_not_found_and_lists_nearest_passages():
    ans = answered(abstained=True, text="", evidence="", span=None, confidence=0.1)
    html = render_reply(ans)
    assert NOT_FOUND in html and "độ tin cậy" not in html
    assert "[1] Đảng bộ phường Kỳ Sơn" in html and "[3] Bài thứ ba" in html
    assert supporting_ranks(ans) == []
    same_article = (citation(1, title="tin " * 50), citation(2, title="tin " * 50))
    grouped = render_reply(answered(abstained=True, citations=same_article))
    listed = re.search(r"Nguồn\): (.*)</p>", grouped).group(1)
    assert listed.startswith("[1][2] tin tin") and listed.endswith("tin…")  # one per article
    assert len(listed) <= len("[1][2] ") + 90


def test_resolved_question_shown_for_follow_ups():
    html = render_reply(answered(resolved_question="Ai là Bí thư phường <Kỳ Sơn>?"))
    assert "Hiểu câu hỏi là" in html and "&lt;Kỳ Sơn&gt;" in html


def test_article_text_is_escaped_everywhere():
    evil = '<script>alert(1)</script> <img src=x onerror="alert(2)">'
    c = citation(text=evil, title="<b>Tiêu đề</b>", url="javascript:alert(3)")
    ans = answered(citations=(c,), evidence=evil, text=evil)
    for html in (render_reply(ans), render_sources(ans)):
        assert "<script" not in html and "<img" not in html and "<b>" not in html
        assert "&lt;script&gt;" in html
        assert "javascript:" not in html
    doc = Document("ky-son.txt", "<i>t</i>", evil)
    assert "<script" not in render_article(doc, [c]) and "&lt;i&gt;" in render_article(doc, [c])
    assert "<script" not in render_error("<script>x</script>")


def test_mark_wraps_exactly_the_answer_inside_the_evidence():
    html = highlight(TEXT, (ANS_START, ANS_START + len(ANSWER)),
                     (EV_START, EV_START + len(EVIDENCE)))
    assert re.findall(r"<mark>(.*?)</mark>", html) == [ANSWER]
    assert re.findall(r'<strong class="qa-ev">(.*?)</strong>', html) == [
        EVIDENCE.replace(ANSWER, f"<mark>{ANSWER}</mark>")]
    assert re.sub(r"<[^>]+>", "", html) == TEXT


def test_highlight_escapes_and_ignores_bad_offsets():
    assert highlight("a<b>c", (1, 4)) == "a<mark>&lt;b&gt;</mark>c"
    assert highlight("abc", (2, 9), (5, 1)) == "abc"
    assert highlight("abc", (None, None)) == "abc"


def test_whole_article_highlights_the_cited_passage_and_answer():
    body = "Mở đầu bài báo.\n\n" + TEXT + "\n\nKết thúc."
    start = body.index(TEXT)
    c = citation(start=start, end=start + len(TEXT), answer_start=ANS_START,
                 answer_end=ANS_START + len(ANSWER))
    html = render_article(Document("ky-son.txt", "Đảng bộ phường Kỳ Sơn", body, "2025-07-23"), [c])
    assert re.findall(r"<mark>(.*?)</mark>", html) == [ANSWER]
    assert '<span class="qa-passage">Đại hội' in html and "Kết thúc." in html
    assert "23/07/2025" in html and "[1]" in html


def test_safe_url_and_dates():
    assert safe_url("https://baolangson.vn/x") == "https://baolangson.vn/x"
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert format_date("2025-07-23") == "23/07/2025" and format_date(None) == ""


def test_highlight_round_trips_for_any_spans():
    import html
    import random

    rng = random.Random(7)
    text = "Ông A <b>& bà B</b> dự. Câu hai có 1.789 đảng viên.\n\nĐoạn ba."
    for _ in range(300):
        a, b, c, d, e, f = (rng.randint(0, len(text)) for _ in range(6))
        out = highlight(text, (min(a, b), max(a, b)), (min(c, d), max(c, d)),
                        [(min(e, f), max(e, f))])
        assert re.sub(r"<[^>]+>", "", out) == html.escape(text)
        depth = 0  # tags nest properly
        for tag in re.findall(r"<(/?)(mark|strong|span)", out):
            depth += -1 if tag[0] else 1
            assert depth >= 0
        assert depth == 0
        if a != b:
            marked = "".join(re.findall(r"<mark>(.*?)</mark>", out, re.S))
            assert marked == html.escape(text[min(a, b):max(a, b)])


def test_a_low_confidence_answer_says_to_check_the_quote():
    from qa.formatting import LOW_CONFIDENCE_HINT

    assert esc(LOW_CONFIDENCE_HINT) in render_reply(answered(confidence=0.2))
    assert esc(LOW_CONFIDENCE_HINT) not in render_reply(answered(confidence=0.6))
