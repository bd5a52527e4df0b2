"""Load news articles (.txt, .md, .jsonl, .jsonl.gz) into clean `Document`s.

Every later offset indexes `Document.text`, so the text is final here: normalized, cleaned of
saved-page chrome (timestamps, section names, comment forms, teasers, source-URL lines),
paragraphs separated by a blank line. Bad files and rows (binary, empty, too large, deleted,
a copy of another article) are skipped with a reason, never fatal.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import hashlib
import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from datetime import date as Date
from pathlib import Path

from qa.errors import CorpusError
from qa.text import normalize
from qa.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".jsonl", ".jsonl.gz")
TITLE_MAX_CHARS = 150  # a longer first line is a lead paragraph, not a headline
HEADER_LINES = 6  # page chrome and the dateline sit within the first few lines
MAX_FILE_MB = 20.0  # a larger .txt/.md file is skipped unread (Settings.max_file_mb)
MAX_ROW_CHARS = 2_000_000  # a longer JSONL line is not one news article
SAME_TEXT = "same text as "  # the skip reason of a copy, before the original's doc_id
PathLike = str | os.PathLike[str]
SkipHandler = Callable[[Path, str], None]

log = logging.getLogger(__name__)

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Unicode Cc, less \t and \n
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_DATE_MARKER = re.compile(r"date\s+(\d{4}-\d{2}-\d{2})\b\s*", re.I)
_WEEKDAY = r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s+nhật|cn)"
_DATE = r"(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{1,2})-(\d{1,2}))"
_DATELINE = re.compile(
    rf"(?:{_WEEKDAY}\s*,?\s*)?(?:ngày\s+)?{_DATE}"
    r"(?:\s*[,\-–|]?\s*\d{1,2}[:h]\d{2}(?::\d{2})?\s*'?)?"
    r"(?:\s*[\[(]?\s*GMT\s*[+-]\s*\d{1,2}(?::?00)?\s*[\])]?)?",
    re.I,
)
_SOURCE_URL = re.compile(r"(?:(?:nguồn|source)\b[^:\n]{0,80}:\s*)?(https?://\S+)", re.I)
_TAIL_MARKERS = set(  # a comment form or a list of other stories: the article has ended
    "bình luận|viết bình luận|gửi bình luận|hiện tại chưa có bình luận|ý kiến bạn đọc|"
    "ý kiến của bạn|tin liên quan|tin cùng chuyên mục|bài viết liên quan|các tin khác".split("|")
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*\s+")
_ABBREVIATION = re.compile(r"\b(?:TP|Tp|TS|ThS|PGS|GS|BS|TX|TT|Q|P|St|Mr|Mrs|Dr)\.$")


# Pre-Unicode Vietnamese code pages Python lacks: bytes 0x80-0xFF as glibc's iconv reads them
# (VISCII also puts six capitals among the control codes).
_HIGH_BYTES = bytes(range(0x80, 0x100)).decode("latin-1")
_VISCII = str.maketrans(
    _HIGH_BYTES + "\x02\x05\x06\x14\x19\x1e",
    "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ"
    "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳĐứÒÓÔạỷừửÙÚỹỵÝỡưàáâãảăữẫèéêẻìíĩỉđựòóôõỏọụùúũủýợỮẲẴẪỶỸỴ",
)
_TCVN3 = str.maketrans(  # ABC fonts, TCVN 5712 VN3
    _HIGH_BYTES,
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ\u0300\u0309\u0303\u0301\u0323"
    "àảãáạẲằẳẵắẴẮẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ",
)
_LEGACY: dict[str, Callable[[bytes], str]] = {  # in order of preference on a tie
    "cp1258": lambda data: data.decode("cp1258"),  # Windows Vietnamese
    "cp1252": lambda data: data.decode("cp1252"),  # Windows Western
    "viscii": lambda data: data.decode("latin-1").translate(_VISCII),
    "tcvn3": lambda data: data.decode("latin-1").translate(_TCVN3),
}
_COMMON_WORDS = frozenset(
    "của và được người các những một đã với này là có không đến năm ngày tỉnh huyện xã phố "
    "cũng từ đồng để sẽ về nhiều đại hội tại công việc trên đó vào thì bị như".split()
)


def read_text_file(path: PathLike) -> str:
    """The file's text, whatever common encoding it was saved in; CorpusError if binary."""
    return _clean(_decode(Path(path).read_bytes(), Path(path)))


