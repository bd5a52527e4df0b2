"""Fit the neural reader's decisions (confidence, answerability, abstain threshold) on DEV
questions only, and write them into the weights' manifest.

    .venv/bin/python bench/fit_neural.py        # about 15 minutes on 2 cores

The same fitting sets and unanswerable setups as the rule reader's (bench/fit_reader.py):
XQuAD-vi dev, MLQA-vi dev, vi-wiki-handwritten train and the seed dev questions as labelled;
questions asked over a corpus that cannot answer them; and near misses (each question over its
own corpus less the article that answers it). Nothing here trains the network: the seed
questions set thresholds only, as the issue allows.

- prefer_rules: logistic P(the rule reader's answer is right where the network's is not),
  fitted on the answerable questions where exactly one of the two is right
- confidence: logistic P(the answer given is right, syllable F1 >= 0.5)
- answerability: logistic P(the passages answer the question)
Every model weighs each set the same, whatever its size (the choice: each question as one of
its set's answerable questions); all over `qa.reader.neural.FEATURES`.
The choice's gain is reported cross-validated (5 folds over questions), beside each reader
alone. The rule reader's weights were themselves fitted on these questions, so its in-sample
answers look better than it is: with `--rules-dump` (the rows `bench/fit_reader.py --dump`
wrote) the choice learns from and is scored on the rule reader's out-of-fold answers instead,
its listwise weights refitted five times without each fold.
- threshold: the lowest within 0.01 of the best mean of the two macro averages (answerable F1
  kept, unanswerable refused), as for the rule reader
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fit_reader import SETS, fit_listwise, passages_for  # noqa: E402

from qa.assistant import Assistant  # noqa: E402
from qa.evaluation import best_f1, read_jsonl  # noqa: E402
from qa.reader.neural import (  # noqa: E402
    DEFAULT_WINDOW_WEIGHTS,
    FEATURES,
    WINDOW_FEATURES,
    NeuralReader,
    Reading,
    WindowSpan,
)
from qa.reader.rules import _sigmoid, _tidy  # noqa: E402
from qa.settings import Settings  # noqa: E402


def span_f1(text: str, gold: list[str]) -> float:
    """A network span's F1 as `NeuralReader.read` serves it: tidied ("Đồng chí Bùi Thị Minh"
    is served, and scored, as "Bùi Thị Minh")."""
    served = _tidy(text, "")
    return best_f1(served, gold)


def collect(name, qpath, corpus, answerable, limit, cache: Path, reader_factory):
    bot = Assistant(Settings.from_env(corpus=(corpus,), reader="rules",
                                      index_dir=cache / corpus.parent.name
                                      if corpus.name == "corpus" else cache / corpus.name))
    bot.update_index()
    reader = reader_factory(bot)
    reader.term_weight = bot.index.lexical.idf
    out = []
    for r in read_jsonl(qpath)[:limit]:
        question, passages = passages_for(bot, r, answerable)
        if passages is None:
            continue
        gold = r["answers"] if (answerable and r.get("answerable", True)) else []
        reading = reader.reading(question, passages)
        rule = ""
        if reading.rule_answer:
            p, a, b = reading.rule_answer
            rule = passages[p].text[a:b]
        spans = []
        for w in reading.spans:
            text = passages[w.passage].text[w.start:w.end]
            spans.append({**asdict(w), "text": text, "f1": span_f1(text, gold)})
        fields = {k: v for k, v in asdict(reading).items() if k != "spans"}
        out.append({"set": name, "id": r["id"], "gold": gold, "reading": fields, "spans": spans,
                    "rule_f1": best_f1(rule, gold),
                    "rule_answer": rule, "has_rule": reading.rule_answer is not None})
    print(f"{name}: {len(out)} questions", file=sys.stderr, flush=True)
    return out


def out_of_fold_rule_f1(dump: Path, folds: int = 5) -> dict[tuple[str, str], float]:
    """F1 of the rule reader's top answer to each (set, id), its weights fitted without the
    question's fold (as bench/fit_reader.py fits them: listwise, the seeds weighed 6x)."""
    groups = json.loads(dump.read_text())
    order = sorted(range(len(groups)), key=lambda i: (groups[i]["set"], groups[i]["id"]))
    out = {}
    for k in range(folds):
        held = {i for n, i in enumerate(order) if n % folds == k}
        w = fit_listwise([g for i, g in enumerate(groups) if i not in held],
                         set_weight={"seed-dev": 6.0})
        for i in held:
            g = groups[i]
            if g["X"]:
                top = int(np.argmax(np.asarray(g["X"]) @ w))
                out[(g["set"], g["id"])] = float(g["f1"][top])
            else:
                out[(g["set"], g["id"])] = 0.0
    return out


