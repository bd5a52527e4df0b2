"""Tests for qa/candidates.py: numbers with their qualifiers and units exactly as written,
dates, people without honorifics, places, organisations and lists, and the offsets of every
candidate inside its sentence."""

from __future__ import annotations

import pytest

from qa.reader.candidates import (
    EXTRACTORS,
    candidates,
    clauses,
    dates,
    lists,
    numbers,
    organizations,
    people,
    places,
)
from qa.reader.question import ANSWER_TYPES


def spans(found, sent: str) -> list[str]:
    return [sent[c.start : c.end] for c in found]


# (sentence, a number a reader would quote from it, exactly as written)
NUMBER_CASES = [
    ("Đại hội có 149 đại biểu, đại diện cho hơn 1.750 đảng viên.", "hơn 1.750"),
    ("Phường có tổng diện tích 134,31km2, dân số hơn 25.400 người.", "134,31km2"),
    ("Phường có tổng diện tích 134,31km2, dân số hơn 25.400 người.", "hơn 25.400 người"),
    ("Dân tộc Mường chiếm 68,3% dân số của xã.", "68,3%"),
    ("Năm 2024, thành phố đón 2,2 triệu lượt khách du lịch.", "2,2 triệu"),
    ("Đảng bộ đã hoàn thành 16/16 chỉ tiêu Nghị quyết đề ra.", "16/16"),
    ("Tốc độ tăng trưởng kinh tế bình quân đạt từ 3 - 4% mỗi năm.", "từ 3 - 4%"),
    ("Cây cầu có tổng vốn đầu tư 37 tỷ đồng từ ngân sách tỉnh.", "37 tỷ đồng"),
    # written as words
    ("Josh Norman có bốn lựa chọn.", "bốn"),
    ("Đội có mười hai cầu thủ.", "mười hai"),
    ("Dịch bệnh giết chết hai phần ba dân số.", "hai phần ba"),
    ("Lớp có hai mươi lăm học sinh.", "hai mươi lăm"),
]


@pytest.mark.parametrize(("sent", "expected"), NUMBER_CASES, ids=[e for _, e in NUMBER_CASES])
def test_numbers_keep_qualifiers_and_units_as_written(sent, expected):
    assert expected in spans(numbers(sent), sent)


def test_a_counted_noun_is_not_a_unit():
    sent = "Ban Chấp hành Đảng bộ phường gồm 15 đồng chí."
    found = spans(numbers(sent), sent)
    assert found == ["15"]


def test_dong_as_money_is_kept_but_not_before_chi():
    sent = "Quỹ hỗ trợ 500 triệu đồng cho 12 đồng chí cán bộ hưu trí."
    found = spans(numbers(sent), sent)
    assert "500 triệu đồng" in found
    assert "12" in found


def test_day_month_is_a_date_not_a_number():
    sent = "Sáng 9/8, Đảng bộ phường Đoàn Kết tổ chức Đại hội."
    assert "9/8" not in spans(numbers(sent), sent)
    assert spans(dates(sent), sent) == ["9/8"]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("Sáng 9/8, Đảng bộ phường Đoàn Kết tổ chức Đại hội.", "9/8"),
        ("Hội nghị diễn ra trong 2 ngày 15 - 16/1 tại hội trường tỉnh.", "15 - 16/1"),
        ("Trong 2 ngày 22-23/7, Đảng bộ phường Kỳ Sơn tổ chức Đại hội.", "22-23/7"),
        ("Nghị quyết số 18 được ban hành ngày 30/5/2019.", "30/5/2019"),
        ("Quy định mới có hiệu lực từ ngày 1/3/2025.", "1/3/2025"),
        # written out
        ("Vào ngày 6 tháng 10 năm 1973, hai nước tấn công.", "ngày 6 tháng 10 năm 1973"),
        ("Sàn giao dịch mở lại vào tháng 4 năm 1991.", "tháng 4 năm 1991"),
        ("Tính đến 31 tháng 8, 2009, có 374 công ty.", "31 tháng 8, 2009"),
    ],
)
def test_dates_as_written(sent, expected):
    assert expected in spans(dates(sent), sent)


def test_a_fraction_is_not_a_date():
    sent = "Đảng bộ đã hoàn thành 16/16 chỉ tiêu Nghị quyết đề ra."
    assert "16/16" not in spans(dates(sent), sent)


@pytest.mark.parametrize(
    ("sent", "name"),
    [
        ("Ông Nguyễn Văn An phát biểu tại hội nghị.", "Nguyễn Văn An"),
        ("Bà Lò Thị Mai được bầu làm Chủ tịch Hội Phụ nữ xã.", "Lò Thị Mai"),
        ("Đồng chí Trần Quốc Hùng được bầu làm Bí thư Đảng ủy.", "Trần Quốc Hùng"),
        ("Tại Đại hội, đồng chí Vàng A Sử được chỉ định làm Phó Bí thư.", "Vàng A Sử"),
    ],
)
def test_people_without_their_honorific(sent, name):
    found = spans(people(sent), sent)
    assert name in found
    assert not any(f.lower().startswith(("ông ", "bà ", "đồng chí ")) for f in found)


