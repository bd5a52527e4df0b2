"""Atomic, versioned index folders.

Layout: `INDEX_DIR/CURRENT` names the live version folder (`v-...`) that holds
`manifest.json` and the data files. A new version is written in full into a temporary folder,
flushed, renamed, and only then does `CURRENT` switch (an `os.replace`, atomic on POSIX).
A build killed at any moment therefore leaves the previous index loadable; its leftovers are
swept away by the next successful write.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from qa.errors import IndexCorruptError, IndexMissingError

MANIFEST = "manifest.json"
CURRENT = "CURRENT"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's entry to disk (a folder: the names in it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class IndexStore:
    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser()

    def current(self) -> Path | None:
        """The live version folder, or None where no complete index was ever written."""
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, UnicodeDecodeError) as e:  # unreadable, or garbage bytes
            raise IndexCorruptError(
                f"The index at {self.root} is damaged ({CURRENT} is unreadable: {e}). "
                f"{self.rebuild_hint()}"
            ) from e
        try:
            found = (name.startswith("v-") and name.isprintable() and "/" not in name
                     and "\\" not in name and (self.root / name / MANIFEST).is_file())
        except OSError:  # a name the file system refuses (too long, ...)
            found = False
        if not found:
            raise IndexCorruptError(
                f"The index at {self.root} is damaged ({CURRENT} points to a missing version). "
                f"{self.rebuild_hint()}"
            )
        return self.root / name

    def rebuild_hint(self) -> str:
        return f"Rebuild it: `qa index --rebuild --index-dir {self.root} CORPUS`."

    def exists(self) -> bool:
        try:
            return self.current() is not None
        except IndexCorruptError:
            return True

    def read_manifest(self) -> dict:
        folder = self.current()
        if folder is None:
            raise IndexMissingError(
                f"No index at {self.root}. Build one first: `qa index PATH` (e.g. `qa index seeds`)."
            )
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:  # ValueError: bad JSON or bad UTF-8
            raise IndexCorruptError(
                f"The index manifest in {folder} is unreadable ({e}). {self.rebuild_hint()}"
            ) from e
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise IndexCorruptError(
                f"The index manifest in {folder} is not an index manifest. {self.rebuild_hint()}"
            )
        return manifest

    def verify(self, folder: Path, manifest: dict, deep: bool = False) -> None:
        """Every data file is there with the recorded size (and digest when `deep`)."""
        for name, meta in manifest.get("files", {}).items():
            path = folder / name
            try:
                intact = path.is_file() and path.stat().st_size == meta["size"] and (
                    not deep or file_digest(path) == meta["sha256"])
            except (OSError, KeyError, TypeError):  # unreadable, or a manifest entry mangled
                intact = False
            if not intact:
                raise IndexCorruptError(
                    f"Index file {path} is missing, truncated or changed. {self.rebuild_hint()}"
                )

    def write(self, fill: Callable[[Path], dict]) -> Path:
        """Run `fill(tmp_folder) -> manifest` and publish the result atomically.

        The manifest's `files` may already give the size and digest of files `fill` linked in
        unchanged: those are not hashed again (a size that differs is)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir()
        try:
            manifest = fill(tmp)
            known = manifest.get("files") or {}
            files = {}
            for p in sorted(tmp.rglob("*")):
                if p.is_file():
                    name, size = str(p.relative_to(tmp)), p.stat().st_size
                    meta = known.get(name)
                    files[name] = (meta if isinstance(meta, dict) and meta.get("size") == size
                                   else {"size": size, "sha256": file_digest(p)})
            manifest["files"] = files
            (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
            _fsync_tree(tmp)
            final = self.root / f"v-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            os.rename(tmp, final)
            pointer = self.root / f".{CURRENT}.{uuid.uuid4().hex[:6]}"
            pointer.write_text(final.name, encoding="utf-8")
            with open(pointer, "rb") as f:
                os.fsync(f.fileno())
            os.replace(pointer, self.root / CURRENT)
            fsync_path(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.sweep(keep=final)
        return final

    def sweep(self, keep: Path) -> None:
        """Remove old versions and the leftovers of killed builds."""
        for p in self.root.iterdir():
            if p == keep or p.name == CURRENT:
                continue
            if p.name.startswith(("v-", ".tmp-", f".{CURRENT}.")):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)
