"""Candidate answer spans in a sentence: numbers with units, dates, people, places,
organisations, lists, and description clauses. Offsets are relative to the sentence.

Rules, not a model: they run offline in microseconds and explain themselves. Each candidate
carries a `strength` in [0, 1]: how sure the rule is that the span is of its type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.reader.question import DATE, DESCRIPTION, LIST, NAME, ORG, PERSON, PLACE, QUANTITY
from qa.text import UPPER

_NUM = r"\d+(?:[.,]\d+)*"
_QUALIFIER = (r"(?:(?:hơn|trên|gần|khoảng|chừng|dưới|ít nhất|tối thiểu|tối đa|đạt|hầu hết|gần như"
              r"|xấp xỉ|chỉ|từ|tới|đến)\s+)")
# units kept with the number; counted nouns ("đảng viên", "tổ chức") are not part of the answer,
# except "người" (population) which people write as part of the figure
_UNIT = (r"(?:\s*(?:%|km2|km²|km|m2|m²|m3|ha|hécta|héc-ta|tấn|kg|tạ|lít|"
         r"(?:nghìn|ngàn|triệu|tỷ|tỉ)(?:\s+(?:đồng|USD|người))?|đồng(?!\s+chí)|USD|người|tuổi|lần)(?![\w]))")
NUMBER_RE = re.compile(
    rf"(?<![\w/.,]){_QUALIFIER}?{_NUM}(?:\s*[-–]\s*{_NUM})?(?:/{_NUM})?{_UNIT}?(?![\w/])", re.I)
DATE_RE = re.compile(
    # "ngày 6 tháng 10 năm 1973", "tháng 4 năm 1991" (written out, as encyclopedias do)
    r"(?<!\w)(?:ngày\s+)?\d{1,2}\s+tháng\s+\d{1,2}(?:\s*(?:năm|,)\s*\d{4})?(?!\w)"
    r"|(?<!\w)tháng\s+\d{1,2}\s+năm\s+\d{4}(?!\w)"
    r"|(?<![\w/])(?:\d{1,2}\s*[-–]\s*)?\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\w/])"
    r"|(?<!\w)(?:tháng\s+\d{1,2}(?:/\d{4})?|năm\s+\d{4}|quý\s+[IV]+(?:/\d{4})?)(?!\w)"
    r"|(?<![\w/])\d{4}(?![\w/])", re.I)
_PLACE_TYPES = (r"tỉnh|thành phố|TP\.|huyện|quận|thị xã|thị trấn|xã|phường|bản|thôn|xóm|tổ dân phố"
                r"|ấp|làng|vùng|miền|nước|đảo|sông|núi")
_ORG_HEADS = (r"Ban|Sở|Bộ|Ủy ban|UBND|HĐND|Hội đồng|Hội|Đảng bộ|Đảng ủy|Chi bộ|Công ty|Tập đoàn"
              r"|Trường|Tòa án|Viện|Cục|Tổng cục|Văn phòng|Mặt trận|Đoàn|Liên đoàn|Quân đội|Công an"
              r"|Bệnh viện|Ngân hàng|Tỉnh ủy|Thành ủy|Huyện ủy")
_UPPER = f"[{UPPER}]"
_CAP_WORD = rf"{_UPPER}[\w'’]*(?:-[\w'’]+)*"
CAP_RUN_RE = re.compile(rf"{_CAP_WORD}(?:\s+{_CAP_WORD})*")
HONORIFIC_RE = re.compile(r"(?:đồng chí|ông|bà|anh|chị|đ/c|GS|PGS|TS|ThS|Thượng tướng|Trung tướng"
                          r"|Thiếu tướng|Đại tá|Thượng tá)\.?\s*$", re.I)
PLACE_BEFORE_RE = re.compile(rf"(?:{_PLACE_TYPES})\s*$", re.I)
# An organisation: a head ("Sở", "Hội", "Đảng ủy"), then its name in segments: a run of
# capitalised words ("Phú Lương"), a word in sentence case ("Giáo dục", "Chấp hành"), a place
# ("xã Hòa An"); segments join with "và" ("Giáo dục và Đào tạo", "Văn hóa, Thể thao và Du lịch")
# unless a second organisation starts there. The name ends at the first lower-case word that is
# not the second syllable of a sentence-case word: a verb or a function word ("được", "tổ chức").
_TYPE_WORD = rf"(?i:{_PLACE_TYPES})"
# function words, and verbs' first syllables that are never the second of a name's word
# ("Đoàn Kết [tổ chức]", but "Giáo [dục]", "Giao [thông]", "Phát [triển]", "Dân [chủ]")
_CLAUSE_WORDS = ("là|có|được|bị|đã|đang|sẽ|và|hoặc|của|cho|với|tại|trong|từ|đến|tới|về|theo|do|để"
                 "|vào|ra|lên|này|đó|ấy|khi|thì|mà|nhưng|cũng|vẫn|còn|không|chưa|những|các|một"
                 "|gồm|như|vừa|mới|tổ|chỉ|trao|tặng|dự|tham|tiếp|họp|bầu|đạt|đón|ghi|diễn|xây"
                 "|làm|nêu|cùng|nhằm|sau|trước|hơn|nhiều|ngày")
_LOWER_SYLLABLE = rf"(?!{_UPPER})(?!(?:{_CLAUSE_WORDS})(?![\w-]))[^\W\d_][\w-]*"
_NAME_SEG = (rf"(?:{_CAP_WORD}(?:\s+{_CAP_WORD})+|{_CAP_WORD}\s+{_LOWER_SYLLABLE}|{_CAP_WORD})")
_CAP_NAME = rf"{_CAP_WORD}(?:\s+{_CAP_WORD})*"
_ORG_SEG = (rf"(?:{_NAME_SEG}(?:,\s+{_NAME_SEG})*\s+và\s+(?!(?:{_ORG_HEADS})(?!\w)){_NAME_SEG}"
            rf"|(?:{_PLACE_TYPES})\s+{_CAP_NAME}|{_NAME_SEG})")
ORG_RE = re.compile(rf"(?<!\w)(?:{_ORG_HEADS})(?:\s+(?:nhân dân|các cơ quan))?(?:\s+{_ORG_SEG})+")

SURNAMES = set("""
Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Giàng Lò Sùng Vàng Hà
Tráng Lường Đinh Trịnh Mai Tạ Lương Tô Cao Chu Lâm Quách Thái Triệu Vương Phùng Kiều Lã Tăng
Khổng Mạc Đào Nông La Lục Lầu Mùa Hầu Thào Chảo Tẩn Bàn Nghiêm Âu Đàm Khuất Lưu Hứa Thân Văn
Tống Doãn Diệp Ông Lại Quan Viên Yên Kim Giáp Bạch Đoàn Trương Tòng Quàng Cầm Điêu Vi Hoàng
""".split())
# capitalised words that start sentences or titles, never a name on their own
_NOT_NAME = set("""
Đại Hội Đảng Bộ Ban Chấp Hành Thường Vụ Trực Tỉnh Thành Huyện Ủy Ủy Xã Phường Bí Thư Phó Chủ
Tịch Nghị Quyết Chỉ Thị Kế Hoạch Nhiệm Kỳ Trung Ương Quốc Hội Chính Phủ Nhà Nước Sáng Chiều
Trong Theo Tại Với Đồng Chí Ông Bà Các Những Sau Trước Ngày Năm Tháng Nhân Dân Mặt Trận Tổ
Quyết Định Văn Kiện Báo Cáo Đây Đó Này Khi Để Cùng Qua Cụ Thể Đến Từ Về Trên Dưới Hiện Bên
""".split())


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    kind: str
    strength: float


def _strip_trailing(text: str, a: int, b: int) -> tuple[int, int]:
    while b > a and text[b - 1] in " ,.;:)(\"“”'":
        b -= 1
    while a < b and text[a] in " ,.;:)(\"“”'":
        a += 1
    return a, b


_YEARISH = re.compile(r"(?:19|20)\d\d(?:\s*[-–]\s*(?:19|20)\d\d)?")


# numbers written as words ("bốn", "mười hai", "hai phần ba"); "năm" (five, or year) only
# after another number word ("hai mươi lăm", "mười năm" is ten years: not counted)
_DIGIT_WORDS = "một|hai|ba|bốn|tư|sáu|bảy|tám|chín|mười|mươi|mốt|lăm|trăm|nghìn|ngàn|triệu|tỷ|tỉ|linh|lẻ"
_WORD_NUMBER_RE = re.compile(
    rf"(?<!\w)(?:{_QUALIFIER})?(?:{_DIGIT_WORDS})(?:\s+(?:{_DIGIT_WORDS}|năm(?=\s+(?:mươi|trăm|nghìn)))"
    rf")*(?:\s+phần\s+(?:{_DIGIT_WORDS}))?(?!\w)", re.I)


def word_numbers(sent: str) -> list[Candidate]:
    """Numbers in words. Weaker than digits: "một" is also "a" ("một loài")."""
    out = []
    for m in _WORD_NUMBER_RE.finditer(sent):
        a, b = _strip_trailing(sent, *m.span())
        text = sent[a:b].lower()
        out.append(Candidate(a, b, QUANTITY, 0.3 if text in ("một", "tư", "linh", "lẻ") else 0.6))
    return out


def numbers(sent: str) -> list[Candidate]:
    out = word_numbers(sent)
    for m in NUMBER_RE.finditer(sent):
        a, b = _strip_trailing(sent, *m.span())
        if _is_day_month(sent[a:b]):
            continue  # 9/8 is a date, not a fraction
        strength = 0.3 if _YEARISH.fullmatch(sent[a:b]) else 0.9
        out.append(Candidate(a, b, QUANTITY, strength))
    return out


def _is_day_month(span: str) -> bool:
    m = re.fullmatch(r"(?:\d{1,2}\s*[-–]\s*)?(\d{1,2})/(\d{1,2})(?:/\d{2,4})?", span.strip())
    return bool(m) and 1 <= int(m.group(1)) <= 31 and 1 <= int(m.group(2)) <= 12


_IN_YEAR_RANGE = re.compile(r"(?:19|20)\d\d\s*[-–]\s*(?:19|20)\d\d")


def dates(sent: str) -> list[Candidate]:
    out = []
    for m in DATE_RE.finditer(sent):
        a, b = _strip_trailing(sent, *m.span())
        span = sent[a:b]
        if "/" in span and not _is_day_month(span) and span.count("/") == 1:
            continue  # 16/16 is a fraction
        strength = 0.95 if "/" in span else (0.3 if span[:1].isdigit() else 0.6)
        if _IN_YEAR_RANGE.search(sent[max(0, a - 3):b + 3]) and "/" not in span:
            strength = 0.1  # "nhiệm kỳ 2025 - 2030" is a period, not the date of an event
        out.append(Candidate(a, b, DATE, strength))
    return out


def _name_in_run(words: list[tuple[int, int]], sent: str) -> tuple[int, int] | None:
    """The person-name part of a run of capitalised words: from the first surname on."""
    for i, (a, _b) in enumerate(words):
        w = sent[a:words[i][1]]
        if w in SURNAMES and 2 <= len(words) - i <= 4:
            return words[i][0], words[-1][1]
    return None


def people(sent: str) -> list[Candidate]:
    out = []
    for m in CAP_RUN_RE.finditer(sent):
        words = [w.span() for w in re.finditer(r"\S+", m.group())]
        words = [(m.start() + a, m.start() + b) for a, b in words]
        before = sent[max(0, m.start() - 30):m.start()]
        first = sent[words[0][0]:words[0][1]]
        if re.fullmatch(_TYPE_WORD, first) and len(words) > 1:
            words = words[1:]  # "Phường Đoàn Kết": the type word starts the run
            before = first
        if PLACE_BEFORE_RE.search(before):
            # "tỉnh Lào Cai Hoàng Giang": a place, then maybe a name from a later surname on
            later = [i for i, (a, b) in enumerate(words) if i > 0 and sent[a:b] in SURNAMES]
            if not later:
                continue
            words = words[later[0]:]
        while words and sent[words[0][0]:words[0][1]] in _NOT_NAME:
            words = words[1:]
        if len(words) < 2:
            continue
        span = _name_in_run(words, sent)
        honorific = bool(HONORIFIC_RE.search(sent[max(0, words[0][0] - 20):words[0][0]]))
        if span is None:
            if len(words) > 4:
                continue
            span, strength = (words[0][0], words[-1][1]), 0.5 if honorific else 0.3
        else:
            strength = 1.0 if honorific or span[0] != words[0][0] else 0.85
        if span[0] != words[0][0]:
            honorific = False
        out.append(Candidate(span[0], span[1], PERSON, strength))
    return out


def places(sent: str) -> list[Candidate]:
    out = []
    # the type word in any case ("Phường", "xã"), the name in capitalised words only
    for m in re.finditer(rf"(?<!\w)({_TYPE_WORD})\s+({_CAP_NAME})", sent):
        out.append(Candidate(m.start(2), m.end(2), PLACE, 0.9))
        out.append(Candidate(m.start(1), m.end(2), PLACE, 0.8))
    return out


def organizations(sent: str) -> list[Candidate]:
    return [Candidate(*_strip_trailing(sent, *m.span()), ORG, 0.8) for m in ORG_RE.finditer(sent)]


_ITEM_START = re.compile(rf"(?:{_TYPE_WORD}\s+)?{_UPPER}|{_TYPE_WORD}(?!\w)")
# an item: a (typed) name ("xã Độc Lập", "Si La") or a typed number ("thôn 2")
_ITEM = rf"(?:{_TYPE_WORD}\s+)?{_CAP_NAME}|{_TYPE_WORD}\s+{_NUM}"
_ITEM_AT_END = re.compile(rf"(?<!\w)(?:{_ITEM})$")
_ITEM_AT_START = re.compile(rf"(?:{_ITEM})(?!\w)")


def lists(sent: str) -> list[Candidate]:
    """Enumerations "A, B và C" whose items look alike (names, or typed names). An item is
    short: the first and the last are cut to the (typed) name next to the list's commas."""
    out = []
    for m in re.finditer(r"\s(?:và|hoặc)\s", sent):
        tail_end = re.search(r"[,.;:()]|$", sent[m.end():])
        last = (m.end(), m.end() + tail_end.start())
        named_last = _ITEM_AT_START.match(sent, *last)
        if named_last:  # "La Hủ tham gia lễ hội": the item is the name
            last = named_last.span()
        items = [last]
        pos = m.start()
        while True:
            comma = sent.rfind(",", 0, pos)
            if comma < 0:
                break
            seg = (comma + 1, pos)
            text = sent[seg[0]:seg[1]].strip()
            if not text or len(text.split()) > 6 or not _ITEM_START.match(text):
                break
            items.insert(0, (seg[0], pos))
            pos = comma
        # the first item: the (typed) name just before `pos` ("quy mô dân số của [phường Kỳ
        # Sơn]", "các dân tộc [Hà Nhì]"), never the run back to the sentence start
        head = sent[:pos].rstrip()
        first = _ITEM_AT_END.search(head, max(0, len(head) - 60))
        if first is None:
            continue
        a, b = _strip_trailing(sent, first.start(), last[1])
        if b - a > 4:
            out.append(Candidate(a, b, LIST, 0.8))
    return out


