"""Vietnamese text: normalization, accent folding, syllable tokens, sentences, abbreviations.

Design choices that keep character offsets honest:
- `normalize` is NFC plus length-preserving clean-ups, so `Document.text` stays what the
  article says (answers are copied from it verbatim).
- Tone-mark placement (hoà/hòa, thuý/thúy) is made irrelevant in the *matching keys*: a
  syllable's key is its letters without the tone mark plus the tone as a digit, so every
  placement of the same tone gives the same key.
- `fold_accents` maps each character to exactly one character, so folded text shares the
  offsets of the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Combining tone marks (the five Vietnamese tones besides the level one).
_TONES = {"\u0300": "2", "\u0301": "1", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u3000"), " ")

# A token is a number (keeping 1.750, 134,31, 9/8 whole) or a run of letters.
TOKEN_RE = re.compile(r"\d+(?:[.,/]\d+)*|[^\W\d_]+")


def normalize(text: str) -> str:
    """NFC with exotic spaces made plain. Same length before and after, once NFC."""
    return unicodedata.normalize("NFC", text).translate(_SPACES)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d" if ch == "đ" else "D"
    base = unicodedata.normalize("NFD", ch)[0]
    return base if len(base) == 1 else ch


def fold_accents(text: str) -> str:
    """Strip every diacritic (đ→d), one character for one, so offsets are shared."""
    if text.isascii():
        return text
    return "".join(_fold_char(c) if ord(c) > 127 else c for c in text)


def has_diacritics(text: str) -> bool:
    return fold_accents(text) != text


@lru_cache(maxsize=200_000)
def syllable_key(syllable: str) -> str:
    """Lower-cased syllable with its tone moved to a trailing digit: hoà, hòa → 'hoa2'."""
    s = unicodedata.normalize("NFD", syllable.lower())
    tone = ""
    kept = []
    for c in s:
        if c in _TONES:
            tone = _TONES[c]
        else:
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept)) + tone


def canonical(text: str) -> str:
    """A matching form of a whole string: keys of its tokens joined by spaces."""
    return " ".join(syllable_key(m.group()) for m in TOKEN_RE.finditer(normalize(text)))


def token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in TOKEN_RE.finditer(text)]


def syllables(text: str) -> list[str]:
    """Lower-cased tokens as written (NFC)."""
    return [m.group().lower() for m in TOKEN_RE.finditer(normalize(text))]


def contains_run(seq: Sequence[str], run: Sequence[str]) -> bool:
    """True when `run` occurs in `seq` as consecutive items (token phrases)."""
    n, run = len(run), tuple(run)
    return n > 0 and any(tuple(seq[i:i + n]) == run for i in range(len(seq) - n + 1))


def is_accented_query(text: str, threshold: float = 0.25) -> bool:
    """True when the text is typed with diacritics (most Vietnamese syllables carry one)."""
    toks = [t for t in syllables(text) if not t[0].isdigit()]
    if not toks:
        return False
    return sum(has_diacritics(t) for t in toks) / len(toks) >= threshold


@dataclass(frozen=True)
class AccentPattern:
    """A question pattern written with diacritics and its folded twin. A question typed with
    diacritics is searched with them ("bãi" is not "bài"); one typed without, folded."""

    accented: re.Pattern[str]
    folded: re.Pattern[str]

    @classmethod
    def compile(cls, pattern: str, folded: str | None = None,
                whole_words: bool = False) -> AccentPattern:
        """`folded`: the folded form where it is not `fold_accents(pattern)` (a folded word
        that is also another word needs its own context). `whole_words`: match whole words
        only, also folded ("ông nào" is not inside "phuong nao")."""
        def wrap(p: str) -> re.Pattern[str]:
            return re.compile(rf"(?<!\w)(?:{p})(?!\w)" if whole_words else p)
        return cls(wrap(pattern), wrap(fold_accents(pattern) if folded is None else folded))

    def search(self, text: str, accented: bool) -> re.Match[str] | None:
        """`text`: lower-cased, and folded when not `accented`."""
        return (self.accented if accented else self.folded).search(text)

    def finditer(self, text: str, accented: bool):
        """Every match, as `search` finds the first."""
        return (self.accented if accented else self.folded).finditer(text)


def lower(text: str) -> str:
    """`text` in lower case, one character for one ("İ" stays: its lower case is two), so
    offsets are shared."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def searchable(question: str) -> tuple[str, bool]:
    """`question` as `AccentPattern.search` takes it (normalized, lower case, folded when typed
    without diacritics), and whether it is typed with them; the same offsets as the normalized
    question."""
    q = normalize(question)
    accented = is_accented_query(q)
    return (lower(q) if accented else lower(fold_accents(q))), accented


