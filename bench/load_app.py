"""Load test of the chat app's `/ask` API: N concurrent gradio_client clients (threads), each
asking M seed questions; prints correct/total, errors and latency percentiles.

    .venv/bin/python bench/load_app.py                  # starts app.py on seeds/ (fresh index)
    .venv/bin/python bench/load_app.py --url http://127.0.0.1:7860   # an app already running

When it starts the app it also prints the time from process start to the first answer.
A benchmark, not a test: nothing here fails the build.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

from gradio_client import Client

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl"


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").lower().split())


def is_correct(result: dict, answers: list[str]) -> bool:
    got = norm(result.get("answer", ""))
    return bool(got) and any(norm(a) == got or norm(a) in got for a in answers)


def load_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r.get("answerable") and not r.get("history")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index_dir: str, uploads_dir: str, timeout: float = 300):
    """app.py on seeds/ on a free port: (process, url, seconds from start to first answer)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--corpus", str(ROOT / "seeds"),
         "--index-dir", index_dir, "--uploads-dir", uploads_dir],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            sys.exit(f"app.py exited with {proc.returncode}")
        try:
            result = Client(url, verbose=False).predict("Ai là Bí thư Tỉnh ủy Lai Châu?", [],
                                                        api_name="/ask")
            if result.get("answer"):
                return proc, url, time.monotonic() - started
        except Exception:  # not listening yet
            time.sleep(0.25)
    proc.kill()
    sys.exit(f"app.py did not answer within {timeout}s")


def run_load(url: str, rows: list[dict], clients: int, per_client: int) -> dict:
    latencies: list[float] = []
    correct, errors, wrong = 0, [], []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def worker(i: int) -> None:
        nonlocal correct
        client = Client(url, verbose=False)
        barrier.wait()  # all clients connected: start together
        for j in range(per_client):
            row = rows[(i * per_client + j) % len(rows)]
            t0 = time.perf_counter()
            try:
                result = client.predict(row["question"], [], api_name="/ask")
            except Exception as e:
                with lock:
                    errors.append(f"{type(e).__name__}: {e}")
                continue
            ms = 1000 * (time.perf_counter() - t0)
            with lock:
                latencies.append(ms)
                if "error" in result:
                    errors.append(result["error"])
                elif is_correct(result, row["answers"]):
                    correct += 1
                else:
                    wrong.append((row["id"], result.get("answer")))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"clients": clients, "requests": clients * per_client, "correct": correct,
            "errors": len(errors), "wrong": sorted(set(wrong)), "error_samples": errors[:3],
            "p50_ms": round(q[49]), "p95_ms": round(q[94]), "max_ms": round(max(latencies)),
            "wall_s": round(wall, 1), "throughput_rps": round(len(latencies) / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="an app already running (default: start app.py here)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--questions", type=int, default=10, help="questions per client")
    ap.add_argument("--rows", type=Path, default=QUESTIONS)
    ap.add_argument("--index-dir", help="index folder for the started app (default: a fresh one)")
    args = ap.parse_args()
    rows = load_rows(args.rows)
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url = args.url
        else:
            proc, url, seconds = start_app(args.index_dir or f"{tmp}/index", f"{tmp}/uploads")
            print(f"startup to first answer: {seconds:.1f}s")
        try:
            report = run_load(url, rows, args.clients, args.questions)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
    print(f"{report['correct']}/{report['requests']} correct, {report['errors']} errors, "
          f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, max {report['max_ms']} ms, "
          f"{report['throughput_rps']} req/s over {report['wall_s']} s "
          f"({args.clients} clients x {args.questions} questions, {len(rows)} distinct)")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
