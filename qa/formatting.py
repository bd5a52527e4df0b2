"""HTML for the chat app: replies, the whole article, the library list, the status line (the
sources panel is `qa/sources.py`, the look `qa/style.py`).

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


def render_indexing(indexing: Sequence[tuple[str, bool]]) -> str:
    """The line under a reply given while uploads are still being indexed: (file name,
    searchable by its words already) each."""
    if not indexing:
        return ""
    words = [f"“{esc(n)}”" for n, ready in indexing if ready]
    none = [f"“{esc(n)}”" for n, ready in indexing if not ready]
    parts = []
    if none:
        parts.append(f"{', '.join(none)} chưa tìm được")
    if words:
        parts.append(f"{', '.join(words)} mới tìm được theo từ khóa, chưa theo nghĩa")
    return (f'<p class="qa-indexing">Đang lập chỉ mục: {"; ".join(parts)}. Câu trả lời '
            "dựa trên phần đã sẵn sàng; hãy hỏi lại khi lập chỉ mục xong.</p>")


def render_clarification(answer: Answer) -> str:
    """A question back: which one the person means, with the candidates the articles offer."""
    items = "".join(f"<li>{esc(c)}</li>" for c in answer.candidates)
    listed = f"<ul>{items}</ul>" if items else ""
    asked, _, rest = answer.clarification.partition("?")  # the question back, then the how
    return (f'<div class="qa-reply qa-clarify"><p><strong>{esc(asked)}?</strong>'
            f"{esc(rest)}</p>{listed}</div>")


def render_reply(answer: Answer, indexing: Sequence[tuple[str, bool]] = ()) -> str:
    """The chat bubble: the answer in bold, a confidence cue, the evidence with [n] markers;
    for an abstention the not-found sentence and the nearest passages; for an ambiguous
    question the question back. One line of HTML, so the Markdown renderer passes it through
    as a block. `indexing`: uploads not fully indexed yet (see `render_indexing`)."""
    if answer.clarification:
        return render_clarification(answer)
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
    parts.append(render_indexing(indexing))
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


def _by_article(answer: Answer | None) -> list[tuple[str, str, list[int]]]:
    """(doc_id, title, ranks) for each article the answer cites, in citation order."""
    groups: dict[str, tuple[str, str, list[int]]] = {}
    for c in answer.citations if answer else ():
        groups.setdefault(c.doc_id, (c.doc_id, c.title, []))[2].append(c.rank)
    return list(groups.values())


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
