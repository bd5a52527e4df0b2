"""Question analysis: the expected answer type and the words an answer sentence should share.

Works the same typed with or without diacritics: patterns are written with diacritics and
compared on folded text when the question carries none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import (
    ADMIN_LEVELS,
    TOKEN_RE,
    AccentPattern,
    contains_run,
    fold_accents,
    is_accented_query,
    normalize,
    searchable,
    syllable_key,
)

PERSON, QUANTITY, DATE, PLACE, ORG, LIST, DESCRIPTION, NAME = (
    "PER", "NUM", "DATE", "LOC", "ORG", "LIST", "DESC", "NAME")
ANSWER_TYPES = (PERSON, QUANTITY, DATE, PLACE, ORG, LIST, DESCRIPTION, NAME)
_PERSON_NOUNS = ("cầu thủ|diễn viên|ca sĩ|nhạc sĩ|nhà văn|nhà thơ|tác giả|nhà khoa học|vận động viên"
                 "|huấn luyện viên|hậu vệ|tiền vệ|tiền đạo|thủ môn|thủ quân|vua|hoàng đế|nữ hoàng"
                 "|tổng thống|thủ tướng|chủ tịch|giám đốc|nhân vật|giáo sư|học giả|kiến trúc sư"
                 "|nghệ sĩ|triết gia|linh mục|giáo hoàng|đội trưởng|lãnh đạo|bí thư|nhà sáng lập"
                 "|người sáng lập|nhà phát minh|kỹ sư|bác sĩ|cán bộ|đại biểu|tướng|nhà vật lý|nhà toán học")

# "mấy" (how many) folds to "may", which is also "máy" (machine: "nhà máy nào") and "may"
# (sewing, luck): typed without diacritics it counts only after "có"/"gồm"... or before a
# counted noun, and never before the second syllable of a "máy" word.
_COUNTED = ("người|ngày|năm|tháng|tuần|giờ|phút|lần|xã|phường|huyện|tỉnh|quận|thôn|bản|tổ|lớp"
            "|trường|đội|hộ|đảng viên|đồng chí|chi bộ|đơn vị|công ty|doanh nghiệp|ha|km|tỷ|triệu"
            "|nghìn|con|cái|chiếc|loại|khâu|chỉ tiêu|nhiệm vụ|nội dung|giải|bàn|điểm|tầng|mét|tuổi")
_NOT_MAY = "móc|bay|cày|xúc|khoan|bơm|phát|giặt|lạnh|in|ảnh|mặc|mắn|nào"
_MAY_FOLDED = fold_accents(
    rf"(?:(?:có|gồm|là|được|thứ|hạng|số|bậc|mất|trong|sau|đến|còn)\s+may(?!\s+(?:{_NOT_MAY})(?!\w))"
    rf"|may(?=\s+(?:{_COUNTED})(?!\w)))")
_DESC_PHRASES = (r"như thế nào|thế nào|bằng cách nào|theo cách nào|ra sao|vì sao|tại sao|làm sao"
                 r"|nhằm mục đích")

# Checked in this order: the first type whose pattern matches wins. Each pattern matches whole
# words only (also folded: "ông nào" is not inside "phuong nao"), so compounds that end in a
# question phrase of another type are listed before it ("cơ quan nào" before "quận nào",
# "đơn vị nào" is not "vị nào", "những xã nào" is a list, "như thế nào" is not a name).
# A pattern is (accented, folded); None: the folded form of the accented one.
_TYPE_PATTERNS: list[tuple[str, str, str | None]] = [
    (DATE, r"khi nào|bao giờ|lúc nào|ngày nào|ngày bao nhiêu|ngày mấy|hôm nào|năm nào|năm mấy"
           r"|năm bao nhiêu|tháng nào|tháng mấy|thời gian nào|thời điểm nào|những ngày nào|vào ngày"
           r"|từ ngày nào|thời gian diễn ra|diễn ra khi", None),
    (PERSON, r"ai|người nào|đồng chí nào|(?<!đơn )vị nào|ông nào|bà nào|những ai|họ tên|họ của"
             rf"|(?:{_PERSON_NOUNS})(?:\s+\w+){{0,2}}\s+nào", None),
    (QUANTITY, r"bao nhiêu|mấy|tỷ lệ|tỉ lệ|diện tích|dân số|số lượng|phần trăm|tổng số"
               r"|bao lâu|bao xa|bao cao",
     fold_accents(r"bao nhiêu|tỷ lệ|tỉ lệ|diện tích|dân số|số lượng|phần trăm|tổng số"
                  r"|bao lâu|bao xa|bao cao|") + _MAY_FOLDED),
    (DESCRIPTION, _DESC_PHRASES, None),
    # "những xã, phường (cũ) nào": one-word kinds listed with commas; a comma after more words
    # closes a clause ("Trong những năm qua, tỉnh nào…")
    (LIST, r"(?:những|các)(?:\s+[^\W\d_]+){1,5}\s+nào"
           r"|(?:những|các)\s+[^\W\d_]+(?:,\s+[^\W\d_]+)+(?:\s+[^\W\d_]+)?\s+nào|kể tên", None),
    (ORG, r"cơ quan nào|tổ chức nào|đơn vị nào|ban nào|đảng bộ nào|công ty nào|trường nào"
          r"|đội nào|sở nào|bộ nào|doanh nghiệp nào", None),
    # "đâu" folds to "dau", also "đầu" ("đầu tư", "bắt đầu", "lần đầu"): folded, only after a
    # preposition, or at either end of the question ("đâu là...", "... giáp với đâu")
    (PLACE, r"ở đâu|đâu|nơi nào|địa điểm nào|tỉnh nào|huyện nào|xã nào|phường nào|thành phố nào"
            r"|quận nào|thị xã nào|quốc gia nào|nước nào|địa bàn nào|vùng nào|khu vực nào",
     fold_accents(r"(?:ở|tại|từ|đến|tới|về|nơi|đi|vào)\s+đâu|^đâu\s+là"
                  r"|(?:là|bởi|với|giáp|ra|sang|qua)\s+đâu\s*\??\s*$|nơi nào|địa điểm nào"
                  r"|tỉnh nào|huyện nào|xã nào|phường nào|thành phố nào|quận nào|thị xã nào"
                  r"|quốc gia nào|nước nào|địa bàn nào|vùng nào|khu vực nào")),
    (LIST, r"gồm những|bao gồm|gồm các", None),
    (NAME, r"tên\b.*\bgì|\w+\s+nào", None),
    (DESCRIPTION, r"gì|nội dung", None),
]


_TYPE_RES = [(t, AccentPattern.compile(p, f, whole_words=True)) for t, p, f in _TYPE_PATTERNS]
# A reason question ("vì sao", "để làm gì"): its answer is a clause of cause or purpose.
_REASON = AccentPattern.compile(r"vì sao|tại sao|lý do|lí do|nguyên nhân|vì đâu|để làm gì"
                                r"|nhằm mục đích gì|mục đích gì|nhằm gì", whole_words=True)

# Function words and question words: never content to match.
STOPWORDS = set("""
ai là gì nào bao nhiêu mấy khi đâu ở của và có được như thế vì sao tại không những các một
cho trong từ đến với thì đã sẽ còn về do này ấy theo ra vào lúc trên hay hoặc nơi gồm bằng
cách người đó nhằm mục thời gian ngày nay bị hãy làm sự việc tên rằng cũng vẫn rất nhất lại
giờ đang
""".split())
# folded, these are content words too often ("đảng", "bản", "gió"...) to drop everywhere
_FOLDED_STOP = {fold_accents(w) for w in STOPWORDS} - {"dang", "ban", "bi", "thu", "tinh", "so",
                                                       "xa", "the", "lam", "ten", "ngay", "vao",
                                                       "gio"}
_STOP_KEYS = {syllable_key(w) for w in STOPWORDS}
# "bao nhiêu X" / "mấy X": the unit the answer number should carry ("bao nhiêu đảng viên")
_UNIT_WORDS = r"\s+((?:[^\W\d_]+\s*){1,3})"
_UNIT_AFTER = AccentPattern.compile(r"(?<!\w)(?:bao nhiêu|mấy)" + _UNIT_WORDS,
                                   rf"(?<!\w)(?:bao nhieu|{_MAY_FOLDED})" + _UNIT_WORDS)

# people counted by a population noun ("bao nhiêu cư dân sinh sống", "bao nhiêu dân"): news
# count them in "người" ("quy mô dân số 20.379 người"); what follows the noun is not the unit
_POPULATION_NOUN = re.compile(r"(?:dan(?! (?:toc|chu|quan|van|su|y|lap|dung|ca|gian|nguyen))"
                             r"|cu dan|nguoi dan|nhan khau)(?!\w)")  # not "dân tộc"

# Paraphrases common in news questions: a question word on the left also looks for the
# words on the right (at a lower weight), so "bao nhiêu người đang sống" finds "dân số".
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "sống": ("dân số",), "sinh sống": ("dân số",), "cư dân": ("dân số",),
    "rộng": ("diện tích",), "diễn ra": ("tổ chức",), "khai mạc": ("tổ chức",),
    "đắc cử": ("bầu",), "trúng cử": ("bầu",), "tái đắc cử": ("bầu", "tái cử"),
    "bổ nhiệm": ("chỉ định",), "chỉ định": ("bổ nhiệm",), "thành lập": ("hợp nhất", "sáp nhập"),
    "hợp nhất": ("sáp nhập", "thành lập"), "sáp nhập": ("hợp nhất", "thành lập"),
    "lãnh đạo": ("bí thư", "chủ tịch"), "đứng đầu": ("bí thư", "chủ tịch"),
    "mỗi năm": ("hằng năm", "hàng năm", "năm"), "hằng năm": ("mỗi năm", "hàng năm"),
    "kết nạp": ("phát triển",), "mục tiêu": ("phấn đấu", "chỉ tiêu"),
    "phấn đấu": ("mục tiêu", "chỉ tiêu"), "tham dự": ("dự",), "có mặt": ("dự",),
}
PLAN_WORDS = ("phấn đấu", "mục tiêu", "chỉ tiêu", "sẽ", "dự kiến", "kế hoạch", "định hướng",
              "đến năm")
PLACE_TYPE_WORDS = (*ADMIN_LEVELS, "bản", "thôn", "tổ dân phố")


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    answer_type: str
    accented: bool
    content: tuple[str, ...]  # matching forms of content syllables (keys or folded)
    unit: tuple[str, ...]  # matching forms of the words after "bao nhiêu"
    entities: tuple[tuple[str, ...], ...] = ()  # named things the answer must be about
    related: tuple[str, ...] = ()  # paraphrase words, matched at a lower weight
    plan: bool | None = None  # asks about a target (True), a past fact (False), or unsure
    # the two content words on each side of the question word: an answer sits in the slot they
    # leave in the evidence sentence
    left_anchor: tuple[str, ...] = ()  # just before the question word ("hát bài" gì)
    right_anchor: tuple[str, ...] = ()  # just after it (ai "là bí thư")
    day_level: bool = False  # a date question that asks for a day ("ngày nào")
    # Vietnamese keeps the question word where the answer goes ("Ai là bí thư?" / "[X] là bí
    # thư"; "Bí thư là ai?" / "Bí thư là [X]"): the content words on each side of it
    before_wh: tuple[str, ...] = ()
    after_wh: tuple[str, ...] = ()
    head: tuple[str, ...] = ()  # the noun a "nào" asks about ("đảng" nào, "thành phố" nào)
    wh_prev: tuple[str, ...] = ()  # the two words right before the question word, as typed
    wh_next: tuple[str, ...] = ()  # and the two right after it
    reason: bool = False  # asks why or what for ("vì sao", "để làm gì")

    def form(self, token: str) -> str:
        """The matching form of a token of an answer sentence, comparable to `content`."""
        return syllable_key(token) if self.accented else fold_accents(token.lower())


def analyze(question: str) -> QuestionAnalysis:
    q = normalize(question).strip()
    low, accented = searchable(q)
    answer_type = next((t for t, rx in _TYPE_RES if rx.search(low, accented)), DESCRIPTION)
    toks = [m.group() for m in TOKEN_RE.finditer(q)]
    folded = [fold_accents(t.lower()) for t in toks]
    if accented:
        content = [syllable_key(t) for i, t in enumerate(toks)
                   if syllable_key(t) not in _STOP_KEYS and not _is_hedge(folded, i)]
    else:
        content = [f for i, f in enumerate(folded)
                   if f not in _FOLDED_STOP and not _is_bao_gio(folded, i)
                   and not _is_hedge(folded, i)]
    unit: tuple[str, ...] = ()
    m = _UNIT_AFTER.search(low, accented)
    if m:
        words = m.group(1).split()
        form = syllable_key if accented else (lambda w: w)
        unit = tuple(form(w) for w in words)
        if _POPULATION_NOUN.match(fold_accents(" ".join(words).lower())):
            unit = (form("người" if accented else "nguoi"),)
    form = syllable_key if accented else (lambda w: fold_accents(w.lower()))
    related = []
    for phrase, alts in PARAPHRASES.items():
        if _has_phrase(low, phrase, accented):
            related += [form(w) for alt in alts for w in alt.split()]
    plan = True if any(_has_phrase(low, w, accented) for w in PLAN_WORDS) else (
        False if _has_phrase(low, "đã", accented) else None)
    before, after, head, wh_prev, wh_next = _sides(toks, accented)
    day_level = answer_type == DATE and re.search(r"(?<!\w)ngày(?!\w)", low if accented else
                                                  fold_accents(low).replace("ngay", "ngày"))
    return QuestionAnalysis(q, answer_type, accented, tuple(content), unit,
                            tuple(_entities(q, accented)), tuple(dict.fromkeys(related)), plan,
                            before[-2:], after[:2], bool(day_level), before, after, head,
                            wh_prev, wh_next, bool(_REASON.search(low, accented)))


# Words that say which body or level a name is ("Thành ủy Lai Châu", "phường Kỳ Sơn"),
# folded: a question about one is not answered by a passage about another of the same name.
_QUALIFIERS = {("thanh", "uy"), ("tinh", "uy"), ("huyen", "uy"), ("quan", "uy"), ("thi", "uy"),
               ("dang", "uy"), ("thanh", "pho"), ("thi", "xa"), ("thi", "tran"), ("tinh",),
               ("huyen",), ("quan",), ("xa",), ("phuong",)}


def qualified_names(question: str) -> list[str]:
    """The question's names with the body or level word right before them, as typed:
    "Thành ủy Lai Châu", "phường Kỳ Sơn" (not "Lai Châu" alone)."""
    q = normalize(question).strip()
    accented = is_accented_query(q)
    form = syllable_key if accented else (lambda w: fold_accents(w.lower()))
    toks = [m.group() for m in TOKEN_RE.finditer(q)]
    forms = [form(t) for t in toks]
    folded = [fold_accents(t.lower()) for t in toks]
    out = []
    for e in _entities(q, accented):
        for i in range(1, len(forms) - len(e) + 1):
            if tuple(forms[i:i + len(e)]) != e:
                continue
            size = next((n for n in (2, 1) if i >= n and tuple(folded[i - n:i]) in _QUALIFIERS), 0)
            if size:
                out.append(" ".join(toks[i - size:i + len(e)]))
                break
    return out


def is_function_word(form: str, accented: bool) -> bool:
    """A stop word or question word, given its matching form (see `QuestionAnalysis.form`)."""
    return form in (_STOP_KEYS if accented else _FOLDED_STOP)


def _is_bao_gio(folded: list[str], i: int) -> bool:
    """Folded "gio" is a question word in "bao gio" (bao giờ), else maybe "gió" (wind)."""
    return folded[i] == "gio" and i > 0 and folded[i - 1] == "bao"


_HEDGES = (["khoang"], ["chung"], ["xap", "xi"])  # not "độ": "nhiệt độ bao nhiêu"


def _is_hedge(folded: list[str], i: int) -> bool:
    """Whether token i is a word of a hedge right before "bao nhiêu" / "mấy" ("có khoảng bao
    nhiêu cư dân", "chừng mấy năm", "xấp xỉ bao nhiêu"): the answer sentence need not repeat it."""
    for hedge in _HEDGES:
        for start in range(max(0, i - len(hedge) + 1), i + 1):
            end = start + len(hedge)
            if folded[start:end] == hedge and (folded[end:end + 1] == ["may"]
                                               or folded[end:end + 2] == ["bao", "nhieu"]):
                return True
    return False


_WH = {"ai", "gì", "nào", "đâu", "mấy", "bao", "sao"}
_WH_FOLDED = {fold_accents(w) for w in _WH} - {"gi"} | {"gi"}


def _sides(toks: list[str], accented: bool
           ) -> tuple[tuple[str, ...], ...]:
    """All content words before and after the question word, the noun a "nào" asks about
    (the content words right before it), and the words right before and after it, as
    matching forms."""
    low = [t.lower() if accented else fold_accents(t.lower()) for t in toks]
    wh = _WH if accented else _WH_FOLDED
    idx = next((i for i, t in enumerate(low) if t in wh), None)
    if idx is None:
        return (), (), (), (), ()
    end = idx + 2 if low[idx] == "bao" else idx + 1
    form = syllable_key if accented else (lambda w: fold_accents(w.lower()))
    stop = _STOP_KEYS if accented else _FOLDED_STOP
    before = tuple(form(t) for t in toks[:idx] if form(t) not in stop)
    after = tuple(form(t) for t in toks[end:] if form(t) not in stop)
    head: list[str] = []  # "Đảng nào", "thành phố nào": the content words right before it
    if low[idx] == ("nào" if accented else "nao"):
        j = idx - 1
        while j >= 0 and len(head) < 4 and form(toks[j]) not in stop and not toks[j].isdigit():
            head.insert(0, form(toks[j]))
            j -= 1
    prev = tuple(form(t) for t in toks[max(0, idx - 2):idx])
    nxt = tuple(form(t) for t in toks[end:end + 2])
    return before, after, tuple(head), prev, nxt


def _has_phrase(low: str, phrase: str, accented: bool) -> bool:
    p = phrase if accented else fold_accents(phrase)
    return re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low) is not None