def _with_bigrams(units: list[str], prefix: str) -> list[str]:
    grams = [prefix + u for u in units]
    grams += [f"{prefix}{a}_{b}" for a, b in zip(units, units[1:])]
    return grams


def index_terms(text: str) -> list[str]:
    """BM25 terms of a passage: accented keys and folded forms, unigrams and bigrams."""
    toks = syllables(text)
    keys = [syllable_key(t) for t in toks]
    folded = [fold_accents(t) for t in toks]
    return _with_bigrams(keys, "") + _with_bigrams(folded, "~")


def query_terms(text: str) -> list[str]:
    """BM25 terms of a question: exact keys if typed with diacritics, else folded forms."""
    toks = syllables(text)
    if is_accented_query(text):
        return _with_bigrams([syllable_key(t) for t in toks], "")
    return _with_bigrams([fold_accents(t) for t in toks], "~")


# --- sentences -------------------------------------------------------------------------

_ABBREV_DOTS = r"(?:TP|Tp|tp|TS|ThS|Ths|PGS|GS|BS|Q|P|TT|TX|NXB|Mr|Mrs|Dr|St|v\.v)"
# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) then
# whitespace and an upper-case letter, digit, quote or bracket; or at a paragraph break.
UPPER = "A-Z" + "".join(chr(c) for c in range(0xC0, 0x1EFF) if chr(c).isupper())
_SENT_END = re.compile(
    rf"(?<=[.!?…])([\"”’»)\]]*)\s+(?=[\"“‘«(\[]?[{UPPER}\d])|\n\s*\n|\n")
