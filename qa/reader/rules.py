"""Readers turn retrieved passages into an `Answer`: an extracted span, its evidence
sentence and citations, or an explicit abstention.

`RuleReader` (the offline default) ranks the sentences of the retrieved passages against the
question, generates candidate spans in them (qa/candidates.py), scores each with a logistic
model over readable features (qa/features.py; weights fit on dev questions only, see
bench/fit_reader.py), and abstains when the best candidate's probability is under a threshold
chosen on dev data. The probability is the confidence: it estimates how often such an answer
is right.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources

from qa.reader.base import abstain, extracted
from qa.reader.candidates import Candidate, candidates
from qa.reader.features import (
    ANSWERABILITY,
    FEATURES,
    HAND_WEIGHTS,
    SentenceContext,
    answerability,
    features,
    head_at,
    question_evidence,
    rest_candidates,
    slot_candidates,
)
from qa.reader.question import DATE, LIST, PLACE, PLAN_WORDS, QuestionAnalysis, analyze
from qa.text import TOKEN_RE, contains_run, fold_accents, sentence_spans
from qa.types import Answer, Passage

TermWeight = Callable[[str], float]
WEIGHTS_FILE = "weights/rules.json"  # inside the qa.reader package


@dataclass(frozen=True)
class Scored:
    score: float  # the linear score (logit)
    passage: int
    sent: tuple[int, int]  # sentence offsets in the passage text
    cand: Candidate  # offsets relative to the sentence
    x: tuple[float, ...] = ()  # features, kept for fitting


def load_weights() -> tuple[list[float], tuple[float, float], float]:
    """Fitted weights, confidence calibration and abstain threshold shipped with the package
    (bench/fit_reader.py), else the hand-set ones."""
    data = _shipped()
    if data is not None:
        a, b = data.get("calibration", (1.0, 0.0))
        return ([float(w) for w in data["weights"]], (float(a), float(b)),
                float(data["abstain_threshold"]))
    return [HAND_WEIGHTS.get(f, 0.0) for f in FEATURES], (1.0, 0.0), 0.3


def load_answerability() -> list[float] | None:
    """The fitted answerability weights (`ANSWERABILITY`), or None: then the reader abstains
    on the confidence alone."""
    data = _shipped()
    model = (data or {}).get("answerability") or {}
    if model.get("features") == ANSWERABILITY:
        return [float(w) for w in model["weights"]]
    return None


def _shipped() -> dict | None:
    try:
        data = json.loads(resources.files("qa.reader").joinpath(WEIGHTS_FILE).read_text("utf-8"))
        if data.get("features") == FEATURES and len(data["weights"]) == len(FEATURES):
            float(data["abstain_threshold"])
            return data
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        pass
    return None


def _uniform(_term: str) -> float:
    return 1.0


class RuleReader:
    """With no `weights`, the shipped weights with their calibration and threshold. Explicit
    `weights` come with their own `calibration` (default none: the logistic score as is),
    never the one fitted for the shipped weights."""

    def __init__(self, abstain_threshold: float | None = None, max_passages: int = 5,
                 term_weight: TermWeight | None = None, weights: list[float] | None = None,
                 calibration: tuple[float, float] | None = None):
        fitted, fitted_calibration, threshold = load_weights()
        if weights is None:
            self.weights = fitted
            default_calibration = fitted_calibration
            self.answerability = load_answerability()
        else:
            self.weights = list(weights)
            default_calibration = (1.0, 0.0)
            self.answerability = None
        self.calibration = default_calibration if calibration is None else calibration
        self.abstain_threshold = threshold if abstain_threshold is None else abstain_threshold
        self.max_passages = max_passages
        self.term_weight = _uniform if term_weight is None else term_weight

    def _question_weights(self, q: QuestionAnalysis) -> tuple[dict[str, float], float]:
        form = (lambda t: t) if q.accented else (lambda t: "~" + t)
        weights = {t: self.term_weight(form(t)) for t in set(q.content)}
        total = sum(weights.values()) or 1.0
        for t in q.related:  # paraphrases count, at half weight
            weights.setdefault(t, 0.5 * self.term_weight(form(t)))
        return weights, total

    def score_candidates(self, question: str, passages: Sequence[Passage]
                         ) -> tuple[QuestionAnalysis, list[Scored], list[float]]:
        """Every candidate span of the passages read, scored; and the question-level evidence
        for `answerability` over those passages."""
        q = analyze(question)
        weights, total = self._question_weights(q)
        q_bigrams = set(zip(q.content, q.content[1:]))
        top_score = max((p.score for p in passages), default=0.0) or 1.0
        out: list[Scored] = []
        seqs: list[list[str]] = []
        for pi, p in enumerate(passages[: self.max_passages]):
            p_seq = [q.form(m.group()) for m in TOKEN_RE.finditer(p.title + " \n " + p.text)]
            seqs.append(p_seq)
            p_forms = set(p_seq)
            p_cov = min(1.0, sum(w for t, w in weights.items() if t in p_forms) / total)
            entity = (sum(contains_run(p_seq, e) for e in q.entities) / len(q.entities)
                      if q.entities else 1.0)
            spans = sentence_spans(p.text)
            title = {q.form(m.group()) for m in TOKEN_RE.finditer(p.title)}
            before: set[str] = set()
            for si, (sa, sb) in enumerate(spans):
                sent = p.text[sa:sb]
                toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sent)]
                forms = [t[2] for t in toks]
                present = set(forms) & weights.keys()
                cov = min(1.0, sum(weights[t] for t in present) / total)
                around = (present | before | title) & weights.keys()
                cov_ctx = min(1.0, sum(weights[t] for t in around) / total)
                before = set(forms)
                if cov == 0:
                    continue
                bigram = (sum(1 for pair in zip(forms, forms[1:]) if pair in q_bigrams)
                          / max(len(q_bigrams), 1))
                ctx = SentenceContext(
                    toks, [i for i, t in enumerate(forms) if t in weights], cov, bigram, p_cov,
                    entity, _plan_mismatch(q, sent), pi, p.score / top_score,
                    si / max(len(spans) - 1, 1), tuple(head_at(q, sent, toks)), cov_ctx)
                cands = candidates(sent, q.answer_type, broad=True)
                seen = {(c.start, c.end) for c in cands}
                extra = slot_candidates(q, sent, toks)
                extra += rest_candidates(q, sent, toks, set(weights))
                for c in extra:
                    if (c.start, c.end) not in seen:
                        seen.add((c.start, c.end))
                        cands.append(c)
                for c in cands:
                    x = features(q, c, ctx, sent, weights)
                    if x is not None:
                        s = sum(w * v for w, v in zip(self.weights, x))
                        out.append(Scored(s, pi, (sa, sb), c, tuple(x)))
        return q, out, question_evidence(q, seqs, weights)

    def answerable(self, top: Scored, evidence: list[float], confidence: float) -> float:
        """The probability that the passages answer the question at all; without fitted
        answerability weights, the confidence in the best answer."""
        if self.answerability is None:
            return confidence
        z = answerability(top.score, top.x, evidence)
        return _sigmoid(sum(w * v for w, v in zip(self.answerability, z)))

    def read(self, question: str, passages: Sequence[Passage]) -> Answer:
        q, scored, evidence = self.score_candidates(question, passages)
        if not scored:
            return abstain(question, passages)
        top = max(scored, key=lambda x: x.score)
        a_, b_ = self.calibration
        confidence = _sigmoid(a_ * top.score + b_)
        # abstain when the articles do not seem to say it at all; an answer that is only
        # uncertain is still given, with its (low) confidence shown
        if self.answerable(top, evidence, confidence) < self.abstain_threshold:
            return abstain(question, passages, confidence)
        p = passages[top.passage]
        sa, sb = top.sent
        a, b = sa + top.cand.start, sa + top.cand.end
        text = _tidy(p.text[a:b], q.answer_type)
        shift = p.text[a:b].find(text)
        a, b = a + shift, a + shift + len(text)
        return extracted(question, passages, top.passage, (a, b), (sa, sb), confidence)


def _plan_mismatch(q: QuestionAnalysis, sent: str) -> float:
    """A target ("phấn đấu kết nạp 10 đảng viên mỗi năm") is not a result ("đã kết nạp 52")."""
    if q.plan is None:
        return 0.0
    low = sent.lower() if q.accented else fold_accents(sent.lower())
    words = PLAN_WORDS if q.accented else tuple(fold_accents(w) for w in PLAN_WORDS)
    return float(any(w in low for w in words) != q.plan)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


# "Đồng chí" (comrade; "đ/c" for short) is how Party news titles a person, not part of the name:
# "Ai chỉ đạo đại hội?" asks for "Bùi Thị Minh", not "Đồng chí Bùi Thị Minh"
_COMRADE = re.compile(r"^(?:[Đđ]ồng chí|ĐỒNG CHÍ|[Đđ]/[Cc])\s+")


# "Phó Bí thư Thường trực Thành ủy Lai Châu cho biết": the post, not the verb of saying after
# the speaker (no span of the network on the fitting sets ends so)
_SAYS = re.compile(r"(?<=\w)\s+(?:cho biết|nhấn mạnh|khẳng định|phát biểu|cho rằng|chia sẻ|nói)$")


def _tidy(span: str, kind: str) -> str:
    span = span.strip(" ,.;:-–")
    says = _SAYS.search(span)
    if says and span[:says.start()].split()[-1][:1].isupper():
        span = span[:says.start()]
    m = _COMRADE.match(span)
    if m and span[m.end():m.end() + 1].isupper():
        span = span[m.end():]
    if kind == LIST:
        span = re.sub(r"^(?:là|gồm|gồm có|bao gồm)\s+", "", span)
    elif kind == PLACE:  # "ở đâu?" asks for the place, not "[tại] thành phố Điện Biên Phủ"
        span = re.sub(r"^(?:tại|ở)\s+(?=\w)", "", span)
    elif kind == DATE:
        span = re.sub(r"^(?:vào)\s+(?=\w)", "", span)
    return span