# Capitalised words of titles and bodies ("Đại hội", "Bí thư", "Đảng bộ"): not names.
_COMMON_CAPS = {fold_accents(w).lower() for w in """
Đại Hội Đảng Bộ Ban Chấp Hành Thường Vụ Trực Tỉnh Thành Huyện Ủy Xã Phường Bí Thư Phó Chủ
Tịch Nghị Quyết Chỉ Thị Kế Hoạch Nhiệm Kỳ Trung Ương Quốc Hội Chính Phủ Nhà Nước Cơ Quan
Đồng Chí Ông Bà Các Những Mặt Trận Tổ Quốc Hội Đồng Nhân Dân Lần Thứ Khóa Khoá Đoàn Thể
""".split()}


# Typed without diacritics, a name's syllables fold like function words ("Lai" / "lại",
# "Kết" / "kệ"...): after a place type only question and linking words end the name.
_NAME_STOP_FOLDED = {fold_accents(w) for w in """ai là gì nào đâu bao nhiêu mấy có của và được
thì đã sẽ ở tại trong với cho từ đến về do này ấy đó như sao""".split()}


def _entities(q: str, accented: bool) -> list[tuple[str, ...]]:
    """Proper names in the question: runs of capitalised words (not the first word), and the
    words after a place type ("phường Kỳ Sơn", also typed as "phuong ky son")."""
    toks = [m.group() for m in TOKEN_RE.finditer(q)]
    form = syllable_key if accented else (lambda w: fold_accents(w.lower()))
    out: list[tuple[str, ...]] = []
    run: list[str] = []
    for i, t in enumerate(toks + [""]):
        if i > 0 and t[:1].isupper() and not t.isdigit():
            run.append(t)
            continue
        while run and fold_accents(run[0]).lower() in _COMMON_CAPS:
            run = run[1:]
        if len(run) >= 2 or (len(run) == 1 and run[0].isupper() and len(run[0]) >= 2):
            out.append(tuple(form(x) for x in run))
        run = []
    if accented:
        lowered = [t.lower() for t in toks]
        types = {w for w in PLACE_TYPE_WORDS if " " not in w}
    else:
        lowered = [fold_accents(t.lower()) for t in toks]
        types = {fold_accents(w) for w in PLACE_TYPE_WORDS if " " not in w} - {"ban"}
    for i, t in enumerate(lowered[:-1]):
        uy = lowered[i + 1] in ("ủy", "uỷ", "uy")  # a body: "tỉnh ủy [Lai Châu]", "thành ủy"
        if (t in types or (uy and t in ("thành", "thanh"))) and i + 2 < len(toks) + 1:
            at = i + 2 if uy else i + 1
            nxt = [x for x in toks[at:at + 2] if not x.isdigit()]
            stop = _STOP_KEYS | _FOLDED_STOP if accented else _NAME_STOP_FOLDED
            if len(nxt) == 2 and not any(form(x) in stop for x in nxt):
                ent = tuple(form(x) for x in nxt)
                if ent not in out:
                    out.append(ent)
    # keep the longest, drop entities contained in another
    return [e for e in out if not any(e != o and contains_run(o, e) for o in out)]


