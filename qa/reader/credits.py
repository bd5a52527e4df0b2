"""Credits: who took a photo, who wrote the article.

Vietnamese news credits its photos in the caption, "Các đại biểu dự Đại hội… (Ảnh: Nguyễn
Nga)", and signs the article with a byline on its own last line, "PHƯƠNG DUNG - THANH MAI" or
"Bài, ảnh: Mạnh Hùng". These are fields of the page, not statements a reader finds by reading
sentences: "Ai chụp ảnh các đại biểu…?" matches the caption, not the sentence the credit is in,
and "Bài về đại hội… do ai viết?" is answered by a line no retrieved passage need hold. So a
question that asks for a credit is answered here, from the articles the retrieval found, before
any reader: the credit copied from the text with its offsets, the caption or byline as the
evidence. A question that asks for a credit the articles do not give goes to the reader as any
other (which says "not found" when nothing answers it).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from qa.reader.base import extracted
from qa.text import AccentPattern, fold_accents, is_accented_query, normalize
from qa.types import Answer, Passage

# What asks for a credit, written with diacritics; a question typed without any is matched
# against the same patterns folded ("ai chup anh…").
_WHO = r"(?:ai|người nào|phóng viên nào|tác giả nào|nhà báo nào|phóng viên|tác giả)"
_PICTURE = r"(?:ảnh|bức ảnh|tấm ảnh|hình ảnh|bức hình|tấm hình|hình)"
_PHOTO = [
    rf"\b{_WHO}\b.*\bchụp\b",  # "ai chụp ảnh…", "phóng viên nào chụp…"
    r"\bchụp\b.*\b(?:bởi|do|của) ai\b",  # "ảnh… được chụp bởi ai"
    rf"\b{_PICTURE}\b(?! hưởng).*\b(?:do|của) (?:ai|phóng viên nào|tác giả nào)\b",
    rf"\btác giả (?:của )?{_PICTURE}\b(?! hưởng)",
    r"\bnhiếp ảnh gia\b",
]
# "bài" of an article, not of a poem, a song, a speech or a lesson
_ARTICLE = (r"(?:bài viết|bài báo|tin bài|bản tin|phóng sự|"
            r"bài(?! (?:thơ|hát|ca|văn|phát biểu|giảng|học|tham luận|báo cáo|thuốc|bạc|toán))|"
            r"tin(?! (?:nhắn|đồn|học|tưởng|cậy|đồ|lành|dữ)))")
_BYLINE = [
    rf"\b{_WHO}\b.*\b(?:viết|đưa tin|thực hiện|tường thuật)\b.*\b{_ARTICLE}\b",
    rf"\b{_WHO}\b.*\b(?:viết|đưa)\b {_ARTICLE}\b",
    rf"\b{_ARTICLE}\b.*\b(?:do|của) (?:ai|phóng viên nào|tác giả nào|nhà báo nào)\b",
    rf"\btác giả (?:của )?{_ARTICLE}\b",
    rf"\b{_ARTICLE}\b.*\b(?:ai|phóng viên nào|tác giả nào) (?:viết|đưa tin|thực hiện)\b",
]


_PHOTO_Q = AccentPattern.compile("|".join(f"(?:{p})" for p in _PHOTO))
_BYLINE_Q = AccentPattern.compile("|".join(f"(?:{p})" for p in _BYLINE))


def asks_for(question: str) -> str | None:
    """"photo" (who took a photo), "byline" (who wrote the article) or None. A question
    with diacritics is read with them ("bãi" is not "bài"); one typed without any, folded."""
    q = " ".join(re.findall(r"\w+", normalize(question).lower()))
    accented = is_accented_query(q)  # as question analysis decides it (qa.reader.question)
    low = q if accented else fold_accents(q)
    if _PHOTO_Q.search(low, accented):
        return "photo"
    if _BYLINE_Q.search(low, accented):
        return "byline"
    return None


# --- credits in the text -------------------------------------------------------------------

# "(Ảnh: Nguyễn Nga)", "(Ảnh: Quý Trung/TTXVN)", "(Ảnh minh họa: …)", and "Ảnh: Ngọc Mai" ending
# a caption line without brackets
_PHOTO_LABEL = r"(?:Ảnh|ẢNH|Ảnh minh họa|Ảnh minh hoạ|Ảnh tư liệu|Ảnh chụp màn hình|Nguồn ảnh)"
_CREDIT_RE = re.compile(
    rf"\(\s*{_PHOTO_LABEL}\s*[:：]\s*(?P<a>[^()\n]{{1,80}}?)\s*\)"
    rf"|(?<![^\s.!?…])\s*{_PHOTO_LABEL}\s*[:：]\s*(?P<b>[^()\n.!?]{{1,80}}?)\s*$",
    re.MULTILINE)
# "Bài và ảnh:", "Bài, ảnh:", "Tin, ảnh:", "Bài:", "Theo" before a byline's names
_BYLINE_PREFIX = re.compile(r"^(?:(?:Bài|Tin|Ảnh|Video|Clip)(?:\s*(?:,|và|-)\s*(?:ảnh|"
                            r"video|clip))*\s*[:：]\s*|Theo\s+)", re.IGNORECASE)
_SOURCE = re.compile(r"\s*\([^()]{1,30}\)$")  # "(TTXVN)", "(Theo AFP)", "(Tổng hợp)" after names
_NAME_SEPARATOR = re.compile(r"\s*(?:-|–|,|&|/|\bvà\b)\s*")
_NOT_NAMES = {"tham khảo", "liên kết ngoài", "xem thêm", "chú thích", "nguồn"}


@dataclass(frozen=True)
class Credit:
    doc_id: str
    start: int  # the credit's name(s) in the article text
    end: int
    caption: tuple[int, int]  # the caption, or the byline line: the evidence


def _is_names(text: str) -> bool:
    """Whether `text` reads as a byline: one to four names, each of capitalized words
    ("PHƯƠNG DUNG - THANH MAI", "Mạnh Hùng", "Minh Hà (TTXVN)"), no figures, no sentence."""
    text = _SOURCE.sub("", text.strip())  # an agency after the names
    if not 2 <= len(text) <= 60 or any(c.isdigit() for c in text) or text[-1] in ".?!:;":
        return False
    if text.lower() in _NOT_NAMES:
        return False
    names = [n for n in _NAME_SEPARATOR.split(text) if n]
    if not 1 <= len(names) <= 4:
        return False
    for name in names:
        words = name.split()
        if not 1 <= len(words) <= 5 or not all(w[0].isupper() for w in words):
            return False
    return sum(len(n.split()) for n in names) >= 2 or names[0].isupper()


def byline(doc_id: str, text: str) -> Credit | None:
    """The article's byline: its last line when that line is names, or a first line that
    says so ("Bài, ảnh: …")."""
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group().strip()]
    if not lines:
        return None
    candidates = [(lines[-1], False)] + ([(lines[0], True)] if len(lines) > 1 else [])
    for (a, b), needs_prefix in candidates:
        line = text[a:b]
        a += len(line) - len(line.lstrip())
        b -= len(line) - len(line.rstrip())
        prefix = _BYLINE_PREFIX.match(text[a:b])
        if needs_prefix and not prefix:
            continue
        na = a + (prefix.end() if prefix else 0)
        if _is_names(text[na:b]):
            source = _SOURCE.search(text, na, b)  # "Hồng Hạnh (Theo AFP)": the writer
            return Credit(doc_id, na, source.start() if source else b, (a, b))
    return None


def photo_credits(doc_id: str, text: str) -> list[Credit]:
    """Every photo credit of the article, with its caption (the line up to the credit)."""
    out = []
    for m in _CREDIT_RE.finditer(text):
        group = "a" if m.group("a") is not None else "b"
        a, b = m.span(group)
        person = text[a:b].split("/")[0].rstrip()  # "Quý Trung/TTXVN": the photographer
        if person:
            b = a + len(person)
        line_start = text.rfind("\n", 0, m.start()) + 1
        if not text[line_start:m.start()].strip():  # the credit alone: the line above captions
            above = text[:line_start].rstrip()
            line_start = above.rfind("\n") + 1 if above else line_start
        if b > a and text[line_start:m.start()].strip():
            out.append(Credit(doc_id, a, b, (line_start, m.end())))
    return out


# --- answering -----------------------------------------------------------------------------

# folded, as `_words` compares them
_QUESTION_WORDS = {fold_accents(w) for w in (
    "ai nào người là của do bởi được chụp ảnh bức tấm hình phóng viên tác giả nhà báo nhiếp gia "
    "viết bài báo tin đưa thực hiện tường thuật trong về này đó ở tại thì còn sao").split()}


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold_accents(normalize(text).lower())))


_CHUNKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _chunks_of(index, doc_id: str) -> list:
    """The index's passages of one article, in text order (built once per index)."""
    by_doc = _CHUNKS.get(index)
    if by_doc is None:
        by_doc = {}
        for c in index.chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        for chunks in by_doc.values():
            chunks.sort(key=lambda c: c.start)
        _CHUNKS[index] = by_doc
    return by_doc.get(doc_id, [])


