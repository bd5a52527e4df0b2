"""The user's own articles: files uploaded from the app into one folder of the corpus.

Pure file handling; the caller re-indexes afterwards (`Assistant.update_index`). Names are
reduced to a safe basename and never overwrite another file; contents are checked with the
corpus loader's own rules, so a file accepted here is one the index can read. Refusals are
`LibraryError`s whose messages are already in Vietnamese (like `BadQuestionError`): they are
about what the person uploaded, and the app shows them as they are.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from qa.corpus import MAX_FILE_MB, iter_documents, read_text_file
from qa.errors import CorpusError, QAError
from qa.store import fsync_path

ALLOWED_SUFFIXES = (".txt", ".md", ".jsonl")
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
MAX_STEM_CHARS = 80
FALLBACK_STEM = "bai-viet"
_STAGING_PREFIX = ".upload-"  # hidden: the corpus loader skips it while it is checked

_UNSAFE = re.compile(r"[^\w.\-]+")  # \w is Unicode-aware: Vietnamese letters stay
_RUNS = re.compile(r"([._\-])[._\-]+")


class LibraryError(QAError):
    """An upload or removal was refused; the message (Vietnamese) says why."""


@dataclass(frozen=True)
class LibraryFile:
    name: str
    path: Path
    size: int
    articles: int | None = None  # known right after `add` (None when only listed)
    skipped: int = 0  # JSONL rows that could not be read


def human_size(n: int) -> str:
    """`5 MB`, `1,5 KB`, `12 byte`: sizes as a Vietnamese reader writes them."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            value = f"{n / scale:.1f}".rstrip("0").rstrip(".")
            return f"{value.replace('.', ',')} {unit}"
    return f"{n} byte"


def allowed_suffix(name: str, suffixes: tuple[str, ...] = ALLOWED_SUFFIXES) -> str | None:
    """The whitelisted extension `name` ends with (lower case), else None."""
    lowered = name.lower()
    return next((s for s in suffixes if lowered.endswith(s)), None)


def safe_filename(name: str, suffixes: tuple[str, ...] = ALLOWED_SUFFIXES) -> str:
    """A basename of letters, digits, `-`, `_` and `.` that cannot escape the folder or hide.

    `../../etc/passwd` -> `passwd`, `a/b.txt` -> `b.txt`, `Bài báo 1.TXT` -> `Bài_báo_1.txt`.
    """
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    suffix = allowed_suffix(base, suffixes) or ""
    stem = base[: len(base) - len(suffix)] if suffix else base
    stem = _RUNS.sub(r"\1", _UNSAFE.sub("_", stem)).strip("._- ")
    stem = stem[:MAX_STEM_CHARS].rstrip("._- ") or FALLBACK_STEM
    return stem + suffix