# A question that names a place ("phường Đoàn Kết") is not answered from a passage that never
# names it: a near miss finds the same fact of the neighbouring ward ("30" members of Kỳ Sơn's
# committee for Đoàn Kết's). Names compared with diacritics folded and capitals kept ("toàn dân
# đoàn kết" is not the ward), over the answer's whole article (docs/benchmarks.md, "Place guard").
_LEVELS = AccentPattern.compile("|".join(ADMIN_LEVELS), whole_words=True)
_NAME_WORD = re.compile(r"\s+([^\W\d_][\w]*)")


# capitalised words that end a place's name: a body ("Tỉnh Ủy Lào Cai"), a term ("Khóa XV")
_NOT_NAME = {"uy", "khoa", "nhiem", "dang", "hdnd", "ubnd", "co", "la", "va", "duoc"}


def places_named(question: str) -> list[str]:
    """The capitalised names after a level word in `question` ("phường Kỳ Sơn" → "Kỳ Sơn"),
    up to four words each; none in a question written with every word capitalised."""
    return [name for _level, name in _asked_places(question)]


def _asked_places(question: str) -> list[tuple[str, str]]:
    """`places_named`, each with its level word (folded)."""
    q = normalize(question)
    words_all = TOKEN_RE.findall(q)
    if len(words_all) >= 4 and sum(w[:1].isupper() for w in words_all) >= 0.7 * len(words_all):
        return []  # "Phường Kỳ Sơn Có Bao Nhiêu Đảng Viên?": capitals say nothing
    return _leveled_names(q)


