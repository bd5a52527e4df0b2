"""Features of a candidate answer span, for the reader's linear scorer.

Each feature is a number with a plain meaning (how much of the question the sentence covers,
how close the span sits to the matched words, whether its type is the one asked for...), so a
logistic regression fit on dev questions can weigh them, and a person can read the weights.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa.reader.candidates import Candidate, clause_spans
from qa.reader.question import (
    ANSWER_TYPES,
    DATE,
    DESCRIPTION,
    LIST,
    NAME,
    ORG,
    PERSON,
    PLACE,
    QUANTITY,
    QuestionAnalysis,
    is_function_word,
)
from qa.text import TOKEN_RE, contains_run

Token = tuple[int, int, str]  # start, end (in the sentence), matching form

BASE = ["bias", "type_match", "strength", "cov", "bigram", "p_cov", "entity", "prox",
        "prox_left", "prox_right", "in_question", "unit", "plan_mismatch", "passage_rank",
        "passage_score", "log_len", "long", "has_digit", "capitalised", "sentence_pos",
        "left_align", "right_align", "slot", "side_good", "side_bad", "adjacent_left",
        "adjacent_right", "starts_function", "ends_function", "punct_before", "punct_after",
        "head_start", "len_free", "cap_named", "cap_desc", "single_name_person", "prox_named",
        "prox_desc", "cov_ctx"]
FEATURES = (BASE + [f"match_{t}" for t in ANSWER_TYPES] + [f"kind_{t}" for t in ANSWER_TYPES])


# Whether the articles answer the question at all, as opposed to which span answers it:
# the best candidate's score and match, and how much of the question the read passages
# hold anywhere ("GDP của tỉnh Lai Châu" over articles about Lai Châu that never say GDP).
ANSWERABILITY = ["bias", "score", "cov", "p_cov", "entity", "bigram", "any_cov", "missing_rare",
                 "any_entity", "log_content"]


def question_evidence(q: QuestionAnalysis, passage_seqs: list[list[str]],
                      weights: dict[str, float]) -> list[float]:
    """The question-level part of `answerability`: the weighted share of the question's
    words found in any read passage, the weight of the rarest word found in none relative
    to the rarest asked, the share of its names found, and how many words it has."""
    forms = set().union(*passage_seqs) if passage_seqs else set()
    content = set(q.content)
    asked = {t: w for t, w in weights.items() if t in content}
    total = sum(asked.values()) or 1.0
    found = sum(w for t, w in asked.items() if t in forms) / total
    rarest = max(asked.values(), default=1.0) or 1.0
    missing = max((w for t, w in asked.items() if t not in forms), default=0.0) / rarest
    names = (sum(any(contains_run(seq, e) for seq in passage_seqs) for e in q.entities)
             / len(q.entities) if q.entities else 1.0)
    return [found, missing, names, math.log1p(len(asked))]


_FROM_CANDIDATE = [FEATURES.index(f) for f in ("cov", "p_cov", "entity", "bigram")]


def answerability(score: float, x: tuple[float, ...], evidence: list[float]) -> list[float]:
    """The `ANSWERABILITY` values: the best candidate's score and match, then `evidence`."""
    return [1.0, score, *(x[i] for i in _FROM_CANDIDATE), *evidence]


@dataclass(frozen=True)
class SentenceContext:
    tokens: list[Token]
    matched: list[int]  # indices of tokens that are question words
    cov: float
    bigram: float
    p_cov: float
    entity: float
    plan_mismatch: float
    passage_rank: int
    passage_score: float  # passage score / best passage score
    sentence_pos: float  # 0 for the passage's first sentence, 1 for its last
    heads: tuple[tuple[int, int], ...] = ()  # where it names the noun a "nào" asks about
    # `cov` over the sentence with the one before it and the article's title: news names the
    # subject once ("Đảng bộ phường Chi Lăng tổ chức Đại hội…") and gives details after it
    cov_ctx: float = 0.0


