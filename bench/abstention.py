"""Abstention on questions the articles cannot answer, for each reader.

    .venv/bin/python bench/abstention.py --questions ../shared/data/xquad-vi/questions_test.jsonl \
        --corpus ../shared/data/xquad-vi/corpus --off-topic seeds

Two kinds of unanswerable questions, made from a question set with gold articles:
- near misses: each question asked over its own corpus less the article that answers it (skipped
  where another article holds a gold answer too): the passages read are about the same subject;
- off-topic: each question asked over another corpus (`--off-topic`, e.g. the seeds).
Prints, per reader, the share refused of each kind, and the share of the questions as labelled
that are answered (to read beside it). Use test splits that nothing was fitted on. A benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fit_reader import passages_for  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import read_jsonl  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--off-topic", type=Path, default=ROOT / "seeds")
    ap.add_argument("--readers", default="neural,rules")
    ap.add_argument("--limit", type=int, default=100000)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="qa-abstention-"))
    rows = [r for r in read_jsonl(args.questions)[: args.limit] if r.get("answerable", True)]
    for name in args.readers.split(","):
        own = Assistant(Settings.from_env(corpus=(args.corpus,), index_dir=work / "own",
                                          reader=name))
        own.update_index()
        other = Assistant(Settings.from_env(corpus=(args.off_topic,), index_dir=work / "other",
                                            reader=name), embedder=own.embedder)
        other.update_index()
        counts = {"answered_as_labelled": [0, 0], "near_miss_refused": [0, 0],
                  "off_topic_refused": [0, 0]}
        for r in rows:
            question, passages = passages_for(own, r, None)  # near miss: less its article
            answer = own.read(question, own.search(question))
            counts["answered_as_labelled"][0] += not answer.abstained
            counts["answered_as_labelled"][1] += 1
            if passages is not None:
                counts["near_miss_refused"][0] += own.read(question, passages).abstained
                counts["near_miss_refused"][1] += 1
            answer = other.read(question, other.search(question))
            counts["off_topic_refused"][0] += answer.abstained
            counts["off_topic_refused"][1] += 1
        print(json.dumps({"reader": name, **{k: {"share": round(100 * a / max(n, 1), 1), "n": n}
                                            for k, (a, n) in counts.items()}}))


if __name__ == "__main__":
    main()
