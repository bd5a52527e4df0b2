"""Scale benchmark: the seeds plus vietnews-20k (or its first N articles) in one index.

    .venv/bin/python bench/scale.py build              # index seeds + 20,000 articles (long)
    .venv/bin/python bench/scale.py measure            # figures on the index built above

`build` prints and saves (in WORK/build.json) the build time, windows per second, index size on
disk and peak memory; run again, it embeds only what changed. `measure` loads the index in a
fresh process and prints: load time and memory; warm retrieval and full-answer latency p50/p95
(medians over --repeat passes) and doc_hit@1 on the seed dev questions; and, for the FAISS index
types, recall@10 against exact search and query latency on real question vectors.
WORK defaults to /tmp/qa-scale (never inside the repo: vietnews is not shipped).
A benchmark, not a test: figures vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval import vietnews_subset  # noqa: E402 (bench/retrieval.py, beside this script)

from qa.assistant import Assistant  # noqa: E402
from qa.conversation import resolve_followup  # noqa: E402
from qa.evaluation import read_jsonl  # noqa: E402
from qa.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def assistant(args) -> Assistant:
    corpus = (ROOT / "seeds", vietnews_subset(args.vietnews_path, args.vietnews, args.work))
    settings = Settings.from_env(corpus=corpus, index_dir=args.work / "index",
                                 embedding_precision=args.precision)
    return Assistant(settings)


def build(args) -> None:
    bot = assistant(args)
    t0 = time.perf_counter()
    bot.embedder.warm_up()
    load_s = time.perf_counter() - t0
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        if fraction - last[0] >= 0.05 or fraction >= 0.9:
            last[0] = fraction
            print(f"  {time.perf_counter() - t0:7.0f} s  {fraction:5.1%}  {message}",
                  file=sys.stderr, flush=True)

    report = bot.update_index(progress=progress)
    index = bot.index
    figures = {
        "model": bot.embedder.name, "precision": bot.embedder.precision,
        "threads": int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count(),
        "model_load_s": round(load_s, 1), "documents": report.documents,
        "passages": report.chunks, "windows": int(len(index.vectors)),
        "embedded_windows": report.embedded_chunks, "build_s": round(report.seconds, 1),
        "windows_per_s": round(report.embedded_chunks / max(report.seconds, 1e-9), 1),
        "dense_index": index.manifest.get("dense_index", "?"),
        "index_mb_on_disk": dir_mb(Path(bot.store.root)), "peak_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(figures, ensure_ascii=False))
    if report.embedded_chunks:  # keep the figures of the run that did the work
        (args.work / "build.json").write_text(json.dumps(figures, indent=1))


def percentiles(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}


def timed_passes(rows: list[dict], fn, repeat: int) -> tuple[dict, list]:
    """`fn(row)` over all rows, `repeat` passes after one warm-up pass: the per-pass
    percentiles' medians, and the results of the last pass."""
    fn(rows[0])
    passes, results = [], []
    for _ in range(repeat):
        ms, results = [], []
        for row in rows:
            t = time.perf_counter()
            results.append(fn(row))
            ms.append(1000 * (time.perf_counter() - t))
        passes.append(percentiles(ms))
    return ({k: round(statistics.median(p[k] for p in passes), 1) for k in passes[0]}, results)


def measure_answers(bot: Assistant, rows: list[dict], repeat: int) -> None:
    rows = [r for r in rows if r.get("answerable", True)]

    def retrieve(row):
        return bot.search(resolve_followup(row["question"], list(row.get("history") or [])))

    lat, found = timed_passes(rows, retrieve, repeat)
    hit = sum(bool(ps) and ps[0].doc_id.rsplit("/", 1)[-1] == r["doc"]
              for ps, r in zip(found, rows))
    print(json.dumps({"retrieval": lat, "doc_hit@1": round(100 * hit / len(rows), 1)}))

    lat, answers = timed_passes(rows, lambda r: bot.ask(r["question"], r.get("history") or []),
                                repeat)
    missed = [(r["id"], a.citations[0].doc_id if a.citations else None)
              for a, r in zip(answers, rows)
              if not a.citations or a.citations[0].doc_id.rsplit("/", 1)[-1] != r["doc"]]
    print(json.dumps({"answers": lat,
                      "doc_hit@1_answer_order": round(100 * (1 - len(missed) / len(rows)), 1),
                      "missed": missed, "rss_mb": rss_mb()}, ensure_ascii=False))


