"""A question set as people type it without diacritics: each question and its history folded
(`qa.text.fold_accents`) and lower-cased; answers, ids and every other field unchanged.

    .venv/bin/python bench/fold_questions.py bench/data/news_dev7.jsonl /tmp/news_dev7_folded.jsonl
    .venv/bin/python bench/answers.py --questions /tmp/news_dev7_folded.jsonl --corpus seeds

The "typed without diacritics" rows of docs/benchmarks.md were read on files made this way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.evaluation import read_jsonl, write_jsonl  # noqa: E402
from qa.text import fold_accents  # noqa: E402


def folded(row: dict) -> dict:
    out = dict(row)
    out["question"] = fold_accents(row["question"]).lower()
    if row.get("history"):
        out["history"] = [fold_accents(h).lower() for h in row["history"]]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args(argv)
    rows = read_jsonl(args.questions)
    write_jsonl(map(folded, rows), args.out)
    print(f"{len(rows)} questions folded into {args.out}")


if __name__ == "__main__":
    main()
