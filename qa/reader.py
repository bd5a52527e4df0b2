"""Readers turn retrieved passages into an `Answer`: an extracted span, its evidence
sentence and citations, or an explicit abstention.

`RuleReader` (the offline default) ranks the sentences of the retrieved passages against
the question, generates typed candidate spans in them (qa/candidates.py), scores each by
sentence match, type agreement, proximity to the matched question words and the unit asked
for, and abstains when the best score is under a threshold chosen on dev questions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from qa.candidates import Candidate, candidates
from qa.question import DESCRIPTION, LIST, PLAN_WORDS, QUANTITY, QuestionAnalysis, analyze
from qa.settings import Settings
from qa.text import TOKEN_RE, fold_accents, sentence_spans
from qa.types import NOT_FOUND, Answer, Citation, Passage

# Confidence below which the reader abstains; chosen on the seed dev questions and XQuAD-vi
# dev (see docs/benchmarks.md), never on test data.
DEFAULT_ABSTAIN_THRESHOLD = 0.35

TermWeight = Callable[[str], float]


class Reader(Protocol):
    def read(self, question: str, passages: Sequence[Passage]) -> Answer: ...


@dataclass(frozen=True)
class Scored:
    score: float
    passage: int
    sent: tuple[int, int]  # sentence offsets in the passage text
    cand: Candidate  # offsets relative to the sentence
    coverage: float


def _uniform(_term: str) -> float:
    return 1.0


class RuleReader:
    def __init__(self, abstain_threshold: float | None = None, max_passages: int = 5,
                 term_weight: TermWeight | None = None):
        self.abstain_threshold = (DEFAULT_ABSTAIN_THRESHOLD if abstain_threshold is None
                                  else abstain_threshold)
        self.max_passages = max_passages
        self.term_weight = _uniform if term_weight is None else term_weight

    def _weights(self, q: QuestionAnalysis) -> dict[str, float]:
        return {t: self.term_weight(t if q.accented else "~" + t) for t in set(q.content)}

    def read(self, question: str, passages: Sequence[Passage]) -> Answer:
        q = analyze(question)
        weights = self._weights(q)
        for t in q.related:  # paraphrases count, at half weight
            weights.setdefault(t, 0.5 * self.term_weight(t if q.accented else "~" + t))
        total = sum(w for t, w in weights.items() if t in q.content) or 1.0
        q_bigrams = set(zip(q.content, q.content[1:]))
        best: list[Scored] = []
        top_score = max((p.score for p in passages), default=0.0) or 1.0
        for pi, p in enumerate(passages[: self.max_passages]):
            ptext = p.text
            p_seq = [q.form(m.group()) for m in TOKEN_RE.finditer(p.title + " \n " + ptext)]
            p_forms = set(p_seq)
            p_cov = min(1.0, sum(w for t, w in weights.items() if t in p_forms) / total)
            ent = (sum(_has_seq(p_seq, e) for e in q.entities) / len(q.entities)
                   if q.entities else 1.0)
            for sa, sb in sentence_spans(ptext):
                sent = ptext[sa:sb]
                toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sent)]
                forms = [t[2] for t in toks]
                present = set(forms) & weights.keys()
                cov = min(1.0, sum(weights[t] for t in present) / total)
                if cov == 0:
                    continue
                bi = (sum(1 for pair in zip(forms, forms[1:]) if pair in q_bigrams)
                      / max(len(q_bigrams), 1))
                sent_score = 0.5 * cov + 0.2 * bi + 0.2 * p_cov + 0.5 * (ent - 1.0)
                matched = [i for i, t in enumerate(forms) if t in weights]
                plan_pen = self._plan_mismatch(q, sent)
                for c in candidates(sent, q.answer_type):
                    s = self._score_candidate(q, c, toks, matched, sent_score, weights)
                    s += 0.1 * (p.score / top_score) - 0.02 * pi - plan_pen
                    best.append(Scored(s, pi, (sa, sb), c, (0.75 * cov + 0.25 * p_cov) * ent))
        return self._answer(question, q, passages, best)

    @staticmethod
    def _plan_mismatch(q: QuestionAnalysis, sent: str) -> float:
        """A target ("phấn đấu 10 đảng viên mỗi năm") is not a result ("đã kết nạp 52")."""
        if q.plan is None:
            return 0.0
        low = sent.lower() if q.accented else fold_accents(sent.lower())
        words = PLAN_WORDS if q.accented else tuple(fold_accents(w) for w in PLAN_WORDS)
        is_plan = any(w in low for w in words)
        return 0.15 if is_plan != q.plan else 0.0

    def _score_candidate(self, q, c: Candidate, toks, matched, sent_score, weights) -> float:
        inside = [i for i, (a, b, _f) in enumerate(toks) if a >= c.start and b <= c.end]
        if not inside:
            return -1.0
        in_q = sum(1 for i in inside if toks[i][2] in weights) / len(inside)
        prox = self._proximity(inside, toks, matched, weights)
        unit = 0.0
        if q.answer_type == QUANTITY and q.unit:
            if q.form("phần") == q.unit[0] and len(q.unit) > 1 and q.form("trăm") == q.unit[1]:
                unit = 1.0 if "%" in toks_text(toks, c) else -0.5
            else:
                after = [toks[i][2] for i in range(inside[-1] + 1, min(len(toks), inside[-1] + 4))]
                within = [toks[i][2] for i in inside]
                hits = sum(1 for u in q.unit[:2] if u in after[:3] or u in within)
                unit = hits / min(len(q.unit), 2) - 0.3
        length_pen = 0.0
        if q.answer_type == DESCRIPTION:
            length_pen = 0.01 * max(0, len(inside) - 12)
        repeat_pen = (0.2 if q.answer_type == LIST else 0.6) * in_q
        return sent_score + 0.25 * c.strength + 0.35 * prox + 0.3 * unit - repeat_pen - length_pen

    @staticmethod
    def _proximity(inside, toks, matched, weights, window: int = 6) -> float:
        """Weighted share of question words near the candidate, each counted once at its
        closest occurrence (the answer usually sits next to the predicate it completes)."""
        best: dict[str, float] = {}
        lo, hi = inside[0], inside[-1]
        for i in matched:
            if lo <= i <= hi:
                continue
            d = lo - i if i < lo else i - hi
            if d <= window:
                t = toks[i][2]
                best[t] = max(best.get(t, 0.0), weights[t] / (1.0 + d / 2.0))
        total = sum(weights.values()) or 1.0
        return min(1.0, 2.0 * sum(best.values()) / total)

    # --- the answer ------------------------------------------------------------------

    def _answer(self, question, q, passages, scored: list[Scored]) -> Answer:
        if not scored:
            return self._abstain(question, passages)
        top = max(scored, key=lambda x: x.score)
        confidence = _sigmoid(6.0 * (top.score - 0.75)) * min(1.0, (top.coverage + 0.1) / 0.6)
        if confidence < self.abstain_threshold:
            return self._abstain(question, passages, confidence)
        p = passages[top.passage]
        sa, sb = top.sent
        a, b = sa + top.cand.start, sa + top.cand.end
        text = _tidy(p.text[a:b], q.answer_type)
        shift = p.text[a:b].find(text)
        a, b = a + shift, a + shift + len(text)
        order = [top.passage] + [i for i in range(len(passages)) if i != top.passage]
        cites = []
        for n, i in enumerate(order):
            spans = (dict(answer_start=a, answer_end=b, evidence_start=sa, evidence_end=sb)
                     if i == top.passage else {})
            cites.append(Citation.from_passage(n + 1, passages[i], **spans))
        return Answer(question, text, confidence, False, p.text[sa:sb], tuple(cites), (a, b))

    def _abstain(self, question, passages, confidence: float = 0.0) -> Answer:
        cites = tuple(Citation.from_passage(i + 1, p) for i, p in enumerate(passages))
        return Answer(question, NOT_FOUND, confidence, True, "", cites, None)


def _has_seq(seq: list[str], sub: tuple[str, ...]) -> bool:
    n = len(sub)
    first = sub[0]
    return any(seq[i] == first and tuple(seq[i:i + n]) == sub for i in range(len(seq) - n + 1))


def toks_text(toks, c: Candidate) -> str:
    return "".join(f for a, b, f in toks if a >= c.start and b <= c.end)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _tidy(span: str, kind: str) -> str:
    span = span.strip(" ,.;:-–")
    if kind == LIST:
        span = re.sub(r"^(?:là|gồm|gồm có|bao gồm)\s+", "", span)
    return span


def make_reader(settings: Settings) -> Reader:
    if settings.reader_model:
        from qa.transformer_reader import TransformerReader

        return TransformerReader(settings.reader_model, settings.abstain_threshold)
    return RuleReader(abstain_threshold=settings.abstain_threshold)