def _leveled_names(text: str) -> list[tuple[str, str]]:
    """(level word folded, name) for each capitalised name after a level word in `text`."""
    low, accented = searchable(text)
    found = []
    for m in _LEVELS.finditer(low, accented):
        words, i = [], m.end()
        while len(words) < 4:
            w = _NAME_WORD.match(text, i)
            if (w is None or not w.group(1)[0].isupper()
                    or fold_accents(w.group(1).lower()) in _NOT_NAME):
                break
            words.append(w.group(1))
            i = w.end()
        if words:
            found.append((fold_accents(m.group().lower()), " ".join(words)))
    return found


_LEVEL_FORMS = {fold_accents(level): level for level in ADMIN_LEVELS}


def name_places(question: str, texts) -> str:
    """`question`, typed without diacritics, with each place after a level word written as
    `texts` write it after one ("phuong chi lang co…" → "phường Chi Lăng co…"), so that
    `places_named` finds it by its capitals; words no text names as a place stay as typed (the
    first words of a sentence, "Sau khi…", are no name). A question typed with diacritics is
    returned normalized."""
    q = normalize(question)
    if is_accented_query(q):
        return q
    names: dict[tuple[str, ...], str] = {}
    for text in texts:
        for _level, name in _leveled_names(normalize(text)):
            names.setdefault(tuple(fold_accents(name).lower().split()), name)
    low = fold_accents(q).lower()
    edits = []
    for m in _LEVELS.finditer(low, False):
        words, i = [], m.end()
        while len(words) < 4 and (w := _NAME_WORD.match(low, i)):
            words.append(w)
            i = w.end()
        for n in range(len(words), 0, -1):
            name = names.get(tuple(w.group(1) for w in words[:n]))
            if name:
                level = _LEVEL_FORMS.get(m.group(), m.group())
                edits.append((m.start(), words[n - 1].end(1), f"{level} {name}"))
                break
    for a, b, name in reversed(edits):
        q = q[:a] + name + q[b:]
    return q


