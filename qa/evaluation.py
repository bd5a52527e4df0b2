"""Predictions for a question file, and the same figures as `shared/eval/score.py`.

The scoring below follows that script line for line (tokens: NFC, lower case, digits split
from letters, punctuation dropped), so `qa eval` and the scorer never disagree.
"""

from __future__ import annotations

import collections
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from qa.types import Answer


def toks(s: str | None) -> list[str]:
    s = unicodedata.normalize("NFC", s or "").lower()
    s = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", s)
    return re.findall(r"\w+", s)


def f1(pred: str, gold: str) -> float:
    p, g = toks(pred), toks(gold)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not p or not g or common == 0:
        return float(p == g)
    pr, rc = common / len(p), common / len(g)
    return 2 * pr * rc / (pr + rc)


def best_f1(pred: str, golds: Iterable[str]) -> float:
    """`pred`'s F1 against the closest of the gold answers (0 with none)."""
    return max((f1(pred, g) for g in golds), default=0.0)


def _doc_of(c: dict) -> str:
    d = c.get("doc_id") or c.get("doc") or ""
    return d.replace("\\", "/").rsplit("/", 1)[-1]


def _nfc_lower(s: str | None) -> str:
    return unicodedata.normalize("NFC", s or "").lower()


def read_jsonl(path: Path | str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(predictions: Sequence[dict], gold: Sequence[dict]) -> dict:
    """The metrics of score.py for prediction rows against gold rows."""
    preds = {p["id"]: p for p in predictions}
    n = em = f = hit1 = hit5 = passage5 = evid = 0
    un = un_ok = ans_abst = missing = 0
    for g in gold:
        p = preds.get(g["id"])
        if p is None:
            missing += 1
            p = {"answer": "", "abstained": True, "citations": []}
        abst = bool(p.get("abstained")) or not (p.get("answer") or "").strip()
        if not g.get("answerable", True):
            un += 1
            un_ok += abst
            continue
        n += 1
        ans = "" if abst else p.get("answer", "")
        ans_abst += abst
        em += max(toks(ans) == toks(a) for a in g["answers"])
        f += best_f1(ans, g["answers"])
        docs = [_doc_of(c) for c in p.get("citations", [])]
        gd = (g.get("doc") or "").rsplit("/", 1)[-1]
        hit1 += bool(docs[:1]) and docs[0] == gd
        hit5 += gd in docs[:5]
        texts = [_nfc_lower(c.get("text", "")) for c in p.get("citations", [])[:5]]
        ev = _nfc_lower(p.get("evidence"))
        evid += bool(ev) and any(_nfc_lower(a) in ev for a in g["answers"])
        passage5 += any(_nfc_lower(a) in t for a in g["answers"] for t in texts)

    def pct(x):
        return round(100 * x / max(n, 1), 1)

    return {"answerable": n, "EM": pct(em), "F1": pct(f), "doc_hit@1": pct(hit1),
            "doc_hit@5": pct(hit5), "answer_in_top5_passages": pct(passage5),
            "evidence_has_answer": pct(evid), "abstained_on_answerable": ans_abst,
            "unanswerable": un, "abstained_on_unanswerable": un_ok, "missing_predictions": missing}


def prediction_row(qid: str, answer: Answer) -> dict:
    d = answer.to_dict()
    return {"id": qid, "answer": d["answer"], "abstained": d["abstained"],
            "confidence": d["confidence"], "evidence": d["evidence"],
            "citations": d["citations"]}


def predict(rows: Iterable[dict], ask: Callable[[str, list[str]], Answer],
            on_row: Callable[[dict, Answer, float], None] | None = None) -> list[dict]:
    """Ask every question (follow-ups with their `history`) and return prediction rows."""
    out = []
    for row in rows:
        t0 = time.perf_counter()
        answer = ask(row["question"], list(row.get("history") or []))
        if on_row:
            on_row(row, answer, time.perf_counter() - t0)
        out.append(prediction_row(row["id"], answer))
    return out


def write_jsonl(rows: Iterable[dict], path: Path | str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