class Library:
    """The uploads folder: list, add (checked, never overwriting) and remove articles."""

    def __init__(self, folder: Path | str, max_bytes: int = DEFAULT_MAX_BYTES,
                 suffixes: tuple[str, ...] = ALLOWED_SUFFIXES, max_file_mb: float = MAX_FILE_MB):
        """`max_bytes`: the upload limit; `max_file_mb`: the indexer's limit for one .txt/.md
        article (Settings.max_file_mb), which a text upload must also stay under."""
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.max_file_mb = max_file_mb
        self.suffixes = suffixes

    def files(self) -> list[LibraryFile]:
        """The articles in the folder, by name (hidden and unsupported files left out)."""
        if not self.folder.is_dir():
            return []
        return [LibraryFile(p.name, p, p.stat().st_size)
                for p in sorted(self.folder.iterdir(), key=lambda p: p.name.lower())
                if p.is_file() and not p.name.startswith(".")
                and allowed_suffix(p.name, self.suffixes)]

    def add(self, source: Path | str, name: str | None = None,
            reserved: Iterable[str] = ()) -> LibraryFile:
        """Copy `source` in as `name` (default: its own name), made safe and unique.

        `reserved`: other names to avoid (articles of the rest of the corpus whose doc_ids a
        same-named upload would clash with).
        """
        source = Path(source)
        shown = name if name is not None else source.name
        suffix = allowed_suffix(shown, self.suffixes)
        if suffix is None:
            kinds = ", ".join(self.suffixes)
            raise LibraryError(f"Tệp “{shown}” không được nhận: chỉ nhận tệp {kinds}.")
        size = source.stat().st_size
        limit = self.max_bytes
        if not suffix.startswith(".jsonl"):  # one article a file: the indexer's limit too
            limit = min(limit, int(self.max_file_mb * 2**20))
        if size > limit:
            raise LibraryError(f"Tệp “{shown}” quá lớn ({human_size(size)}): giới hạn là "
                               f"{human_size(limit)} mỗi tệp.")
        if size == 0:
            raise LibraryError(f"Tệp “{shown}” rỗng: không có bài báo nào để thêm.")
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f"{_STAGING_PREFIX}{uuid.uuid4().hex}{suffix}"
        try:
            shutil.copyfile(source, staging)
            fsync_path(staging)  # on disk before it is listed: "added" survives a crash
            articles, skipped = self._check(staging, shown)
            final = self._place(staging, safe_filename(shown, self.suffixes), reserved)
            fsync_path(self.folder)
        finally:
            staging.unlink(missing_ok=True)
        return LibraryFile(final.name, final, size, articles, skipped)

    def sweep(self, older_than_s: float = 3600.0) -> list[Path]:
        """Delete the staging copies that uploads killed mid-way left behind (hidden, so never
        listed or indexed, but they take space). Recent ones may be uploads still running."""
        removed = []
        if self.folder.is_dir():
            for p in self.folder.glob(f"{_STAGING_PREFIX}*"):
                try:
                    if p.is_file() and time.time() - p.stat().st_mtime > older_than_s:
                        p.unlink()
                        removed.append(p)
                except OSError:  # gone meanwhile, or not ours to delete
                    continue
        return removed

    def remove(self, name: str) -> LibraryFile:
        """Delete one article file of the folder (by its listed name, nothing else)."""
        for f in self.files():
            if f.name == name:
                f.path.unlink()
                return f
        raise LibraryError(f"Không có tệp “{name}” trong thư viện (có thể đã bị xóa).")

    def _check(self, path: Path, shown: str) -> tuple[int, int]:
        """(articles, skipped rows) the corpus loader reads from the file; refuses none."""
        try:
            read_text_file(path)
        except CorpusError:
            raise LibraryError(f"Tệp “{shown}” không phải tệp văn bản: hãy lưu bài báo dưới "
                               "dạng văn bản UTF-8 (.txt, .md) hoặc JSONL.") from None
        skipped: list[str] = []
        articles = sum(1 for _ in iter_documents(path, on_skip=lambda _p, r: skipped.append(r),
                                                 max_file_mb=self.max_file_mb))
        if articles == 0:
            hint = (" Mỗi dòng JSONL cần một đối tượng có trường “body” hoặc “text”."
                    if path.name.endswith(".jsonl") else "")
            raise LibraryError(f"Không đọc được bài báo nào trong tệp “{shown}”.{hint}")
        return articles, len(skipped)

    def _place(self, staging: Path, wanted: str, reserved: Iterable[str]) -> Path:
        """Link the checked file in under `wanted`, or `stem-2.ext`, `stem-3.ext`...: the
        link fails rather than overwrite, so two uploads at once cannot clash either."""
        suffix = allowed_suffix(wanted, self.suffixes) or ""
        stem = wanted[: len(wanted) - len(suffix)]
        taken = {n.lower() for n in reserved} | {p.name.lower() for p in self.folder.iterdir()}
        for i in range(1, 10_000):
            candidate = wanted if i == 1 else f"{stem}-{i}{suffix}"
            target = self.folder / candidate
            if candidate.lower() in taken or target.exists():
                continue
            try:
                os.link(staging, target)
            except FileExistsError:
                continue
            except OSError:  # no hard links here: exclusive create, then copy
                try:
                    with open(target, "xb") as out, open(staging, "rb") as src:
                        shutil.copyfileobj(src, out)
                except FileExistsError:
                    continue
            return target
        raise LibraryError(f"Đã có quá nhiều tệp tên “{wanted}” trong thư viện.")