_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|«[^»]*»")
# the rest of a clause after these says what it is, why, or what for ("nhiệm vụ trọng tâm là
# [phát triển du lịch]", "bị chia cắt [do đất đá đổ xuống]"); after "là" the word is left out
_CUE_RE = re.compile(r"(?<!\w)(?:(là)|vì|do|nhằm|bởi|để)(?!\w)")


def clause_spans(sent: str) -> list[tuple[int, int]]:
    """Clauses between , ; : (each followed by a space), never split inside quotes: a
    quoted theme "“Đoàn kết, dân chủ, đổi mới”" is one clause. Stripped of punctuation."""
    quoted = [m.span() for m in _QUOTED.finditer(sent)]
    out = []
    a = 0
    for m in re.finditer(r"[,;:]\s|$", sent):
        if m.end() > m.start() and any(qa < m.start() < qb for qa, qb in quoted):
            continue
        s, e = _strip_trailing(sent, a, m.start())
        if e > s:
            out.append((s, e))
        a = m.end()
    return out


def clauses(sent: str) -> list[Candidate]:
    """Clauses between punctuation, for description questions; also the part of a clause
    after a cue word ("là", "do", "vì", "nhằm"...) and the text of a quotation."""
    out = []
    quoted = [m.span() for m in _QUOTED.finditer(sent)]
    for s, e in clause_spans(sent):
        if e - s > 2:
            out.append(Candidate(s, e, DESCRIPTION, 0.5))
        for m in _CUE_RE.finditer(sent, s, e):
            if m.start() == s or any(qa < m.start() < qb for qa, qb in quoted):
                continue
            a, b = _strip_trailing(sent, m.end() if m.group(1) else m.start(), e)
            if len(sent[a:b].split()) >= 2:
                out.append(Candidate(a, b, DESCRIPTION, 0.5))
            break  # the first cue only
    for qa, qb in quoted:
        a, b = _strip_trailing(sent, qa, qb)
        if len(sent[a:b].split()) >= 2:  # a quotation is a whole phrase: a theme, a title
            out = [c for c in out if (c.start, c.end) != (a, b)]
            out.append(Candidate(a, b, DESCRIPTION, 0.7))
    return out


