"""Tests for qa/corpus.py: tiny made-up articles in tmp_path, then the real seeds."""

from __future__ import annotations

import gzip
import io
import itertools
import json
import unicodedata
from pathlib import Path

import pytest

from qa import corpus
from qa.corpus import (
    SUPPORTED_SUFFIXES,
    document_from_record,
    iter_documents,
    load_corpus,
    parse_article,
    read_text_file,
)
from qa.errors import CorpusError
from qa.text import normalize
from qa.types import Document

SEEDS = Path(__file__).parent.parent / "seeds"
VIETNEWS = Path(__file__).resolve().parents[2] / "shared/data/vietnews-20k.jsonl.gz"

BODY_1 = "Sáng 9/8, phường Đoàn Kết tổ chức Đại hội lần thứ I, nhiệm kỳ 2025 - 2030."
BODY_2 = "Dân số của phường hơn 25.400 người, diện tích 134,31km2."


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def only_doc(folder: Path) -> Document:
    docs = load_corpus(folder)
    assert len(docs) == 1
    return docs[0]


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


# --- metadata rules ----------------------------------------------------------------------


def test_date_marker_gives_date_and_is_removed_from_title(tmp_path):
    write(tmp_path, "a.txt", f" date 2025-07-23 Đại hội phường Kỳ Sơn\n\n{BODY_1}\n\n{BODY_2}\n")
    doc = only_doc(tmp_path)
    assert doc.doc_id == "a.txt"
    assert doc.title == "Đại hội phường Kỳ Sơn"
    assert doc.date == "2025-07-23"
    assert paragraphs(doc.text) == [BODY_1, BODY_2]


def test_lead_paragraph_gives_a_short_title_and_stays_in_text(tmp_path):
    lead = (
        "Ngày 14/8, Đảng bộ các cơ quan Đảng tỉnh Lai Châu đã tổ chức Đại hội Đại biểu lần thứ "
        "I, nhiệm kỳ 2025-2030, xác định nhiều chỉ tiêu, nhiệm vụ quan trọng, giải pháp đột phá "
        "và các khâu then chốt trong nhiệm kỳ tới."
    )
    write(tmp_path, "b.txt", f" date 2025-08-14 {lead}\n\nTiêu đề phụ\n\n{BODY_2}")
    doc = only_doc(tmp_path)
    assert doc.date == "2025-08-14"
    assert doc.title.startswith("Ngày 14/8, Đảng bộ các cơ quan Đảng")
    assert len(doc.title) <= 160 and doc.title.endswith("…")
    assert not doc.title.endswith(" …")
    assert paragraphs(doc.text)[0] == lead


def test_two_sentence_first_line_is_a_lead_not_a_title(tmp_path):
    write(tmp_path, "c.txt", f"{BODY_1} {BODY_2}\n\nĐoạn tiếp theo.")
    doc = only_doc(tmp_path)
    assert doc.title == BODY_1.rstrip(".")
    assert doc.text.startswith(BODY_1)


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        (
            "Người dân TP. Hồ Chí Minh đi bầu cử. Tỷ lệ cử tri cao.",
            "Người dân TP. Hồ Chí Minh đi bầu cử",
        ),
        ("Những câu chuyện chưa kể...", "Những câu chuyện chưa kể..."),
        ("Giá vàng hôm nay có tăng?", "Giá vàng hôm nay có tăng?"),
    ],
)
def test_title_sentence_rules(first_line, title):
    assert parse_article(f"{first_line}\n\n{BODY_1}", "t.txt").title == title


def test_saved_page_chrome_and_dateline(tmp_path):
    page = (
        "Thứ bảy, 08/08/2020, 18:26 [GMT+7]\n"
        "Chuyên mục Chính trị\n\n"
        "Tích cực chuẩn bị Đại hội\n\n"
        "Thứ sáu, 29/11/2019 - 16:14'\n"
        f"{BODY_1}\n\n{BODY_2}\n"
    )
    write(tmp_path, "d.txt", page)
    doc = only_doc(tmp_path)
    assert doc.title == "Tích cực chuẩn bị Đại hội"
    assert doc.date == "2019-11-29"
    assert paragraphs(doc.text) == [BODY_1, BODY_2]


