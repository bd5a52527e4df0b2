"""The neural reader: a span network on the multilingual-e5-small backbone reads the few
windows that can hold the answer and copies the answer out of the passage.

Which windows: the rule reader's question analysis ranks the sentences of the retrieved
passages (question words present, names matched, a candidate of the asked type); the best few,
with their neighbours, make windows of `max_length` pieces. The network scores every piece as
the answer's start and end, and position 0 as "no answer here". The confidence and the
decision to answer at all are logistic models over the network's and the rule reader's
evidence, fitted on the Vietnamese fitting sets and their near misses (bench/fit_neural.py),
stored in the weights' manifest.

The backbone's embeddings and lower layers are the embedder's own (one copy in memory) when the
embedder is the default model; otherwise the reader loads the backbone itself.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from qa.reader.base import abstain, extracted
from qa.reader.question import (
    ANSWER_TYPES,
    DATE,
    LIST,
    PERSON,
    PLAN_WORDS,
    QUANTITY,
    is_function_word,
)
from qa.reader.rules import RuleReader, Scored, _sigmoid, _tidy
from qa.text import (
    POSTS,
    TOKEN_RE,
    AccentPattern,
    abbreviation_aliases,
    fold_accents,
    normalize,
    restore_accents,
    searchable,
    sentence_at,
    spell_abbreviations,
    spell_posts,
    spell_shorthand,
    spell_units,
)
from qa.types import Answer, Passage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowSpan:
    """The network's best span in one window read, and where that window came from."""

    passage: int
    start: int  # in passages[passage].text
    end: int
    score: float  # start + end score
    null: float  # the window's no-answer score
    order: int  # 0: the window of the rule reader's best sentence, 1: the next...
    sentence: float  # that sentence's rule score less the best sentence's (<= 0)
    agreement: float = 0.0  # F1 between this span and the rule reader's answer

    def features(self) -> list[float]:
        """`WINDOW_FEATURES`: what the fitted window choice weighs."""
        return [self.score, self.null, float(self.order), self.sentence,
                float(self.passage)]


WINDOW_FEATURES = ["score", "null", "order", "sentence", "passage_rank"]
# unfitted: the highest span score wins, whichever window it is in
DEFAULT_WINDOW_WEIGHTS = [1.0, 0.0, 0.0, 0.0, 0.0]


@dataclass(frozen=True)
class Reading:
    """Everything the reader found for one question, before the calibrated decision."""

    passage: int  # -1: nothing read
    start: int  # the answer in passages[passage].text
    end: int
    score: float  # the network's start + end score of the answer
    null: float  # the no-answer score of the answer's window
    best_null: float  # the lowest no-answer score over the windows read
    rule_score: float  # the rule reader's best candidate score (logit)
    rule_answerable: float  # the rule reader's probability that the passages answer at all
    agreement: float  # F1 between the network's and the rule reader's answers
    windows: int
    rule_answer: tuple[int, int, int] | None = None  # (passage, start, end), tidied
    answer_type: str = ""  # what the question asks for (qa.reader.question)
    spans: tuple[WindowSpan, ...] = ()  # every window's best span (the chosen one included)
    order: int = 0  # the chosen window's order

    def choose(self, weights: Sequence[float]) -> Reading:
        """This reading with its answer from the window that `weights` (over
        `WINDOW_FEATURES`) score highest."""
        if not self.spans:
            return self
        x = max(self.spans, key=lambda w: sum(a * b for a, b in zip(weights, w.features())))
        return replace(self, passage=x.passage, start=x.start, end=x.end, score=x.score,
                       null=x.null, agreement=x.agreement, order=x.order)

    def features(self) -> list[float]:
        """The inputs of the fitted models, in `FEATURES` order."""
        return [1.0, self.score - self.null, self.score, self.score - self.best_null,
                self.rule_score, _logit(self.rule_answerable), self.agreement,
                float(self.order), *(float(self.answer_type == t) for t in ANSWER_TYPES)]


FEATURES = ["bias", "margin", "score", "margin_best", "rule_score", "rule_answerable",
            "agreement", "window_order", *(f"type_{t}" for t in ANSWER_TYPES)]


# The network's span is its best start + end; where the question says what shape the answer
# has, the best of its next spans that has that shape is taken instead, if it scores within
# SHAPE_MARGIN of the best (fixed, not tuned: docs/benchmarks.md, "Answer shape").
SHAPE_CANDIDATES = 10
SHAPE_MARGIN = 2.0
_REASON_A = re.compile(r"(?:để|nhằm|vì|do|bởi|nhờ|tại|là do|là vì)(?!\w)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")  # "2012," is 2012 and a comma
# a reason's clause ends at ", " / "; " / ". " ("1.789", "134,31" are no ends; criterion 51)
_AFTER_REASON = re.compile(r"(?<!\w)(?:để|nhằm|vì|do|bởi|nhờ|tại)\s+$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[,;.!?:](?=\s|$)|\n")
CLAUSE_WORDS = 25
# A named list: items split by ", " / "; " / " và ", each a level word or none, capitalised
# words, an optional bracket ("phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa").
_ITEM_SEP = re.compile(r",\s+|;\s+|\s+và\s+|:\s+")
_LEVEL_WORDS = {"xã", "phường", "huyện", "tỉnh", "quận", "thành", "phố", "thị", "trấn", "thôn",
                "bản", "tổ", "làng", "tp"}


