"""The neural reader's answer shape (qa/reader/neural.py, AnswerShape): among a window's best
spans, the one that has the shape the question asks for ("vì sao" → a clause of purpose or
cause, "những… nào" → items, "mấy ngày" → a number followed by "ngày") wins when it scores
near the best; and `best_spans` gives a window's next-best spans, each a different text."""

from __future__ import annotations

import pytest
import torch

from qa.reader.neural import SHAPE_MARGIN, AnswerShape
from qa.reader.question import analyze
from qa.reader.spans import Encoded, Span, Window, best_spans

TEXT = ("Trong 2 ngày (15 - 16/1), Đảng bộ phường Chi Lăng tổ chức Đại hội để rút kinh nghiệm "
        "chỉ đạo. Đảng bộ có hơn 600 đảng viên, sáp nhập từ phường Kỳ Sơn, xã Độc Lập và xã "
        "Mông Hóa, tổng diện tích tự nhiên, quy mô dân số của 3 đơn vị hành chính cũ.")


def picked(question: str, read: str, text: str) -> str:
    """The span the shape of `question` picks when the network read `read` in `text`."""
    shape = AnswerShape.of(analyze(question))
    a = text.index(read)
    got = shape.pick([Span(9.0, 0.0, 0, a, a + len(read))], text)
    return text[got.start:got.end]


def shaped(question: str, span: str) -> str | None:
    a = TEXT.index(span)
    found = AnswerShape.of(analyze(question)).fit(TEXT, a, a + len(span))
    return None if found is None else TEXT[found[0]:found[1]]


@pytest.mark.parametrize(("question", "span", "expected"), [
    # a count: the asked noun right after the number; a bracket after the noun is cut
    ("Đại hội diễn ra trong mấy ngày?", "2 ngày (15 - 16/1)", "2 ngày"),
    ("dai hoi dien ra trong may ngay", "2 ngày (15 - 16/1)", "2 ngày"),
    ("Đại hội diễn ra trong mấy ngày?", "2 ngày (15 - 16/1", "2 ngày"),  # a bracket left open
    ("Đại hội diễn ra trong mấy ngày?", "(15 - 16/1)", None),  # a date, not a count of days
    ("Đảng bộ có bao nhiêu đảng viên?", "hơn 600", "hơn 600"),  # the span kept as read
    ("Đảng bộ có bao nhiêu đảng viên?", "2 ngày", None),
    # a reason
    ("Vì sao Chi Lăng tổ chức Đại hội?", "để rút kinh nghiệm chỉ đạo", "để rút kinh nghiệm chỉ đạo"),
    ("Tại sao Chi Lăng tổ chức Đại hội?", "Đảng bộ phường Chi Lăng", None),
    # items
    ("Phường được sáp nhập từ những đơn vị nào?", "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa",
     "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa"),
    ("Phường được sáp nhập từ những đơn vị nào?",
     "tổng diện tích tự nhiên, quy mô dân số của 3 đơn vị hành chính cũ", None),
])
def test_a_span_has_the_shape_the_question_asks_for_or_not(question, span, expected):
    assert shaped(question, span) == expected


def test_a_question_that_says_no_shape_keeps_the_best_span():
    shape = AnswerShape.of(analyze("Ai được chỉ định làm Bí thư?"))
    assert not shape.asks
    spans = [Span(9.0, 0.0, 0, 0, 5), Span(8.9, 0.0, 0, 6, 12)]
    assert shape.pick(spans, TEXT) is spans[0]


def span(text: str, score: float) -> Span:
    a = TEXT.index(text)
    return Span(score, -3.0, 0, a, a + len(text))


def test_the_best_shaped_span_wins_only_near_the_best():
    shape = AnswerShape.of(analyze("Đại hội diễn ra trong mấy ngày?"))
    best, shaped_one = span("(15 - 16/1)", 9.9), span("2 ngày (15 - 16/1)", 9.8)
    picked = shape.pick([best, shaped_one], TEXT)
    assert TEXT[picked.start:picked.end] == "2 ngày" and picked.score == 9.8
    far = span("2 ngày (15 - 16/1)", 9.9 - SHAPE_MARGIN - 0.1)
    assert shape.pick([best, far], TEXT) is best


