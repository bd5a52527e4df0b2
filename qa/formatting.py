"""HTML for the chat app: replies, the sources panel, the whole article, the library list.

Every piece of question or article text goes through `esc`, which escapes HTML and also the
characters Markdown and LaTeX would act on (the chat renders Markdown), so a text is always
shown as written: `<script>` or `<img onerror=...>` in an article reads as text. Links are kept
only for http(s) URLs. The labels are Vietnamese: this is what the person reads.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlparse

from qa.library import LibraryFile, human_size
from qa.types import NOT_FOUND, Answer, Citation, Document

CONFIDENCE_LEVELS = ((0.75, "cao", "high"), (0.5, "trung bình", "mid"), (0.0, "thấp", "low"))
LOW_CONFIDENCE_HINT = "Câu trả lời này có thể chưa chính xác: hãy đối chiếu với câu trích dẫn."
_MARKDOWN = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-!|~$"}
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def esc(text: str | None) -> str:
    """`text` as inert HTML: tags, entities, Markdown and `$...$` all shown literally."""
    escaped = html.escape(text or "", quote=True)
    return "".join(_MARKDOWN.get(c, c) for c in escaped)


def safe_url(url: str | None) -> str | None:
    """The URL when it is a plain web link (no `javascript:` or `data:`), else None."""
    if not url:
        return None
    parsed = urlparse(url.strip())
    return url.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def confidence_level(confidence: float) -> tuple[str, str]:
    """(Vietnamese label, CSS class suffix) of a confidence in 0..1."""
    return next((label, css) for floor, label, css in CONFIDENCE_LEVELS if confidence >= floor)


def format_date(date: str | None) -> str:
    """`2025-07-23` -> `23/07/2025`, the way Vietnamese papers print dates."""
    if not date:
        return ""
    m = _ISO_DATE.fullmatch(date)
    return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else date


def shorten(text: str, limit: int = 90) -> str:
    """`text` cut at a word to at most `limit` characters (with `…`)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–…") + "…"


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def supporting_ranks(answer: Answer) -> list[int]:
    """Citations that back the answer: the first (it holds the span) and any other that
    contains the answer text too."""
    if answer.abstained or not answer.citations:
        return []
    wanted = _norm(answer.text)
    return [c.rank for i, c in enumerate(answer.citations)
            if i == 0 or (wanted and wanted in _norm(c.text))]


def markers(ranks: Iterable[int]) -> str:
    return " ".join(f'<sup class="qa-cite">[{r}]</sup>' for r in ranks)


def render_question(question: str) -> str:
    return esc(question)


def render_reply(answer: Answer) -> str:
    """The chat bubble: the answer in bold, a confidence cue, the evidence with [n] markers;
    for an abstention the not-found sentence and the nearest passages. One line of HTML, so
    the Markdown renderer passes it through as a block."""
    parts = []
    if answer.resolved_question and answer.resolved_question != answer.question:
        parts.append('<p class="qa-resolved">Hiểu câu hỏi là: '
                     f"“{esc(answer.resolved_question)}”</p>")
    if answer.abstained:
        parts.append(f'<p class="qa-answer qa-notfound"><strong>{esc(NOT_FOUND)}</strong></p>')
        if answer.citations:
            parts.append('<p class="qa-nearest">Các đoạn gần nhất (xem khung Nguồn): '
                         + "; ".join("".join(f"[{r}]" for r in ranks) + " " + esc(shorten(title))
                                     for _, title, ranks in _by_article(answer))
                         + "</p>")
    else:
        level, css = confidence_level(answer.confidence)
        parts.append(f'<p class="qa-answer"><strong>{esc(answer.text)}</strong> '
                     f'<span class="qa-confidence qa-conf-{css}">'
                     f"độ tin cậy: {level} ({answer.confidence:.0%})</span></p>")
        if answer.evidence:
            parts.append(f'<blockquote class="qa-evidence">{esc(answer.evidence)} '
                         f"{markers(supporting_ranks(answer))}</blockquote>")
        if css == "low":  # answered, since the articles seem to say it, but maybe not this span
            parts.append(f'<p class="qa-hint">{esc(LOW_CONFIDENCE_HINT)}</p>')
        if answer.citations:
            first = answer.citations[0]
            when = f" · {format_date(first.date)}" if first.date else ""
            parts.append(f'<p class="qa-ref">Nguồn [1]: {esc(first.title)}{esc(when)}</p>')
    return '<div class="qa-reply">' + "".join(parts) + "</div>"


def render_error(message: str) -> str:
    return f'<div class="qa-reply qa-error">⚠️ {esc(message)}</div>'


def _valid(span: tuple[int | None, int | None], length: int) -> tuple[int, int] | None:
    start, end = span
    if start is None or end is None or not 0 <= start < end <= length:
        return None
    return start, end