def test_a_name_after_a_place_is_the_name_only():
    sent = "Bí thư Tỉnh ủy Lào Cai Hoàng Giang dự và chỉ đạo hội nghị."
    assert spans(people(sent), sent) == ["Hoàng Giang"]


def test_a_ward_after_phuong_is_not_a_person():
    sent = "Đảng bộ phường Đoàn Kết tổ chức Đại hội đại biểu lần thứ I."
    assert people(sent) == []


def test_a_ward_at_the_start_of_a_sentence_is_not_a_person():
    sent = "Phường Đoàn Kết có hơn 1.750 đảng viên."
    assert people(sent) == []


def test_places_after_place_types():
    sent = "Lũ quét xảy ra tại huyện Sơn Hà, tỉnh Quảng Ngãi."
    found = spans(places(sent), sent)
    assert "Sơn Hà" in found
    assert "Quảng Ngãi" in found


def test_a_place_stops_at_the_first_lower_case_word():
    sent = "Đại hội Đảng bộ phường Kỳ Sơn diễn ra thành công."
    assert set(spans(places(sent), sent)) <= {"Kỳ Sơn", "phường Kỳ Sơn"}


def test_organisation_with_a_place():
    sent = "Ông Hoàng Văn Nam, Bí thư Đảng ủy xã Hòa An, phát biểu khai mạc."
    assert "Đảng ủy xã Hòa An" in spans(organizations(sent), sent)


def test_organisation_written_in_sentence_case():
    sent = "Sở Giáo dục và Đào tạo được UBND tỉnh tặng Bằng khen."
    assert "Sở Giáo dục và Đào tạo" in spans(organizations(sent), sent)


def test_list_of_typed_places():
    sent = (
        "Phường Kỳ Sơn được thành lập trên cơ sở hợp nhất toàn bộ diện tích tự nhiên, quy mô "
        "dân số của phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa."
    )
    assert "phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa" in spans(lists(sent), sent)


def test_list_of_names_without_place_types():
    sent = "Tham gia lễ hội có đoàn nghệ nhân của các dân tộc Hà Nhì, Cống, Si La và La Hủ."
    assert "Hà Nhì, Cống, Si La và La Hủ" in spans(lists(sent), sent)


def test_clauses_split_at_punctuation():
    sent = "Sáng 9/8, Đảng bộ phường Đoàn Kết tổ chức Đại hội; 149 đại biểu dự."
    assert spans(clauses(sent), sent) == [
        "Sáng 9/8",
        "Đảng bộ phường Đoàn Kết tổ chức Đại hội",
        "149 đại biểu dự",
    ]


SENTENCES = [s for s, _ in NUMBER_CASES] + [
    "Sáng 9/8, Đảng bộ phường Đoàn Kết, tỉnh Lai Châu tổ chức Đại hội lần thứ I.",
    "Trong 2 ngày 22-23/7, Đảng bộ phường Kỳ Sơn đã tổ chức Đại hội đại biểu lần thứ I.",
    "Bí thư Tỉnh ủy Lào Cai Hoàng Giang dự và chỉ đạo hội nghị.",
    "Bà Giàng Páo Mỷ - Bí thư Tỉnh ủy Lai Châu dự và phát biểu chỉ đạo (Ảnh: Ngọc Mai).",
    "Phường Kỳ Sơn được thành lập trên cơ sở hợp nhất toàn bộ diện tích tự nhiên, quy mô dân "
    "số của phường Kỳ Sơn, xã Độc Lập và xã Mông Hóa.",
    "Sở Giáo dục và Đào tạo được UBND tỉnh tặng Bằng khen, 12 trường được khen.",
    "“Xây dựng Đảng bộ trong sạch, vững mạnh” là chủ đề của Đại hội.",
    "Tổng thu NSNN năm 2025 ước đạt 12.500 tỷ đồng, tăng 8,2%.",
]


@pytest.mark.parametrize("sent", SENTENCES)
@pytest.mark.parametrize("kind", ANSWER_TYPES)
def test_every_candidate_lies_inside_its_sentence(sent, kind):
    for c in candidates(sent, kind, broad=True):
        assert 0 <= c.start < c.end <= len(sent), c
        text = sent[c.start : c.end]
        assert text == text.strip(), (kind, c, text)
        assert 0.0 <= c.strength <= 1.0


@pytest.mark.parametrize("sent", SENTENCES)
def test_each_extractor_returns_its_own_kind(sent):
    for kind, extract in EXTRACTORS.items():
        assert all(c.kind == kind for c in extract(sent)), kind


def test_nam_alone_is_not_a_number_word():
    # "năm" is five, but far more often "year": only counted after another number word
    sent = "Sau mười năm, đội có ba cầu thủ."
    assert "năm" not in spans(numbers(sent), sent) and "ba" in spans(numbers(sent), sent)