def _proximity(lo: int, hi: int, ctx: SentenceContext, weights: dict[str, float], side: int,
               window: int = 6, apposition_end: int | None = None) -> float:
    """Weighted share of question words within `window` tokens of the span, each counted
    once at its closest occurrence; side -1 looks left only, +1 right only, 0 both.
    Words after an apposition ("Bùi Thị Minh - Phó Bí thư Tỉnh ủy | dự và chỉ đạo") are
    measured from the apposition's end: the verb after it belongs to the name."""
    best: dict[str, float] = {}
    for i in ctx.matched:
        if lo <= i <= hi:
            continue
        if (side < 0 and i > hi) or (side > 0 and i < lo):
            continue
        d = lo - i if i < lo else i - hi
        if apposition_end is not None and i > hi:
            d = 1 if i <= apposition_end else i - apposition_end
        if d <= window:
            t = ctx.tokens[i][2]
            best[t] = max(best.get(t, 0.0), weights[t] / (1.0 + d / 2.0))
    total = sum(weights.values()) or 1.0
    return min(1.0, 2.0 * sum(best.values()) / total)


# lower-case words inside titles ("Phó Bí thư Tỉnh ủy", "Chủ tịch UBND tỉnh")
_TITLE_WORDS = set("""thư ủy uỷ tịch trưởng viên thường trực phó nhân dân tỉnh huyện xã phường
thành phố ban chấp hành đảng bộ kiểm tra vụ chính trị trung ương quốc hội hội đồng đồng sở
tổng giám đốc chánh án tòa viện sát quân khu đội mặt trận tổ dân vận tuyên giáo
""".split())


def _apposition_end(sent: str, toks: list[Token], hi: int) -> int | None:
    """Index of the last token of a title set off by a dash after a name, if any."""
    if hi + 1 >= len(toks) or not re.fullmatch(r"\s*[-–]\s*", sent[toks[hi][1]:toks[hi + 1][0]]):
        return None
    j = hi + 1
    while j < len(toks):
        word = sent[toks[j][0]:toks[j][1]]
        if not (word[:1].isupper() or word.lower() in _TITLE_WORDS):
            break
        if j > hi + 1 and re.search(r"[,;.:()]", sent[toks[j - 1][1]:toks[j][0]]):
            break
        j += 1
    return j - 1 if j - 1 > hi else None


def features(q: QuestionAnalysis, c: Candidate, ctx: SentenceContext, sent: str,
             weights: dict[str, float]) -> list[float] | None:
    toks = ctx.tokens
    inside = [i for i, (a, b, _f) in enumerate(toks) if a >= c.start and b <= c.end]
    if not inside:
        return None
    lo, hi = inside[0], inside[-1]
    in_q = sum(1 for i in inside if toks[i][2] in weights) / len(inside)
    if c.kind == LIST:
        in_q *= 0.3  # an enumeration may name the question's subject among new items
    unit = 0.0
    if q.answer_type == QUANTITY and _asks_percent(q):
        unit = 1.0 if "%" in sent[c.start:c.end] else -0.5
    elif q.answer_type == QUANTITY and q.unit:
        unit = _unit_credit(q.unit, toks, sent, inside)
    span = sent[c.start:c.end]
    words = span.split()
    match = c.kind == q.answer_type
    strength = c.strength
    app = _apposition_end(sent, toks, hi) if c.kind == PERSON else None
    if q.answer_type == DATE and q.day_level and "/" not in span and not c.kind == SLOT:
        strength *= 0.3  # "ngày nào" asks for a day: a bare year or month is a weak answer
    prox = _proximity(lo, hi, ctx, weights, 0, apposition_end=app)
    cap = sum(1 for w in words if w[:1].isupper()) / max(len(words), 1)
    base = [1.0, float(match), strength, ctx.cov, ctx.bigram, ctx.p_cov, ctx.entity,
            prox,
            _proximity(lo, hi, ctx, weights, -1),
            _proximity(lo, hi, ctx, weights, 1, apposition_end=app), in_q, unit, ctx.plan_mismatch,
            float(ctx.passage_rank), ctx.passage_score, math.log1p(len(inside)),
            float(len(inside) > 12), float(any(ch.isdigit() for ch in span)),
            cap, ctx.sentence_pos,
            _aligned(toks, range(max(0, lo - 3), lo), q.left_anchor),
            _aligned(toks, range(hi + 1, min(len(toks), hi + 4)), q.right_anchor),
            float(c.kind == SLOT)] + _alignment(q, ctx, sent, lo, hi, weights) + [
            float(is_function_word(toks[lo][2], q.accented)),
            float(is_function_word(toks[hi][2], q.accented)),
            float(lo == 0 or bool(_PUNCT.search(sent[toks[lo - 1][1]:toks[lo][0]]))),
            float(hi == len(toks) - 1 or bool(_PUNCT.search(sent[toks[hi][1]:toks[hi + 1][0]]))),
            float(any(i == lo and hi >= lo + size for i, size in ctx.heads)),
            math.log1p(len(inside)) if q.answer_type in (DESCRIPTION, NAME) else 0.0]
    # the same evidence means different things for different questions: a capitalised span
    # answers "ai"/"nào" questions, rarely "gì" ones; one capitalised word can be a person
    named = q.answer_type in (PERSON, PLACE, ORG, NAME)
    base += [cap if named else 0.0, cap if q.answer_type == DESCRIPTION else 0.0,
             float(q.answer_type == PERSON and len(inside) == 1 and words[0][:1].isupper()
                   and lo > 0),
             prox if named else 0.0, prox if q.answer_type == DESCRIPTION else 0.0,
             ctx.cov_ctx]
    return (base + [float(match and q.answer_type == t) for t in ANSWER_TYPES]
            + [float(c.kind == t) for t in ANSWER_TYPES])