def _named_in(name: str, where: str) -> bool:
    """Whether `where` (folded, capitals kept) names `name`: as written, or by its initials
    for a name of three words or more ("Hồ Chí Minh": "TP.HCM")."""
    folded = fold_accents(name)
    if re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", where):
        return True
    parts = folded.split()
    initials = "".join(w[0] for w in parts).upper()
    return len(parts) >= 3 and re.search(rf"(?<![A-Za-z]){initials}(?![A-Za-z])", where) is not None


def misses_place_in_part(question: str, text: str, at: int) -> bool:
    """Whether the part of an article (`text`) that holds offset `at` is about another place
    than one the question names at the same level: one article can report on two provinces
    ("… các tỉnh Lai Châu, Lào Cai"). The part is `at`'s paragraph where it names a place of
    that level ("tỉnh Lai Châu"), else the nearest paragraph before it that does; with no such
    paragraph nothing is said here (the whole article decides, `misses_named_place`)."""
    asked = _asked_places(question)
    if not asked:
        return False
    starts = [0] + [m.end() for m in re.finditer(r"\n\s*", text)]
    paragraphs = [(a, b) for a, b in zip(starts, starts[1:] + [len(text) + 1]) if a < b]
    here = max((k for k, (a, _b) in enumerate(paragraphs) if a <= at), default=0)
    for level, name in asked:
        for a, b in reversed(paragraphs[:here + 1]):
            part = normalize(text[a:b])
            if any(lv == level for lv, _n in _leveled_names(part)):
                if not _named_in(name, fold_accents(part)):
                    return True
                break
    return False


def misses_named_place(question: str, title: str, text: str) -> bool:
    """Whether `question` names a place that neither `title` nor `text` (the answer's article)
    names."""
    names = places_named(question)
    if not names:
        return False
    where = fold_accents(normalize(f"{title}\n{text}"))
    return any(not _named_in(n, where) for n in names)