def _named_suffix(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The end of text[start:end] that names something: capitalised words (at most 5), the
    level words before them, a bracket after them ("xã Lản Nhì Thàng (huyện Phong Thổ cũ)")."""
    piece = text[start:end]
    core_end = len(piece.rstrip(" .;,"))
    bracket = re.search(r"\s*\([^()]*\)$", piece[:core_end])
    words = list(re.finditer(r"\S+", piece[:bracket.start() if bracket else core_end]))
    k = len(words)
    while k > 0 and words[k - 1].group()[:1].isupper() and len(words) - k < 5:
        k -= 1
    if k == len(words):
        return None
    while k > 0 and words[k - 1].group().lower() in _LEVEL_WORDS:
        k -= 1
    return start + words[k].start(), start + core_end


def _named_runs(text: str, i: int) -> list[list[tuple[int, int]]]:
    """The runs of named items ((start, end) each, "xã Lản Nhì Thàng (huyện Phong Thổ cũ)")
    in the sentence of text[i], split by ", " / "; " / " và " / ": "."""
    sentence = sentence_at(text, i)
    if sentence is None:
        return []
    pieces, at = [], sentence[0]  # (start, end, the separator after it)
    for m in _ITEM_SEP.finditer(text, *sentence):
        pieces.append((at, m.start(), m.group().strip()))
        at = m.end()
    pieces.append((at, sentence[1], ""))
    runs, run = [], []
    for start, end, sep in pieces:
        named = _named_suffix(text, start, end)
        if named and run and named[0] == start:  # a whole named piece goes on
            run.append(named)
        else:  # a run ends; a named end of a piece starts one
            runs.append(run)
            run = [named] if named else []
        if sep == ":":
            runs.append(run)
            run = []
    runs.append(run)
    return runs


@dataclass(frozen=True)
class AnswerShape:
    """What the question says of its answer's shape: a reason ("vì sao…": a clause of purpose
    or cause), a list ("những đơn vị nào": items), or a count of a named noun ("mấy ngày": a
    number that "ngày" follows in the text)."""

    reason: bool = False
    items: bool = False
    unit: tuple[str, ...] = ()  # matching forms (QuestionAnalysis.form) of the counted noun
    form: object = None  # QuestionAnalysis.form
    content: tuple[str, ...] = ()  # the question's content words (matching forms), less the noun
    pairs: frozenset = frozenset()  # its adjacent content words ("thường vụ"), as pairs of forms
    aliases: tuple[tuple[str, ...], ...] = ()  # abbreviations of the noun ("hợp tác xã": HTX)
    # how many of the noun's words a count must repeat: those before the first function word,
    # at most two ("đảng viên": 2, so "6 đảng bộ" is not a count of it; "người đang sống": 1)
    noun_words: int = 1

    @classmethod
    def of(cls, q) -> AnswerShape:
        unit = tuple(q.unit) if q.answer_type == QUANTITY else ()
        content = tuple(w for w in q.content if w not in unit)
        forms = [q.form(t) for t in TOKEN_RE.findall(q.text)]
        pairs = frozenset((x, y) for x, y in zip(forms, forms[1:])
                          if x in content and y in content)
        noun = next((k for k, w in enumerate(unit) if is_function_word(w, q.accented)),
                    len(unit))
        return cls(q.reason, q.answer_type == LIST, unit, q.form, content, pairs,
                   tuple(abbreviation_aliases(unit, q.form)) if unit else (),
                   max(1, min(2, noun)))

    @property
    def asks(self) -> bool:
        return self.reason or self.items or bool(self.unit)

    def fit(self, text: str, a: int, b: int) -> tuple[int, int] | None:
        """The span text[a:b] as the shape wants it, or None where it has not that shape. A
        count keeps its span ("hơn 600" where "600 đảng viên" follows) less a bracket after
        the counted noun, closed or cut by the span's end ("2 ngày (15 - 16/1)", "2 ngày (15 -
        16/1" → "2 ngày")."""
        span = text[a:b]
        if self.reason:
            return (a, b) if _REASON_A.match(span) else None
        if self.items:
            parts = [x for x in re.split(r"\s*[,;]\s*|\s+và\s+", span.strip(" ,.;")) if x]
            return (a, b) if len(parts) >= 2 and all(len(x.split()) <= 6 for x in parts) else None
        if self.unit:
            for m in _NUMBER.finditer(span):
                noun_end = self._noun_after(text, a + m.end())
                if noun_end is not None:
                    rest = text[noun_end:b]
                    if noun_end < b and re.fullmatch(r"\s*\([^()]*\)?[\s,.;]*", rest):
                        return a, noun_end
                    return a, b
        return None

    def _noun_after(self, text: str, i: int, size: int | None = None) -> int | None:
        """The end of the counted noun where it follows text[i] ("10| đồng chí"), else None;
        `size`: at most that many of its words."""
        words = list(re.finditer(r"\w+", text[i:i + 80]))
        unit = self.unit[:size]
        k = 0
        while k < len(words) and k < len(unit) and self.form(words[k].group()) == unit[k]:
            k += 1
        if k < min(self.noun_words, len(unit)):
            k = 0
        if k == 0:  # "4 HTX" for "bao nhiêu hợp tác xã"
            k = next((len(a) for a in self.aliases
                      if tuple(self.form(w.group()) for w in words[:len(a)]) == a), 0)
        return i + words[k - 1].end() if k and words[0].start() <= 1 else None

    def enumeration(self, text: str, a: int, b: int) -> tuple[int, int] | None:
        """For a list question whose span names nothing ("5 đơn vị hành chính cũ"): the first
        run of two or more named items that starts at or after the span in its sentence
        ("Đoàn Kết, Quyết Tiến… và xã Lản Nhì Thàng (huyện Phong Thổ cũ)"), else None."""
        if not self.items or any(w[:1].isupper() for w in text[a:b].split()[1:]):
            return None
        found = next((r for r in _named_runs(text, a) if len(r) >= 2 and r[0][0] >= a), None)
        return (found[0][0], found[-1][1]) if found else None

    def clause(self, text: str, a: int, b: int) -> tuple[int, int]:
        """For a reason question whose span opens a clause of purpose or cause ("để rút kinh
        nghiệm" of "để rút kinh nghiệm chỉ đạo tổ chức đại hội cấp cơ sở nhiệm kỳ 2025-2030.")
        or follows its word ("nhằm |thực hiện…"): the span to the clause's end, the next ", ",
        "; " or ". " or the sentence's end, at most CLAUSE_WORDS more words; else as it is."""
        if (not self.reason or text[a:b].rstrip()[-1:] in ",;.:!?"
                or not (_REASON_A.match(text, a) or _AFTER_REASON.search(text, 0, a))):
            return a, b
        sentence = sentence_at(text, a)
        end = sentence[1] if sentence else len(text)
        stop = _CLAUSE_END.search(text, b, end)
        end = stop.start() if stop else end
        if end <= b or len(text[b:end].split()) > CLAUSE_WORDS:
            return a, b
        return a, b + len(text[b:end].rstrip(" .;,!?"))

    def continued(self, text: str, a: int, b: int) -> tuple[int, int]:
        """For a list question whose span is named items cut short ("Đoàn Kết, Quyết Tiến,
        Quyết Thắng, Sùng Phài" before "(thành phố Lai Châu cũ) và xã Lản Nhì Thàng"): the
        span to the end of the run of named items it starts with two or more; else as it is."""
        if not self.items:
            return a, b
        for run in _named_runs(text, a):
            if len(run) >= 2 and run[0][0] <= a < run[1][0] < b < run[-1][1]:
                return a, run[-1][1]
        return a, b

    def sibling(self, text: str, a: int, b: int) -> tuple[int, int]:
        """A count among counts of the same noun in one sentence ("chỉ định 30 đồng chí tham
        gia Ban Chấp hành, 10 đồng chí vào Ban Thường vụ"): the one whose own words (up to the
        next count or ";", its items with it) share most with the question; the chosen span
        where none shares more: first by adjacent word pairs ("Ban Thường vụ"), then by words.
        The span keeps its form (the number alone, or with the noun)."""
        if not self.unit or not self.content:
            return a, b
        sentence = sentence_at(text, a)
        if sentence is None:
            return a, b
        counts = []  # (number start, number end, noun end)
        for m in _NUMBER.finditer(text, *sentence):
            end = self._noun_after(text, m.end())
            if end is not None:
                counts.append((m.start(), m.end(), end))
        mine = next((c for c in counts if a <= c[0] < b), None)
        if mine is None or len(counts) < 2:
            return a, b
        wanted = set(self.content)

        def shared(n: int) -> tuple[int, int]:  # (word pairs, words) shared with the question
            stop = counts[n + 1][0] if n + 1 < len(counts) else sentence[1]
            # to the next count or a ";", its listed items too: "15 chi bộ tổ dân phố, bản, 8
            # chi bộ trường học, trạm y tế, công an" (to the first comma, the 8's words were
            # "trường học" alone)
            clause = text[counts[n][2]:stop].split(";")[0]
            forms = [self.form(w) for w in TOKEN_RE.findall(clause)]
            return len(self.pairs & set(zip(forms, forms[1:]))), len(wanted & set(forms))

        scores = [shared(n) for n in range(len(counts))]
        best = max(range(len(counts)), key=lambda n: scores[n])
        if scores[best] <= scores[counts.index(mine)]:
            return a, b
        num_a, num_b, _end = counts[best]
        if b < mine[2]:
            return num_a, num_b
        size = len(TOKEN_RE.findall(text[mine[1]:mine[2]]))  # as many noun words as the span's
        return num_a, self._noun_after(text, num_b, size) or num_b

    def pick(self, spans: Sequence, text: str):
        """The best of `spans` (one window's, best first) that fits, within the margin; else
        the best. Offsets stay those of `text` (the passage)."""
        best = spans[0]
        if not self.asks:
            return best
        for x in spans:
            if x.score < best.score - SHAPE_MARGIN:
                break
            fitted = self.fit(text, x.start, x.end)
            if fitted is not None:
                if self.unit:
                    fitted = self.sibling(text, *fitted)
                fitted = self.clause(text, *self.continued(text, *fitted))
                return replace(x, start=fitted[0], end=fitted[1])
        listed = self.enumeration(text, best.start, best.end) or self.clause(text, best.start,
                                                                              best.end)
        if listed == (best.start, best.end):
            return best
        return replace(best, start=listed[0], end=listed[1])