_ADJACENT = re.compile(r"\s*[:“”\"«»]?\s*[“”\"«»]?\s*")


def _alignment(q: QuestionAnalysis, ctx: SentenceContext, sent: str, lo: int, hi: int,
               weights: dict[str, float]) -> list[float]:
    """Where the question's words sit around the span, against where they sit around the
    question word: words asked before it should come before the answer, words after it
    after ("[Đảng Quốc gia] mạnh nhất ở khu vực..." for "Đảng nào mạnh nhất ở khu vực...?").
    Each word counts once, at its closest occurrence, fading with distance."""
    before, after = set(q.before_wh), set(q.after_wh)
    good: dict[str, float] = {}
    bad: dict[str, float] = {}
    for i in ctx.matched:
        if lo <= i <= hi:
            continue
        t = ctx.tokens[i][2]
        left = i < lo
        d = lo - i if left else i - hi
        fade = weights[t] / (1.0 + (d - 1) / 4.0)
        right_side = (t in before) if left else (t in after)
        wrong_side = (t in after and t not in before) if left else (t in before and t not in after)
        if right_side:
            good[t] = max(good.get(t, 0.0), fade)
        elif wrong_side:
            bad[t] = max(bad.get(t, 0.0), fade)
    total = sum(weights.values()) or 1.0
    toks = ctx.tokens
    # the span fills the question word's place: the word asked right before it ends just
    # before the span, or the word right after it starts just after, with at most a quotation
    # mark or colon between ("có chủ đề gì?" / có chủ đề “[Đoàn kết, ...]”; "còn bao nhiêu" /
    # còn [86]), or one function word after a content word ("kết nạp bao nhiêu" / kết nạp
    # được [52])
    left = _fills(q.wh_prev, toks, sent, lo, hi, -1, q.accented)
    right = _fills(q.wh_next, toks, sent, lo, hi, 1, q.accented)
    if q.wh_next and toks[lo][2] == q.wh_next[0]:
        left = 0.0  # "thành tích gì của nhà trường": not "thành tích [của nhà trường]"
    if q.wh_prev and toks[hi][2] == q.wh_prev[-1]:
        right = 0.0
    return [min(1.0, sum(good.values()) / total), min(1.0, sum(bad.values()) / total),
            left, right]


