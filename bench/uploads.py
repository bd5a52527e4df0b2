"""Upload-to-searchable time of the real app, and its restart time on an unchanged corpus.

    .venv/bin/python bench/uploads.py --runs 3                      # this checkout
    .venv/bin/python bench/uploads.py --runs 3 --root /tmp/qa-before   # another checkout, same script

Each run starts `python app.py` (of the checkout at `--root`) on seeds/ with fresh index and
uploads folders, then for each size drops one article of that size on the upload box as the page
does and asks about a sentence placed in its middle through `/ask` every `--poll` seconds:

- `searchable_s`: from the upload until a reply cites the uploaded article's passage holding
  that sentence (what a person asking about the new article needs);
- `complete_s`: from the upload until the app logs that the whole update (vectors included)
  is over;
- then the app is stopped and started again on the same, unchanged corpus (seeds + the
  upload): `restart_answer_s` (process start to the first answer), `restart_ready_s` (to the
  end of the start's update), whether that start wrote a new index version, and whether it
  built BM25 again.

The article is vietnews-20k bodies (in file order) joined into one text of the size asked for,
which is a distractor-rich but realistic article; nothing is written into the repository.
A benchmark, not a test: it prints one JSON line a measurement and the medians.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the app-driving helpers of the app tests

from test_app import SEEDS, start_app, stop_app, wait_until_answers  # noqa: E402
from test_faults import upload_like_the_page  # noqa: E402

VIETNEWS = ROOT.parent / "shared" / "data" / "vietnews-20k.jsonl.gz"
NEEDLE = ("Chiều 14/11, Hội Nông dân xã Sủng Trà tổ chức đại hội nhiệm kỳ mới. Ông Vừ Mí Thào "
          "được bầu giữ chức Chủ tịch Hội Nông dân xã Sủng Trà với số phiếu tuyệt đối.")
QUESTION = "Ai được bầu giữ chức Chủ tịch Hội Nông dân xã Sủng Trà?"


def article(size_mb: float) -> str:
    """One article of about `size_mb` MB (UTF-8): a title, vietnews bodies, NEEDLE in the middle."""
    target = int(size_mb * 2**20)
    parts, size = [], 0
    with gzip.open(VIETNEWS, "rt", encoding="utf-8") as f:
        for line in f:
            body = json.loads(line)["body"].strip()
            parts.append(body)
            size += len(body.encode("utf-8")) + 2
            if size >= target:
                break
    parts.insert(len(parts) // 2, NEEDLE)
    return f"Tổng hợp tin tức địa phương ({size_mb:g} MB)\n\n" + "\n\n".join(parts) + "\n"


def log_has(log: Path, text: str, after: int = 0) -> bool:
    return text in log.read_text(encoding="utf-8", errors="replace")[after:]


def finds_needle(reply: dict, name: str) -> bool:
    return any(c["doc_id"] == name and "Sủng Trà" in c["text"]
               for c in reply.get("citations", []))


def measure_upload(url: str, proc, log: Path, path: Path, poll: float, timeout: float) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)
    offset = len(log.read_text(encoding="utf-8", errors="replace"))
    started = time.monotonic()
    upload_like_the_page(url, path)
    out: dict = {"searchable_s": None, "complete_s": None}
    while time.monotonic() - started < timeout:
        assert proc.poll() is None, f"the app exited: {log.read_text()[-2000:]}"
        now = time.monotonic() - started
        if out["complete_s"] is None and log_has(log, "ready: ", offset):
            out["complete_s"] = round(now, 1)
        if out["searchable_s"] is None:
            reply = client.predict(QUESTION, [], api_name="/ask")
            if finds_needle(reply, path.name):
                out["searchable_s"] = round(time.monotonic() - started, 1)
                out["answer"] = reply.get("answer")
                out["indexing_line"] = reply.get("indexing")
        if out["searchable_s"] is not None and out["complete_s"] is not None:
            break
        time.sleep(poll)
    return out


def current_version(tmp: Path) -> str | None:
    pointer = tmp / "index" / "CURRENT"
    return pointer.read_text().strip() if pointer.exists() else None


def measure_restart(tmp: Path, n: int) -> dict:
    before = current_version(tmp)
    started = time.monotonic()
    proc, url, log = start_app(tmp, SEEDS, f"restart-{n}.log", root=ARGS.root)
    try:
        answer_s = wait_until_answers(url, proc, log)
        while not log_has(log, "ready: "):
            assert proc.poll() is None and time.monotonic() - started < 900
            time.sleep(0.2)
        ready_s = time.monotonic() - started
    finally:
        stop_app(proc)
    return {"restart_answer_s": round(answer_s, 1), "restart_ready_s": round(ready_s, 1),
            "restart_new_version": current_version(tmp) != before,
            "restart_built_bm25": log_has(log, "building BM25")}


def one_run(size_mb: float, run: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="qa-uploads-") as work:
        tmp = Path(work)
        incoming = tmp / "incoming"
        incoming.mkdir()
        path = incoming / f"bai-{str(size_mb).replace('.', '_')}mb.txt"  # bai-0_5mb.txt
        path.write_text(article(size_mb), encoding="utf-8")
        proc, url, log = start_app(tmp, SEEDS, "start.log", root=ARGS.root)
        try:
            start_s = wait_until_answers(url, proc, log)
            while not log_has(log, "ready: "):
                time.sleep(0.2)
            row = {"root": str(ARGS.root), "size_mb": size_mb, "run": run,
                   "bytes": path.stat().st_size, "start_answer_s": round(start_s, 1)}
            row.update(measure_upload(url, proc, log, path, ARGS.poll, ARGS.timeout))
        finally:
            stop_app(proc)
        row.update(measure_restart(tmp, run))
        return row


def main(argv=None) -> None:
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py to run")
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.5, 2.0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll", type=float, default=2.0, help="seconds between questions")
    ap.add_argument("--timeout", type=float, default=1800.0, help="per upload")
    ap.add_argument("--out", type=Path, default=None, help="also append the rows here (JSONL)")
    ARGS = ap.parse_args(argv)
    ARGS.root = ARGS.root.resolve()
    rows = []
    for run in range(1, ARGS.runs + 1):
        for size in ARGS.sizes:
            row = one_run(size, run)
            rows.append(row)
            line = json.dumps(row, ensure_ascii=False)
            print(line, flush=True)
            if ARGS.out:
                with open(ARGS.out, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
    keys = ["searchable_s", "complete_s", "restart_answer_s", "restart_ready_s"]
    for size in ARGS.sizes:
        mine = [r for r in rows if r["size_mb"] == size]
        medians = {k: statistics.median(v) for k in keys
                   if (v := [r[k] for r in mine if r.get(k) is not None])}
        print(json.dumps({"size_mb": size, "runs": len(mine), "median": medians}))


ARGS: argparse.Namespace

if __name__ == "__main__":
    main()
