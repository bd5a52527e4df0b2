"""Answer benchmark: the figures of score.py, F1 by answer type, accuracy by confidence, and
warm answer latency (retrieval + reading).

    .venv/bin/python bench/answers.py --questions ../shared/eval/seed_qa_dev.jsonl --corpus seeds
    .venv/bin/python bench/answers.py --reader rules ...    # the rule reader, for comparison
    .venv/bin/python bench/answers.py --questions ../shared/data/xquad-vi/questions_test.jsonl \
        --corpus ../shared/data/xquad-vi/corpus

Latency is measured over `--repeat` passes (the first pass warms caches and is not counted);
medians over passes are reported. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import best_f1, predict, read_jsonl, score  # noqa: E402
from qa.reader.question import analyze  # noqa: E402
from qa.settings import READERS, Settings  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", required=True, type=Path)
    ap.add_argument("--corpus", nargs="+", required=True, type=Path)
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--predictions", type=Path, default=None)
    ap.add_argument("--reader", choices=READERS, default=None,
                    help="the reader (default: the settings', QA_READER)")
    ap.add_argument("--reader-int8", action="store_true",
                    help="run the neural reader's trained layers int8, as it did before they "
                         "ran in float32 (for comparison)")
    args = ap.parse_args(argv)
    index_dir = args.index_dir or Path(tempfile.mkdtemp(prefix="qa-bench-")) / "index"
    bot = Assistant(Settings.from_env(corpus=tuple(args.corpus), index_dir=index_dir,
                                      reader=args.reader))
    bot.update_index()
    if args.reader_int8:
        if not hasattr(bot.reader, "quantize"):
            ap.error("--reader-int8 is for the neural reader")
        bot.reader.quantize = True
    rows = read_jsonl(args.questions)
    times: list[list[float]] = []
    preds = []
    for rep in range(args.repeat + 1):
        lat: list[float] = []
        preds = predict(rows, lambda q, h: bot.ask(q, h),
                        on_row=lambda r, a, dt, lat=lat: lat.append(1000 * dt))
        if rep:  # pass 0 warms up
            times.append(sorted(lat))
    metrics = score(preds, rows)
    p50 = statistics.median(statistics.median(t) for t in times)
    p95 = statistics.median(t[int(0.95 * (len(t) - 1))] for t in times)
    print(json.dumps({**metrics, "latency_ms_p50": round(p50, 1), "latency_ms_p95": round(p95, 1),
                      "passes": len(times)}, ensure_ascii=False))
    gold = {r["id"]: r for r in rows}
    by_type = collections.defaultdict(list)
    by_conf = collections.defaultdict(list)
    for p in preds:
        g = gold[p["id"]]
        if not g.get("answerable", True):
            continue
        val = 0.0 if p["abstained"] else best_f1(p["answer"], g["answers"])
        by_type[analyze(g["question"]).answer_type].append(val)
        bucket = min(int(p["confidence"] * 5), 4) / 5
        by_conf[bucket].append(val)
    print("F1 by answer type: " + json.dumps(
        {t: [len(v), round(100 * sum(v) / len(v), 1)] for t, v in sorted(by_type.items())}))
    print("F1 by confidence:  " + json.dumps(
        {f"{b:.1f}-{b + 0.2:.1f}": [len(v), round(100 * sum(v) / len(v), 1)]
         for b, v in sorted(by_conf.items())}))
    if args.predictions:
        from qa.evaluation import write_jsonl

        write_jsonl(preds, args.predictions)


if __name__ == "__main__":
    main()