def _fills(words: tuple[str, ...], toks: list[Token], sent: str, lo: int, hi: int, side: int,
           accented: bool) -> float:
    """How well the question's words next to its question word (`words`, before it for side
    -1, after it for +1) sit next to the span: both of them 1.0, the nearest alone 0.6
    (one syllable may belong to another word: "hành chính nào" / "chính thức"), after one
    skipped function word 0.7 or 0.42."""
    if not words:
        return 0.0
    order = list(reversed(words)) if side < 0 else list(words)  # nearest first

    def joined(i: int, j: int) -> bool:  # tokens i < j with at most a quote or colon between
        return bool(_ADJACENT.fullmatch(sent[toks[i][1]:toks[j][0]]))

    step = -1 if side < 0 else 1
    at = lo - 1 if side < 0 else hi + 1
    best = 0.0
    for skip, scale in ((0, 1.0), (1, 0.7)):
        i = at + step * skip
        if not 0 <= i < len(toks) or not 0 <= at < len(toks):
            break
        if skip and not (is_function_word(toks[at][2], accented) and not is_function_word(
                order[0], accented)):
            break
        span_edge = lo if side < 0 else hi
        if not all(joined(min(a, b), max(a, b)) for a, b in
                   zip(range(span_edge, i, step), range(span_edge + step, i + step, step))):
            break
        if toks[i][2] != order[0]:
            continue
        k = i + step
        both = len(order) > 1 and 0 <= k < len(toks) and toks[k][2] == order[1] and joined(
            min(i, k), max(i, k))
        best = max(best, scale * (1.0 if both or len(order) == 1 else 0.6))
    return best


def _asks_percent(q: QuestionAnalysis) -> bool:
    """ "bao nhiêu phần trăm", or a rate ("tỷ lệ", "tỉ lệ") with no other unit asked for."""
    percent = (q.form("phần"), q.form("trăm"))
    if q.unit:
        return q.unit[:2] == percent
    forms = [q.form(m.group()) for m in TOKEN_RE.finditer(q.text)]
    rates = {(q.form("tỷ"), q.form("lệ")), (q.form("tỉ"), q.form("lệ")), percent}
    return any(pair in rates for pair in zip(forms, forms[1:]))


def _unit_credit(unit: tuple[str, ...], toks: list[Token], sent: str, inside: list[int]) -> float:
    """How well the words right after the span's number say the question's unit, in order:
    "86 hộ nghèo" says "hộ nghèo"; "4.200 hộ dân" counts other households (half of the
    partial credit); "25.400 người." says "người" and ends there (partial credit)."""
    n = min(len(unit), 2)
    # the number, read from the sentence: matching keys end in a tone digit ("người" → "ngươi2")
    digits = [i for i in inside if sent[toks[i][0]].isdigit()]
    at = (digits[-1] if digits else inside[-1]) + 1
    k = 0
    while k < n and at + k < len(toks) and toks[at + k][2] == unit[k]:
        if k and _PUNCT.search(sent[toks[at + k - 1][1]:toks[at + k][0]]):
            break
        k += 1
    if k == n:
        return 0.7
    if k == 0:
        return -0.3
    nxt = at + k
    continues = nxt < len(toks) and not _PUNCT.search(sent[toks[nxt - 1][1]:toks[nxt][0]])
    return (k / n) * (0.5 if continues else 1.0) - 0.3


_PUNCT = re.compile(r"[,.;:()\[\]\"“”!?–-]")


def _aligned(toks: list[Token], window: range, anchor: tuple[str, ...]) -> float:
    if not anchor:
        return 0.0
    near = {toks[i][2] for i in window}
    return sum(1 for a in anchor if a in near) / len(anchor)


SLOT = "SLOT"


def slot_candidates(q: QuestionAnalysis, sent: str, toks: list[Token],
                    max_len: int = 6) -> list[Candidate]:
    """Spans right after the question's left anchor or right before its right anchor in the
    sentence ("Lady Gaga hát [quốc ca]"), or starting with the noun a "nào" asks about
    ("[Đảng Quốc gia]"), 1 to `max_len` tokens, never across punctuation."""
    out = []
    forms = [t[2] for t in toks]
    breaks = {i for i in range(1, len(toks)) if re.search(r"[,.;:()\[\]\"“”!?]",
                                                          sent[toks[i - 1][1]:toks[i][0]])}
    function = [is_function_word(f, q.accented) for f in forms]
    if q.left_anchor:
        for i, f in enumerate(forms):
            if f in q.left_anchor and i + 1 < len(toks) and (i + 1) not in breaks:
                for n in range(1, max_len + 1):
                    j = i + n
                    if j >= len(toks) or (j > i + 1 and j in breaks):
                        break
                    if not all(function[i + 1:j + 1]):  # "của" alone says nothing
                        out.append(Candidate(toks[i + 1][0], toks[j][1], SLOT, 0.5))
    for i, size in head_at(q, sent, toks):
        for n in range(size, max_len + size):
            j = i + n
            if j >= len(toks) or j in breaks:
                break
            out.append(Candidate(toks[i][0], toks[j][1], SLOT, 0.5))
    if q.right_anchor:
        for i, f in enumerate(forms):
            if f in q.right_anchor and i > 0 and i not in breaks:
                for n in range(1, max_len + 1):
                    j = i - n
                    if j < 0 or (j + 1) in breaks and j + 1 < i:
                        break
                    if not all(function[j:i]):
                        out.append(Candidate(toks[j][0], toks[i - 1][1], SLOT, 0.5))
    return out