# A question that asks for a day, a year or an amount is refused where the answer chosen has
# no day, no digit, no number word: what a near miss finds nearest ("Đại hội … diễn ra ngày
# nào?" over articles without that congress: "2030"). Written before measuring; on the fitting
# sets it refuses 3 right answers of 1,764 (questions like "bao nhiêu phần…" → "khu vực rộng
# lớn") and leaves the validation figures as they were (docs/benchmarks.md, "Shape guard").
# A day's digits stand alone: "2025-2030" is a term, no day (criterion 49).
_NUMBER_WORDS = (r"một|hai|ba|bốn|tư|năm|sáu|bảy|tám|chín|mười|mươi|trăm|nghìn|ngàn|triệu|tỷ"
                 r"|tỉ|nửa|vài|đôi|chục|lần|nhiều|ít|hàng|không|mỗi|các|những|[ivxlc]+")
_ASKED_SHAPES = (
    (AccentPattern.compile(r"ngày (?:nào|mấy|bao nhiêu)|hôm nào", whole_words=True),
     re.compile(r"(?<!\d)\d{1,2}\s*[/-]\s*\d{1,2}(?!\d)|(?<!\w)ngày\s+\d|(?<!\w)(?:mùng|tháng)(?!\w)",
                re.IGNORECASE)),
    (AccentPattern.compile(r"năm (?:nào|bao nhiêu|mấy)", whole_words=True), re.compile(r"\d")),
    (AccentPattern.compile(r"bao nhiêu", whole_words=True),
     re.compile(rf"\d|(?<!\w)(?:{_NUMBER_WORDS})(?!\w)", re.IGNORECASE)),
)