def _logistic(x, y, w, c=1.0):
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=c, max_iter=5000).fit(x[:, 1:], y, sample_weight=w)
    return np.concatenate([lr.intercept_, lr.coef_[0]])


def _weights(rows) -> np.ndarray:
    sizes: dict[str, int] = {}
    for r in rows:
        sizes[r["set"]] = sizes.get(r["set"], 0) + 1
    return np.asarray([len(rows) / sizes[r["set"]] for r in rows])


def fit_windows(rows):
    """Listwise weights over `WINDOW_FEATURES`: per answerable question, the softmax mass of
    the windows whose span is right (F1 >= 0.6, as the rule reader's candidates)."""
    groups = [{"set": r["set"], "gold": r["gold"], "X": [_window_x(w) for w in r["spans"]],
               "f1": [w["f1"] for w in r["spans"]]} for r in rows if r["gold"] and r["spans"]]
    return [float(v) for v in fit_listwise(groups, l2=0.01)]


def _window_x(w: dict) -> list[float]:
    return WindowSpan(**{k: w[k] for k in WindowSpan.__dataclass_fields__}).features()


def apply_windows(rows, weights):
    """Each row with the answer of the window `weights` choose: its features `x`, its F1."""
    out = []
    for r in rows:
        spans = tuple(WindowSpan(**{k: w[k] for k in WindowSpan.__dataclass_fields__})
                      for w in r["spans"])
        reading = Reading(**r["reading"], spans=spans).choose(weights)
        f = next((w["f1"] for w in r["spans"] if (w["passage"], w["start"], w["end"]) ==
                  (reading.passage, reading.start, reading.end)), 0.0)
        out.append({**r, "x": reading.features(), "f1": f, "read": reading.passage >= 0})
    return out