def head_at(q: QuestionAnalysis, sent: str, toks: list[Token]) -> list[tuple[int, int]]:
    """Where the sentence names the noun a "nào" asks about, as (token, size): the whole
    noun ("đơn vị hành chính"), two syllables of it in a row ("Trường [đại học]" nào /
    "Đại học Newcastle"), or its first syllable capitalised, as names start ("Đảng chính
    trị nào" / "Đảng Lao động")."""
    head = q.head
    if not head:
        return []
    forms = [t[2] for t in toks]
    runs = {head} | {head[k:k + 2] for k in range(len(head) - 1)}
    out = []
    for i in range(len(forms)):
        size = max((len(r) for r in runs if tuple(forms[i:i + len(r)]) == r), default=0)
        if not size and forms[i] == head[0] and sent[toks[i][0]].isupper() and len(head) > 1:
            size = 1
        if size:
            out.append((i, size))
    return out


_COPULA = {"là", "rằng", "la", "rang"}


def rest_candidates(q: QuestionAnalysis, sent: str, toks: list[Token],
                    asked: set[str]) -> list[Candidate]:
    """For description questions, what a clause says that the question does not: each
    stretch of it between the question's words (`asked`, with the function words between
    them), at least two tokens long ("Quốc lộ 6 bị chia cắt [do đất đá đổ xuống mặt đường]",
    "nhiệm vụ trọng tâm là [phát triển du lịch]"), without a leading "là"."""
    if q.answer_type != DESCRIPTION:
        return []
    out = []
    for ca, cb in clause_spans(sent):
        idx = [i for i, (a, b, _f) in enumerate(toks) if a >= ca and b <= cb]
        hit = [toks[i][2] in asked for i in idx]
        if not any(hit):
            continue
        function = [is_function_word(toks[i][2], q.accented) for i in idx]
        said = hit[:]
        for n in range(len(idx)):  # "thành tích [của] nhà trường": one run
            if function[n] and not hit[n]:
                left = next((hit[k] for k in range(n - 1, -1, -1) if not function[k]), False)
                right = next((hit[k] for k in range(n + 1, len(idx)) if not function[k]), False)
                said[n] = left and right
        n = 0
        while n < len(idx):
            if said[n]:
                n += 1
                continue
            end = n
            while end < len(idx) and not said[end]:
                end += 1
            lo, hi = n, end - 1
            while lo <= hi and toks[idx[lo]][2] in _COPULA:
                lo += 1
            while hi >= lo and function[hi] and end < len(idx):  # "... của [nhà trường]"
                hi -= 1
            if hi - lo >= 1:
                stop = cb if end == len(idx) else toks[idx[hi]][1]
                out.append(Candidate(toks[idx[lo]][0], stop, DESCRIPTION, 0.5))
            n = end
    return out


# Hand-set weights: the fallback where no fitted weights ship (and the starting point that
# the fitted ones were compared with).
HAND_WEIGHTS = {
    "bias": -2.2, "type_match": 0.8, "strength": 0.6, "cov": 1.5, "bigram": 0.6, "p_cov": 0.6,
    "entity": 1.5, "prox": 1.0, "in_question": -1.8, "unit": 0.9, "plan_mismatch": -0.45,
    "passage_rank": -0.06, "passage_score": 0.3, "long": -0.3,
}