def _passage_for(credit: Credit, passages: Sequence[Passage], index) -> tuple[int, list]:
    """The passage that holds the credit and its caption: a retrieved one where one does,
    else the article's own, added after the retrieved ones."""
    a, b = min(credit.start, credit.caption[0]), max(credit.end, credit.caption[1])
    for i, p in enumerate(passages):
        if p.doc_id == credit.doc_id and p.chunk.start <= a and b <= p.chunk.end:
            return i, list(passages)
    for c in _chunks_of(index, credit.doc_id):
        if c.start <= a and b <= c.end:
            doc = index.docs[credit.doc_id]
            score = max((p.score for p in passages if p.doc_id == credit.doc_id), default=0.0)
            return len(passages), [*passages, Passage(chunk=c, score=score, title=doc.title,
                                                      date=doc.date, url=doc.url)]
    return -1, list(passages)


def read_credit(question: str, passages: Sequence[Passage], index,
                articles: int = 3) -> Answer | None:
    """The answer to a question that asks for a credit, from the articles of `passages`
    (`index`: the search index they come from, for the articles' text and passages), or None
    when it asks for none or the articles give none."""
    kind = asks_for(question)
    if kind is None or not passages:
        return None
    docs: list[str] = []
    for p in passages:
        if p.doc_id not in docs and p.doc_id in index.docs:
            docs.append(p.doc_id)
    if kind == "byline":
        # the article the question is about is the one retrieval puts first
        found = byline(docs[0], index.docs[docs[0]].text) if docs else None
        chosen, confidence = found, 0.9
    else:
        asked = _words(question) - _QUESTION_WORDS
        best = None
        for rank, doc_id in enumerate(docs[:articles]):
            text = index.docs[doc_id].text
            for order, credit in enumerate(photo_credits(doc_id, text)):
                shared = len(asked & _words(text[slice(*credit.caption)]))
                key = (shared, -rank, -order)
                if best is None or key > best[0]:
                    best = (key, credit)
        chosen = best[1] if best else None
        confidence = 0.9 if best and best[0][0] >= 2 else 0.6
    if chosen is None:
        return None
    pi, passages = _passage_for(chosen, passages, index)
    if pi < 0:
        return None
    offset = passages[pi].chunk.start
    span = (chosen.start - offset, chosen.end - offset)
    evidence = (chosen.caption[0] - offset, chosen.caption[1] - offset)
    return extracted(question, passages, pi, span, evidence, confidence)