def cross_validated_windows(rows, folds: int = 5):
    """The network's F1 on every row, its window weights fitted on the other folds."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["set"], rows[i]["id"]))
    out: list = [None] * len(rows)
    for k in range(folds):
        held = {i for n, i in enumerate(order) if n % folds == k}
        w = fit_windows([rows[i] for i in order if i not in held])
        for i in held:
            out[i] = apply_windows([rows[i]], w)[0]
    return out


def fit_choice(rows):
    """P(the rule reader's answer is the right one), on questions where only one is right.
    Each question weighs what it weighs among its set's answerable questions: weighing the
    sets alike over these questions alone gave seed dev's two (of 25 answerable) together as
    much weight as the ~290 of XQuAD-vi dev, and the choice followed those two."""
    answered = [r for r in rows if r["gold"]]
    per_set = dict(zip((r["set"] for r in answered), _weights(answered)))
    split = [r for r in answered if (r["f1"] >= 0.5) != (r["rule_f1"] >= 0.5)]
    if len({r["rule_f1"] >= 0.5 for r in split}) < 2:
        return None
    x = np.asarray([r["x"] for r in split])
    y = np.asarray([r["rule_f1"] >= 0.5 for r in split])
    return _logistic(x, y, np.asarray([per_set[r["set"]] for r in split]), c=0.3)


def apply_choice(rows, w):
    """Each row's final answer F1 under the choice `w` (None: the network's always)."""
    out = []
    for r in rows:
        rules = w is not None and r["has_rule"] and (
            not r["read"] or _sigmoid(float(np.dot(w, r["x"]))) > 0.5)
        out.append({**r, "final_f1": r["rule_f1"] if rules else r["f1"]})
    return out


def cross_validated_choice(rows, folds: int = 5):
    """Final F1 of every row, its choice fitted on the other folds."""
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["set"], rows[i]["id"]))
    out: list = [None] * len(rows)
    for k in range(folds):
        test = [i for n, i in enumerate(order) if n % folds == k]
        held = set(test)
        w = fit_choice([rows[i] for i in order if i not in held])
        for i, r in zip(test, apply_choice([rows[i] for i in test], w)):
            out[i] = r
    return out


def fit(rows):
    choice = fit_choice(rows)
    rows = apply_choice(rows, choice)
    x = np.asarray([r["x"] for r in rows])
    weight = _weights(rows)
    labelled = np.asarray([bool(r["gold"]) for r in rows])
    right = np.asarray([r["final_f1"] >= 0.5 for r in rows])
    confidence = _logistic(x[labelled], right[labelled], weight[labelled], c=1.0)
    answerability = _logistic(x, labelled, weight, c=1.0)
    return choice, confidence, answerability, rows


def evaluate(rows, wa, threshold):
    f1s, ok, n_un = [], 0, 0
    for r in rows:
        p = _sigmoid(float(np.dot(wa, r["x"])))  # clipped, as the reader serves it
        if r["gold"]:
            f1s.append(r["final_f1"] if p >= threshold else 0.0)
        else:
            n_un += 1
            ok += p < threshold
    return (float(np.mean(f1s)) if f1s else 0.0), ok / max(n_un, 1)


def choose_threshold(rows, wa):
    sets: dict[str, list] = {}
    for r in rows:
        sets.setdefault(r["set"], []).append(r)
    answerable = {n: s for n, s in sets.items() if any(r["gold"] for r in s)}
    unanswerable = {n: s for n, s in sets.items() if n not in answerable}
    full = {n: evaluate(s, wa, 0.0)[0] or 1.0 for n, s in answerable.items()}

    def objective(t):
        kept = np.mean([evaluate(s, wa, t)[0] / full[n] for n, s in answerable.items()])
        refused = np.mean([evaluate(s, wa, t)[1] for s in unanswerable.values()])
        return 0.5 * (kept + refused)

    scores = {round(float(t), 2): objective(t) for t in np.arange(0.02, 0.9, 0.02)}
    top = max(scores.values())
    return min(t for t, v in scores.items() if v >= top - 0.01)


def validation_doc(manifest: dict):
    """A test `(set, doc) -> bool`: whether `doc`, asked about in fitting set `set`
    ("xquad-dev" or "viwiki-train"), is one of the weights' validation articles (never trained
    on); none are for the final model's weights, which trained on them all."""
    held = (manifest.get("data") or {}).get("validation") or {}
    if not isinstance(held, dict):  # the final model: every fitting question trained on
        held = {}
    prefixes = tuple(held.get("xquad-vi dev articles") or ())
    wiki = frozenset(held.get("vi-wiki train articles") or ())

    def is_held(name: str, doc: str) -> bool:
        return (name == "xquad-dev" and bool(prefixes) and doc.startswith(prefixes)) or (
            name == "viwiki-train" and doc in wiki)

    return is_held