def vietnews_titles(path: Path, indexed: int, n: int) -> list[str]:
    """Headlines of `n` of the first `indexed` vietnews articles, evenly spread: in-domain
    queries (their articles are in the index)."""
    import itertools

    step = max(indexed // n, 1)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["title"] for line in itertools.islice(f, 0, indexed, step)][:n]


def measure_faiss(bot: Assistant, query_sets: dict[str, list[str]], repeat: int) -> None:
    """recall@10 (and @200, what HybridRetriever asks for) of approximate indexes against
    exact inner-product search, and latency one query at a time, per query set."""
    import faiss
    import numpy as np

    vectors = np.ascontiguousarray(bot.index.vectors, dtype=np.float32)
    sets = {name: bot.embedder.embed_batch(qs, kind="query") for name, qs in query_sets.items()}
    deep = 2 * 100
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    truth = {name: exact.search(q, deep)[1] for name, q in sets.items()}

    def recall(found, right, k):
        return round(sum(len(set(a[:k]) & set(b[:k])) for a, b in zip(found, right))
                     / right[:, :k].size, 4)

    def run(index, label, **extra):
        row = {"dense_index": label, **extra}
        for name, q in sets.items():
            row[f"{name}: recall@10"] = recall(index.search(q, 10)[1], truth[name], 10)
            row[f"{name}: recall@{deep}"] = recall(index.search(q, deep)[1], truth[name], deep)
        ms = []
        for _ in range(repeat):  # one query at a time, as the app asks
            t = time.perf_counter()
            for q in sets["in-domain"][:200]:
                index.search(q[None, :], 10)
            ms.append(1000 * (time.perf_counter() - t) / min(200, len(sets["in-domain"])))
        row["ms_per_query"] = round(statistics.median(ms), 3)
        print(json.dumps(row, ensure_ascii=False))

    run(exact, "flat (exact)")
    for m, ef_construction in ((32, 80), (32, 200)):
        t = time.perf_counter()
        hnsw = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = ef_construction
        hnsw.add(vectors)
        built = round(time.perf_counter() - t, 1)
        for ef in (128, 512, 1024, 2048):
            hnsw.hnsw.efSearch = ef
            run(hnsw, "hnsw", M=m, efConstruction=ef_construction, efSearch=ef, build_s=built)
    t = time.perf_counter()
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], 256,
                             faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add(vectors)
    built = round(time.perf_counter() - t, 1)
    for nprobe in (64, 128):
        ivf.nprobe = nprobe
        run(ivf, "ivf-flat", nlist=256, nprobe=nprobe, build_s=built)


def measure(args) -> None:
    t0 = time.perf_counter()
    bot = assistant(args)
    bot.embedder.warm_up()
    model_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bot.load()
    print(json.dumps({"model_load_s": round(model_s, 1),
                      "index_load_s": round(time.perf_counter() - t0, 1),
                      "passages": len(bot.index.chunks), "windows": int(len(bot.index.vectors)),
                      "dense_index": type(bot.index.dense).__name__, "rss_mb": rss_mb()}))
    rows = read_jsonl(args.questions)
    if not args.skip_answers:
        print(f"# {args.questions} ({len(rows)} questions)")
        measure_answers(bot, rows, args.repeat)
    sets = {"in-domain": [r["question"] for r in rows]
            + vietnews_titles(args.vietnews_path, args.vietnews, 500),
            "xquad (not indexed)": [r["question"] for q in args.faiss_questions
                                    for r in read_jsonl(q)][:500]}
    print(f"# FAISS against {len(bot.index.vectors)} windows; queries: "
          f"in-domain = {len(sets['in-domain'])} seed questions and vietnews headlines, "
          f"{len(sets['xquad (not indexed)'])} XQuAD-vi questions whose articles are not indexed")
    if not args.skip_faiss:
        measure_faiss(bot, sets, args.repeat)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("stage", choices=("build", "measure"))
    ap.add_argument("--vietnews", type=int, default=20_000, help="how many vietnews articles")
    ap.add_argument("--vietnews-path", type=Path, default=SHARED / "data/vietnews-20k.jsonl.gz")
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-scale"))
    ap.add_argument("--precision", default=None, choices=("float32", "int8"))
    ap.add_argument("--questions", type=Path, default=SHARED / "eval/seed_qa_dev.jsonl")
    ap.add_argument("--faiss-questions", nargs="*", type=Path,
                    default=[SHARED / "data/xquad-vi/questions_dev.jsonl"])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-faiss", action="store_true", help="no FAISS index comparison")
    ap.add_argument("--skip-answers", action="store_true", help="FAISS comparison only")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    build(args) if args.stage == "build" else measure(args)


if __name__ == "__main__":
    main()
