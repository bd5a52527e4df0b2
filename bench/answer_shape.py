"""The neural reader's answer shape (qa/reader/neural.py, AnswerShape) on and off, reading only:
the network's span of the chosen window on the weights' validation questions (XQuAD-vi dev
articles 20-23, vi-wiki train's last 10 articles), seed dev and the news dev questions, with the
answers it changes.

    .venv/bin/python bench/answer_shape.py      # about 3 minutes on 2 cores

Passages as bench/fit_neural.py reads them (each set over its own corpus); the fitted window
choice of the shipped weights; no decision (abstention) applied.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fit_neural import span_f1, validation_doc  # noqa: E402
from fit_reader import SETS, passages_for  # noqa: E402

import qa.reader.neural as neural  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import read_jsonl  # noqa: E402
from qa.reader.weights_io import MANIFEST, default_folder  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    held_doc = validation_doc(json.loads((default_folder() / MANIFEST).read_text(
        encoding="utf-8")))
    sets = [(n, q, c) for n, q, c, _a in SETS if n in ("xquad-dev", "viwiki-train", "seed-dev")]
    sets.append(("news-dev", ROOT / "bench/data/news_dev.jsonl", ROOT / "seeds"))
    reader = None
    margin = neural.SHAPE_MARGIN
    for name, qpath, corpus in sets:
        folder = corpus.parent.name if corpus.name == "corpus" else corpus.name
        bot = Assistant(Settings.from_env(corpus=(corpus,), reader="rules",
                                          index_dir=ROOT / ".qa" / "fit" / folder))
        bot.update_index()
        reader = reader or neural.NeuralReader(bot.embedder)
        reader.term_weight = bot.index.lexical.idf
        rows = [r for r in read_jsonl(qpath)
                if name not in ("xquad-dev", "viwiki-train") or held_doc(name, r["doc"])]
        results = []
        for on in (False, True):
            neural.SHAPE_MARGIN = margin if on else -1.0  # below 0: the best span always
            got = []
            for r in rows:
                question, passages = passages_for(bot, r, True)
                x = reader.reading(question, passages)
                text = passages[x.passage].text[x.start:x.end] if x.passage >= 0 else ""
                got.append((text, span_f1(text, r["answers"])))
            results.append(got)
        neural.SHAPE_MARGIN = margin
        off, on = results
        mean = lambda got: 100 * sum(f for _t, f in got) / max(len(got), 1)  # noqa: E731
        changed = [i for i in range(len(rows)) if off[i][0] != on[i][0]]
        print(f"{name}: {len(rows)} questions, F1 without {mean(off):.1f}, with {mean(on):.1f}, "
              f"{len(changed)} changed")
        for i in changed:
            print(f"  {rows[i]['question'][:70]!r}: {off[i][0][:40]!r} ({off[i][1]:.2f}) -> "
                  f"{on[i][0][:40]!r} ({on[i][1]:.2f})")


if __name__ == "__main__":
    main()
