"""The sources panel: the cited passages grouped by article, the passage that holds the answer
first and marked as the evidence, the others folded away, each with how relevant it is in words
(`qa/relevance.py`), never a raw fusion score.

After a "not found", every passage is folded: they are only the nearest the search found.
Text is escaped as in `qa/formatting.py`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from qa.formatting import format_date, highlight, safe_url
from qa.relevance import calibration
from qa.types import Answer, Citation

EVIDENCE = "Căn cứ của câu trả lời"
MORE = "Các đoạn liên quan khác"
NEAREST = "Các đoạn gần nhất"
ALSO_HOLDS = "cũng nêu câu trả lời"


def relevance_badge(c: Citation, model_name: str | None = None) -> str:
    """"rất liên quan" / "liên quan" / "ít liên quan" with a bar as long as the probability."""
    cal = calibration(model_name)
    if c.relevance is None or cal is None:
        return ""
    label, css = cal.label(c.relevance)
    pct = max(0.0, min(1.0, c.relevance))
    return (f'<span class="qa-rel qa-rel-{css}" title="Khả năng đoạn này chứa câu trả lời: '
            f'khoảng {pct:.0%}">{label}<span class="qa-rel-bar"><span style="width:{pct:.0%}">'
            "</span></span></span>")


def _article_head(c: Citation) -> str:
    meta = []
    if c.date:
        meta.append(f'<span class="qa-date">{html.escape(format_date(c.date))}</span>')
    if url := safe_url(c.url):
        meta.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                    f'rel="noopener noreferrer">nguồn ↗</a>')
    line = f'<div class="qa-meta">{" · ".join(meta)}</div>' if meta else ""
    return (f'<div class="qa-article-head"><div class="qa-title">{html.escape(c.title)}</div>'
            f"{line}</div>")


def _passage(c: Citation, badge: str = "", model_name: str | None = None) -> str:
    body = highlight(c.text, (c.answer_start, c.answer_end), (c.evidence_start, c.evidence_end))
    tag = f'<span class="qa-badge">{badge}</span>' if badge else ""
    return (f'<article class="qa-source" id="qa-source-{c.rank}">'
            f'<div class="qa-source-head"><span class="qa-rank">[{c.rank}]</span>{tag}'
            f"{relevance_badge(c, model_name)}</div>"
            f'<div class="qa-passage-text">{body}</div></article>')


def _groups(citations: Sequence[Citation]) -> list[list[Citation]]:
    """The citations by article, articles in the order they are first cited."""
    by_doc: dict[str, list[Citation]] = {}
    for c in citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    return list(by_doc.values())


def _group(cites: Sequence[Citation], evidence_rank: int | None, also: set[int],
           model_name: str | None, shown: str | None = None) -> str:
    """One article's passages under its title, date and link; `shown`: the doc_id whose head
    is already on the panel (its other passages say so instead of repeating it)."""
    parts = [_article_head(cites[0]) if cites[0].doc_id != shown else
             '<div class="qa-article-head"><div class="qa-title">Cùng bài với câu trả lời'
             "</div></div>"]
    for c in cites:
        badge = EVIDENCE if c.rank == evidence_rank else ALSO_HOLDS if c.rank in also else ""
        parts.append(_passage(c, badge, model_name))
    css = "qa-group qa-main" if evidence_rank is not None else "qa-group"
    return f'<section class="{css}">{"".join(parts)}</section>'


def _fold(title: str, groups: list[list[Citation]], also: set[int], model_name: str | None,
          shown: str | None = None) -> str:
    n = sum(len(g) for g in groups)
    inner = "".join(_group(g, None, also, model_name, shown) for g in groups)
    return f'<details class="qa-more"><summary>{title} ({n})</summary>{inner}</details>'



def render_sources(answer: Answer | None, also: Sequence[int] = (),
                   model_name: str | None = None) -> str:
    """The sources panel for the latest reply. `also`: ranks of other passages that hold the
    answer's words too (they are marked as such)."""
    if answer is None:
        return ('<div class="qa-sources qa-empty">Nguồn trích dẫn của câu trả lời mới nhất '
                "sẽ hiện ở đây.</div>")
    if answer.clarification:
        return ('<div class="qa-sources qa-empty">Chưa có nguồn: trợ lý đang hỏi lại bạn muốn '
                "nói tới đâu.</div>")
    if not answer.citations:
        return '<div class="qa-sources qa-empty">Không có đoạn văn nào liên quan.</div>'
    also_set = set(also)
    if answer.abstained:
        head = ("Không tìm thấy câu trả lời trong các bài báo. Các đoạn gần nhất mà tìm kiếm "
                "đưa ra (có thể không liên quan):")
        return (f'<div class="qa-sources"><p class="qa-sources-head">{head}</p>'
                + _fold(NEAREST, _groups(answer.citations), also_set, model_name) + "</div>")
    first, rest = answer.citations[0], answer.citations[1:]
    same = [c for c in rest if c.doc_id == first.doc_id and c.rank in also_set]
    others = [c for c in rest if c not in same]
    head = "Câu trả lời được trích từ bài dưới đây; phần được tô là câu trả lời."
    out = [f'<div class="qa-sources"><p class="qa-sources-head">{head}</p>',
           _group([first, *same], first.rank, also_set, model_name)]
    if others:
        out.append(_fold(MORE, _groups(others), also_set, model_name, shown=first.doc_id))
    out.append("</div>")
    return "".join(out)


def cited_articles(answer: Answer | None) -> list[tuple[str, str]]:
    """(label, doc_id) for each article the answer cites: choices of a dropdown."""
    return [("".join(f"[{c.rank}]" for c in g) + " " + g[0].title, g[0].doc_id)
            for g in _groups(answer.citations if answer else ())]
