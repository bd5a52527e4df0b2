"""Embedding throughput of the index build's windows: float32 against int8, in document order
against longest first, on real vietnews windows.

    .venv/bin/python bench/embedding_speed.py             # first 150 vietnews articles, 3 runs

Prints windows per second (median of --repeat interleaved runs) for each setting and how close
the int8 vectors are to the float32 ones (cosine). Retrieval quality with each precision is
measured by bench/retrieval.py --precision. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retrieval import vietnews_subset  # noqa: E402 (bench/retrieval.py, beside this script)

from embeddings import SentenceTransformerEmbedder  # noqa: E402
from qa.chunking import ChunkingConfig, embedding_text, embedding_windows, passages  # noqa: E402
from qa.corpus import load_corpus  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


def window_texts(source: Path, n: int, embedder) -> list[str]:
    """The texts a build embeds for the first `n` articles, in document order."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = load_corpus(vietnews_subset(source, n, Path(tmp)))
    chunking = ChunkingConfig(max_tokens=embedder.max_tokens)
    count = embedder.count_tokens
    return [embedding_text(d.title, w.text) for d in docs for p in passages(d, count, chunking)
            for w in embedding_windows(d, p, count, chunking)]


def throughput(embedder, texts: list[str], longest_first: bool, chunk: int = 64) -> float:
    """Windows per second, calling `embed_batch` on chunks of 64 as `build_index` does."""
    order = sorted(texts, key=len, reverse=True) if longest_first else texts
    t = time.perf_counter()
    for n in range(0, len(order), chunk):
        embedder.embed_batch(order[n:n + chunk])
    return len(order) / (time.perf_counter() - t)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--vietnews-path", type=Path, default=SHARED / "data/vietnews-20k.jsonl.gz")
    args = ap.parse_args(argv)
    models = {p: SentenceTransformerEmbedder(precision=p) for p in ("float32", "int8")}
    for m in models.values():
        m.warm_up()
    texts = window_texts(args.vietnews_path, args.articles, models["float32"])
    print(f"# {len(texts)} windows of {args.articles} articles")
    runs: dict[tuple[str, bool], list[float]] = {}
    for _ in range(args.repeat):  # interleaved, so that load on the machine hits all alike
        for (precision, model), longest_first in itertools.product(models.items(), (False, True)):
            runs.setdefault((precision, longest_first), []).append(
                throughput(model, texts, longest_first))
    base = statistics.median(runs[("float32", False)])
    for (precision, longest_first), r in runs.items():
        med = statistics.median(r)
        print(json.dumps({"precision": precision,
                          "order": "longest first" if longest_first else "document order",
                          "windows_per_s": round(med, 1), "speedup": round(med / base, 2),
                          "runs": [round(x, 1) for x in r]}))
    a = models["float32"].embed_batch(texts)
    b = models["int8"].embed_batch(texts)
    cos = (a * b).sum(axis=1)
    print(json.dumps({"int8_vs_float32_cosine": {"mean": round(float(cos.mean()), 4),
                                                 "p5": round(float(np.percentile(cos, 5)), 4),
                                                 "min": round(float(cos.min()), 4)}}))


if __name__ == "__main__":
    main()
