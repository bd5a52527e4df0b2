"""Gradio's temporary copies of uploaded files: one folder for this process, emptied as soon as
an upload is handled (the library keeps its own copy, a refused file is kept nowhere), removed
when the app stops (and, after a kill, at the next start), and a `/file=` URL into it whose file
is gone answers 404 (Gradio answers 403 for every file it does not serve).

Gradio stores an upload at `<GRADIO_TEMP_DIR>/<sha of the content>/<name>` and serves it at
`/gradio_api/file=<that path>` while it exists (gradio/route_utils.py, `upload_fn`, `file_fetch`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote

log = logging.getLogger("qa.app")

PREFIX = "qa-gradio-"
GONE = "Tệp này không còn trên máy chủ (đã được xử lý hoặc đã xóa)."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def make_cache(parent: Path | None = None) -> Path:
    """A fresh folder for this process (`qa-gradio-<pid>-…`); the ones of processes that are
    gone are deleted first."""
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    for old in parent.glob(f"{PREFIX}*"):
        pid = old.name[len(PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
            log.info("removed %s, left by an app that was stopped abruptly", old)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=parent)).resolve()


def inside(path: Path | str, folder: Path) -> bool:
    try:
        return Path(os.path.realpath(path)).is_relative_to(folder)
    except (OSError, ValueError):
        return False


def discard(path: Path | str, folder: Path) -> None:
    """Delete Gradio's copy `path` (only inside `folder`) and the content-named folder holding
    it once empty."""
    path = Path(path)
    if not inside(path, folder):
        return
    path.unlink(missing_ok=True)
    parent = Path(os.path.realpath(path.parent))
    if parent != folder and parent.is_relative_to(folder):
        try:
            parent.rmdir()
        except OSError:  # not empty: another upload of the same content is being handled
            pass


class GoneFiles:
    """ASGI middleware: GET or HEAD `…/file=<path>` into `folder` for a file that is not there
    answers 404, in Vietnamese; everything else goes on to Gradio."""

    def __init__(self, app, folder: Path | str):
        self.app = app
        self.folder = Path(folder).resolve()

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD"):
            path = unquote(scope.get("path", ""))
            at = path.find("/file=")
            if at >= 0:
                target = path[at + len("/file="):]
                if inside(target, self.folder) and not Path(target).is_file():
                    body = GONE.encode("utf-8")
                    await send({"type": "http.response.start", "status": 404,
                                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body",
                                "body": body if scope["method"] == "GET" else b""})
                    return
        await self.app(scope, receive, send)
