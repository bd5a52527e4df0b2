"""Training the neural reader's upper layers and span head on a CPU.

    .venv/bin/python -m qa.reader.train            # about 1.5 hours on 2 cores; resumable
    .venv/bin/python -m qa.reader.train --epochs 4 # later: continue a finished run for longer

The backbone's embeddings and lower layers stay frozen and are run on the fly (int8, as the
app runs them: cheap next to the trained layers); the upper layers start from the backbone's
and train with a span head. Every step is seeded (the example order and each example's window
follow from the seed, the epoch and the example), the state is saved every few minutes and a
killed run resumes where it stopped, and the learning curve (loss, then F1/EM on held-out
Vietnamese questions given their paragraph) goes to `train.log.jsonl` in the work folder.
The best checkpoint by held-out F1 is exported with a manifest (`qa/reader/weights/`).
A finished run given a larger --epochs resumes and follows the longer schedule from where it
stopped (a warm restart: the learning rate is that schedule's at that step, down to 0 at its
end); the manifest's command lists each run. Resuming with other settings is refused.
`--final` trains the final model once a recipe is chosen: the validation questions are trained
on too, nothing is held out, and the last step is exported.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from qa.evaluation import best_f1, toks
from qa.reader.network import Lower, SpanHead
from qa.reader.spans import Encoded, WindowMaker, best_spans, collate, piece_span
from qa.reader.training_data import QAExample


@dataclass
class TrainConfig:
    lower_layers: int = 4  # frozen, shared with the embedder; the rest is trained
    max_length: int = 192
    question_tokens: int = 48
    batch_size: int = 32
    epochs: float = 2.0
    lr: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    negative_rate: float = 0.1  # share of answerable examples shown a window without the answer
    dropout: float = 0.1
    seed: int = 13
    eval_every: int = 250
    log_every: int = 20
    checkpoint_every_s: float = 300.0
    precision: str = "auto"  # float32 | bfloat16 | auto (bfloat16 where the CPU has it)
    max_steps: int | None = None  # stop early (a pilot, or a test)
    # per Vietnamese training question, up to that many passages retrieved for it over its
    # corpus that do not answer it, as unanswerable examples (training_data.retrieved_negatives;
    # kept in the work folder's negatives.jsonl, so a resumed run reads the same rows)
    retrieved_negatives: int = 0
    # the final model, once the recipe is chosen: the validation articles are trained on too,
    # nothing is held out and the last step is exported (training_data.assemble)
    final: bool = False


def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(precision: str):
    """The dtype the trained layers run under in training (`TrainConfig.precision`); None:
    float32, no autocast."""
    return {"float32": None, "bfloat16": torch.bfloat16,
            "auto": torch.bfloat16 if cpu_has_bf16() else None}[precision]


def optimizer(head, cfg: TrainConfig, total: int):
    """AdamW over `head` (no weight decay on biases and norms) at `cfg.lr`, its learning rate
    warmed up linearly over `cfg.warmup` of `total` steps, then down to 0 at `total`; and that
    schedule's rate at a step (a longer run's warm restart sets it)."""
    decay = [p for n, p in head.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in head.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    warm = max(1, int(cfg.warmup * total))

    def rate(s: int) -> float:
        return min((s + 1) / warm, max(0.0, (total - s) / max(total - warm, 1)))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, rate), rate


@dataclass
class Prepared:
    """An example tokenized once: question pieces, context pieces, answer pieces."""

    example: QAExample
    question: list[int]
    context: Encoded
    answer: tuple[int, int] | None = field(default=None)


def prepare(examples: Sequence[QAExample], maker: WindowMaker) -> list[Prepared]:
    out = []
    for ex in examples:
        ctx = maker.context(ex.context)
        answer = piece_span(ctx, ex.start, ex.end) if ex.answerable else None
        if ex.answerable and answer is None:
            continue
        out.append(Prepared(ex, maker.question(ex.question), ctx, answer))
    return out


def predict(head: SpanHead, lower: Lower, maker: WindowMaker, items: Sequence[Prepared],
            batch_windows: int = 64) -> list[str]:
    """The best span of each item over sliding windows of its whole context ("" if none)."""
    head.eval()
    windows, bounds = [], []
    for item in items:
        first = len(windows)
        windows.extend(maker.sliding(item.question, item.context))
        bounds.append((first, len(windows)))
    starts, ends = [], []
    with torch.inference_mode():
        for a in range(0, len(windows), batch_windows):
            ids, mask = collate(windows[a:a + batch_windows], maker.pad)
            s, e = head(lower(ids, mask), mask)
            pad = maker.max_length - s.shape[1]
            starts.append(torch.nn.functional.pad(s, (0, pad), value=-1e4))
            ends.append(torch.nn.functional.pad(e, (0, pad), value=-1e4))
    s_all, e_all = torch.cat(starts), torch.cat(ends)
    out = []
    for item, (a, b) in zip(items, bounds):
        spans = best_spans(windows[a:b], item.context, item.example.context, s_all[a:b],
                           e_all[a:b])
        out.append(item.example.context[spans[0].start:spans[0].end] if spans else "")
    return out


def scores(predictions: Sequence[str], items: Sequence[Prepared]) -> dict:
    f = em = 0.0
    for p, item in zip(predictions, items):
        gold = item.example.answers or (item.example.context[item.example.start:item.example.end],)
        f += best_f1(p, gold)
        em += max(float(toks(p) == toks(g)) for g in gold)
    n = max(len(items), 1)
    return {"f1": round(100 * f / n, 2), "em": round(100 * em / n, 2), "n": len(items)}


class Trainer:
    def __init__(self, cfg: TrainConfig, head: SpanHead, lower: Lower, maker: WindowMaker,
                 work: Path, log: Callable[[str], None] = print):
        self.cfg, self.head, self.lower, self.maker = cfg, head, lower, maker
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.dtype = autocast_dtype(cfg.precision)

    def _window(self, item: Prepared, epoch: int, index: int):
        rng = random.Random(f"{self.cfg.seed}:{epoch}:{index}")
        negative = item.answer is not None and rng.random() < self.cfg.negative_rate
        return self.maker.around(item.question, item.context, item.answer, rng, negative)

    def run(self, train: Sequence[Prepared], val: Sequence[Prepared]) -> dict:
        cfg = self.cfg
        per_epoch = math.ceil(len(train) / cfg.batch_size)
        total = max(1, int(cfg.epochs * per_epoch))
        if cfg.max_steps is not None:
            total = min(total, cfg.max_steps)
        torch.manual_seed(cfg.seed)
        opt, sched, rate = optimizer(self.head, cfg, total)
        state = {"step": 0, "best": None, "history": [],
                 "schedule": [{"from_step": 0, "epochs": cfg.epochs, "steps": total}]}
        ckpt = self.work / "checkpoint.pt"
        if ckpt.exists():
            saved = torch.load(ckpt, weights_only=False)
            check_resumable(saved.get("config"), asdict(cfg), ckpt)
            self.head.load_state_dict(saved["head"])
            opt.load_state_dict(saved["optimizer"])
            sched.load_state_dict(saved["scheduler"])
            torch.set_rng_state(saved["torch_rng"])
            state = saved["state"]
            schedule = state.setdefault("schedule", [])  # older checkpoints kept none
            if not schedule:
                schedule.append({"from_step": 0, "epochs": cfg.epochs, "steps": total})
            if schedule[-1]["steps"] != total and state["step"] < total:
                # A longer run than the saved one (a warm restart): from here the learning
                # rate is the longer schedule's at this step, down to 0 at its end.
                schedule.append({"from_step": state["step"], "epochs": cfg.epochs,
                                 "steps": total})
                for group in opt.param_groups:
                    group["lr"] = group["initial_lr"] * rate(sched.last_epoch)
                self.log(f"extending the schedule to {total} steps ({cfg.epochs:g} epochs) "
                         f"from step {state['step']}: learning rate "
                         f"{opt.param_groups[0]['lr']:.3g} from here, 0 at the end")
            self.log(f"resumed at step {state['step']} of {total}")
        started, last_save = time.monotonic(), time.monotonic()
        seen_loss, seen = 0.0, 0
        order_epoch, order = -1, []
        while state["step"] < total:
            step = state["step"]
            epoch, k = divmod(step, per_epoch)
            if epoch != order_epoch:
                order = list(range(len(train)))
                random.Random(f"{cfg.seed}:order:{epoch}").shuffle(order)
                order_epoch = epoch
            batch = [self._window(train[i], epoch, i)
                     for i in order[k * cfg.batch_size:(k + 1) * cfg.batch_size]]
            ids, mask = collate(batch, self.maker.pad)
            hidden = self.lower(ids, mask).clone()
            self.head.train()
            with torch.autocast("cpu", dtype=self.dtype or torch.bfloat16,
                                enabled=self.dtype is not None):
                s, e = self.head(hidden, mask)
            target_s = torch.tensor([w.start for w in batch])
            target_e = torch.tensor([w.end for w in batch])
            loss = (torch.nn.functional.cross_entropy(s, target_s)
                    + torch.nn.functional.cross_entropy(e, target_e)) / 2
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.head.parameters(), 1.0)
            opt.step()
            sched.step()
            state["step"] = step = step + 1
            seen_loss += loss.item()
            seen += 1
            if step % cfg.log_every == 0 or step == total:
                self._record(state, {"step": step, "epoch": round(step / per_epoch, 3),
                                     "loss": round(seen_loss / seen, 4),
                                     "lr": sched.get_last_lr()[0],
                                     "elapsed_s": round(time.monotonic() - started, 1)})
                seen_loss, seen = 0.0, 0
            if val and (step % cfg.eval_every == 0 or step == total):
                figures = scores(predict(self.head, self.lower, self.maker, val), val)
                self._record(state, {"step": step, "val": figures})
                if state["best"] is None or figures["f1"] > state["best"]["f1"]:
                    state["best"] = {**figures, "step": step}
                    _save_atomic({"head": self.head.state_dict(), "step": step, **figures},
                                 self.work / "best.pt")
            if time.monotonic() - last_save > cfg.checkpoint_every_s or step == total:
                _save_atomic({"head": self.head.state_dict(), "optimizer": opt.state_dict(),
                              "scheduler": sched.state_dict(), "torch_rng": torch.get_rng_state(),
                              "state": state, "config": asdict(cfg)}, ckpt)
                last_save = time.monotonic()
        if not val:  # nothing to choose by: the last state is the result
            _save_atomic({"head": self.head.state_dict(), "step": state["step"]},
                         self.work / "best.pt")
        return state

    def _record(self, state: dict, row: dict) -> None:
        state["history"].append(row)
        with open(self.work / "train.log.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        self.log(json.dumps(row))


# Settings a resumed run may change: how long it runs and how often it reports.
RESUMABLE_CHANGES = {"epochs", "max_steps", "eval_every", "log_every", "checkpoint_every_s"}


def check_resumable(saved: dict | None, asked: dict, ckpt: Path) -> None:
    """Refuse to resume a checkpoint with settings other than those it was trained with."""
    if saved is None:
        return  # written before checkpoints kept their settings
    default = asdict(TrainConfig())  # a setting added since the checkpoint: its default then
    changed = sorted(k for k in asked if k not in RESUMABLE_CHANGES
                     and saved.get(k, default.get(k)) != asked[k])
    if changed:
        diff = ", ".join(f"{k}={saved.get(k, default.get(k))!r} there, {asked[k]!r} here"
                         for k in changed)
        raise SystemExit(f"{ckpt} was trained with other settings ({diff}). Run with the same "
                         f"settings to resume it, or give another --work folder to start anew.")


def _save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _command(argv: Sequence[str], schedule: Sequence[dict]) -> str:
    """The commands that made the weights: one per schedule, each resuming the one before."""
    rest = []
    skip = False
    for a in argv:  # this run's arguments less its --epochs
        if skip:
            skip = False
        elif a == "--epochs":
            skip = True
        elif not a.startswith("--epochs="):
            rest.append(a)
    runs = [" ".join(["python -m qa.reader.train", *rest, f"--epochs {part['epochs']:g}"])
            for part in schedule]
    if len(runs) == 1:
        return runs[0]
    return " && ".join(runs) + "  # each run resumes the one before and extends its schedule"


def networks(cfg: TrainConfig) -> tuple[SpanHead, Lower, WindowMaker]:
    """The head to train (the backbone's upper layers, float32), the shared frozen lower
    layers (int8, as the app runs them) and the window maker of the backbone's tokenizer."""
    from embeddings import SentenceTransformerEmbedder

    backbone, tokenizer = SentenceTransformerEmbedder(precision="float32").backbone()
    head = SpanHead.from_backbone(backbone, cfg.lower_layers, cfg.dropout)
    del backbone  # only the head's copy of the upper layers is kept
    lower = Lower(SentenceTransformerEmbedder(precision="int8").backbone()[0], cfg.lower_layers)
    return head, lower, WindowMaker(tokenizer, cfg.max_length, cfg.question_tokens)


def parse_args(argv=None) -> tuple[argparse.Namespace, TrainConfig]:
    """The command line: its folders and the training settings (a `TrainConfig` field
    `foo_bar` is `--foo-bar`; a yes/no field is a flag)."""
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=root.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=root / ".qa" / "reader-train")
    ap.add_argument("--out", type=Path, default=root / "qa" / "reader" / "weights")
    ap.add_argument("--no-export", action="store_true", help="train only (a pilot)")
    for f in TrainConfig.__dataclass_fields__.values():
        flag = "--" + f.name.replace("_", "-")
        if str(f.type) == "bool":
            ap.add_argument(flag, action="store_true")
            continue
        kind = {"int": int, "float": float, "str": str}.get(str(f.type).split(" ")[0], str)
        if f.name == "max_steps":
            kind = int
        ap.add_argument(flag, type=kind, default=f.default)
    args = ap.parse_args(argv)
    return args, TrainConfig(**{k: getattr(args, k) for k in TrainConfig.__dataclass_fields__})