@pytest.mark.parametrize(
    "dateline", ["Ngày 05/03/2021", "05/03/2021", "05-03-2021", "Chủ nhật, 05/03/2021 08:00"]
)
def test_other_datelines_under_the_title(tmp_path, dateline):
    write(tmp_path, "e.txt", f"Tin nhanh\n{dateline}\n\n{BODY_1}")
    doc = only_doc(tmp_path)
    assert (doc.title, doc.date, doc.text) == ("Tin nhanh", "2021-03-05", BODY_1)


@pytest.mark.parametrize(
    "line",
    [
        "Nguồn Lạng Sơn: https://baolangson.vn/dai-hoi-5035365.html",
        "Nguồn: https://baolangson.vn/dai-hoi-5035365.html",
        "https://baolangson.vn/dai-hoi-5035365.html",
        "Nguồn Lạng Sơn: https://baolangson.vn/dai-hoi-5035365.html (truy cập 1/8)",
    ],
)
def test_source_url_line(tmp_path, line):
    write(tmp_path, "f.txt", f"Tiêu đề\n\n{BODY_1}\n\nPHƯƠNG DUNG\n\n{line}")
    doc = only_doc(tmp_path)
    assert doc.url == "https://baolangson.vn/dai-hoi-5035365.html"
    assert paragraphs(doc.text) == [BODY_1, "PHƯƠNG DUNG"]


def test_url_inside_the_body_is_kept(tmp_path):
    body = "Xem chi tiết tại https://example.vn/a.html và làm theo hướng dẫn."
    write(tmp_path, "g.txt", f"Tiêu đề\n\n{body}\n\n{BODY_2}")
    doc = only_doc(tmp_path)
    assert doc.url is None and body in doc.text


def test_comment_form_and_teasers_are_dropped(tmp_path):
    tail = (
        "Đinh Đông\n\nBình luận\n\nHiện tại chưa có bình luận\n\nViết bình luận\n\n"
        "Kinh tế châu Âu suy giảm kỷ lục do COVID-19\nCác nền kinh tế thuộc EU đang suy thoái...\n"
        "Bản Huổi Hằm vẫn nghèo\nBản Huổi Hằm có 44 hộ...\n"
    )
    write(tmp_path, "h.txt", f"Tiêu đề\n\n{BODY_1}\n\n{BODY_2}\n\n{tail}")
    doc = only_doc(tmp_path)
    assert paragraphs(doc.text) == [BODY_1, BODY_2, "Đinh Đông"]


def test_duplicated_captions_are_kept_once(tmp_path):
    caption = "Đại biểu phát biểu tham luận tại đại hội"
    write(tmp_path, "i.txt", f"Tiêu đề\n\n{BODY_1}\n\n{caption}\n\n{caption}\n\n{BODY_2}")
    assert paragraphs(only_doc(tmp_path).text) == [BODY_1, caption, BODY_2]


def test_markdown_headings(tmp_path):
    write(tmp_path, "j.md", f"# Tiêu đề bài viết\n\n{BODY_1}\n\n## Mục phụ\n\n{BODY_2}\n")
    doc = only_doc(tmp_path)
    assert doc.title == "Tiêu đề bài viết"
    assert paragraphs(doc.text) == [BODY_1, "Mục phụ", BODY_2]


def test_xquad_style_file(tmp_path):
    write(tmp_path, "00_Super_Bowl_50.txt", f"Super Bowl 50\n\n{BODY_1}\n\n{BODY_2}\n")
    doc = only_doc(tmp_path)
    assert (doc.title, doc.date, doc.url) == ("Super Bowl 50", None, None)
    assert doc.text == f"{BODY_1}\n\n{BODY_2}"


def test_file_without_blank_lines_has_one_paragraph_per_line(tmp_path):
    write(tmp_path, "k.txt", f"Tiêu đề\n{BODY_1}\n{BODY_2}")
    doc = only_doc(tmp_path)
    assert (doc.title, paragraphs(doc.text)) == ("Tiêu đề", [BODY_1, BODY_2])


def test_title_only_file_keeps_its_line_as_text(tmp_path):
    write(tmp_path, "l.txt", "Hà Nội là thủ đô của Việt Nam\n")
    doc = only_doc(tmp_path)
    assert doc.title == doc.text == "Hà Nội là thủ đô của Việt Nam"