def _decode(data: bytes, path: Path) -> str:
    """UTF-16 with a BOM, UTF-8, else the legacy code page whose reading holds the most
    common Vietnamese words (VISCII and TCVN3 only when it holds some)."""
    bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    binary = b"\x00" in data and not bom
    with contextlib.suppress(UnicodeDecodeError):
        text = None if binary else data.decode("utf-16" if bom else "utf-8-sig")
        if text is not None and _looks_like_text(text, legacy=False):
            return text
    readings = []
    for name, decode in () if bom or binary else _LEGACY.items():
        with contextlib.suppress(UnicodeDecodeError):
            text = decode(data)
            if (score := _vietnamese_words(text)) or name.startswith("cp"):
                readings.append((score, text))
    for _score, text in sorted(readings, key=lambda r: -r[0]):  # ties keep _LEGACY's order
        if _looks_like_text(text, legacy=True):
            return text
    raise CorpusError(f"{path} is not a text file: save it as UTF-8 text, or remove it")


def _vietnamese_words(text: str) -> int:
    """Common Vietnamese words (all with diacritics) in the text: many only when read right."""
    return sum(w in _COMMON_WORDS for w in re.findall(r"\w+", normalize(text[:100_000]).lower()))


def _looks_like_text(text: str, legacy: bool) -> bool:
    """Few control characters; for a legacy code page also tone marks only after vowels
    (cp1258 stores them as separate bytes, which in a cp1252 file are ì, ò, Ì, Ò...)."""
    controls = len(_CONTROL.findall(text.replace("\r", "")))
    stray_mark = legacy and any(
        unicodedata.combining(c) and (i == 0 or _base(text[i - 1]) not in "aeiouy")
        for i, c in enumerate(text)
    )
    return controls <= len(text) * 0.01 and not stray_mark


def _base(char: str) -> str:
    return unicodedata.normalize("NFD", char)[0].lower()


def _clean(text: str) -> str:
    """Unix newlines; no zero-width or control characters (but \\n and \\t); NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    return normalize(_INVISIBLE.sub("", text.replace("\u2029", "\n\n")))


def _date_of(text: str) -> str | None:
    """ISO date of a `dd/mm/yyyy`, `dd-mm-yyyy` or `yyyy-mm-dd` string, if it holds one."""
    if (m := re.search(_DATE, text)) is None:
        return None
    day, month, year = m.group(1, 2, 3) if m.group(1) else m.group(6, 5, 4)
    try:
        return Date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _first_sentence(text: str) -> str:
    for m in _SENTENCE_END.finditer(text):
        nxt = text[m.end() : m.end() + 1]
        end = text[: m.start() + 1]
        if (nxt.isupper() or nxt.isdigit() or nxt in '"“(') and not _ABBREVIATION.search(end):
            return end
    return text


def _is_lead(line: str) -> bool:
    """A whole lead paragraph rather than a headline: long, or more than one sentence."""
    return len(line) > TITLE_MAX_CHARS or _first_sentence(line) != line


def _title_from(paragraph: str) -> str:
    """A headline made from a lead paragraph: its first sentence, cut at a word if too long."""
    first = _first_sentence(paragraph.strip())
    first = first[:-1] if first.endswith(".") and not first.endswith("..") else first
    if len(first) <= TITLE_MAX_CHARS:
        return first
    cut = first[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–") + "…"


def _paragraphs(lines: list[str], per_line: bool) -> list[str]:
    """Blank-line-separated blocks (or each line, for text without blank lines), with
    consecutive duplicates (captions saved twice) dropped."""
    blocks = lines if per_line else re.split(r"\n\s*\n", "\n".join(lines))
    blocks = [b.strip() for b in blocks if b.strip()]
    return [b for i, b in enumerate(blocks) if i == 0 or b != blocks[i - 1]]


def _cut_tail(lines: list[str]) -> list[str]:
    """Drop a comment form and the teasers that follow it."""
    seen = 0
    for i, line in enumerate(lines):
        key = re.sub(r"\s*\(\d+\)$", "", line.lower().rstrip(":"))
        if key in _TAIL_MARKERS and seen >= 2:
            return lines[:i]
        seen += bool(line)
    return lines


def _pop_url(lines: list[str]) -> str | None:
    """The article's source URL from a `Nguồn ...: URL` line (or a bare URL) near the end."""
    filled = [i for i, line in enumerate(lines) if line]
    for i in reversed(filled[-3:]):
        m = _SOURCE_URL.match(lines[i])
        if m and (m.start(1) > 0 or (i == filled[-1] and m.end() == len(lines[i]))):
            lines[i] = ""
            return m.group(1).rstrip(".,;:)]}\"'”")
    return None