def main(argv=None) -> None:
    from qa.reader import training_data as td
    from qa.reader.weights_io import export

    root = Path(__file__).resolve().parents[2]
    args, cfg = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    def log(msg: str) -> None:
        print(msg, flush=True)

    train_rows, val_rows, summary = td.assemble(args.data, seed=cfg.seed,
                                                negatives_per_question=cfg.retrieved_negatives,
                                                index_home=root / ".qa" / "fit",
                                                negatives_cache=args.work / "negatives.jsonl",
                                                validation=not cfg.final)
    (args.work / "data.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    log(json.dumps({"data": summary["counts"]}))
    head, lower, maker = networks(cfg)
    train = prepare(train_rows, maker)
    val = prepare(val_rows, maker)
    log(json.dumps({"windows": {"train": len(train), "val": len(val)}, "config": asdict(cfg)}))
    state = Trainer(cfg, head, lower, maker, args.work, log).run(train, val)
    if args.no_export:
        return
    best = torch.load(args.work / "best.pt", weights_only=False)
    head.load_state_dict(best["head"])
    export(head, cfg, args.out, data=summary, history=state["history"],
           command=_command(argv if argv is not None else sys.argv[1:], state["schedule"]),
           best={k: best[k] for k in ("step", "f1", "em", "n") if k in best})
    log(f"exported the step-{best.get('step')} weights to {args.out}")


if __name__ == "__main__":
    main()