_NO_BREAK_BEFORE = re.compile(rf"\b{_ABBREV_DOTS}\.$")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text[start:end], whitespace trimmed, offsets absolute.

    Keeps `1.750`, `134,31km2`, `TP. Hồ Chí Minh`, `TS. Nguyễn`, `(Ảnh: …)` inside one sentence.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cur = start
    for m in _SENT_END.finditer(text, start, end):
        piece_end = m.end(1) if m.group(1) is not None else m.start()
        if "\n" not in m.group() and _NO_BREAK_BEFORE.search(text, cur, piece_end):
            continue
        if _inside_parens(text, cur, piece_end):
            continue
        spans.append((cur, piece_end))
        cur = m.end()
    spans.append((cur, end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def sentence_at(text: str, i: int) -> tuple[int, int] | None:
    """(start, end) of the sentence of `text` that holds offset `i` (see `sentence_spans`), or
    None where `i` falls between sentences (whitespace) or outside the text."""
    return next(((a, b) for a, b in sentence_spans(text) if a <= i < b), None)


def _inside_parens(text: str, a: int, b: int) -> bool:
    seg = text[a:b]
    return seg.count("(") > seg.count(")")


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


# --- administrative abbreviations ----------------------------------------------------

ABBREVIATIONS: dict[str, str] = {
    "NSNN": "ngân sách nhà nước",
    "HĐND": "hội đồng nhân dân",
    "UBND": "ủy ban nhân dân",
    "KT-XH": "kinh tế - xã hội",
    "KTXH": "kinh tế - xã hội",
    "QPAN": "quốc phòng - an ninh",
    "QP-AN": "quốc phòng - an ninh",
    "ANQP": "an ninh - quốc phòng",
    "CN - TTCN": "công nghiệp - tiểu thủ công nghiệp",
    "CN-TTCN": "công nghiệp - tiểu thủ công nghiệp",
    "TTCN": "tiểu thủ công nghiệp",
    "TUV": "tỉnh ủy viên",
    "BTV": "ban thường vụ",
    "BCH": "ban chấp hành",
    "MTTQ": "mặt trận tổ quốc",
    "HTX": "hợp tác xã",
    "ĐBSCL": "đồng bằng sông cửu long",
    "TP.": "thành phố",
    "TP": "thành phố",
    "TX.": "thị xã",
    "TT.": "thị trấn",
    "THCS": "trung học cơ sở",
    "THPT": "trung học phổ thông",
    "CNH-HĐH": "công nghiệp hóa - hiện đại hóa",
    "XHCN": "xã hội chủ nghĩa",
    "TTXVN": "thông tấn xã việt nam",
    "ĐBQH": "đại biểu quốc hội",
    "GDP": "tổng sản phẩm",
}


def _abbrev_pattern(abbr: str) -> str:
    core = re.escape(abbr).replace(r"\ ", r"\s*").replace(r"\-", r"\s*-\s*")
    return rf"(?<![\w.]){core}(?![\w])" if not abbr.endswith(".") else rf"(?<![\w.]){core}"


_ABBR_RES = [(re.compile(_abbrev_pattern(a)), a, e) for a, e in ABBREVIATIONS.items()]
_EXP_RES = [(re.compile(r"\b" + re.escape(canonical(e)) + r"\b"), a) for a, e in ABBREVIATIONS.items()]


# What a reader adds beside a question's words: the abbreviations of three letters or more
# (not "TP", "TX.": a bare "thành phố" in a question says nothing of them), longest written-out
# form first; each with its pattern and its written-out form's pattern over `canonical` text
# (the index's own, `_ABBR_RES` / `_EXP_RES`), and the tokens of both forms
_READER_RES = sorted(((a, e, short, written, TOKEN_RE.findall(a), TOKEN_RE.findall(e))
                      for (short, a, e), (written, _a) in zip(_ABBR_RES, _EXP_RES)
                      if "." not in a and len(a.replace(" ", "")) >= 3),
                     key=lambda r: -len(r[1]))


def abbreviation_aliases(words: Sequence[str], form) -> list[tuple[str, ...]]:
    """The abbreviations, as tuples of `form`ed tokens, whose written-out form begins
    `words` (`form`ed already): ("hợp", "tác", "xã") → [("htx",)]."""
    out = []
    for *_, abbr_tokens, tokens in _READER_RES:
        spelled = tuple(form(w) for w in tokens)
        if tuple(words[:len(spelled)]) == spelled:
            out.append(tuple(form(w) for w in abbr_tokens))
    return out


# The posts a person is asked for by ("Ai là Chủ tịch UBND…?"), each with its deputy ("Phó …")
# and, for some, a "Tổng …" form; and the administrative levels a post or a place is named with.
# One list for the follow-ups (qa.conversation) and the near-miss guards (qa.reader).
POSTS = ("bí thư", "chủ tịch", "chủ nhiệm", "trưởng ban", "giám đốc", "chánh án", "viện trưởng",
         "thủ tướng")
ADMIN_LEVELS = ("tỉnh", "thành phố", "huyện", "quận", "thị xã", "thị trấn", "xã", "phường")


# "Ai đứng đầu Đảng ủy phường X?" asks for its Bí thư, "người đứng đầu UBND" for its Chủ tịch:
# the post the articles write (the network read the visiting Phó Bí thư Tỉnh ủy for "đứng đầu")
_PARTY_BODIES = (r"đảng ủy|đảng uỷ|tỉnh ủy|tỉnh uỷ|thành ủy|thành uỷ|huyện ủy|huyện uỷ|quận ủy"
                 r"|quận uỷ|thị ủy|thị uỷ|đảng bộ|chi bộ|ban chấp hành")
_STATE_BODIES = r"ubnd|ủy ban nhân dân|uỷ ban nhân dân|hđnd|hội đồng nhân dân"
_HEAD_OF = tuple(
    (re.compile(fold_accents(rf"(?<!\w)(ai\s+)?(?:người\s+)?đứng\s+đầu\s+(?=(?:{bodies})(?!\w))")),
     post) for bodies, post in ((_PARTY_BODIES, "Bí thư"), (_STATE_BODIES, "Chủ tịch")))


def spell_posts(question: str) -> str:
    """`question` with "(người) đứng đầu" a Party committee or a people's committee written as
    the post the news name: "Ai đứng đầu Đảng ủy phường Kỳ Sơn?" → "Ai là Bí thư Đảng ủy
    phường Kỳ Sơn?"; typed without diacritics too."""
    folded = lower(fold_accents(question))  # the same offsets
    for head, post in _HEAD_OF:
        m = head.search(folded)
        if m:
            accented = is_accented_query(question)
            word = post if accented else fold_accents(post).lower()
            lead = ""
            if m.group(1):  # "Ai đứng đầu…": "Ai là Bí thư…"
                lead = question[m.start(1):m.end(1)] + ("là " if accented else "la ")
            elif m.start() == 0:
                word = word[:1].upper() + word[1:]
            return question[:m.start()] + lead + word + " " + question[m.end():]
    return question


# Units written out as they are spoken, and the symbols the news print ("rộng bao nhiêu
# ki-lô-mét vuông?" over "134,31km2"); the longest first
# (spoken, as printed in a passage, written in the question): "mét vuông" is not the end of
# "ki-lô-mét vuông"; "km²" is printed "km2" as often
_UNITS = tuple((re.compile(fold_accents(rf"(?<![\w-])(?<!lo )(?:{spoken})(?!\w)")),
                re.compile(rf"\d\s*{printed}(?![\w²])"), written) for spoken, printed, written in (
    (r"ki[- ]?lô[- ]?mét vuông|cây số vuông|km vuông", "km[2²]", "km2"),
    (r"ki[- ]?lô[- ]?mét|cây số", "km", "km"),
    (r"héc[- ]?ta|hec[- ]?ta", "ha", "ha"),
    (r"mét vuông", "m[2²]", "m2"),
))
# Chat shorthand in a question typed without diacritics ("ket nap dc bao nhieu"), whole words
_SHORTHAND = {"dc": "duoc", "đc": "duoc", "ko": "khong", "j": "gi", "bn": "bao nhieu",
              "ntn": "nhu the nao", "ng": "nguoi", "vs": "voi", "r": "roi", "rùi": "roi",
              "rui": "roi"}
# lower case only: "Washington DC", "Donald J Trump" keep theirs; "bn 17" (a patient) is no count
_SHORT_RE = re.compile(r"(?<!\S)(" + "|".join(sorted(map(re.escape, _SHORTHAND), key=len,
                                                        reverse=True)) + r")(?=[\s?!,]|$)(?!\s*\d)")
# "nhiệm kỳ rồi" / "nhiệm kỳ trước": the term just ended, as the news say it
_LAST_TERM = re.compile(fold_accents(r"(?<!\w)nhiệm kỳ (?:rồi|trước)(?!\w)"
                                     r"(?!\s+(?:thời hạn|khi|đó|đây|năm))"))


def _swap(question: str, pattern: re.Pattern, word: str) -> str:
    """`question` with each match of `pattern` (over its folded lower case: the same offsets)
    replaced by `word`, folded where the question is, capitalised where the match was."""
    if not is_accented_query(question):
        word = fold_accents(word)
    out, last = [], 0
    for m in pattern.finditer(lower(fold_accents(question))):
        out += [question[last:m.start()],
                word[:1].upper() + word[1:] if question[m.start()].isupper() else word]
        last = m.end()
    return "".join(out) + question[last:]


def spell_shorthand(question: str) -> str:
    """`question` with chat shorthand spelled out where it is typed without diacritics ("dc" →
    "duoc", "ko" → "khong", "bn" → "bao nhieu") and "nhiệm kỳ rồi" as the news say it
    ("nhiệm kỳ qua")."""
    if not is_accented_query(question):
        question = _SHORT_RE.sub(lambda m: _SHORTHAND[m.group(1)], question)
    return _swap(question, _LAST_TERM, "nhiệm kỳ qua")


def spell_units(question: str, texts: Sequence[str]) -> str:
    """`question` with a unit spoken in words written as `texts` print it, where one of them
    prints it so and none writes the words: "bao nhiêu ki-lô-mét vuông" over "134,31km2" reads
    "bao nhiêu km2"; over "5.500.000 km vuông" it is left alone."""
    for spoken, printed_re, written in _UNITS:
        if spoken.search(lower(fold_accents(question))) is None:
            continue
        if any(printed_re.search(t) for t in texts) and not any(
                spoken.search(fold_accents(t.lower())) for t in texts):
            question = _swap(question, spoken, written)
    return question


def spell_abbreviations(question: str, texts: Sequence[str]) -> str:
    """`question` with, beside each administrative abbreviation or written-out form in it,
    the other form where one of `texts` uses that one: "bao nhiêu hợp tác xã" over "4 HTX"
    reads "bao nhiêu hợp tác xã (HTX)"; "Chủ tịch HĐND" over "Hội đồng nhân dân" reads
    "Chủ tịch HĐND (hội đồng nhân dân)". A reader that has not learnt them sees both forms."""
    accented = is_accented_query(question)
    form = syllable_key if accented else (lambda t: fold_accents(t.lower()))
    toks = list(TOKEN_RE.finditer(question))
    forms = [form(m.group()) for m in toks]
    canon: list[str] = []  # the texts' matching forms, made when first needed
    used: set[int] = set()
    inserts: list[tuple[int, str]] = []
    for abbr, expansion, short, written, _abbr_tokens, tokens in _READER_RES:
        spelled = [form(w) for w in tokens]
        n = len(spelled)
        at = next((i for i in range(len(forms) - n + 1) if forms[i:i + n] == spelled
                   and not used & set(range(i, i + n))), None)
        if at is not None and not short.search(question) and any(short.search(t)
                                                                   for t in texts):
            used |= set(range(at, at + n))
            inserts.append((toks[at + n - 1].end(), f" ({abbr})"))
            continue
        m = short.search(question)
        if m and not canon:
            canon = [canonical(t) for t in texts]
        if m and any(written.search(c) for c in canon):
            inserts.append((m.end(), f" ({expansion})"))
    for i, piece in sorted(inserts, reverse=True):
        question = question[:i] + piece + question[i:]
    return question


def abbreviation_expansions(text: str) -> str:
    """Extra words to index with `text`: each abbreviation's expansion and each expansion's
    abbreviation, so "ngân sách nhà nước" finds "NSNN" and back."""
    extra: list[str] = []
    for rx, _abbr, expansion in _ABBR_RES:
        if rx.search(text):
            extra.append(expansion)
    canon = canonical(text)
    for rx, abbr in _EXP_RES:
        if rx.search(canon):
            extra.append(abbr.rstrip("."))
    return " ".join(dict.fromkeys(extra))


# Question words a question typed without diacritics writes folded, as the network learnt them
_QUESTION_FORMS = {
    "bao nhieu": "bao nhiêu", "bao gio": "bao giờ", "khi nao": "khi nào", "luc nao": "lúc nào",
    "vi sao": "vì sao", "tai sao": "tại sao", "nhu the nao": "như thế nào", "the nao": "thế nào",
    "ra sao": "ra sao", "o dau": "ở đâu", "la gi": "là gì", "la ai": "là ai", "may": "mấy",
    "nao": "nào", "gi": "gì", "dau": "đâu", "ai": "ai", "la": "là", "co": "có", "cua": "của",
    "duoc": "được", "nhung": "những", "cac": "các", "thu": "thứ", "lan": "lần", "ngay": "ngày",
    "nam": "năm", "thang": "tháng", "nguoi": "người", "thi sao": "thì sao", "con": "còn",
}


def restore_accents(question: str, texts: Sequence[str], longest: int = 4) -> str:
    """A question typed without diacritics, its words written as `texts` write them where a run
    of its words (the longest first, at most `longest`) reads the same folded there, and its
    question words ("bao nhieu", "may", "nao") as they are written; other words stay as typed.
    "dang bo phuong chi lang to chuc dai hoi lan thu may" reads "Đảng bộ phường Chi Lăng tổ
    chức Đại hội lần thứ mấy" over a passage that writes those words. A question typed with
    diacritics is returned as it is."""
    if is_accented_query(question):
        return question
    forms: dict[tuple[str, ...], dict[str, int]] = {}
    for text in texts:
        words = TOKEN_RE.findall(text)
        folded = [fold_accents(w).lower() for w in words]
        for n in range(1, longest + 1):
            for i in range(len(words) - n + 1):
                seen = forms.setdefault(tuple(folded[i:i + n]), {})
                form = " ".join(words[i:i + n])
                seen[form] = seen.get(form, 0) + 1
    toks = list(TOKEN_RE.finditer(question))
    keys = [fold_accents(m.group()).lower() for m in toks]
    out, i = [], 0
    while i < len(toks):
        for n in range(min(longest, len(toks) - i), 0, -1):
            key = tuple(keys[i:i + n])
            asked = _QUESTION_FORMS.get(" ".join(key))
            seen = forms.get(key)
            if n > 1 and seen and not any(k.isdigit() for k in key):
                out.append((toks[i].start(), toks[i + n - 1].end(), max(seen, key=seen.get)))
            elif asked:
                out.append((toks[i].start(), toks[i + n - 1].end(), asked))
            elif n == 1 and seen and not key[0].isdigit():
                best = max(seen, key=seen.get)
                if seen[best] >= 2 * (sum(seen.values()) - seen[best]):  # one form, mostly
                    out.append((toks[i].start(), toks[i].end(), best))
            else:
                continue
            i += n
            break
        else:
            i += 1
    for a, b, form in reversed(out):
        question = question[:a] + form + question[b:]
    return question