def validation_figures(cv, answerability, threshold, manifest: dict) -> dict:
    """End-to-end figures on the weights' own validation questions (never trained on).

    The decision is fitted on all the fitting sets, so these rows are in its sample, but the
    choice is taken cross-validated and the network never saw them: the yardstick by which
    one set of weights is compared with another, end to end over retrieved windows (training's
    own validation reads the gold paragraph)."""
    held_doc = validation_doc(manifest)
    docs = {(name, q["id"]): q.get("doc") or ""
            for name, qpath, _corpus, _answerable in SETS
            if name in ("xquad-dev", "viwiki-train") and qpath.exists()
            for q in read_jsonl(qpath)}

    def is_held(r) -> bool:
        base = r["set"].removesuffix("-gold")
        return held_doc(base, docs.get((base, r["id"]), ""))

    out = {}
    for name in ("xquad-dev", "viwiki-train"):
        sub = [r for r in cv if r["set"] == name and is_held(r)]
        near = [r for r in cv if r["set"] == name + "-gold" and is_held(r)]
        if not sub:
            continue
        with_abstention, _ = evaluate(sub, answerability, threshold)
        out[name] = {"n": len(sub),
                     "network_f1": round(100 * float(np.mean([r["f1"] for r in sub])), 1),
                     "chosen_f1_cross_validated": round(
                         100 * float(np.mean([r["final_f1"] for r in sub])), 1),
                     "with_abstention": round(100 * with_abstention, 1),
                     "near_misses_refused": round(
                         100 * evaluate(near, answerability, threshold)[1], 1) if near else None}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=100000)
    ap.add_argument("--cache", type=Path, default=ROOT / ".qa" / "fit")
    ap.add_argument("--weights", type=Path, default=None, help="weights folder (default: shipped)")
    ap.add_argument("--dump", type=Path, default=None)
    ap.add_argument("--load", type=Path, default=None)
    ap.add_argument("--dry-run", action="store_true", help="print, do not write the manifest")
    ap.add_argument("--rules-dump", type=Path, default=None,
                    help="bench/fit_reader.py --dump rows: use the rule reader's out-of-fold F1")
    args = ap.parse_args(argv)
    reader = None

    def factory(bot):
        nonlocal reader
        if reader is None:
            reader = NeuralReader(bot.embedder, weights=args.weights)
        return reader

    rows = json.loads(args.load.read_text()) if args.load else []
    for name, qpath, corpus, answerable in ([] if args.load else SETS):
        if qpath.exists() and corpus.exists():
            rows += collect(name, qpath, corpus, answerable, args.limit, args.cache, factory)
    if args.dump:
        args.dump.write_text(json.dumps(rows))
    if args.rules_dump:
        oof = out_of_fold_rule_f1(args.rules_dump)
        missing = sum((r["set"], r["id"]) not in oof for r in rows)
        print(f"rule reader out of fold: {len(rows) - missing} questions ({missing} in-sample)",
              file=sys.stderr)
        rows = [{**r, "rule_f1": oof.get((r["set"], r["id"]), r["rule_f1"])} for r in rows]
    raw = apply_windows(rows, DEFAULT_WINDOW_WEIGHTS)  # the highest span score, any window
    window = fit_windows(rows)
    cv_windows = cross_validated_windows(rows)
    rows = apply_windows(rows, window)
    choice, confidence, answerability, fitted_rows = fit(rows)
    threshold = choose_threshold(fitted_rows, answerability)
    cv = cross_validated_choice(rows)
    report = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        sub = [r for r in fitted_rows if r["set"] == name]
        f, a = evaluate(sub, answerability, threshold)
        f0, _ = evaluate(sub, answerability, 0.0)
        entry = {"f1": round(100 * f, 1), "f1_no_abstention": round(100 * f0, 1),
                 "abstained_correctly": round(100 * a, 1), "n": len(sub)}
        if sub[0]["gold"]:
            cv_sub = [r for r in cv if r["set"] == name]
            mean = lambda rs, key: round(100 * float(np.mean([r[key] for r in rs])), 1)  # noqa: E731
            entry.update({
                "network_any_window_f1": mean([r for r in raw if r["set"] == name], "f1"),
                "network_window_choice_f1_cross_validated": mean(
                    [r for r in cv_windows if r["set"] == name], "f1"),
                "network_f1_no_abstention": round(100 * float(np.mean([r["f1"] for r in sub])), 1),
                "rules_f1_no_abstention": round(100 * float(np.mean([r["rule_f1"] for r in sub])),
                                                1),
                "chosen_f1_cross_validated": round(
                    100 * float(np.mean([r["final_f1"] for r in cv_sub])), 1)})
        report[name] = entry
        print(name, json.dumps(entry))
    decision = {"features": FEATURES,
                "window_features": WINDOW_FEATURES,
                "window": [round(float(v), 5) for v in window],
                "prefer_rules": None if choice is None else [round(float(v), 5) for v in choice],
                "confidence": [round(float(v), 5) for v in confidence],
                "answerability": [round(float(v), 5) for v in answerability],
                "abstain_threshold": threshold,
                "fitted_on": [s[0] for s in SETS],
                "rule_reader_answers": "out of fold" if args.rules_dump else "in sample",
                "label": "confidence: syllable F1 >= 0.5; answerability: labelled answerable",
                "in_sample": report}
    print(json.dumps({k: decision[k] for k in ("window", "prefer_rules", "confidence",
                                               "answerability", "abstain_threshold")}))
    from qa.reader.weights_io import MANIFEST, default_folder

    folder = args.weights or default_folder()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    validation = validation_figures(cv, answerability, threshold, manifest)
    for name, entry in validation.items():
        print(f"validation {name}", json.dumps(entry))
    decision["validation"] = validation
    if not args.dry_run:
        manifest["decision"] = decision
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
        print(f"wrote the decision into {folder / MANIFEST}")


if __name__ == "__main__":
    main()