def test_best_spans_gives_each_window_its_next_best_spans_each_a_different_text():
    words = ["Ông", " Lò", " Văn", " Sáu", " làm", " Bí", " thư"]
    offsets, at = [], 0
    for w in words:
        offsets.append((at, at + len(w)))
        at += len(w)
    text = "".join(words)
    ctx = Encoded(list(range(len(words))), offsets)
    window = Window([0, 1, 2, *range(len(words)), 2], 3, range(len(words)))
    start = torch.full((1, len(window.ids)), -10.0)
    end = torch.full((1, len(window.ids)), -10.0)
    start[0, 3 + 1], start[0, 3 + 2] = 5.0, 4.0  # "Lò", then "Văn"
    end[0, 3 + 3], end[0, 3 + 6] = 5.0, 1.0  # "Sáu", then "thư"
    top = best_spans([window], ctx, text, start, end, per_window=3)
    assert [text[x.start:x.end] for x in top] == ["Lò Văn Sáu", "Văn Sáu", "Lò Văn Sáu làm Bí thư"]
    assert [x.score for x in top] == sorted((x.score for x in top), reverse=True)
    one = best_spans([window], ctx, text, start, end)
    assert [(x.start, x.end) for x in one] == [(top[0].start, top[0].end)]


COUNTS = ("Đại hội công bố quyết định chỉ định 30 đồng chí tham gia Ban Chấp hành Đảng bộ phường, "
          "10 đồng chí vào Ban Thường vụ và Bí thư, Phó Bí thư Đảng ủy. Phường có 600 đảng viên.")


@pytest.mark.parametrize(("question", "read", "expected"), [
    # several counts of the asked noun in one sentence: the one whose own words the question says
    ("Bao nhiêu đồng chí được chỉ định vào Ban Thường vụ Đảng ủy phường?", "30", "10"),
    ("bao nhieu dong chi duoc chi dinh vao ban thuong vu", "30 đồng chí", "10 đồng chí"),
    ("Bao nhiêu đồng chí tham gia Ban Chấp hành Đảng bộ phường?", "10", "30"),
    ("Bao nhiêu đồng chí tham gia Ban Chấp hành Đảng bộ phường?", "10 đồng chí", "30 đồng chí"),
    ("Bao nhiêu đồng chí tham gia Ban Chấp hành Đảng bộ phường?", "30", "30"),
    # the question tells them apart by no word: the span read stays
    ("Có bao nhiêu đồng chí được chỉ định?", "10", "10"),
    ("Có bao nhiêu đồng chí được chỉ định?", "30", "30"),
    # one count of the noun in its sentence: nothing to choose between
    ("Phường có bao nhiêu đảng viên tham gia Ban Thường vụ?", "600", "600"),
])
def test_a_count_among_counts_of_its_noun_is_the_one_the_question_describes(
        question, read, expected):
    assert picked(question, read, COUNTS) == expected


ITEMS = ("Đảng bộ xã còn 20 chi bộ trực thuộc, trong đó có 12 chi bộ thôn, bản, 8 chi bộ "
         "trường học, trạm y tế, công an. Hết.")


@pytest.mark.parametrize(("question", "read", "expected"), [
    # a count's words run to the next count, its listed items with it
    ("Xã có bao nhiêu chi bộ trường học, trạm y tế, công an?", "12", "8"),
    ("Sau khi sáp nhập thôn, Đảng bộ xã có bao nhiêu chi bộ trường học, trạm y tế, công an?",
     "12", "8"),
    ("Xã có bao nhiêu chi bộ thôn, bản?", "8", "12"),
])
def test_a_count_among_counts_keeps_its_listed_items(question, read, expected):
    assert picked(question, read, ITEMS) == expected


@pytest.mark.parametrize("question", ["Phường có bao nhiêu hợp tác xã?",
                                      "phuong co bao nhieu hop tac xa?"])
def test_a_count_of_an_abbreviated_noun_is_a_count_of_the_noun(question):
    text = "Toàn phường hiện có 4 HTX, 206 doanh nghiệp, 870 hộ kinh doanh."
    shape = AnswerShape.of(analyze(question))
    a = text.index("4 HTX")
    assert shape.fit(text, a, a + len("4 HTX")) == (a, a + len("4 HTX"))
    b = text.index("206")
    assert shape.fit(text, b, b + len("206 doanh nghiệp")) is None
    # without the abbreviation's help the count was not one of the noun
    assert AnswerShape.of(analyze("Phường có bao nhiêu doanh nghiệp?")).fit(text, a, a + 5) is None


