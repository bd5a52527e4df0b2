"""Experiment: continue the shipped reader head on the windows the reader itself reads, with
the answer's start and end normalized over all of a question's windows together ("shared
normalization", Clark & Gardner 2018), so that span scores of different windows compare.

    .venv/bin/python bench/reader_shared_norm.py --out /tmp/wshared      # about 30 min on 2 cores
    .venv/bin/python bench/fit_neural.py --weights /tmp/wshared --dump /tmp/shared_rows.json \\
        --rules-dump /tmp/rules_rows.json --dry-run     # the `validation` figures, end to end

Training (qa.reader.train) shows the network one window at a time, each scored on its own: the
start/end softmax runs over one window, so a span's score says how it compares with the other
spans of its window, not with those of the other windows the reader reads. The reader then
picks a window by those scores (and a fitted choice over them), and on the vi-wiki validation
questions it picks a worse window than the best it read (docs/benchmarks.md, "Neural reader").

Here each Vietnamese training question (XQuAD-vi dev, MLQA-vi dev, vi-wiki train, less the
validation articles; each question once) is searched over its own corpus (the fitting indexes
in `.qa/fit/`, as bench/fit_reader.py builds them) and the reader plans its windows as it does
when it answers (`NeuralReader.plan`: the top passages, up to 4 windows around the rule
reader's best sentences). A window of the question's own article holding a gold answer is a
positive (every place the answer stands in it is a target); a window without one is a
negative (target: position 0); a window of another article holding the answer's text is left
out; a window of an article training may never read (`training_data.held_out_docs`: test
splits, validation) is left out. Loss: each window's own start/end cross-entropy (as in
training) plus, for a question with a positive window, the cross-entropy of its targets among
the context positions of all its windows together. 1,500 rows of the other languages keep
their ordinary windows. 2 passes at lr 2e-5 from the shipped head; the last step is exported.
Resumable (checkpoint in the work folder every 5 minutes; the windows are kept there too).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from qa.reader import training_data as td  # noqa: E402
from qa.reader.spans import Window, collate, piece_span  # noqa: E402
from qa.reader.train import TrainConfig, _save_atomic, autocast_dtype, optimizer, prepare  # noqa: E402
from qa.reader.weights_io import MANIFEST, default_folder, export  # noqa: E402

SOURCES = (("xquad-vi", "xquad-vi-dev"), ("mlqa-vi-dev", "mlqa-vi-dev"),
           ("vi-wiki-handwritten", "vi-wiki-train"))


def occurrences(text: str, answers) -> list[tuple[int, int]]:
    """Every place in `text` where one of `answers` stands (exactly, else case folded)."""
    out = set()
    folded = text.lower()
    for a in answers:
        a = a.strip()
        if not a:
            continue
        for hay, needle in ((text, a), (folded, a.lower())):
            if len(hay) != len(text):
                continue
            i = hay.find(needle)
            while i >= 0:
                out.add((i, i + len(needle)))
                i = hay.find(needle, i + 1)
    return sorted(out)


def question_windows(reader, bot, ex, never: frozenset[str]) -> list[dict]:
    """The reader's own windows for `ex`, each with its targets (see the module's text)."""
    passages = bot.search(ex.question)
    _, _, _, _, chosen = reader.plan(ex.question, passages)
    gold = ex.answers or (ex.context[ex.start:ex.end],)
    out = []
    for pi, _, ctx, w in chosen:
        p = passages[pi]
        doc = Path(p.doc_id).name
        if doc in never:
            continue
        found = occurrences(p.text, gold)
        if found and doc != ex.doc:
            continue  # another article with the answer's text: neither right nor wrong here
        starts, ends = [], []
        for a, b in found:
            span = piece_span(ctx, a, b)
            if span and span[0] in w.pieces and span[1] in w.pieces:
                starts.append(w.first + span[0] - w.pieces.start)
                ends.append(w.first + span[1] - w.pieces.start)
        out.append({"ids": w.ids, "first": w.first, "n": len(w.pieces),
                    "starts": starts, "ends": ends})
    return out


def build(data: Path, cache: Path, real, held) -> list[dict]:
    from qa.assistant import Assistant
    from qa.settings import Settings

    groups = []
    for folder, source in SOURCES:
        # the default engine, whatever QA_* variables say: the rows must not depend on them
        bot = Assistant(Settings(corpus=(data / folder / "corpus",), reader="neural",
                                 index_dir=cache / folder))
        bot.update_index()
        bot.load()
        for ex in (e for e in real if e.source == source):
            windows = question_windows(bot.reader, bot, ex, held[folder])
            if windows:
                groups.append({"id": ex.id, "windows": windows})
    return groups


def window_loss(logits: torch.Tensor, targets: list[int]) -> torch.Tensor:
    """-log of the probability of `targets` (or position 0 when none) among one window's
    positions."""
    lp = torch.log_softmax(logits, -1)
    return -torch.logsumexp(lp[targets or [0]], 0)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / ".qa" / "fit")
    ap.add_argument("--work", type=Path, default=ROOT / ".qa" / "reader-shared-norm")
    ap.add_argument("--out", type=Path, required=True, help="weights folder to write")
    ap.add_argument("--others", type=int, default=1500)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--shared", type=float, default=1.0, help="weight of the shared loss")
    ap.add_argument("--batch-windows", type=int, default=32)
    ap.add_argument("--max-steps", type=int, default=None, help="stop early (a pilot)")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    args.work.mkdir(parents=True, exist_ok=True)
    log_path = args.work / "train.log.jsonl"

    def log(row: dict) -> None:
        print(json.dumps(row), flush=True)
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")

    train_rows, _, summary = td.assemble(args.data, seed=13)
    real = list({ex.id.split("#")[0]: ex for ex in train_rows
                 if ex.source in {s for _, s in SOURCES}}.values())
    held = td.held_out_docs(args.data)
    groups_path = args.work / "groups.jsonl"
    if groups_path.exists():
        groups = [json.loads(line) for line in groups_path.open(encoding="utf-8")]
    else:
        t = time.monotonic()
        groups = build(args.data, args.cache, real, held)
        tmp = groups_path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(g) + "\n" for g in groups), encoding="utf-8")
        tmp.replace(groups_path)
        log({"built": len(groups), "seconds": round(time.monotonic() - t, 1)})

    from embeddings import SentenceTransformerEmbedder
    from qa.reader.network import Lower
    from qa.reader.spans import WindowMaker
    from qa.reader.weights_io import load_head

    shipped, manifest = load_head(default_folder())
    cfg = TrainConfig(**{k: v for k, v in manifest["config"].items()
                         if k in TrainConfig.__dataclass_fields__})
    cfg.lr, cfg.epochs, cfg.seed = args.lr, args.epochs, 13
    backbone, tokenizer = SentenceTransformerEmbedder(precision="int8").backbone()
    lower = Lower(backbone, cfg.lower_layers)
    maker = WindowMaker(tokenizer, cfg.max_length, cfg.question_tokens)
    head = copy.deepcopy(shipped)
    dtype = autocast_dtype(cfg.precision)
    rng = random.Random(13)
    others = prepare(rng.sample([ex for ex in train_rows if ex.lang != "vi"], args.others), maker)
    positives = sum(any(w["starts"] for w in g["windows"]) for g in groups)
    # each question's windows as the network takes them (only `ids` and `first` are read),
    # with their start and end targets
    question_rows = [[(Window(w["ids"], w["first"], range(w["n"])), w["starts"], w["ends"])
                      for w in g["windows"]] for g in groups]
    log({"questions": len(real), "groups": len(groups), "with_gold": positives,
         "windows": sum(len(g["windows"]) for g in groups), "others": len(others)})

    # items: ("q", group index) or ("o", other index); batches of about `batch_windows` windows
    def batches(epoch: int) -> list[list[tuple[str, int]]]:
        items = [("q", i) for i in range(len(groups))] + [("o", i) for i in range(len(others))]
        random.Random(f"13:order:{epoch}").shuffle(items)
        out, cur, size = [], [], 0
        for kind, i in items:
            n = len(groups[i]["windows"]) if kind == "q" else 1
            if cur and size + n > args.batch_windows:
                out.append(cur)
                cur, size = [], 0
            cur.append((kind, i))
            size += n
        if cur:
            out.append(cur)
        return out

    per_epoch = len(batches(0))
    total = int(args.epochs * per_epoch) if args.max_steps is None else args.max_steps
    opt, sched, _rate = optimizer(head, cfg, total)
    torch.manual_seed(cfg.seed)  # dropout, as Trainer.run seeds it
    step, history = 0, []
    ckpt = args.work / "checkpoint.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=False)
        head.load_state_dict(saved["head"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        step, history = saved["step"], saved["history"]
        log({"resumed": step, "of": total})
    started = last_save = time.monotonic()
    seen = {"loss": 0.0, "window": 0.0, "shared": 0.0, "n": 0}
    order_epoch, order = -1, []
    while step < total:
        epoch, k = divmod(step, per_epoch)
        if epoch != order_epoch:
            order, order_epoch = batches(epoch), epoch
        windows, targets, spans = [], [], []  # spans: per question, its rows in the batch
        for kind, i in order[k]:
            if kind == "q":
                first = len(windows)
                for w, ts, te in question_rows[i]:
                    windows.append(w)
                    targets.append((ts, te))
                if any(ts for _, ts, _ in question_rows[i]):
                    spans.append(range(first, len(windows)))
            else:
                item = others[i]
                r = random.Random(f"13:{epoch}:{i}")
                w = maker.around(item.question, item.context, item.answer, r)
                windows.append(w)
                targets.append(([w.start] if w.start else [], [w.end] if w.start else []))
        ids, mask = collate(windows, maker.pad)
        hidden = lower(ids, mask).clone()
        head.train()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16,
                            enabled=dtype is not None):  # as training does
            s, e = head(hidden, mask)
        per_window = torch.stack([(window_loss(s[r], ts) + window_loss(e[r], te)) / 2
                                  for r, (ts, te) in enumerate(targets)]).mean()
        shared = torch.zeros(())
        for rows in spans:
            parts_s, parts_e, gold_s, gold_e, offset = [], [], [], [], 0
            for r in rows:
                a, n = windows[r].first, len(windows[r].pieces)
                parts_s.append(s[r, a:a + n])
                parts_e.append(e[r, a:a + n])
                gold_s += [offset + t - a for t in targets[r][0]]
                gold_e += [offset + t - a for t in targets[r][1]]
                offset += n
            vs, ve = torch.cat(parts_s), torch.cat(parts_e)
            shared = shared + (window_loss(vs, gold_s) + window_loss(ve, gold_e)) / 2
        if spans:
            shared = shared / len(spans)
        loss = per_window + args.shared * shared
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(head.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        seen["loss"] += loss.item()
        seen["window"] += per_window.item()
        seen["shared"] += float(shared.detach())
        seen["n"] += 1
        if step % 20 == 0 or step == total:
            n = seen["n"]
            row = {"step": step, "of": total, "epoch": round(step / per_epoch, 3),
                   "loss": round(seen["loss"] / n, 4), "window": round(seen["window"] / n, 4),
                   "shared": round(seen["shared"] / n, 4), "lr": sched.get_last_lr()[0],
                   "elapsed_s": round(time.monotonic() - started, 1)}
            history.append(row)
            log(row)
            seen = {"loss": 0.0, "window": 0.0, "shared": 0.0, "n": 0}
        if time.monotonic() - last_save > 300 or step == total:
            _save_atomic({"head": head.state_dict(), "optimizer": opt.state_dict(),
                          "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(),
                          "step": step, "history": history}, ckpt)
            last_save = time.monotonic()
    shipped_manifest = json.loads((default_folder() / MANIFEST).read_text(encoding="utf-8"))
    export(head, asdict(cfg), args.out,
           data={**summary, "shared_norm_questions": len(groups), "with_gold": positives,
                 "others": len(others)},
           history=history, best={}, backbone=shipped_manifest["backbone"],
           command="python bench/reader_shared_norm.py " + " ".join(
               sys.argv[1:] if argv is None else argv) + "  # from the shipped head: "
               + shipped_manifest.get("command", ""))
    log({"wrote": str(args.out), "steps": step})


if __name__ == "__main__":
    main()
