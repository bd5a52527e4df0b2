"""Retrieval benchmark: BM25 only, dense only and hybrid side by side.

    .venv/bin/python bench/retrieval.py --questions ../shared/data/xquad-vi/questions_test.jsonl \
        --corpus ../shared/data/xquad-vi/corpus

Prints, per mode: doc_hit@1, answer_in_top5_passages (figures of score.py computed on the
retrieved passages alone, no reader), warm query latency p50/p95; and the index build time,
chunks per second and peak memory. A benchmark, not a test: figures vary with the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.assistant import Assistant  # noqa: E402
from qa.conversation import resolve_followup  # noqa: E402
from qa.evaluation import read_jsonl  # noqa: E402
from qa.retrieval import HybridRetriever  # noqa: E402
from qa.settings import Settings  # noqa: E402


def doc_name(doc_id: str) -> str:
    return doc_id.replace("\\", "/").rsplit("/", 1)[-1]


def run_mode(index, embedder, rows, mode, weight, k=5):
    r = HybridRetriever(index, embedder, mode=mode, dense_weight=weight)
    hit1 = top5 = 0
    lat = []
    r.search(rows[0]["question"], k)  # warm
    answerable = [x for x in rows if x.get("answerable", True)]
    for row in answerable:
        t0 = time.perf_counter()
        question = resolve_followup(row["question"], list(row.get("history") or []))
        ps = r.search(question, k)
        lat.append(1000 * (time.perf_counter() - t0))
        hit1 += bool(ps) and doc_name(ps[0].doc_id) == row["doc"]
        texts = [unicodedata.normalize("NFC", p.text).lower() for p in ps[:5]]
        top5 += any(unicodedata.normalize("NFC", a).lower() in t for a in row["answers"] for t in texts)
    n = max(len(answerable), 1)
    lat.sort()
    return {"mode": mode, "dense_weight": weight, "doc_hit@1": round(100 * hit1 / n, 1),
            "answer_in_top5_passages": round(100 * top5 / n, 1),
            "latency_ms_p50": round(statistics.median(lat), 2),
            "latency_ms_p95": round(lat[int(0.95 * (len(lat) - 1))], 2)}


def vietnews_subset(path: Path, n: int, work: Path) -> Path:
    """A folder in `work` with the first n articles of vietnews-20k (never copied into the
    repo); written once, so later runs over the same `work` reuse it."""
    import gzip

    folder = work / "vietnews"
    target = folder / f"vietnews-{n}.jsonl.gz"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")  # a killed run leaves no half file behind
        with gzip.open(path, "rt", encoding="utf-8") as src, \
                gzip.open(part, "wt", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= n:
                    break
                dst.write(line)
        part.rename(target)
    return folder


def embedder_for(settings: Settings, precision: str | None):
    from embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.embedding_model, batch_size=settings.batch_size,
        precision=precision or getattr(settings, "embedding_precision", "float32"))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", nargs="+", required=True, type=Path)
    ap.add_argument("--corpus", nargs="+", required=True, type=Path)
    ap.add_argument("--model", default=None)
    ap.add_argument("--precision", default=None, choices=("float32", "int8"),
                    help="embedding precision (default: the settings')")
    ap.add_argument("--weights", default=None, help="comma-separated dense weights to try")
    ap.add_argument("--chunk-tokens", type=int, default=None)
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--vietnews", type=int, default=0,
                    help="add the first N articles of vietnews-20k.jsonl.gz as distractors")
    ap.add_argument("--vietnews-path", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared/data/vietnews-20k.jsonl.gz")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    index_dir = args.index_dir or work / "index"
    corpus = list(args.corpus)
    if args.vietnews:
        corpus.append(vietnews_subset(args.vietnews_path, args.vietnews, work))
    settings = Settings.from_env(corpus=tuple(corpus), index_dir=index_dir,
                                 embedding_model=args.model, chunk_tokens=args.chunk_tokens)
    bot = Assistant(settings, embedder=embedder_for(settings, args.precision))
    t0 = time.perf_counter()
    bot.embedder.warm_up()
    load_s = time.perf_counter() - t0
    report = bot.update_index()
    build = {"model": bot.embedder.name, "precision": bot.embedder.precision,
             "model_load_s": round(load_s, 2),
             "documents": report.documents, "chunks": report.chunks,
             "embedded_chunks": report.embedded_chunks, "build_s": round(report.seconds, 2),
             "chunks_per_s": round(report.embedded_chunks / max(report.seconds, 1e-9), 1)}
    print(json.dumps(build, ensure_ascii=False))
    weights = ([float(w) for w in args.weights.split(",")] if args.weights
               else [bot.embedder.spec.dense_weight])
    for qpath in args.questions:
        rows = read_jsonl(qpath)
        print(f"# {qpath} ({len(rows)} questions)")
        print(json.dumps(run_mode(bot.index, bot.embedder, rows, "bm25", 0.0)))
        print(json.dumps(run_mode(bot.index, bot.embedder, rows, "dense", 1.0)))
        for w in weights:
            print(json.dumps(run_mode(bot.index, bot.embedder, rows, "hybrid", w)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mb": round(peak, 1)}))


if __name__ == "__main__":
    main()