def names(sent: str) -> list[Candidate]:
    """Every run of capitalised words (foreign names, titles of works, events)."""
    out = []
    for m in CAP_RUN_RE.finditer(sent):
        words = [(m.start() + x.start(), m.start() + x.end()) for x in re.finditer(r"\S+", m.group())]
        while words and sent[words[0][0]:words[0][1]] in _NOT_NAME:
            words = words[1:]
        if words and len(words) <= 6:
            out.append(Candidate(words[0][0], words[-1][1], NAME, 0.5))
    return out


EXTRACTORS = {QUANTITY: numbers, DATE: dates, PERSON: people, PLACE: places, ORG: organizations,
              LIST: lists, DESCRIPTION: clauses, NAME: names}


def candidates(sent: str, kind: str, broad: bool = False) -> list[Candidate]:
    """Spans of the asked type; with `broad`, every other extractor's spans too (the learned
    scorer weighs type agreement itself)."""
    main = EXTRACTORS[kind](sent)
    if kind == LIST:
        main += [Candidate(c.start, c.end, c.kind, 0.4) for c in places(sent) + people(sent)]
    # an organisation is often where something happens ("tại Trường Tiểu học X"), and a
    # commune can be the unit asked for ("đơn vị nào"), but not beside a named organisation:
    # there the place is its address ("Hội Nông dân xã Hoà An, huyện Phú Lương")
    if kind == PLACE or (kind == ORG and not main):
        other = organizations if kind == PLACE else places
        main += [Candidate(c.start, c.end, kind, 0.5) for c in other(sent)]
    if broad:
        seen = {(c.start, c.end) for c in main}
        for extract in (numbers, dates, people, places, organizations, names, clauses):
            if extract is EXTRACTORS[kind]:
                continue
            for c in extract(sent):
                if (c.start, c.end) not in seen:
                    seen.add((c.start, c.end))
                    main.append(c)
    return main