def test_a_count_repeats_the_noun_not_only_its_first_word():
    """"6 đảng bộ" is not a count of "đảng viên", nor "870 hộ kinh doanh" of "hộ nghèo"; a noun
    followed by function words ("người đang sống") needs only its own word."""
    text = ("Đảng bộ có 12 tổ chức cơ sở đảng (6 đảng bộ cơ sở, 6 chi bộ cơ sở) với tổng số 789 "
            "đảng viên; phường có 870 hộ kinh doanh, 86 hộ nghèo và hơn 25.400 người.")

    def fit(question: str, read: str):
        a = text.index(read)
        found = AnswerShape.of(analyze(question)).fit(text, a, a + len(read))
        return None if found is None else text[found[0]:found[1]]

    assert fit("Đảng bộ có tổng số bao nhiêu đảng viên?", "6 đảng bộ") is None
    assert fit("Đảng bộ có tổng số bao nhiêu đảng viên?", "789 đảng viên") == "789 đảng viên"
    assert fit("dang bo co tong so bao nhieu dang vien", "6 đảng bộ") is None
    assert fit("Phường có bao nhiêu hộ nghèo?", "870 hộ kinh doanh") is None
    assert fit("Phường có bao nhiêu hộ nghèo?", "86 hộ nghèo") == "86 hộ nghèo"
    assert fit("Bao nhiêu người đang sống ở phường?", "hơn 25.400 người") == "hơn 25.400 người"
    # and among the counts of a sentence, "6 đảng bộ cơ sở" is not one of "đảng viên"
    shape = AnswerShape.of(analyze("Đảng bộ các cơ quan Đảng có tổng số bao nhiêu đảng viên?"))
    a = text.index("789")
    got = shape.pick([Span(9.0, 0.0, 0, a, a + 3)], text)
    assert text[got.start:got.end] == "789"


def test_a_year_before_a_comma_is_not_a_count_of_the_noun_after_it():
    text = "Sau năm 2012, quốc gia thành viên tăng: 9 quốc gia ký hiệp ước, 3 quốc gia rút khỏi."
    shape = AnswerShape.of(analyze("Bao nhiêu quốc gia đã rút khỏi?"))
    year = text.index("2012")
    assert shape.fit(text, year, year + 5) is None  # "2012," then "quốc gia": not a count
    nine = text.index("9 quốc gia")
    got = shape.pick([Span(9.0, 0.0, 0, nine, nine + 1)], text)
    assert text[got.start:got.end] == "3"


UNITS = ("Phường Đoàn Kết được thành lập trên cơ sở sáp nhập diện tích và dân số của 5 đơn vị hành "
         "chính cũ, đó là các xã, phường: Đoàn Kết, Quyết Tiến, Sùng Phài (thành phố Lai Châu cũ) "
         "và xã Lản Nhì Thàng (huyện Phong Thổ cũ), với tổng diện tích 134,31km2. Phường Kỳ Sơn "
         "được thành lập trên cơ sở hợp nhất toàn bộ diện tích tự nhiên, quy mô dân số của phường "
         "Kỳ Sơn, xã Độc Lập và xã Mông Hóa.")


@pytest.mark.parametrize(("question", "read", "expected"), [
    # a list question read as a description: the named items after it in its sentence
    ("Phường Đoàn Kết được sáp nhập từ những đơn vị nào?", "5 đơn vị hành chính cũ",
     "Đoàn Kết, Quyết Tiến, Sùng Phài (thành phố Lai Châu cũ) và xã Lản Nhì Thàng (huyện Phong "
     "Thổ cũ)"),
    ("phuong ky son duoc hop nhat tu nhung don vi nao", "cơ sở hợp nhất toàn bộ diện tích tự nhiên",
     "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa"),
    # a span that names something, or a question that asks no list: the span stays
    ("Phường Đoàn Kết được sáp nhập từ những đơn vị nào?", "Quyết Tiến", "Quyết Tiến"),
    ("Phường Kỳ Sơn được thành lập trên cơ sở nào?", "cơ sở hợp nhất toàn bộ diện tích tự nhiên",
     "cơ sở hợp nhất toàn bộ diện tích tự nhiên"),
    # no named run after the span in its sentence: the span stays
    ("Những đơn vị nào có tổng diện tích 134,31km2?", "tổng diện tích 134,31km2",
     "tổng diện tích 134,31km2"),
])
def test_a_list_question_read_as_a_description_gets_the_named_items(question, read, expected):
    assert picked(question, read, UNITS) == expected


@pytest.mark.parametrize(("question", "read", "expected"), [
    # named items cut short at a bracket: the run carried on to its end
    ("Phường Đoàn Kết mới được hình thành từ những xã, phường cũ nào?",
     "Đoàn Kết, Quyết Tiến, Sùng Phài",
     "Đoàn Kết, Quyết Tiến, Sùng Phài (thành phố Lai Châu cũ) và xã Lản Nhì Thàng (huyện Phong "
     "Thổ cũ)"),
    ("Phường Kỳ Sơn được hợp nhất từ những đơn vị nào?", "phường Kỳ Sơn, xã Độc Lập",
     "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa"),
    # the whole run already, or one item only: as read
    ("Phường Kỳ Sơn được hợp nhất từ những đơn vị nào?", "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa",
     "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa"),
    ("Phường Kỳ Sơn được hợp nhất từ những đơn vị nào?", "xã Độc Lập", "xã Độc Lập"),
])
def test_named_items_cut_short_are_read_to_the_end_of_their_run(question, read, expected):
    assert picked(question, read, UNITS) == expected