def test_text_is_cleaned_and_normalized():
    nfd = unicodedata.normalize("NFD", "Đại hội")
    raw = f"\ufeffTiêu\u200bđề  \r\n\r\n{nfd}\x07 diễn ra\t hôm nay.   \r\rDòng\u00a0cuối\n"
    doc = parse_article(raw, "x.txt")
    assert doc.title == "Tiêuđề"
    assert doc.text == "Đại hội diễn ra\t hôm nay.\n\nDòng cuối"
    assert doc.text == normalize(doc.text)
    assert parse_article(" \n\u200b\n\t\n", "y.txt") is None


# --- JSONL ------------------------------------------------------------------------------


def test_jsonl_rows_with_and_without_id_and_bad_lines(tmp_path):
    rows = [
        json.dumps(
            {"id": "a1", "title": "Tin một", "summary": "Tóm tắt.", "body": "Dòng 1.\nDòng 2."}
        ),
        "{not json",
        json.dumps({"title": "Tin ba", "text": "Nội dung ba.", "date": "29/11/2019", "url": "u"}),
        json.dumps({"id": 7, "title": "Không có thân bài"}),
        "",
        json.dumps(
            {"id": "a5", "body": "Câu đầu tiên làm tiêu đề. Câu thứ hai.", "date": "hôm qua"}
        ),
    ]
    write(tmp_path, "news.jsonl", "\n".join(rows) + "\n")
    skipped: list[tuple[Path, str]] = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append((p, r)))
    assert [d.doc_id for d in docs] == ["news.jsonl#a1", "news.jsonl#3", "news.jsonl#a5"]
    first, third, fifth = docs
    assert first.title == "Tin một" and first.summary == "Tóm tắt."
    assert first.text == "Tóm tắt.\n\nDòng 1.\n\nDòng 2."
    assert (third.date, third.url, third.text, third.summary) == (
        "2019-11-29",
        "u",
        "Nội dung ba.",
        None,
    )
    assert fifth.title == "Câu đầu tiên làm tiêu đề" and fifth.date == "hôm qua"
    assert [r.split(":")[0] for _, r in skipped] == ["line 2", "line 4"]
    assert all(p == tmp_path / "news.jsonl" for p, _ in skipped)


def test_summary_not_repeated_when_body_starts_with_it():
    doc = document_from_record({"title": "T", "summary": "Mở đầu.", "body": "Mở đầu. Tiếp."}, "f#1")
    assert doc.text == "Mở đầu. Tiếp."
    assert document_from_record({"title": "T", "body": "  "}, "f#2") is None


