"""Load test of the chat app's `/ask` API: N concurrent gradio_client clients (threads) asking
the seed dev questions (follow-ups with their history) for a given time; prints correct/total,
errors, latency percentiles, and the app's peak memory; `--soak` adds a longer run with the
app's memory sampled every second and summarised per minute.

    .venv/bin/python bench/load_app.py                  # 50 clients x 60 s, app.py on seeds/
    .venv/bin/python bench/load_app.py --soak 600       # ... then a 10-minute soak
    .venv/bin/python bench/load_app.py --url http://127.0.0.1:7860   # an app already running

When it starts the app it also prints the time from process start to the first answer.
A benchmark, not a test: nothing here fails the build.
"""

from __future__ import annotations

import argparse
import contextlib
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
    """The answerable questions, follow-ups included (asked with their history)."""
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r.get("answerable")]


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


class MemoryProbe(threading.Thread):
    """Samples the resident memory of process `pid` (and its children) every `every` seconds."""

    def __init__(self, pid: int | None, every: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)
        self.stop = threading.Event()
        self.t0 = time.monotonic()

    def rss_mb(self) -> float:
        pids = [self.pid]
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            pids += [int(c) for c in children]
        total = 0
        for pid in pids:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total / 1024

    def run(self) -> None:
        while self.pid and not self.stop.wait(self.every):
            self.samples.append((time.monotonic() - self.t0, self.rss_mb()))

    def peak(self) -> float:
        return round(max((mb for _, mb in self.samples), default=0.0), 1)


def run_load(url: str, rows: list[dict], clients: int, duration: float,
             probe: MemoryProbe | None = None) -> dict:
    """`clients` threads, each with its own gradio_client, asking rows in turn (follow-ups with
    their history) until `duration` seconds have passed."""
    latencies: list[float] = []
    correct, errors, wrong = 0, [], []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def worker(i: int) -> None:
        nonlocal correct
        client = Client(url, verbose=False)
        barrier.wait()  # all clients connected: start together
        j = i
        while time.monotonic() < deadline[0]:
            row = rows[j % len(rows)]
            j += clients
            t0 = time.perf_counter()
            try:
                result = client.predict(row["question"], list(row.get("history") or []),
                                        api_name="/ask")
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

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + duration + 3600  # set properly once everyone is in
    barrier.wait()
    started = time.perf_counter()
    deadline[0] = time.monotonic() + duration
    if probe is not None:
        probe.samples.clear()
        probe.t0 = time.monotonic()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {"clients": clients, "duration_s": duration, "requests": len(latencies) + len(errors),
            "correct": correct, "errors": len(errors), "wrong": sorted(set(wrong)),
            "error_samples": errors[:3], "p50_ms": round(q[49]), "p95_ms": round(q[94]),
            "max_ms": round(max(latencies)), "wall_s": round(wall, 1),
            "throughput_rps": round(len(latencies) / wall, 1)}


def memory_trend(samples: list[tuple[float, float]], minute: float = 60.0) -> dict:
    """Median RSS of each minute of a soak, and the growth from the second minute to the last
    (the first holds the warm-up)."""
    per: dict[int, list[float]] = {}
    for t, mb in samples:
        per.setdefault(int(t // minute), []).append(mb)
    medians = [round(statistics.median(v), 1) for _, v in sorted(per.items())]
    growth = round(medians[-1] - medians[1], 1) if len(medians) > 2 else None
    return {"rss_mb_by_minute": medians, "growth_mb_minute2_to_last": growth}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="an app already running (default: start app.py here)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60, help="seconds of load")
    ap.add_argument("--soak", type=float, default=0,
                    help="then this many seconds more of the same load, memory sampled per minute")
    ap.add_argument("--rows", type=Path, default=QUESTIONS)
    ap.add_argument("--index-dir", help="index folder for the started app (default: a fresh one)")
    args = ap.parse_args()
    rows = load_rows(args.rows)
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.url:
            url, pid = args.url, None
        else:
            proc, url, seconds = start_app(args.index_dir or f"{tmp}/index", f"{tmp}/uploads")
            pid = proc.pid
            print(f"startup to first answer: {seconds:.1f}s")
        probe = MemoryProbe(pid)
        probe.start()
        try:
            report = run_load(url, rows, args.clients, args.duration, probe)
            report["app_peak_rss_mb"] = probe.peak() if pid else None
            print(f"{report['correct']}/{report['requests']} correct, {report['errors']} errors, "
                  f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, "
                  f"max {report['max_ms']} ms, {report['throughput_rps']} req/s over "
                  f"{report['wall_s']} s ({args.clients} clients, {len(rows)} distinct "
                  f"questions), app peak RSS {report['app_peak_rss_mb']} MB")
            print(json.dumps(report, ensure_ascii=False))
            if args.soak:
                soak = run_load(url, rows, args.clients, args.soak, probe)
                soak.update(memory_trend(probe.samples), app_peak_rss_mb=probe.peak())
                soak["wrong"] = soak["wrong"][:5]
                print("soak:", json.dumps(soak, ensure_ascii=False))
        finally:
            probe.stop.set()
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