def lacks_asked_shape(question: str, answer: str) -> bool:
    """Whether `question` asks which day, which year or how many (the first of these it asks)
    and `answer` names no day, has no digit, or no number: "ngày nào?" → "2030" does."""
    low, accented = searchable(question)
    for asks, shape in _ASKED_SHAPES:
        if asks.search(low, accented):
            return not shape.search(answer)
    return False


# A person asked for by the post they hold ("Ai được bầu làm Phó Bí thư…?") is not answered
# with someone whose sentence names that post only in its other form: a near miss finds the
# person of the neighbouring post ("Nguyễn Lệ Thùy", re-elected Bí thư, for the Phó Bí thư no
# article names). "Bí thư", "Phó Bí thư" and "Tổng Bí thư" are three posts (docs/benchmarks.md,
# "Role guard").
_ROLE = AccentPattern.compile("|".join(POSTS), whole_words=True)
_ROLE_LEAD = re.compile(r"(?<!\w)(phó|pho|tổng|tong)\s*$")


# The post a person is asked for by: after a word of holding ("là", "làm", "giữ chức", "được bầu",
# "đương kim"), before "nào" ("Phó Bí thư Tỉnh ủy nào dự…?") or opening "… là ai?"; the first
# post of "Ai được Chủ tịch nước tặng quà?" is the giver's, and none is asked
_HOLDS = fold_accents(r"(?:là|làm|chức|chức vụ|giữ|cương vị|vị trí|đảm nhiệm|đảm nhận|tân|nguyên|cử"
                      r"|đắc cử|trúng cử|tái cử|bổ nhiệm|chỉ định|bầu|kiêm|ghế)"
                      r"(?:\s+(?:đương kim|đương nhiệm|vị|cựu|người|đồng chí))*")
_HOLDER = re.compile(r"(?<!\w)(?:la|lam)\s+(?:ai|nguoi nao|ong nao|ba nao|dong chi nao)(?!\w)")


@dataclass(frozen=True)
class AskedPost:
    """The post a question asks a person by: its base ("bí thư", folded where the question is),
    the form asked ("" the post itself, "pho" its deputy, "tong" its "Tổng" form), and
    whether the question is written with diacritics."""

    base: str
    form: str
    accented: bool


def asked_post(question: str) -> AskedPost | None:
    """The post `question` asks a person by, else None."""
    low, accented = searchable(question)
    folded = fold_accents(low)
    m = _ROLE.search(low, accented)
    if m is None:
        return None
    lead = _ROLE_LEAD.search(low, 0, m.start())
    before = folded[:lead.start() if lead else m.start()].rstrip()
    if (re.search(rf"(?<!\w){_HOLDS}$", before)
            or re.match(r"(?:\s+\w+){0,4}?\s+nao(?!\w)", folded[m.end():])
            or (not before.strip(" ,.:;\"'“(") and _HOLDER.search(folded, m.end()))):
        return AskedPost(m.group(), fold_accents(lead.group(1)) if lead else "", accented)
    return None


def _written_as(sentence: str, accented: bool) -> str:
    """`sentence` in lower case, folded where the question is."""
    return sentence.lower() if accented else fold_accents(sentence.lower())


def _posts(text: str, base: str) -> set[str]:
    """The forms of post `base` in `text` (lower case, folded or not as `base`): "" for the
    post itself, "pho" for its deputy, "tong" for "tổng"."""
    out = set()
    for m in re.finditer(rf"(?<!\w){re.escape(base)}(?!\w)", text):
        lead = _ROLE_LEAD.search(text, 0, m.start())
        out.add(fold_accents(lead.group(1)) if lead else "")
    return out


def lacks_asked_role(question: str, sentence: str) -> bool:
    """Whether `question` asks for a person by a post (`asked_post`) and `sentence`, the
    answer's, names that post only in another form: "Phó Bí thư" asked, "Bí thư" there and no
    "Phó Bí thư"; "Bí thư" asked, only "Phó Bí thư" or "Tổng Bí thư". A sentence that names
    no form of the post says nothing either way ("Lothar de Maizière" for "Thủ tướng")."""
    asked = asked_post(question)
    if asked is None:
        return False
    found = _posts(_written_as(sentence, asked.accented), asked.base)
    return bool(found) and asked.form not in found


# A count of the population ("có dân số bao nhiêu người?") is not answered from a sentence that
# speaks of no people ("gồm 15 đồng chí" of a committee; "dân chủ", "dân tộc" are no people)
_POPULATION = AccentPattern.compile(r"dân số|số dân|bao nhiêu dân|người dân (?:đang )?sinh sống"
                                    r"|dân cư|nhân khẩu", whole_words=True)