def _headline(lines: list[str]) -> tuple[int | None, str | None]:
    """The headline's line index and the article date; blanks the date marker, datelines and
    the page chrome above a dateline (timestamp, section name) in `lines`."""
    filled = [i for i, line in enumerate(lines) if line]
    date = None
    if filled and (m := _DATE_MARKER.match(lines[filled[0]])):
        date, lines[filled[0]] = _date_of(m.group(1)), lines[filled[0]][m.end() :]
        filled = [i for i in filled if lines[i]]
    header = filled[:HEADER_LINES]
    datelines = [i for i in header if _DATELINE.fullmatch(lines[i])]
    later = [i for i in datelines if i != header[0]]
    if date is None and datelines:
        date = _date_of(lines[(later or datelines)[0]])
    for i in datelines:
        lines[i] = ""
    rest = [i for i in filled if lines[i]]
    above = [i for i in rest if later and i < later[0]]
    headlines = [i for i in above if not _is_lead(lines[i])] or above
    if headlines:  # a saved page: the headline is the last short line above the dateline,
        for i in above:  # and short lines above the headline are chrome (a section name)
            if i < headlines[-1] and len(lines[i]) <= 100:
                lines[i] = ""
        return headlines[-1], date
    return (rest[0] if rest else None), date


def parse_article(raw: str, doc_id: str) -> Document | None:
    """A Document from a saved article or page; None when nothing is left after cleaning."""
    lines = [_MD_HEADING.sub("", line.strip()) for line in _clean(raw).strip().split("\n")]
    lines, per_line = _cut_tail(lines), "" not in lines
    url = _pop_url(lines)
    head, date = _headline(lines)
    if head is None:
        return None
    title = _title_from(lines[head])
    if not _is_lead(lines[head]):
        lines[head] = ""
    body = _paragraphs(lines, per_line)
    while body and body[0] == title:
        body.pop(0)
    text = normalize("\n\n".join(body)) if body else title
    return Document(doc_id=doc_id, title=title, text=text, date=date, url=url)


def document_from_record(rec: dict, doc_id: str) -> Document | None:
    """A Document from one JSONL row; None when it has no body text."""
    body = rec.get("body") if rec.get("body") is not None else rec.get("text")
    if not isinstance(body, str) or not body.strip():
        return None

    def field(name: str) -> str:
        value = rec.get(name)
        return " ".join(_clean(str(value)).split()) if value is not None else ""

    lines = [line.strip() for line in _clean(body).strip().split("\n")]
    text = normalize("\n\n".join(_paragraphs(lines, per_line="" not in lines)))
    summary = field("summary") or None
    if summary and not text.startswith(summary):
        text = f"{summary}\n\n{text}"
    title = field("title") or _title_from(text.split("\n", 1)[0])
    raw_date = field("date")
    date = (_date_of(raw_date) or raw_date) if raw_date else None
    url = field("url") or None
    return Document(doc_id=doc_id, title=title, text=text, date=date, url=url, summary=summary)


def _files_under(folder: Path) -> Iterator[Path]:
    """Supported, non-hidden files under a folder, depth first in sorted order."""
    for entry in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        if entry.is_dir():
            yield from _files_under(entry)
        elif entry.name.lower().endswith(SUPPORTED_SUFFIXES):
            yield entry


def _as_list(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]


def _relative(file: Path, root: Path) -> str:
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file.name


def _article(file: Path, rel: str, max_file_mb: float) -> Document | str:
    """The file's Document, or why it was skipped."""
    try:
        if (mb := file.stat().st_size / 2**20) > max_file_mb:
            limit = f"the {max_file_mb:g} MB limit"
            return f"too large: {mb:.1f} MB, over {limit} (set QA_MAX_FILE_MB to raise it)"
        return parse_article(read_text_file(file), rel) or "empty after cleaning"
    except FileNotFoundError:
        return "deleted before it could be read"
    except (CorpusError, OSError) as err:
        return str(err)


