"""Experiment (not shipped): continue a trained reader head with negatives drawn from
retrieved passages, so that its no-answer score learns to compare windows across passages.

    .venv/bin/python bench/reader_negatives.py --start .qa/reader-train/best.pt --out /tmp/wneg
    .venv/bin/python bench/fit_neural.py --weights /tmp/wneg --dump /tmp/neg_rows.json \\
        --rules-dump /tmp/rules_rows.json --dry-run      # then --load /tmp/neg_rows.json for
                                                         # the `validation` figures

Training (qa.reader.train) shows the network windows of the answer's own paragraph only, 10 %
of them without the answer. Here each Vietnamese training question (XQuAD-vi dev, MLQA-vi dev,
vi-wiki train, less the validation articles) is searched over its own corpus (the fitting
indexes in `.qa/fit/`, as bench/fit_reader.py builds them) and up to two retrieved passages
that hold no gold answer, are not its article and are not an article kept from training (test
splits, validation: `training_data.held_out_docs`) become unanswerable examples. The mix: the
questions once, their negatives, 1,500 rows of the other languages; 2 passes at lr 2e-5 from
the given head (about 17 minutes on 2 cores). docs/benchmarks.md has what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402

from qa.reader import training_data as td  # noqa: E402
from qa.reader.train import TrainConfig, Trainer, networks, prepare  # noqa: E402
from qa.reader.weights_io import MANIFEST, default_folder, export  # noqa: E402

SOURCES = ("xquad-vi-dev", "mlqa-vi-dev", "vi-wiki-train")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / ".qa" / "fit")
    ap.add_argument("--start", type=Path, required=True, help="a head checkpoint (best.pt)")
    ap.add_argument("--work", type=Path, default=ROOT / ".qa" / "reader-negatives")
    ap.add_argument("--out", type=Path, required=True, help="weights folder to write")
    ap.add_argument("--others", type=int, default=1500)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))  # as qa.reader.train does
    train_rows, val_rows, summary = td.assemble(args.data, seed=13)
    real = list({ex.id.split("#")[0]: ex for ex in train_rows if ex.source in SOURCES}.values())
    others = [ex for ex in train_rows if ex.lang != "vi"]
    negatives = td.corpus_negatives(real, args.data, args.cache)
    rng = random.Random(13)
    mix = real + negatives + rng.sample(others, args.others)
    rng.shuffle(mix)
    print(json.dumps({"questions": len(real), "negatives": len(negatives), "mix": len(mix)}),
          flush=True)
    cfg = TrainConfig(epochs=2.0, lr=2e-5, eval_every=100, log_every=20)
    head, lower, maker = networks(cfg)
    head.load_state_dict(torch.load(args.start, weights_only=False)["head"])
    state = Trainer(cfg, head, lower, maker, args.work, lambda m: print(m, flush=True)).run(
        prepare(mix, maker), prepare(val_rows, maker))
    shipped = json.loads((default_folder() / MANIFEST).read_text(encoding="utf-8"))
    export(head, cfg, args.out,  # the last state: gold-paragraph F1 does not rank end to end
           data={**summary, "retrieved_negatives": len(negatives), "mix": len(mix)},
           history=state["history"], best={}, backbone=shipped["backbone"],
           command="python bench/reader_negatives.py " + " ".join(sys.argv[1:]))
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