# people, as the articles write them (with diacritics: "hộ" is not "hỗ trợ", "Hồ Tây"): "dân"
# only counted ("hơn 8,5 triệu dân"), "khẩu" only counted or "nhân khẩu" (not "xuất khẩu")
_PEOPLE = re.compile(r"(?<!\w)(?:dân số|số dân|dân cư|cư dân|nhân khẩu|người|hộ|đông dân)(?!\w)"
                     r"|\d[\d.,]*\s*(?:(?:triệu|nghìn|ngàn|vạn)\s+)?(?:dân|khẩu)(?!\w)")


_RANK = AccentPattern.compile(r"thứ mấy|hạng mấy|thứ bao nhiêu|hạng bao nhiêu|đứng thứ",
                              whole_words=True)  # a rank is no count


def lacks_population(question: str, sentence: str, answer_type: str) -> bool:
    """Whether `question` counts the population and `sentence`, the answer's, names no
    people (dân số, dân cư, người, nhân khẩu, hộ, a count of "dân")."""
    if answer_type != QUANTITY:
        return False
    low, accented = searchable(question)
    if _POPULATION.search(low, accented) is None or _RANK.search(low, accented):
        return False
    return _PEOPLE.search(normalize(sentence).lower()) is None


def names_another_post(question: str, sentence: str) -> bool:
    """Whether `question` asks for a person by a post (`asked_post`) and `sentence`, the
    answer's, names no form of that post but another post: "Chủ nhiệm Ủy ban Kiểm tra" asked,
    "giữ chức Bí thư" there."""
    asked = asked_post(question)
    if asked is None:
        return False
    text = _written_as(sentence, asked.accented)
    return not _posts(text, asked.base) and _ROLE.search(text, asked.accented) is not None


# A person asked for by a post and the body it heads ("Bí thư Thành ủy Lạng Sơn") is not
# answered from a sentence where that post heads only other bodies ("Bí thư Đảng ủy phường Chi
# Lăng"): a near miss finds the holder of the same post elsewhere (criterion 50 in
# docs/benchmarks.md). Bodies as the questions write them, folded; "thường trực" between them.
_BODY = re.compile(r"\s+(?:thuong\s+truc\s+)?(tinh\s+uy|thanh\s+uy|huyen\s+uy|quan\s+uy"
                   r"|thi\s+uy|dang\s+uy|chi\s+bo|ubnd|hdnd|uy\s+ban\s+nhan\s+dan"
                   r"|hoi\s+dong\s+nhan\s+dan|uy\s+ban\s+kiem\s+tra|uy\s+ban\s+mttq"
                   r"|mat\s+tran)(?!\w)")
_BODY_FORMS = {"uy ban nhan dan": "ubnd", "hoi dong nhan dan": "hdnd", "uy ban mttq": "mat tran"}


def _bodies(text: str, base: str, form: str) -> list[str | None]:
    """For each mention of post `base` in the form `form` in `text` (folded, lower case): the
    body it heads, or None where no body follows."""
    out = []
    for m in re.finditer(rf"(?<!\w){re.escape(base)}(?!\w)", text):
        lead = _ROLE_LEAD.search(text, 0, m.start())
        if (lead.group(1) if lead else "") != form:
            continue
        body = _BODY.match(text, m.end())
        name = " ".join(body.group(1).split()) if body else None
        out.append(_BODY_FORMS.get(name, name))
    return out


def names_another_body(question: str, sentence: str) -> bool:
    """Whether `question` asks for a person by a post and the body it heads, and every mention
    of that post in `sentence` heads another body: "Bí thư Thành ủy" asked, only "Bí thư Đảng
    ủy phường" there. A mention without a body, or a question without one, says nothing."""
    asked = asked_post(question)
    if asked is None:
        return False
    base = fold_accents(asked.base)
    wanted = [b for b in _bodies(fold_accents(normalize(question).lower()), base, asked.form)
              if b]
    if not wanted:
        return False
    found = _bodies(fold_accents(normalize(sentence).lower()), base, asked.form)
    return bool(found) and None not in found and wanted[0] not in found


# A question about now ("hiện nay", "hiện còn") or about a year ("Năm 2025, …") is not answered
# from a target ("phấn đấu đến năm 2030 cơ bản không còn hộ nghèo", "đến năm 2030 thu ngân
# sách đạt 50 tỷ đồng"): a near miss, where the article gives only the plan (docs/benchmarks.md,
# "Time guard"). A question that itself asks for a plan is left alone.
_NOW = AccentPattern.compile(r"hiện nay|hiện tại|hiện có|hiện còn|năm nay", whole_words=True)
# a question that asks for a plan (question analysis's plan words, "tới năm", "nhiệm kỳ tới"); a
# sentence that states one (the same less "đến năm", which also ends a past stretch of time)
_PLANNED = AccentPattern.compile("|".join(PLAN_WORDS + ("tới năm", "nhiệm kỳ tới")),
                                 whole_words=True)
_AIMED = AccentPattern.compile("|".join(w for w in PLAN_WORDS if w != "đến năm"),
                               whole_words=True)
