"""Tests for qa/library.py: the uploads folder, on made-up files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.corpus import load_corpus
from qa.library import Library, LibraryError, human_size, safe_filename

ARTICLE = "Xã Hòa Bình bầu Chủ tịch mới\n\nÔng Lò Văn Tám được bầu làm Chủ tịch UBND xã Hòa Bình.\n"


def source(tmp_path: Path, name: str, content: str | bytes = ARTICLE) -> Path:
    """A file to upload, kept apart from the library folder."""
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / Path(name).name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path) -> Library:
    return Library(tmp_path / "uploads", max_bytes=1000)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"),
    ("a/b.txt", "b.txt"),
    ("C:\\Users\\x\\..\\bài.md", "bài.md"),
    ("..", "bai-viet"),
    (".bashrc.txt", "bashrc.txt"),
    ("Bài báo số 1.TXT", "Bài_báo_số_1.txt"),
    ('tin <mới> & "x"?.md', "tin_mới_x.md"),
    ("a:b*c|d.txt", "a_b_c_d.txt"),
    ("   .jsonl", "bai-viet.jsonl"),
])
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_is_nfc_and_short():
    import unicodedata

    name = safe_filename(unicodedata.normalize("NFD", "Hòa Bình.txt"))
    assert name == unicodedata.normalize("NFC", "Hòa_Bình.txt")
    assert len(safe_filename("x" * 500 + ".txt")) <= 84


def test_add_copies_into_the_folder_and_lists(library, tmp_path):
    added = library.add(source(tmp_path, "hoa-binh.txt"))
    assert added.name == "hoa-binh.txt" and added.articles == 1
    assert (library.folder / "hoa-binh.txt").read_text(encoding="utf-8") == ARTICLE
    assert [f.name for f in library.files()] == ["hoa-binh.txt"]
    assert load_corpus(library.folder)[0].title == "Xã Hòa Bình bầu Chủ tịch mới"


def test_path_escapes_stay_in_the_folder(library, tmp_path):
    added = library.add(source(tmp_path, "x.txt"), name="../../escape.txt")
    assert added.path.parent == library.folder and added.name == "escape.txt"
    assert not (tmp_path / "escape.txt").exists()
    with pytest.raises(LibraryError, match="không được nhận"):
        library.add(source(tmp_path, "passwd"), name="../../etc/passwd")


def test_unicode_name_kept(library, tmp_path):
    added = library.add(source(tmp_path, "Tin tức Hòa Bình.md"))
    assert added.name == "Tin_tức_Hòa_Bình.md" and added.path.is_file()


def test_duplicates_get_a_suffix(library, tmp_path):
    names = [library.add(source(tmp_path, "a.txt", ARTICLE.replace("Tám", t))).name
             for t in ("Tám", "Chín", "Mười")]
    assert names == ["a.txt", "a-2.txt", "a-3.txt"]
    assert "Tám" in (library.folder / "a.txt").read_text(encoding="utf-8")  # not overwritten


def test_reserved_names_are_avoided(library, tmp_path):
    assert library.add(source(tmp_path, "000_seed.txt"), reserved={"000_SEED.txt"}).name \
        == "000_seed-2.txt"


@pytest.mark.parametrize("name", ["virus.exe", "notes.pdf", "archive.jsonl.gz", "noext"])
def test_wrong_extension_refused(library, tmp_path, name):
    with pytest.raises(LibraryError, match=r"chỉ nhận tệp \.txt, \.md, \.jsonl"):
        library.add(source(tmp_path, name))
    assert library.files() == []


def test_too_big_refused(library, tmp_path):
    with pytest.raises(LibraryError, match="quá lớn .*giới hạn là 1000 byte"):
        library.add(source(tmp_path, "big.txt", "Tiêu đề\n\n" + "chữ " * 400))
    assert library.files() == []


def test_empty_refused(library, tmp_path):
    with pytest.raises(LibraryError, match="rỗng"):
        library.add(source(tmp_path, "empty.txt", ""))


def test_binary_refused(library, tmp_path):
    with pytest.raises(LibraryError, match="không phải tệp văn bản"):
        library.add(source(tmp_path, "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 5))
    assert library.files() == [] and not any(library.folder.iterdir())  # no staging left


def test_jsonl_rows_counted_and_bad_rows_skipped(library, tmp_path):
    rows = [{"id": 1, "title": "Bài một", "body": "Nội dung bài một."},
            {"id": 2, "title": "Bài hai", "text": "Nội dung bài hai."}]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n"
    added = library.add(source(tmp_path, "bai.jsonl", text))
    assert (added.articles, added.skipped) == (2, 1)


def test_jsonl_without_articles_refused(library, tmp_path):
    with pytest.raises(LibraryError, match="Không đọc được bài báo nào"):
        library.add(source(tmp_path, "bad.jsonl", '{"title": "no body"}\n'))


def test_remove(library, tmp_path):
    library.add(source(tmp_path, "a.txt"))
    library.add(source(tmp_path, "b.md"))
    assert library.remove("a.txt").name == "a.txt"
    assert [f.name for f in library.files()] == ["b.md"]
    with pytest.raises(LibraryError, match="Không có tệp"):
        library.remove("a.txt")


def test_remove_only_listed_files(library, tmp_path):
    library.add(source(tmp_path, "a.txt"))
    outside = tmp_path / "outside.txt"
    outside.write_text("keep", encoding="utf-8")
    for name in ("../outside.txt", str(outside), ".", ""):
        with pytest.raises(LibraryError):
            library.remove(name)
    assert outside.exists()


def test_listing_skips_hidden_and_other_files(library, tmp_path):
    library.add(source(tmp_path, "a.txt"))
    (library.folder / ".upload-123.txt").write_text("half", encoding="utf-8")
    (library.folder / "notes.pdf").write_bytes(b"%PDF")
    assert [f.name for f in library.files()] == ["a.txt"]
    assert Library(tmp_path / "missing").files() == []


def test_human_size():
    assert human_size(5 * 1024 * 1024) == "5 MB"
    assert human_size(1536) == "1,5 KB"
    assert human_size(12) == "12 byte"


def test_text_upload_over_the_indexer_limit_is_refused_but_jsonl_is_not(tmp_path):
    """A .txt/.md upload must fit the indexer's per-file limit (QA_MAX_FILE_MB) too, or it
    would be kept but never indexed; a JSONL file holds many articles and is streamed."""
    library = Library(tmp_path / "uploads", max_bytes=10_000, max_file_mb=500 / 2**20)
    text = ARTICLE + "Thêm một câu nữa cho dài. " * 30
    with pytest.raises(LibraryError, match="quá lớn .*giới hạn là 500 byte"):
        library.add(source(tmp_path, "dai.txt", text))
    rows = json.dumps({"title": "Tin dài", "body": text}, ensure_ascii=False) + "\n"
    assert library.add(source(tmp_path, "dai.jsonl", rows)).articles == 1
