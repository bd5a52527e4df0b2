"""Fit the relevance calibration (qa/relevance.py) and write qa/relevance.json.

    OMP_NUM_THREADS=1 .venv/bin/python bench/fit_relevance.py   # the default model, then MiniLM
    .venv/bin/python bench/fit_relevance.py --models intfloat/multilingual-e5-small

(One thread: on a machine shared with other jobs, torch's two threads wait on each other; one
thread embedded a question 50x faster there, and the fit is then about two minutes after the
indexes are built.)

For each licence-clean fitting set (XQuAD-vi dev, MLQA-vi dev, vi-wiki-handwritten train, the
seed dev questions; never a test split) the set's corpus is indexed with the model (in
`--work`, reused by later runs), each question (follow-ups resolved with their history, as the
app does) retrieves its top `--k` passages with the app's retriever, and each passage is
labelled 1 when it is from the question's article and holds one of its answers (0 for every
passage of an unanswerable question). A logistic model over `qa.relevance.DENSE_FEATURES` is
fitted per model, and one over `WORD_FEATURES` on all of them (for passages without vectors).
Each fit is also scored leaving one set out (fitted on the others): calibration that holds on
a set it never saw is what the labels in the app rely on.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings import DEFAULT_MODEL, MINILM, SentenceTransformerEmbedder  # noqa: E402
from qa.conversation import resolve_followup  # noqa: E402
from qa.corpus import load_corpus  # noqa: E402
from qa.index import build_index  # noqa: E402
from qa.relevance import DENSE_FEATURES, FITTED, WORD_FEATURES, WORDS_ONLY  # noqa: E402
from qa.retrieval import HybridRetriever  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.store import IndexStore  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SETS = {  # name: (questions, corpus)
    "xquad-vi dev": (DATA / "xquad-vi" / "questions_dev.jsonl", DATA / "xquad-vi" / "corpus"),
    "mlqa-vi dev": (DATA / "mlqa-vi-dev" / "questions.jsonl", DATA / "mlqa-vi-dev" / "corpus"),
    "vi-wiki-handwritten train": (DATA / "vi-wiki-handwritten" / "questions_train.jsonl",
                                  DATA / "vi-wiki-handwritten" / "corpus"),
    "seeds dev": (ROOT.parent / "shared" / "eval" / "seed_qa_dev.jsonl", ROOT / "seeds"),
}
THRESHOLDS = {"rất liên quan": 0.5, "liên quan": 0.15}


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def rows_of(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def examples(name: str, model: str, k: int, work: Path) -> tuple[list[dict], list[int]]:
    """(features, label) of the top-k passages of every question of one set."""
    questions, corpus = SETS[name]
    settings = Settings(corpus=(corpus,), embedding_model=model)
    embedder = SentenceTransformerEmbedder(model, batch_size=settings.batch_size,
                                           precision=settings.embedding_precision)
    store = IndexStore(work / f"{name.replace(' ', '-')}--{model.replace('/', '--')}")
    index, _ = build_index(load_corpus(corpus), store, embedder)
    retriever = HybridRetriever(index, embedder)
    feats, labels = [], []
    for row in rows_of(questions):
        question = resolve_followup(row["question"], row.get("history") or [])
        answers = [norm(a) for a in row.get("answers") or []] if row.get("answerable") else []
        for passage, x in retriever.search_with_features(question, k):
            same_doc = row.get("doc") is None or passage.doc_id.endswith(str(row["doc"]))
            text = norm(f"{passage.title}\n{passage.text}")
            feats.append(x)
            labels.append(int(same_doc and any(a and a in text for a in answers)))
    return feats, labels


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Logistic regression by Newton's method, a little L2 (not on the bias)."""
    w = np.zeros(x.shape[1])
    reg = np.full(x.shape[1], l2)
    reg[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + reg * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def scores(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> dict:
    """Log loss, Brier score, expected calibration error (10 bins), and how the three labels
    split: share of passages and share holding the answer, per label."""
    p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
    eps = 1e-9
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())
    high, mid = THRESHOLDS["rất liên quan"], THRESHOLDS["liên quan"]
    labels = {"rất liên quan": p >= high, "liên quan": (p >= mid) & (p < high),
              "ít liên quan": p < mid}
    return {"passages": int(len(y)), "positives": int(y.sum()),
            "log_loss": round(float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))), 4),
            "brier": round(float(np.mean((p - y) ** 2)), 4), "ece": round(float(ece), 4),
            "labels": {k: {"share": round(float(m.mean()), 3),
                           "hold_answer": round(float(y[m].mean()), 3) if m.any() else None}
                       for k, m in labels.items()}}


def matrix(feats: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[f[n] for n in names] for f in feats], dtype=np.float64)


def fit_model(data: dict[str, tuple[list[dict], list[int]]], names: tuple[str, ...]) -> dict:
    x = np.vstack([matrix(f, names) for f, _ in data.values()])
    y = np.concatenate([np.array(lab, dtype=np.float64) for _, lab in data.values()])
    w = fit(x, y)
    held_out = {}
    for left in data:  # each set scored by a model fitted on the others
        rest = [s for s in data if s != left]
        wx = fit(np.vstack([matrix(data[s][0], names) for s in rest]),
                 np.concatenate([np.array(data[s][1], dtype=np.float64) for s in rest]))
        held_out[left] = scores(wx, matrix(data[left][0], names),
                                np.array(data[left][1], dtype=np.float64))
    return {"features": list(names), "weights": [round(float(v), 5) for v in w],
            "fitted_on": scores(w, x, y), "held_out": held_out}


def commit() -> str:
    import subprocess

    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=[DEFAULT_MODEL, MINILM])
    ap.add_argument("--k", type=int, default=10, help="passages a question (the app cites 5)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/qa-relevance"))
    ap.add_argument("--out", type=Path, default=FITTED)
    args = ap.parse_args(argv)
    started = time.time()
    models, words = {}, {}
    for model in args.models:
        data = {name: examples(name, model, args.k, args.work) for name in SETS}
        models[model] = fit_model(data, DENSE_FEATURES)
        for name, (f, lab) in data.items():  # the same passages, read by their words only
            words.setdefault(name, ([], []))
            words[name][0].extend(f)
            words[name][1].extend(lab)
        print(json.dumps({model: models[model]["held_out"]}, ensure_ascii=False), flush=True)
    models[WORDS_ONLY] = fit_model(words, WORD_FEATURES)
    out = {
        "about": "P(passage holds the answer) from retrieval features that do not depend on "
                 "the fusion weight; qa/relevance.py reads it.",
        "command": " ".join(["python bench/fit_relevance.py", *sys.argv[1:]]),
        "data": {name: str(q.relative_to(ROOT.parent)) for name, (q, _) in SETS.items()},
        "label": "1: a retrieved passage of the question's article that holds one of its "
                 "answers (NFC, lower case); 0: any other, and every passage of an "
                 "unanswerable question",
        "k": args.k, "fitted": time.strftime("%Y-%m-%d"), "commit": commit(),
        "dense_weight": {m: SentenceTransformerEmbedder(m).spec.dense_weight for m in args.models},
        "minutes": round((time.time() - started) / 60, 1),
        "thresholds": THRESHOLDS,
        "models": models,
    }
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v["held_out"] for k, v in models.items()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