def test_jsonl_gz(tmp_path):
    with gzip.open(tmp_path / "news.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"id": "x", "title": "Tin nén", "body": BODY_1}, ensure_ascii=False))
    doc = only_doc(tmp_path)
    assert (doc.doc_id, doc.title, doc.text) == ("news.jsonl.gz#x", "Tin nén", BODY_1)


def test_broken_gzip_is_skipped(tmp_path):
    (tmp_path / "bad.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    write(tmp_path, "ok.txt", f"Tiêu đề\n\n{BODY_1}")
    skipped = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append(p.name))
    assert [d.doc_id for d in docs] == ["ok.txt"] and skipped == ["bad.jsonl.gz"]


# --- encodings and bad files ------------------------------------------------------------


def to_cp1258(text: str) -> bytes:
    """Windows Vietnamese: a base letter, then the tone as a separate combining byte."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tone = [c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323"]
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tone))
            out += base.encode("cp1258") + "".join(tone).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be-bom", "cp1258"])
def test_encodings(tmp_path, encoding):
    text = f"Đại hội Đảng bộ phường Kỳ Sơn\r\n\r\n{BODY_1}\r\n\r\n{BODY_2}\r\n"
    if encoding == "cp1258":
        data = to_cp1258(text)
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    elif encoding == "utf-16-be-bom":
        data = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    (tmp_path / "enc.txt").write_bytes(data)
    assert read_text_file(tmp_path / "enc.txt") == normalize(text.replace("\r\n", "\n"))
    doc = only_doc(tmp_path)
    assert doc.title == "Đại hội Đảng bộ phường Kỳ Sơn"
    assert paragraphs(doc.text) == [BODY_1, BODY_2]


# The title, BODY_1 and BODY_2 as glibc's iconv writes them (`iconv -t VISCII`, `-t TCVN5712-1`).
VISCII = (
    b"\xd0\xd5i h\xb5i \xd0\xe4ng b\xb5 ph\xdf\xb6ng K\xcf S\xbdn\n\nS\xe1ng 9/8, ph\xdf\xb6ng "
    b"\xd0o\xe0n K\xaat t\xb1 ch\xd1c \xd0\xd5i h\xb5i l\xa5n th\xd1 I, nhi\xaem k\xcf 2025 - 2030."
    b"\n\nD\xe2n s\xaf c\xfca ph\xdf\xb6ng h\xbdn 25.400 ng\xdf\xb6i, di\xaen t\xedch 134,31km2.\n"
)
TCVN3 = (
    b"\xa7\xb9i h\xe9i \xa7\xb6ng b\xe9 ph\xad\xeang K\xfa S\xacn\n\nS\xb8ng 9/8, ph\xad\xeang "
    b"\xa7o\xb5n K\xd5t t\xe6 ch\xf8c \xa7\xb9i h\xe9i l\xc7n th\xf8 I, nhi\xd6m k\xfa 2025 - 2030."
    b"\n\nD\xa9n s\xe8 c\xf1a ph\xad\xeang h\xacn 25.400 ng\xad\xeai, di\xd6n t\xddch 134,31km2.\n"
)


@pytest.mark.parametrize("data", [VISCII, TCVN3], ids=["viscii", "tcvn3"])
def test_pre_unicode_vietnamese_code_pages(tmp_path, data):
    (tmp_path / "old.txt").write_bytes(data)
    doc = only_doc(tmp_path)
    assert doc.title == "Đại hội Đảng bộ phường Kỳ Sơn"
    assert paragraphs(doc.text) == [BODY_1, BODY_2]


def test_cp1252_western_file_is_not_read_as_vietnamese(tmp_path):
    (tmp_path / "it.txt").write_bytes("Così è la vita\n\nPerò funziona.".encode("cp1252"))
    assert read_text_file(tmp_path / "it.txt") == "Così è la vita\n\nPerò funziona."
    (tmp_path / "de.txt").write_bytes("Grüße aus München, schöne Mädchen".encode("cp1252"))
    assert read_text_file(tmp_path / "de.txt") == "Grüße aus München, schöne Mädchen"


@pytest.mark.parametrize("data", [bytes(range(256)) * 8, bytes(range(1, 32)) * 40])
def test_binary_file_is_skipped_and_the_rest_loaded(tmp_path, data):
    (tmp_path / "image.txt").write_bytes(data)
    write(tmp_path, "ok.txt", f"Tiêu đề\n\n{BODY_1}")
    with pytest.raises(CorpusError, match="not a text file"):
        read_text_file(tmp_path / "image.txt")
    skipped: list[tuple[Path, str]] = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append((p, r)))
    assert [d.doc_id for d in docs] == ["ok.txt"]
    assert len(skipped) == 1 and skipped[0][0] == tmp_path / "image.txt"
    assert "not a text file" in skipped[0][1]


def test_empty_file_is_skipped(tmp_path, caplog):
    write(tmp_path, "empty.txt", "")
    write(tmp_path, "blank.md", " \n\n \n")
    write(tmp_path, "ok.txt", f"Tiêu đề\n\n{BODY_1}")
    skipped = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append(p.name))
    assert [d.doc_id for d in docs] == ["ok.txt"]
    assert skipped == ["blank.md", "empty.txt"]
    assert "empty.txt" in caplog.text


def test_text_file_over_the_size_limit_is_skipped_unread(tmp_path, monkeypatch):
    write(tmp_path, "big.md", f"Tiêu đề\n\n{BODY_1 * 40}")  # about 3 KB
    write(tmp_path, "ok.txt", f"Tiêu đề\n\n{BODY_1}")
    read, real = [], corpus.read_text_file
    monkeypatch.setattr(corpus, "read_text_file", lambda p: read.append(p.name) or real(p))
    skipped: list[tuple[Path, str]] = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append((p, r)), max_file_mb=0.002)
    assert [d.doc_id for d in docs] == ["ok.txt"] and read == ["ok.txt"]
    [(path, reason)] = skipped
    assert path.name == "big.md"
    assert reason.startswith("too large: 0.0 MB, over the 0.002 MB limit")
    assert "QA_MAX_FILE_MB" in reason
    assert len(load_corpus(tmp_path, max_file_mb=1)) == 2


def test_lines_over_the_limit_are_passed_over():
    stream = io.StringIO("abc\n" + "x" * 10 + "\n" + "y" * 11 + "\n" + "z" * 25 + "\ntail")
    assert list(corpus._lines(stream, 10)) == ["abc\n", "x" * 10 + "\n", None, None, "tail"]


def test_jsonl_row_over_the_limit_is_skipped_and_the_next_rows_read(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "MAX_ROW_CHARS", 200)
    rows = [
        {"id": "a", "title": "Tin a", "body": BODY_1},
        {"id": "huge", "title": "Tin dài", "body": BODY_2 * 10},
        {"id": "c", "title": "Tin c", "body": BODY_2},
    ]
    write(tmp_path, "news.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    skipped: list[str] = []
    docs = load_corpus(tmp_path, on_skip=lambda _p, r: skipped.append(r))
    assert [d.doc_id for d in docs] == ["news.jsonl#a", "news.jsonl#c"]
    assert skipped == ["line 2: over 200 characters, not one article"]


def test_same_article_under_two_names_is_kept_once(tmp_path):
    write(tmp_path, "a.txt", f"Tiêu đề\n\n{BODY_1}\n\n{BODY_2}\n")
    write(tmp_path, "b.txt", f"Tiêu đề  \r\n\r\n{BODY_1}\r\n\r\n{BODY_2}  \r\n")  # Windows copy
    write(tmp_path, "c.txt", f"Tiêu đề khác\n\n{BODY_1}\n\n{BODY_2}\n")  # another headline
    rows = [{"id": 1, "title": "Tin", "body": BODY_1}, {"id": 2, "title": "Tin", "body": BODY_1}]
    write(tmp_path, "d.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    skipped: list[tuple[str, str]] = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append((str(p), r)))
    assert [d.doc_id for d in docs] == ["a.txt", "c.txt", "d.jsonl#1"]
    assert skipped == [("b.txt", "same text as a.txt"), ("d.jsonl#2", "same text as d.jsonl#1")]


def test_files_deleted_after_listing_are_skipped(tmp_path):
    write(tmp_path, "a.txt", f"Tin a\n\n{BODY_1}")
    write(tmp_path, "b.txt", f"Tin b\n\n{BODY_2}")
    write(tmp_path, "c.jsonl", json.dumps({"title": "Tin c", "body": BODY_1}) + "\n")
    write(tmp_path, "d.txt", f"Tin d\n\n{BODY_2}")
    skipped: list[tuple[str, str]] = []
    docs = iter_documents(tmp_path, on_skip=lambda p, r: skipped.append((p.name, r)))
    assert next(docs).doc_id == "a.txt"  # the folder is listed by now
    (tmp_path / "b.txt").unlink()
    (tmp_path / "c.jsonl").unlink()
    assert [d.doc_id for d in docs] == ["d.txt"]
    assert skipped == [
        ("b.txt", "deleted before it could be read"),
        ("c.jsonl", "deleted before it could be read"),
    ]


# --- folders, doc_ids, errors -----------------------------------------------------------


def test_nested_folders_give_forward_slash_doc_ids(tmp_path):
    write(tmp_path, "b/c/x.md", f"Tin x\n\n{BODY_1}")
    write(tmp_path, "a.txt", f"Tin a\n\n{BODY_1}")
    write(tmp_path, "b/y.txt", f"Tin y\n\n{BODY_1}")
    write(tmp_path, "b/notes.pdf", "không phải bài báo")
    write(tmp_path, ".hidden.txt", f"Ẩn\n\n{BODY_1}")
    write(tmp_path, ".git/z.txt", f"Ẩn\n\n{BODY_1}")
    ids = [d.doc_id for d in load_corpus(tmp_path)]
    assert ids == ["a.txt", "b/c/x.md", "b/y.txt"]
    assert [d.doc_id for d in load_corpus(tmp_path / "b", root=tmp_path)] == ["b/c/x.md", "b/y.txt"]
    assert [d.doc_id for d in load_corpus(tmp_path / "b" / "y.txt")] == ["y.txt"]
    assert [d.doc_id for d in load_corpus([tmp_path / "a.txt", tmp_path / "b"])] == [
        "a.txt",
        "c/x.md",
        "y.txt",
    ]


def test_duplicate_doc_ids_keep_the_first(tmp_path):
    write(tmp_path, "a.txt", f"Tin a\n\n{BODY_1}")
    docs = load_corpus([tmp_path, tmp_path / "a.txt"])
    assert [d.doc_id for d in docs] == ["a.txt"]


def test_missing_path_raises(tmp_path):
    with pytest.raises(CorpusError, match="No such file or folder"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError):
        list(iter_documents(tmp_path / "nowhere"))


def test_folder_without_articles_raises_an_actionable_error(tmp_path):
    write(tmp_path, "readme.pdf", "x")
    with pytest.raises(CorpusError, match=r"No articles found under .*\.txt, \.md or \.jsonl"):
        load_corpus(tmp_path)


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".jsonl", ".jsonl.gz")


# --- the real seeds ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> dict[str, Document]:
    return {d.doc_id[:3]: d for d in load_corpus(SEEDS)}


def test_the_five_seeds_load(seeds):
    assert sorted(seeds) == ["000", "001", "002", "003", "004"]
    for doc in seeds.values():
        assert doc.doc_id.endswith(".txt") and "/" not in doc.doc_id
        assert doc.text == normalize(doc.text) and doc.title and doc.text
        assert "\r" not in doc.text and "\n\n\n" not in doc.text
        assert all(p == p.strip() and p for p in paragraphs(doc.text))
        assert not doc.text.startswith(doc.title + "\n") or doc.doc_id.startswith("004")


def test_seed_003_saved_page(seeds):
    doc = seeds["003"]
    assert doc.title == "Tích cực chuẩn bị Đại hội Đảng bộ các cấp"
    assert doc.date == "2019-11-29"
    assert "Bình luận" not in doc.text and "Kinh tế châu Âu" not in doc.text
    assert "Lai Châu" in doc.text and "Thứ bảy" not in doc.text and "16:14" not in doc.text
    assert doc.text.startswith("Hòa chung không khí")


def test_seed_001_source_url_and_captions(seeds):
    doc = seeds["001"]
    assert doc.url.startswith("https://baolangson.vn/") and doc.url.endswith(".html")
    assert "Nguồn" not in doc.text
    paras = paragraphs(doc.text)
    assert all(a != b for a, b in itertools.pairwise(paras))


def test_seed_002_date_marker(seeds):
    doc = seeds["002"]
    assert doc.date == "2025-07-23"
    assert doc.title == "Tập trung xây dựng Đảng bộ phường Kỳ Sơn trong sạch, vững mạnh"
    assert doc.text.startswith("Trong 2 ngày 22-23/7")


def test_seed_004_lead_paragraph_title(seeds):
    doc = seeds["004"]
    assert doc.date == "2025-08-14"
    assert doc.title.startswith("Ngày 14/8, Đảng bộ các cơ quan Đảng")
    assert len(doc.title) <= 160
    assert "Ngày 14/8" in doc.text


def test_seed_000_plain_article(seeds):
    doc = seeds["000"]
    assert doc.title == "Đại hội đại biểu Đảng bộ phường Đoàn Kết lần thứ I"
    assert doc.text.startswith("Sáng 9/8") and "hơn 25.400 người" in doc.text


@pytest.mark.skipif(not VIETNEWS.exists(), reason="vietnews-20k.jsonl.gz not available")
def test_vietnews_sample_loads():
    docs = list(itertools.islice(iter_documents(VIETNEWS), 200))
    assert len(docs) == 200
    assert len({d.doc_id for d in docs}) == 200
    for doc in docs:
        prefix, _, row_id = doc.doc_id.partition("#")
        assert prefix == "vietnews-20k.jsonl.gz" and row_id
        assert doc.title and doc.text and doc.summary
        assert doc.text.startswith(doc.summary)
