"""qa/upload_cache.py: Gradio's copies of uploads deleted once handled, the folder of a killed
app swept at the next start, and a URL into the folder whose file is gone answering 404."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from qa.upload_cache import GONE, PREFIX, GoneFiles, discard, make_cache


def test_discard_deletes_the_copy_and_its_folder_only_inside_the_cache(tmp_path):
    cache = make_cache(tmp_path)
    copy = cache / "3f2a" / "bai.txt"
    copy.parent.mkdir()
    copy.write_text("tin", encoding="utf-8")
    outside = tmp_path / "mine.txt"
    outside.write_text("giữ lại", encoding="utf-8")
    discard(copy, cache)
    discard(outside, cache)
    assert not copy.exists() and not copy.parent.exists() and cache.is_dir()
    assert outside.exists()  # never deletes anything outside the cache


def test_the_folder_of_a_process_that_is_gone_is_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    left = tmp_path / f"{PREFIX}{dead}-abc"
    (left / "x").mkdir(parents=True)
    alive = tmp_path / f"{PREFIX}{os.getpid()}-old"
    alive.mkdir()
    mine = make_cache(tmp_path)
    assert not left.exists() and alive.exists() and mine.name.startswith(f"{PREFIX}{os.getpid()}-")


def call(app, path: str, method: str = "GET") -> tuple[int, bytes]:
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    asyncio.run(app({"type": "http", "method": method, "path": path}, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_gone_file_answers_404_and_the_rest_goes_to_gradio(tmp_path):
    cache = make_cache(tmp_path)
    kept = cache / "ab" / "con.txt"
    kept.parent.mkdir()
    kept.write_text("x", encoding="utf-8")

    async def gradio(scope, receive, send):  # what Gradio answers: 403 for what it won't serve
        await send({"type": "http.response.start", "status": 200 if scope["path"].endswith(
            "con.txt") else 403, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = GoneFiles(gradio, cache)
    assert call(app, f"/gradio_api/file={cache}/ab/gone.txt") == (404, GONE.encode())
    assert call(app, f"/gradio_api/file={cache}/ab/gone.txt", "HEAD")[0] == 404
    assert call(app, f"/gradio_api/file={kept}")[0] == 200
    assert call(app, f"/gradio_api/file={tmp_path}/elsewhere.txt")[0] == 403  # not ours
    assert call(app, f"/gradio_api/file={cache}/../{tmp_path.name}/x.txt")[0] == 403