def highlight(text: str, answer: tuple[int | None, int | None] = (None, None),
              evidence: tuple[int | None, int | None] = (None, None),
              passages: Sequence[tuple[int, int]] = ()) -> str:
    """`text` escaped, with `<mark>` around exactly the answer span, the evidence sentence in
    `<strong class="qa-ev">` and passages (of a whole article) in `<span class="qa-passage">`.
    Spans out of range are ignored; tags always nest properly."""
    ans = _valid(answer, len(text))
    ev = _valid(evidence, len(text))
    spans = [s for p in passages if (s := _valid(p, len(text)))]
    cuts = sorted({0, len(text), *(x for s in [ans, ev, *spans] if s for x in s)})

    def inside(span, a):
        return span is not None and span[0] <= a < span[1]

    out: list[str] = []
    opened: list[str] = []  # the wrapper tags open now, outermost first
    for a, b in zip(cuts, cuts[1:], strict=False):
        want = []
        if any(inside(s, a) for s in spans):
            want.append('<span class="qa-passage">')
        if inside(ev, a):
            want.append('<strong class="qa-ev">')
        keep = 0
        while keep < min(len(want), len(opened)) and want[keep] == opened[keep]:
            keep += 1
        for tag in reversed(opened[keep:]):
            out.append("</strong>" if tag.startswith("<strong") else "</span>")
        out.extend(want[keep:])
        opened = want
        piece = html.escape(text[a:b], quote=True)
        out.append(f"<mark>{piece}</mark>" if inside(ans, a) else piece)
    for tag in reversed(opened):
        out.append("</strong>" if tag.startswith("<strong") else "</span>")
    return "".join(out)


def _meta(c: Citation) -> str:
    items = [f'<span class="qa-rank">[{c.rank}]</span>']
    if c.date:
        items.append(f'<span class="qa-date">{html.escape(format_date(c.date))}</span>')
    items.append(f'<span class="qa-score">điểm {c.score:.2f}</span>')
    if url := safe_url(c.url):
        items.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                     f'rel="noopener noreferrer">nguồn ↗</a>')
    return " ".join(items)


def render_citation(c: Citation) -> str:
    body = highlight(c.text, (c.answer_start, c.answer_end), (c.evidence_start, c.evidence_end))
    return (f'<article class="qa-source" id="qa-source-{c.rank}">'
            f'<div class="qa-source-head">{_meta(c)}</div>'
            f'<h4 class="qa-title">{html.escape(c.title)}</h4>'
            f'<div class="qa-passage-text">{body}</div></article>')


def render_sources(answer: Answer | None) -> str:
    """The sources panel for the latest reply."""
    if answer is None:
        return ('<div class="qa-sources qa-empty">Nguồn trích dẫn của câu trả lời mới nhất '
                "sẽ hiện ở đây.</div>")
    if not answer.citations:
        return '<div class="qa-sources qa-empty">Không có đoạn văn nào liên quan.</div>'
    head = ("Không tìm thấy câu trả lời; đây là các đoạn gần nhất." if answer.abstained
            else f"{len(answer.citations)} đoạn trích dẫn; phần được tô là câu trả lời.")
    return (f'<div class="qa-sources"><p class="qa-sources-head">{head}</p>'
            + "".join(render_citation(c) for c in answer.citations) + "</div>")


def _by_article(answer: Answer | None) -> list[tuple[str, str, list[int]]]:
    """(doc_id, title, ranks) for each article the answer cites, in citation order."""
    groups: dict[str, tuple[str, str, list[int]]] = {}
    for c in answer.citations if answer else ():
        groups.setdefault(c.doc_id, (c.doc_id, c.title, []))[2].append(c.rank)
    return list(groups.values())


def cited_articles(answer: Answer | None) -> list[tuple[str, str]]:
    """(label, doc_id) for each article the answer cites: choices of a dropdown."""
    return [("".join(f"[{r}]" for r in ranks) + " " + title, doc_id)
            for doc_id, title, ranks in _by_article(answer)]


def render_article(doc: Document, citations: Sequence[Citation] = ()) -> str:
    """The whole article, its cited passages shaded and the answer span marked."""
    mine = [c for c in citations if c.doc_id == doc.doc_id]
    answer = next(((c.start + c.answer_start, c.start + c.answer_end) for c in mine
                   if c.answer_start is not None and c.answer_end is not None), (None, None))
    evidence = next(((c.start + c.evidence_start, c.start + c.evidence_end) for c in mine
                     if c.evidence_start is not None and c.evidence_end is not None), (None, None))
    meta = [html.escape(format_date(doc.date))] if doc.date else []
    if url := safe_url(doc.url):
        meta.append(f'<a href="{html.escape(url, quote=True)}" target="_blank" '
                    f'rel="noopener noreferrer">{html.escape(url)}</a>')
    if mine:
        meta.append("đoạn được trích: " + ", ".join(f"[{c.rank}]" for c in mine))
    return (f'<div class="qa-article"><h3>{html.escape(doc.title)}</h3>'
            f'<p class="qa-article-meta">{" · ".join(meta)}</p>'
            f'<div class="qa-article-text">'
            f"{highlight(doc.text, answer, evidence, [(c.start, c.end) for c in mine])}"
            "</div></div>")