def _lines(stream, limit: int) -> Iterator[str | None]:
    """Each line of a text stream; None for one over `limit` characters (never held whole)."""
    while line := stream.readline(limit + 1):
        if len(line) <= limit or line.endswith("\n"):
            yield line
            continue
        while (rest := stream.readline(limit)) and not rest.endswith("\n"):
            pass
        yield None


def _jsonl_rows(file: Path, rel: str) -> Iterator[Document | str]:
    """Each row's Document, or why that row was skipped; one bad row spoils nothing else."""
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    try:
        with opener(file, "rt", encoding="utf-8-sig", errors="replace") as rows:
            for lineno, row in enumerate(_lines(rows, MAX_ROW_CHARS), 1):
                if row is None:
                    yield f"line {lineno}: over {MAX_ROW_CHARS:,} characters, not one article"
                    continue
                if not row.strip():
                    continue
                try:
                    rec = json.loads(row)
                except json.JSONDecodeError as err:
                    yield f"line {lineno}: not valid JSON ({err.msg})"
                    continue
                doc = None
                if isinstance(rec, dict):
                    row_id = lineno if rec.get("id") is None else rec["id"]
                    doc = document_from_record(rec, f"{rel}#{row_id}")
                yield doc or f"line {lineno}: not an object with a 'body' or 'text' field"
    except FileNotFoundError:
        yield "deleted before it could be read"
    except (OSError, EOFError) as err:  # truncated, or not really gzip
        yield f"unreadable: {err}"


def _report(on_skip: SkipHandler | None, path: Path, reason: str) -> None:
    log.warning("Skipped %s: %s", path, reason)
    if on_skip is not None:
        on_skip(path, reason)


def iter_documents(
    paths: PathLike | Sequence[PathLike],
    root: PathLike | None = None,
    on_skip: SkipHandler | None = None,
    max_file_mb: float = MAX_FILE_MB,
) -> Iterator[Document]:
    """Documents from files and folders, lazily; doc_ids are paths relative to the root.
    JSONL files are streamed, whatever their size; a .txt/.md over `max_file_mb` is skipped."""
    for path in _as_list(paths):
        if not path.exists():
            raise CorpusError(f"No such file or folder: {path}. Check the path to the articles.")
        base = Path(root) if root is not None else (path if path.is_dir() else path.parent)
        for file in _files_under(path) if path.is_dir() else [path]:
            rel = _relative(file, base)
            jsonl = file.name.lower().endswith((".jsonl", ".jsonl.gz"))
            for item in _jsonl_rows(file, rel) if jsonl else [_article(file, rel, max_file_mb)]:
                if isinstance(item, Document):
                    yield item
                else:
                    _report(on_skip, file, item)


def _same_text_key(doc: Document) -> bytes:
    """Equal for two copies of one article, whatever their files or line breaks."""
    return hashlib.sha1(" ".join(f"{doc.title}\n{doc.text}".split()).encode()).digest()


def load_corpus(
    paths: PathLike | Sequence[PathLike],
    root: PathLike | None = None,
    on_skip: SkipHandler | None = None,
    max_file_mb: float = MAX_FILE_MB,
) -> list[Document]:
    """All documents, the first of each doc_id and of each text kept (a copy of an article
    under another name would be cited twice); CorpusError if none could be loaded."""
    docs: dict[str, Document] = {}
    first_with_text: dict[bytes, str] = {}
    for doc in iter_documents(paths, root=root, on_skip=on_skip, max_file_mb=max_file_mb):
        key = _same_text_key(doc)
        if doc.doc_id in docs:
            _report(on_skip, Path(doc.doc_id), "duplicate doc_id, kept the first")
        elif key in first_with_text:
            _report(on_skip, Path(doc.doc_id), f"{SAME_TEXT}{first_with_text[key]}")
        else:
            docs[doc.doc_id] = doc
            first_with_text[key] = doc.doc_id
    if not docs:
        where = ", ".join(str(p) for p in _as_list(paths)) or "(no paths given)"
        raise CorpusError(
            f"No articles found under {where}: add .txt, .md or .jsonl files "
            "(UTF-8 text, one article per file or one JSON object per line)"
        )
    return list(docs.values())