_TARGET_YEAR = re.compile(r"(?:đến|tới)\s+năm\s+(\d{4})", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def asks_now_of_a_target(question: str, sentence: str) -> bool:
    """Whether `question` asks about now or a past year and `sentence`, the answer's, states a
    target for a later time instead."""
    low, accented = searchable(question)
    if _PLANNED.search(low, accented):
        return False
    now = _NOW.search(low, accented) is not None
    years = [int(y) for y in _YEAR.findall(question)]
    if not now and not years:
        return False
    text = normalize(sentence).lower()
    if _AIMED.search(text, True) is None:  # "từ năm 1975 đến năm 1986": a past, no target
        return False
    return now or any(int(t) > max(years) for t in _TARGET_YEAR.findall(text))


# News conventions the written answers follow: "đạt 97%" answers "bao nhiêu phần trăm" with
# "97%" (the issue's own examples, "đạt 100%", "đạt 95%"); "diễn ra trong 2 ngày (15 - 16/1)"
# answers "những ngày nào" with "15 - 16/1". Neither form occurs among the network's spans on
# the Wikipedia fitting sets (docs/benchmarks.md, "Served boundaries").
_REACHES = re.compile(r"(?:đạt|tỷ lệ|tỉ lệ)\s+(?=\d)", re.IGNORECASE)
# a unit glued to a figure ("134,31|km2", "10%|/năm") and a range's first number ("1 |đến 2")
_GLUED = re.compile(r"(?:[^\W\d_]+\d?)?(?:/[^\W\d_]+)?(?=[\s,.;:!?)]|$)")
_RANGE_END = re.compile(r"(?:đến|tới|-|–)\s*\d", re.IGNORECASE)
_RANGE_START = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*%?\s*$")
_DAYS_OF = re.compile(r"\d+\s+ngày\s*(?:\(\s*([^()]*\d[^()]*?)\s*\)?"
                      r"|(\d{1,2}\s*[-–]\s*\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{2,4})?))",
                      re.IGNORECASE)


def _figure_or_dates(text: str, a: int, b: int, answer_type: str) -> tuple[int, int]:
    """The served span of text[a:b]: a count up to a ";" ("100%; tỷ lệ đảng viên… đạt 97%"),
    with the unit glued to its figure ("134,31km2", "10%/năm") and a range's first number ("1
    đến 2"), the figure of a count "đạt / tỷ lệ <figure>", the dates of a date "<N> ngày
    (<dates>)" or "<N> ngày <d-d/m>"; else the span as it is (criterion 52)."""
    if answer_type == QUANTITY:
        cut = text.find(";", a, b)  # a count does not run into the next clause
        if cut > a and any(ch.isdigit() for ch in text[a:cut]):
            b = len(text[:cut].rstrip())
        if b < len(text) and (text[b - 1].isdigit() or text[b - 1] == "%"):
            glued = _GLUED.match(text, b)
            if glued and glued.end() > b:
                b = glued.end()
        if _RANGE_END.match(text, a, b):
            first = _RANGE_START.search(text, max(0, a - 20), a)
            if first:
                a = first.start()
        m = _REACHES.match(text, a, b)
        if m:
            return m.end(), b
    elif answer_type == DATE:
        m = _DAYS_OF.fullmatch(text, a, b)
        if m:
            g = 1 if m.group(1) else 2
            return m.start(g), m.end(g)
    return a, b


# A question asking someone's post ("Bà X giữ chức vụ gì?", "chức danh của ông Y là gì?")
_ASKS_POST = re.compile(fold_accents(
    r"(?<!\w)(?<!tổ\s)(?:chức\s+vụ|chức\s+danh|cương\s+vị|chức)\s+(?:gì|nào)(?!\w)"
    r"|(?<!\w)(?:chức\s+vụ|chức\s+danh|cương\s+vị)(?!\w)[^?]*\blà\s+gì(?!\w)"))
_POST_WORD = re.compile(r"(?<!\w)(?:" + "|".join(p.replace(" ", r"\s+") for p in POSTS)
                        + r"|[uủ]y\s+viên|TUV|UVBTV)(?!\w)", re.IGNORECASE)
# words of the body a post heads ("Phó Bí thư Thường trực Thành ủy", "Chủ tịch UBND phường")
_BODY_WORDS = frozenset(
    "tỉnh thành ủy uỷ đảng huyện quận thị xã phường trấn phố ban ubnd hđnd hội đồng nhân dân mặt "
    "trận tổ quốc thường trực vụ tòa toà án viện kiểm sát chấp hành bộ cơ quan các khối mttq "
    "sở".split())
_NEXT_WORD = re.compile(r" ([^\W\d_]+)(?!\w)")
_LIST_COMMA = re.compile(r",\s+")


def _whole_post(question: str, text: str, a: int, b: int) -> tuple[int, int]:
    """For a question asking a post, text[a:b] holding one served as the whole post: a "Phó"
    before it, the body it heads after it ("Phó Bí thư" -> "Phó Bí thư Tỉnh ủy"; the place of
    that body, at most two capitalised words, so a person's name is not taken), and ",
    <another post>" after that ("Thành ủy viên, Bí thư Đảng ủy phường"); else the span as it
    is."""
    asked = fold_accents(question).lower()
    if not _ASKS_POST.search(asked) or not _POST_WORD.search(text, a, b):
        return a, b
    asked = " ".join(asked.split())
    before = re.search(r"(?<!\w)Phó\s+$", text[max(0, a - 6):a], re.IGNORECASE)
    if before:
        a -= len(before.group())
    end = _body_end(text, b)
    while (more := _LIST_COMMA.match(text, end)) \
            and (post := _POST_WORD.match(text, more.end())):
        named = _body_end(text, post.end(), place=False)
        if " ".join(fold_accents(text[post.start():named]).lower().split()) in asked:
            break  # a post the question names ("Ngoài cương vị Bí thư Tỉnh ủy, …")
        end = _body_end(text, post.end())
    return a, max(b, end)


def _body_end(text: str, end: int, place: bool = True) -> int:
    """The end of the body a post ending at `end` heads: its body words and, after them
    (`place`), a place of at most two capitalised words (a longer run is a place and a
    person's name)."""
    body = False
    while m := _NEXT_WORD.match(text, end):
        if m.group(1).lower() in _BODY_WORDS:
            end, body = m.end(), True
            continue
        run = [m]
        while (n := _NEXT_WORD.match(text, run[-1].end())) and n.group(1)[0].isupper() \
                and n.group(1).lower() not in _BODY_WORDS:
            run.append(n)
        if place and body and m.group(1)[0].isupper() and len(run) <= 2:
            end = run[-1].end()  # the body's place ("Thành ủy Lai Châu")
        break
    return end


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


class NeuralReader:
    def __init__(self, embedder=None, weights: Path | str | None = None,
                 abstain_threshold: float | None = None, max_windows: int = 4,
                 max_passages: int = 5, rules: RuleReader | None = None,
                 backbone=None, backbone_record: dict | None = None, quantize: bool = False):
        """`embedder`: shares its backbone when it is the default model. `backbone`: a
        (transformer, tokenizer) pair to use as is, with the `backbone_record` the weights
        must name (tests, other backbones); by default the installed e5 backbone.
        `quantize`: run the trained layers int8 (dynamic, per channel) as the shared lower
        layers are. Off by default: it halves the reading time but costs 12-14 F1 on held-out
        questions (docs/benchmarks.md, "Neural reader"); training validated them in float32."""
        from qa.reader.weights_io import default_folder

        self.embedder = embedder
        self._backbone = backbone
        self._record = backbone_record
        self.quantize = quantize
        self.folder = default_folder() if weights is None else Path(weights)
        self.rules = RuleReader(max_passages=max_passages) if rules is None else rules
        self.max_windows = max_windows
        self.max_passages = max_passages
        self._threshold = abstain_threshold
        self._loaded = None
        self._lock = threading.Lock()

    # the index's term weights reach the rule reader's question analysis
    @property
    def term_weight(self):
        return self.rules.term_weight

    @term_weight.setter
    def term_weight(self, value) -> None:
        self.rules.term_weight = value

    def warm_up(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
        return self._loaded

    def _load(self):
        from embeddings import DEFAULT_MODEL, SentenceTransformerEmbedder, canonical_name
        from qa.reader.network import Lower
        from qa.reader.spans import WindowMaker
        from qa.reader.weights_io import load_head

        head, manifest = load_head(self.folder, self._record)
        if self.quantize:
            from embeddings.embedder import quantize_int8

            quantize_int8(head)
        if self._backbone is not None:
            backbone, tokenizer = self._backbone
        else:
            embedder = self.embedder
            if embedder is None or canonical_name(embedder.name) != DEFAULT_MODEL:
                embedder = SentenceTransformerEmbedder(DEFAULT_MODEL, precision="int8")
            backbone, tokenizer = embedder.backbone()
        cfg = manifest["config"]
        lower = Lower(backbone, int(cfg["lower_layers"]))
        maker = WindowMaker(tokenizer, int(cfg["max_length"]), int(cfg["question_tokens"]))
        fitted = manifest.get("decision") or {}
        if fitted and (fitted.get("features") != FEATURES
                       or fitted.get("window_features") != WINDOW_FEATURES):
            log.warning("the neural reader's fitted decisions are for other features: ignored "
                        "(refit them with bench/fit_neural.py)")
            fitted = {}
        log.info("neural reader: %d trained layers over %d shared ones (%s)", len(head.layers),
                 lower.k, self.folder)
        return head, lower, maker, fitted

    @property
    def abstain_threshold(self) -> float:
        if self._threshold is not None:
            return self._threshold
        return float(self.warm_up()[3].get("abstain_threshold", 0.5))

    # --- reading ------------------------------------------------------------------------

    def reading(self, question: str, passages: Sequence[Passage]) -> Reading:
        import torch

        from qa.evaluation import f1
        from qa.reader.spans import best_spans, collate

        head, lower, maker, fitted = self.warm_up()
        passages = list(passages[: self.max_passages])
        question, q, scored, evidence, chosen = self.plan(question, passages)
        rule_top = max(scored, key=lambda s: s.score) if scored else None
        rule_conf = _sigmoid(rule_top.score) if rule_top else 0.0
        rule_answerable = self.rules.answerable(rule_top, evidence, rule_conf) if rule_top else 0.0
        shape = AnswerShape.of(q)
        rule_answer = None
        if rule_top is not None:
            p = passages[rule_top.passage]
            a = rule_top.sent[0] + rule_top.cand.start
            b = rule_top.sent[0] + rule_top.cand.end
            tidy = _tidy(p.text[a:b], q.answer_type)
            a += max(p.text[a:b].find(tidy), 0)
            # a count among counts: the one the question describes, as for the network's span
            rule_answer = (rule_top.passage, *shape.sibling(p.text, a, a + len(tidy)))
        rule_score = rule_top.score if rule_top else -10.0
        if not chosen:
            return Reading(-1, 0, 0, -1e4, 0.0, 0.0, rule_score, rule_answerable, 0.0, 0,
                           rule_answer, q.answer_type)
        windows = [w for _, _, _, w in chosen]
        ids, mask = collate(windows, maker.pad)
        with torch.inference_mode():
            s, e = head(lower(ids, mask), mask)
        top_sentence = chosen[0][1]
        rule_text = (passages[rule_answer[0]].text[rule_answer[1]:rule_answer[2]]
                     if rule_answer else None)
        spans = []
        for n, (pi, sentence, ctx, w) in enumerate(chosen):
            found = best_spans([w], ctx, passages[pi].text, s[n:n + 1], e[n:n + 1],
                               per_window=SHAPE_CANDIDATES if shape.asks else 1)
            if found:
                x = shape.pick(found, passages[pi].text)
                agreement = f1(passages[pi].text[x.start:x.end], rule_text) if rule_text else 0.0
                spans.append(WindowSpan(pi, x.start, x.end, x.score, x.null, n,
                                        sentence - top_sentence, agreement))
        best_null = min(float(s[n, 0] + e[n, 0]) for n in range(len(chosen)))
        reading = Reading(-1, 0, 0, -1e4, best_null, best_null, rule_score, rule_answerable, 0.0,
                          len(chosen), rule_answer, q.answer_type, tuple(spans))
        return reading.choose(fitted.get("window") or DEFAULT_WINDOW_WEIGHTS)

    def plan(self, question: str, passages: Sequence[Passage]):
        """What the network will read for `question` over `passages` (the first
        `max_passages`): the question as read (abbreviations spelled as the passages write
        them, "đứng đầu Đảng ủy" as "Bí thư Đảng ủy"), the rule reader's analysis, its scored
        candidates and evidence, and the windows (passage, sentence score, context, window). Training on the reader's own windows
        (bench/reader_shared_norm.py) reads them here too."""
        maker = self.warm_up()[2]
        passages = list(passages[: self.max_passages])
        texts = [p.text for p in passages]
        question = spell_abbreviations(
            spell_units(spell_shorthand(spell_posts(question)), texts), texts)
        q, scored, evidence = self.rules.score_candidates(question, passages)
        # typed without diacritics, the network reads the question as the passages write it
        chosen = self._windows(maker.question(restore_accents(question, texts)), passages,
                               scored, maker)
        return question, q, scored, evidence, chosen

    def _windows(self, q_ids, passages: Sequence[Passage], scored: Sequence[Scored], maker):
        """Up to `max_windows` (passage, sentence score, context, window), centred on the best
        sentences by the rule reader's scores (a sentence's score is its best candidate's),
        each with its neighbours; with no scored sentence, the start of the first passages."""
        best: dict[tuple[int, tuple[int, int]], float] = {}
        for s in scored:
            key = (s.passage, s.sent)
            best[key] = max(best.get(key, -math.inf), s.score)
        ranked = sorted(best, key=lambda k: -best[k])
        contexts: dict[int, object] = {}
        out: list[tuple[int, float, object, object]] = []
        room = maker.room(q_ids)
        covered: dict[int, list[range]] = {}
        targets = ranked or [(pi, (0, 0)) for pi in range(min(2, len(passages)))]
        for pi, (sa, sb) in targets:
            if len(out) >= self.max_windows:
                break
            ctx = contexts.get(pi)
            if ctx is None:
                ctx = contexts[pi] = maker.context(passages[pi].text)
            if not ctx.ids:
                continue
            first = next((i for i, (a, b) in enumerate(ctx.offsets) if b > sa), 0)
            last = next((i for i in range(len(ctx.offsets) - 1, -1, -1)
                         if ctx.offsets[i][0] < max(sb, sa + 1)), first)
            if any(first in r and last in r for r in covered.get(pi, [])):
                continue  # a window already read holds this sentence
            middle = (first + last) // 2
            a = max(0, min(middle - room // 2, len(ctx.ids) - room))
            b = min(len(ctx.ids), a + room)
            covered.setdefault(pi, []).append(range(a, b))
            out.append((pi, best.get((pi, (sa, sb)), 0.0), ctx, maker.window(q_ids, ctx, a, b)))
        return out

    def decide(self, r: Reading) -> tuple[tuple[int, int, int] | None, float, float]:
        """(the answer's (passage, start, end) or None, its confidence, the probability that
        the passages answer the question at all), by the fitted models: the network's span,
        or the rule reader's where the fitted choice prefers it."""
        fitted = self.warm_up()[3]
        x = r.features()

        def model(name: str, default: float) -> float:
            w = fitted.get(name)
            return _sigmoid(sum(a * b for a, b in zip(w, x))) if w else default

        net = (r.passage, r.start, r.end) if r.passage >= 0 else None
        use_rules = r.rule_answer is not None and (net is None or model("prefer_rules", 0.0) > 0.5)
        chosen = r.rule_answer if use_rules else net
        confidence = model("confidence", _sigmoid(r.score - r.null))
        return chosen, confidence, model("answerability", confidence)

    def read(self, question: str, passages: Sequence[Passage]) -> Answer:
        r = self.reading(question, passages)
        chosen, confidence, answerable = self.decide(r)
        if chosen is None or answerable < self.abstain_threshold:
            return abstain(question, passages, confidence if chosen else 0.0)
        pi, a, b = chosen
        text = passages[pi].text
        if lacks_asked_shape(question, text[a:b]):
            return abstain(question, passages, confidence)
        tidy = _tidy(text[a:b], "")
        shift = text[a:b].find(tidy)
        if tidy and shift >= 0:
            a, b = a + shift, a + shift + len(tidy)
        a, b = _figure_or_dates(text, a, b, r.answer_type)
        a, b = _whole_post(question, text, a, b)
        sa, sb = sentence_at(text, a) or (a, b)
        sb = max(sb, b)
        sentence = text[sa:sb]
        if (r.answer_type == PERSON and (lacks_asked_role(question, sentence)
                                         or names_another_post(question, sentence)
                                         or names_another_body(question, sentence))) \
                or asks_now_of_a_target(question, sentence) \
                or lacks_population(question, sentence, r.answer_type):
            return abstain(question, passages, confidence)
        return extracted(question, passages, pi, (a, b), (sa, sb), confidence)