def render_library(files: Sequence[LibraryFile], titles: dict[str, list[str]] | None = None) -> str:
    """The uploaded files, with the titles of the articles each holds when known."""
    if not files:
        return '<p class="qa-empty">Chưa có bài báo nào của bạn.</p>'
    titles = titles or {}
    rows = []
    for f in files:
        names = titles.get(f.name, [])
        shown = "; ".join(html.escape(t) for t in names[:3])
        if len(names) > 3:
            shown += f" … (+{len(names) - 3} bài)"
        rows.append(f"<tr><td><code>{html.escape(f.name)}</code></td>"
                    f"<td>{html.escape(human_size(f.size))}</td><td>{shown or '—'}</td></tr>")
    return ('<table class="qa-library"><thead><tr><th>Tệp</th><th>Dung lượng</th>'
            "<th>Bài báo</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def render_notice(lines: Sequence[str], ok: bool = True) -> str:
    kind = "qa-ok" if ok else "qa-error"
    return f'<div class="qa-notice {kind}">' + "<br>".join(esc(x) for x in lines) + "</div>"


def render_status(text: str, progress: float | None = None, kind: str = "busy") -> str:
    """The banner over the app: starting up (with a progress bar), ready, or failed."""
    bar = ""
    if progress is not None:
        pct = max(0.0, min(1.0, progress))
        bar = f'<div class="qa-bar"><div style="width:{pct:.0%}"></div></div>'
    return f'<div class="qa-status qa-status-{kind}">{esc(text)}{bar}</div>'


# The look of the classes above (and of the app around them), passed to `launch(css=...)`.
CSS = """
.qa-header h1 {margin: 0; font-size: 1.6em}
.qa-header p {margin: .2em 0 0; color: var(--body-text-color-subdued)}
.qa-status {padding: 8px 12px; border-radius: 8px; font-size: .92em}
.qa-status-busy {background: #eff6ff; color: #1e40af}
.qa-status-ready {background: #f0fdf4; color: #166534}
.qa-status-error {background: #fef2f2; color: #991b1b}
.qa-bar {height: 6px; background: #dbeafe; border-radius: 3px; margin-top: 6px}
.qa-bar > div {height: 100%; background: #2563eb; border-radius: 3px; transition: width .5s}
.qa-reply p {margin: 0 0 .3em}
.qa-answer strong {font-size: 1.08em}
.qa-hint {font-size: .85em; color: #92400e; margin: 4px 0;}
.qa-confidence {font-size: .8em; padding: 1px 8px; border-radius: 999px; margin-left: 6px;
  white-space: nowrap}
.qa-conf-high {background: #dcfce7; color: #166534}
.qa-conf-mid {background: #fef9c3; color: #854d0e}
.qa-conf-low {background: #fee2e2; color: #991b1b}
.qa-evidence {border-left: 3px solid #93c5fd; margin: .3em 0; padding: .1em .7em}
.qa-cite {color: #2563eb; font-weight: 600}
.qa-resolved, .qa-ref, .qa-nearest {font-size: .85em; color: var(--body-text-color-subdued)}
.qa-error {color: #991b1b}
.qa-panel-title {margin: 0 0 4px; font-size: 1.05em}
.qa-sources-head {font-size: .85em; color: var(--body-text-color-subdued); margin: 0 0 8px}
.qa-source {border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--block-background-fill)}
.qa-source-head {display: flex; gap: 10px; align-items: center; font-size: .8em;
  color: var(--body-text-color-subdued)}
.qa-rank {font-weight: 700; color: #2563eb; font-size: 1.1em}
.qa-title {margin: 4px 0 6px; font-size: .98em; font-weight: 600}
.qa-passage-text, .qa-article-text {white-space: pre-line; font-size: .92em; line-height: 1.55}
.qa-article-text {max-height: 480px; overflow-y: auto}
.qa-article-meta {font-size: .8em; color: var(--body-text-color-subdued)}
mark {background: #fde68a; color: inherit; padding: 0 2px; border-radius: 3px}
.qa-ev {font-weight: 600}
.qa-passage {background: #eff6ff}
.qa-empty {color: var(--body-text-color-subdued); font-style: italic}
.qa-notice {padding: 8px 12px; border-radius: 8px; margin: 4px 0}
.qa-notice.qa-ok {background: #f0fdf4; color: #166534}
.qa-notice.qa-error {background: #fef2f2; color: #991b1b}
.qa-library {width: 100%; border-collapse: collapse; font-size: .9em; border: none !important}
.qa-library tr {border: none !important}
.qa-library th, .qa-library td {text-align: left; padding: 6px 8px; border: none !important;
  border-bottom: 1px solid var(--border-color-primary) !important}
.qa-library th {color: var(--body-text-color-subdued); font-weight: 600}
"""
