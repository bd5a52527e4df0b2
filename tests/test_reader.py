"""Tests for qa/reader.py (RuleReader): one made-up article per answer type, the span-offset
invariant of every answer, abstention, questions typed without diacritics, and the shipped
weights with their fallbacks."""

from __future__ import annotations

import json
from importlib import resources
from types import SimpleNamespace

import pytest

import qa.reader.rules
from qa.evaluation import f1
from qa.reader.features import FEATURES, HAND_WEIGHTS
from qa.reader.rules import RuleReader, load_weights
from qa.text import fold_accents
from qa.types import NOT_FOUND, Answer, Chunk, Passage


def passage(doc_id: str, title: str, text: str, score: float = 1.0, start: int = 0) -> Passage:
    return Passage(Chunk(doc_id, start, start + len(text), text), score, title, date="2025-04-14")


def unaccented(question: str) -> str:
    return " ".join(fold_accents(question).lower().replace("?", "").split())


def check_answer(answer: Answer, passages: list[Passage]) -> Answer:
    """What every answer promises, answered or not."""
    assert 0.0 <= answer.confidence <= 1.0
    cites = answer.citations
    assert [c.rank for c in cites] == list(range(1, len(passages) + 1))
    assert sorted((c.doc_id, c.start, c.end) for c in cites) == sorted(
        (p.doc_id, p.chunk.start, p.chunk.end) for p in passages
    )
    for c in cites:
        p = next(p for p in passages if p.doc_id == c.doc_id and p.chunk.start == c.start)
        assert c.text == p.text and c.title == p.title and c.score == p.score
    if answer.abstained:
        assert answer.text == NOT_FOUND
        assert answer.span is None
        assert answer.evidence == ""
        assert all(c.answer_start is None and c.evidence_start is None for c in cites)
        return answer
    best = cites[0]
    a, b = answer.span
    assert best.text[a:b] == answer.text
    assert (best.answer_start, best.answer_end) == (a, b)
    assert best.text[best.evidence_start : best.evidence_end] == answer.evidence
    assert best.evidence_start <= a < b <= best.evidence_end
    assert answer.text in answer.evidence
    assert answer.text and answer.text == answer.text.strip()
    for c in cites[1:]:  # only the passage that holds the answer carries spans
        assert c.answer_start is None and c.evidence_start is None
    # the others keep the retrieval order
    rest = [p for p in passages if (p.doc_id, p.chunk.start) != (best.doc_id, best.start)]
    assert [(c.doc_id, c.start) for c in cites[1:]] == [(p.doc_id, p.chunk.start) for p in rest]
    return answer


# Made-up articles (title, body), one or two per answer type.
HOI_NONG_DAN = passage(
    "hoi-nong-dan.txt",
    "Đại hội Hội Nông dân xã Hoà An lần thứ X",
    "Sáng 14/4, Hội Nông dân xã Hoà An, huyện Phú Lương tổ chức Đại hội đại biểu lần thứ X, "
    "nhiệm kỳ 2023 - 2028. Dự Đại hội có 95 đại biểu đại diện cho hơn 2.100 hội viên. "
    "Ông Lê Văn Thành được bầu làm Chủ tịch Hội Nông dân xã Hoà An. Đại hội do Huyện ủy Phú "
    "Lương chỉ đạo.",
    start=230,
)
HO_NGHEO = passage(
    "ho-ngheo.txt",
    "Xã Tân Lập giảm nghèo bền vững",
    "Năm 2024, xã Tân Lập có 4.200 hộ dân với 12 thôn. Toàn xã còn 86 hộ nghèo, giảm 35 hộ so "
    "với năm trước. Tỷ lệ hộ nghèo của xã còn 2,05%.",
)
CAU = passage(
    "cau-nam-mu.txt",
    "Khánh thành cầu Nậm Mu",
    "Ngày 20/11/2024, UBND huyện Than Uyên khánh thành cầu Nậm Mu bắc qua sông Nậm Mu. Cây "
    "cầu dài 120 m, tổng vốn đầu tư 45 tỷ đồng.",
)
LE_HOI = passage(
    "le-hoi.txt",
    "Lễ hội hoa ban 2025",
    "Lễ hội hoa ban năm 2025 được tổ chức tại thành phố Điện Biên Phủ. Lễ hội thu hút hơn "
    "30.000 lượt khách. Ban tổ chức trao giải cho 15 đội văn nghệ.",
)
KHEN_THUONG = passage(
    "khen-thuong.txt",
    "Tổng kết năm học 2024 - 2025",
    "Tại hội nghị tổng kết năm học, Sở Giáo dục và Đào tạo được UBND tỉnh tặng Bằng khen. Ông "
    "Phạm Minh Đức, Giám đốc Sở, phát biểu cảm ơn.",
)
SAP_NHAP = passage(
    "sap-nhap.txt",
    "Thành lập xã Thanh Bình mới",
    "Ngày 1/7, xã Thanh Bình mới chính thức đi vào hoạt động. Xã Thanh Bình được thành lập "
    "trên cơ sở hợp nhất toàn bộ diện tích tự nhiên, quy mô dân số của xã Thanh Bình, xã Yên "
    "Phú và xã Lạc Thủy. Xã mới có diện tích 62,5 km2.",
)
SAT_LO = passage(
    "sat-lo.txt",
    "Sạt lở quốc lộ 6",
    "Đêm 3/9, mưa lớn gây sạt lở nhiều đoạn quốc lộ 6. Quốc lộ 6 bị chia cắt do đất đá từ "
    "taluy dương đổ xuống mặt đường, vùi lấp hơn 200 m đường.",
)
BAN_BO = passage(
    "ban-bo.txt",
    "Đại hội Đảng bộ xã Bản Bo lần thứ XIX",
    "Ngày 20/5, Đảng bộ xã Bản Bo tổ chức Đại hội đại biểu lần thứ XIX, nhiệm kỳ 2025 - 2030. "
    "Đại hội do Huyện ủy Tam Đường chỉ đạo. Đồng chí Lò Văn Pản được chỉ định làm Bí thư Đảng "
    "ủy xã.",
)
TRUONG = passage(
    "truong.txt",
    "Trường Tiểu học Hòa Bình đón nhận Huân chương Lao động",
    "Sáng 5/9, Trường Tiểu học Hòa Bình đón nhận Huân chương Lao động hạng Ba. Phần thưởng ghi "
    "nhận thành tích của nhà trường trong đổi mới phương pháp dạy học và chăm lo học sinh vùng "
    "khó khăn.",
)
MUONG_KHUONG = passage(
    "muong-khuong.txt",
    "Đại hội Đảng bộ xã Mường Khương",
    "Sáng 2/6, Đảng bộ xã Mường Khương tổ chức Đại hội lần thứ XX, nhiệm kỳ 2025 - 2030. Đại "
    "hội có chủ đề “Đoàn kết, dân chủ, đổi mới, phát triển bền vững”. Đại hội xác định nhiệm vụ "
    "trọng tâm là phát triển du lịch cộng đồng gắn với bảo tồn bản sắc văn hóa dân tộc.",
)
ARTICLES = [
    HOI_NONG_DAN,
    HO_NGHEO,
    CAU,
    LE_HOI,
    KHEN_THUONG,
    SAP_NHAP,
    SAT_LO,
    BAN_BO,
    TRUONG,
    MUONG_KHUONG,
]


@pytest.fixture(scope="module")
def reader() -> RuleReader:
    return RuleReader()


def ask(reader, question: str, right: Passage, *others: Passage) -> Answer:
    """Read with the right article among two others, not first: the reader must find it."""
    if not others:
        others = tuple(p for p in ARTICLES if p is not right)[:2]
    passages = [others[0], right, *others[1:]]
    answer = check_answer(reader.read(question, passages), passages)
    if not answer.abstained:
        assert answer.citations[0].doc_id == right.doc_id
    return answer


# --- one test per answer type ------------------------------------------------------------


def test_person(reader):
    answer = ask(reader, "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", HOI_NONG_DAN)
    assert not answer.abstained
    assert answer.text == "Lê Văn Thành"
    assert answer.citations[0].start == 230  # the chunk's place in its article is kept


@pytest.mark.parametrize("span, tidy", [
    ("Đồng chí Bùi Thị Minh", "Bùi Thị Minh"),
    ("đồng chí Lò Văn Pản, Bí thư Đảng ủy xã", "Lò Văn Pản, Bí thư Đảng ủy xã"),
    ("đồng chí ấy", "đồng chí ấy"),  # no name follows: left as written
    ("Đồng chí", "Đồng chí"),
    ("đ/c Hoàng Quốc Khánh", "Hoàng Quốc Khánh"),
    ("ĐỒNG CHÍ GIÀNG PÁO MỶ", "GIÀNG PÁO MỶ"),
])
def test_answers_drop_the_title_comrade_before_a_name(span, tidy):
    # both readers copy their answers through this (the neural reader's spans included)
    assert qa.reader.rules._tidy(span, "") == tidy


@pytest.mark.parametrize("span, tidy", [
    ("Phó Bí thư Thường trực Thành ủy Lai Châu cho biết", "Phó Bí thư Thường trực Thành ủy Lai Châu"),
    ("Bí thư Tỉnh ủy Lào Cai Trịnh Xuân Trường nhấn mạnh", "Bí thư Tỉnh ủy Lào Cai Trịnh Xuân Trường"),
    ("người dân nói", "người dân nói"),  # no speaker named before the verb: left as written
])
def test_answers_drop_the_verb_of_saying_after_the_speaker(span, tidy):
    assert qa.reader.rules._tidy(span, "") == tidy


@pytest.mark.parametrize(("question", "right", "golds"), [
    pytest.param("Đại hội Hội Nông dân xã Hòa An đại diện cho bao nhiêu hội viên?", HOI_NONG_DAN,
                 ("hơn 2.100", "hơn 2.100 hội viên"), id="number_with_the_asked_unit"),
    pytest.param("Xã Tân Lập có bao nhiêu thôn?", HO_NGHEO,
                 ("12",), id="number_of_the_counted_thing_among_other_numbers"),
    pytest.param("Xã Tân Lập còn bao nhiêu hộ nghèo?", HO_NGHEO,
                 ("86",), id="number_of_poor_households_not_all_households"),
    pytest.param("Tỷ lệ hộ nghèo của xã Tân Lập là bao nhiêu?", HO_NGHEO,
                 ("2,05%",), id="percentage"),
    pytest.param("Cầu Nậm Mu được khánh thành khi nào?", CAU,
                 ("20/11/2024", "Ngày 20/11/2024"), id="date"),
    pytest.param("Cầu Nậm Mu có tổng vốn đầu tư bao nhiêu?", CAU,
                 ("45 tỷ đồng",), id="money"),
    pytest.param("Lễ hội hoa ban năm 2025 được tổ chức ở đâu?", LE_HOI,
                 ("thành phố Điện Biên Phủ", "Điện Biên Phủ"), id="place"),
    pytest.param("Cơ quan nào chỉ đạo Đại hội Đảng bộ xã Bản Bo?", BAN_BO,
                 ("Huyện ủy Tam Đường",), id="organisation"),
    pytest.param("Cơ quan nào chỉ đạo Đại hội Hội Nông dân xã Hòa An?", HOI_NONG_DAN,
                 ("Huyện ủy Phú Lương",), id="organisation_when_a_place_is_followed_by_a_verb"),
    pytest.param("Cơ quan nào được UBND tỉnh tặng Bằng khen?", KHEN_THUONG,
                 ("Sở Giáo dục và Đào tạo",), id="organisation_in_sentence_case"),
    pytest.param("Xã Thanh Bình mới được hợp nhất từ những đơn vị hành chính nào?", SAP_NHAP,
                 ("xã Thanh Bình, xã Yên Phú và xã Lạc Thủy",), id="list"),
    pytest.param("Xã Thanh Bình mới được sáp nhập từ những xã nào?", SAP_NHAP,
                 ("xã Thanh Bình, xã Yên Phú và xã Lạc Thủy",), id="list_asked_as_nhung_xa_nao"),
])
def test_answer_of_each_type(reader, question, right, golds):
    answer = ask(reader, question, right)
    assert answer.text in golds


CAUSE = "do đất đá từ taluy dương đổ xuống mặt đường"
FOCUS = "phát triển du lịch cộng đồng gắn với bảo tồn bản sắc văn hóa dân tộc"
THEME = "Đoàn kết, dân chủ, đổi mới, phát triển bền vững"
MERIT = "đổi mới phương pháp dạy học và chăm lo học sinh vùng khó khăn"


@pytest.mark.parametrize(
    ("question", "right", "gold"),
    [
        ("Quốc lộ 6 bị chia cắt vì sao?", SAT_LO, CAUSE),
        ("Vì sao quốc lộ 6 bị chia cắt?", SAT_LO, CAUSE),
        ("Nguyên nhân quốc lộ 6 bị chia cắt là gì?", SAT_LO, CAUSE),
        ("Đại hội Đảng bộ xã Mường Khương có chủ đề gì?", MUONG_KHUONG, THEME),
        # the subject is named in the sentence before ("Đảng bộ xã Mường Khương tổ chức Đại
        # hội…"); "Đại hội xác định nhiệm vụ trọng tâm là [...]" gives the detail
        ("Nhiệm vụ trọng tâm của Đảng bộ xã Mường Khương là gì?", MUONG_KHUONG, FOCUS),
        ("Phần thưởng ghi nhận thành tích gì của nhà trường?", TRUONG, MERIT),
    ],
)
def test_description(reader, question, right, gold):
    answer = ask(reader, question, right)
    assert not answer.abstained
    assert f1(answer.text, gold) >= 0.6, answer.text


# --- abstention ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Cầu thủ nào ghi bàn thắng quyết định trong trận chung kết?",
        "Đội tuyển bóng đá Việt Nam vô địch giải nào năm 2024?",
        "cau thu nao ghi ban thang quyet dinh trong tran chung ket",
    ],
)
def test_abstains_when_the_articles_do_not_say(reader, question):
    passages = [HOI_NONG_DAN, MUONG_KHUONG, SAP_NHAP]
    answer = check_answer(reader.read(question, passages), passages)
    assert answer.abstained
    assert answer.text == NOT_FOUND
    assert answer.span is None
    # the nearest passages are still shown, in the retriever's order
    assert [c.doc_id for c in answer.citations] == [p.doc_id for p in passages]


def test_abstains_without_passages(reader):
    answer = reader.read("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [])
    assert answer.abstained and answer.text == NOT_FOUND and answer.citations == ()


def test_the_answer_is_cited_first_then_the_retrieval_order(reader):
    passages = [LE_HOI, CAU, HOI_NONG_DAN, SAP_NHAP]
    answer = check_answer(
        reader.read("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", passages), passages
    )
    assert [c.doc_id for c in answer.citations] == [
        HOI_NONG_DAN.doc_id,
        LE_HOI.doc_id,
        CAU.doc_id,
        SAP_NHAP.doc_id,
    ]


# --- typed without diacritics, or with the old tone placement ------------------------------


@pytest.mark.parametrize(
    ("question", "right"),
    [
        ("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", HOI_NONG_DAN),
        ("Cầu Nậm Mu được khánh thành khi nào?", CAU),
        ("Lễ hội hoa ban năm 2025 được tổ chức ở đâu?", LE_HOI),
        ("Xã Thanh Bình mới được hợp nhất từ những đơn vị hành chính nào?", SAP_NHAP),
    ],
)
def test_same_answer_typed_without_diacritics(reader, question, right):
    accented = ask(reader, question, right)
    plain = ask(reader, unaccented(question), right)
    assert not accented.abstained and not plain.abstained
    assert plain.text == accented.text
    assert plain.span == accented.span


def test_tone_placement_of_the_question_does_not_matter(reader):
    # the article writes "Hoà An"; people type "Hòa An" as often
    new = ask(reader, "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", HOI_NONG_DAN)
    old = ask(reader, "Ai được bầu làm Chủ tịch Hội Nông dân xã Hoà An?", HOI_NONG_DAN)
    assert new.text == old.text == "Lê Văn Thành"


# --- the span invariant on every question of this file -------------------------------------

ALL_QUESTIONS = [
    "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?",
    "Xã Tân Lập còn bao nhiêu hộ nghèo?",
    "Cầu Nậm Mu dài bao nhiêu mét?",
    "Lễ hội hoa ban thu hút bao nhiêu lượt khách?",
    "Ông Phạm Minh Đức giữ chức vụ gì?",
    "Xã Thanh Bình mới có diện tích bao nhiêu?",
    "Quốc lộ 6 bị chia cắt vì sao?",
    "Đại hội Đảng bộ xã Mường Khương diễn ra khi nào?",
    "Ai là Giám đốc Sở Giáo dục và Đào tạo?",
    "Sông nào chảy qua huyện Than Uyên?",
]


@pytest.mark.parametrize("question", ALL_QUESTIONS + [unaccented(q) for q in ALL_QUESTIONS])
def test_span_invariant_holds_for_every_answer(reader, question):
    for passages in (ARTICLES[:5], ARTICLES[3:], ARTICLES[::-1]):
        check_answer(reader.read(question, passages), passages)


# --- weights -------------------------------------------------------------------------------


def test_loads_the_shipped_weights():
    data = json.loads(resources.files("qa.reader").joinpath("weights/rules.json").read_text("utf-8"))
    assert data["features"] == FEATURES
    reader = RuleReader()
    assert reader.weights == pytest.approx(data["weights"])
    assert reader.calibration == pytest.approx(tuple(data["calibration"]))
    assert reader.abstain_threshold == pytest.approx(data["abstain_threshold"])


def test_explicit_threshold_overrides_the_shipped_one_even_zero():
    assert RuleReader(abstain_threshold=0.0).abstain_threshold == 0.0
    answer = RuleReader(abstain_threshold=1.0).read(
        "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN]
    )
    assert answer.abstained


def _weights_file(folder):
    (folder / "weights").mkdir(exist_ok=True)
    return folder / qa.reader.rules.WEIGHTS_FILE


def _fake_package(monkeypatch, folder):
    monkeypatch.setattr(qa.reader.rules, "resources", SimpleNamespace(files=lambda _pkg: folder))


HAND = [HAND_WEIGHTS.get(f, 0.0) for f in FEATURES]


@pytest.mark.parametrize(
    "content",
    [
        None,  # no file
        "{not json",
        json.dumps(
            {
                "features": FEATURES[:-1],
                "weights": [1.0] * (len(FEATURES) - 1),
                "abstain_threshold": 0.5,
            }
        ),  # written for another feature set
    ],
)
def test_falls_back_to_hand_weights(monkeypatch, tmp_path, content):
    if content is not None:
        _weights_file(tmp_path).write_text(content, encoding="utf-8")
    _fake_package(monkeypatch, tmp_path)
    weights, calibration, threshold = load_weights()
    assert weights == HAND and calibration == (1.0, 0.0)
    reader = RuleReader()
    answer = check_answer(
        reader.read("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN, CAU]),
        [HOI_NONG_DAN, CAU],
    )
    assert answer.text == "Lê Văn Thành"


def test_hand_weights_passed_explicitly_still_answer():
    reader = RuleReader(weights=HAND)
    answer = check_answer(
        reader.read("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN, CAU]),
        [HOI_NONG_DAN, CAU],
    )
    assert answer.text == "Lê Văn Thành"


def test_hand_weights_rank_the_right_candidate_first():
    # whatever the calibration, the best-scored span is the right one
    _q, scored, _evidence = RuleReader(weights=HAND).score_candidates(
        "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN]
    )
    top = max(scored, key=lambda s: s.score)
    sent = HOI_NONG_DAN.text[top.sent[0] : top.sent[1]]
    assert sent[top.cand.start : top.cand.end] == "Lê Văn Thành"


# --- with the real retriever on the tiny corpus (conftest) ---------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?", "Trần Thị Thuý"),
        ("ai duoc bau lam bi thu dang uy phuong tan minh", "Trần Thị Thuý"),
        ("Ai ghi hai bàn thắng cho câu lạc bộ Hà Nội?", "Nguyễn Văn Quyết"),
        ("Kỳ họp thứ 15 HĐND tỉnh Lào Cai khai mạc khi nào?", "10/12"),
        ("Lũ quét làm bao nhiêu người mất tích?", "4"),
        ("Giá xăng RON 95 hôm nay là bao nhiêu?", None),
    ],
)
def test_reader_on_retrieved_passages(tiny_index, embedder, question, expected):
    from qa.retrieval import HybridRetriever

    passages = HybridRetriever(tiny_index, embedder).search(question, 5)
    answer = check_answer(
        RuleReader(term_weight=tiny_index.lexical.idf).read(question, passages), passages
    )
    if expected is None:
        assert answer.abstained
    else:
        assert not answer.abstained
        assert expected in answer.text
        assert len(answer.text) <= len(expected) + len(" người")


# --- answerability and the question word's place -------------------------------------------

LAI_CHAU = passage(
    "lai-chau.txt",
    "Kinh tế tỉnh Lai Châu",
    "Năm 2025, tỉnh Lai Châu có 35.000 hộ nông dân. Tổng thu ngân sách trên địa bàn tỉnh "
    "đạt 3.200 tỷ đồng, tăng 12% so với năm trước.",
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [  # the seeds talk about these places, never about these measures
        "GDP bình quân đầu người của phường Đoàn Kết là bao nhiêu?",
        "gdp binh quan dau nguoi cua phuong doan ket la bao nhieu",
        "Phường Đoàn Kết có bao nhiêu trường học?",
        "Sân vận động tỉnh Lai Châu có sức chứa bao nhiêu?",
    ],
)
@pytest.mark.parametrize("reader_name", ["neural", "rules"])
def test_abstains_on_a_near_miss_over_the_seeds(seed_index, embedder, question, reader_name,
                                                request):
    """Numbers of the asked kind are at hand, and the place is there, but not what is
    asked: the answerability model refuses."""
    if reader_name == "rules" and question.startswith("gdp binh quan"):
        # typed without diacritics, "binh quan" meets "tăng bình quân 10%/năm" in the
        # article's targets and the rule reader answers "10"; the default reader refuses
        request.applymarker(pytest.mark.xfail(strict=True, reason="rule reader: known miss"))
    assert read_over_the_seeds(seed_index, embedder, question, reader_name).abstained


def read_over_the_seeds(seed_index, embedder, question, reader_name):
    """`question` answered by the configured reader over the seeds' top 5 passages, as the
    assistant sets the reader up (question words weighed by their rarity in the seeds)."""
    from qa.reader import make_reader
    from qa.retrieval import HybridRetriever
    from qa.settings import Settings

    passages = HybridRetriever(seed_index, embedder).search(question, 5)
    reader = make_reader(Settings.from_env(reader=reader_name), embedder)
    reader.term_weight = seed_index.lexical.idf
    return check_answer(reader.read(question, passages), passages)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "right"),
    [  # the issue's own examples (#11), which the rule reader misses: read, not counted
        ("Phường Kỳ Sơn có bao nhiêu dân?", "20.379"),  # rules: "68,3%", a share of it
        ("Tổng vốn đầu tư toàn xã hội của phường Kỳ Sơn phấn đấu tăng bao nhiêu mỗi năm?",
         "10%"),  # rules: "đạt 50 tỷ đồng", the target two clauses earlier
        ("Phường Đoàn Kết thuộc tỉnh nào?", "Lai Châu"),
    ],
)
def test_the_neural_reader_reads_what_the_rule_reader_counts_wrong(seed_index, embedder,
                                                                    question, right):
    answer = read_over_the_seeds(seed_index, embedder, question, "neural")
    assert not answer.abstained and right in answer.text and len(answer.text) <= 3 * len(right)


@pytest.mark.slow
def test_the_neural_reader_reads_a_question_with_the_abbreviations_of_its_passages(
        seed_index, embedder):
    """The Kỳ Sơn article counts "4 HTX"; asked for "hợp tác xã" written out, the network
    read "115,689 km2" until it was shown the abbreviation beside the words."""
    from qa.reader import make_reader
    from qa.retrieval import HybridRetriever
    from qa.settings import Settings

    question = "Phường Kỳ Sơn hiện có bao nhiêu hợp tác xã?"
    passages = HybridRetriever(seed_index, embedder).search(question, 5)
    reader = make_reader(Settings.from_env(reader="neural"), embedder)
    reader.term_weight = seed_index.lexical.idf
    r = reader.reading(question, passages)
    read = passages[r.passage].text[r.start:r.end]
    assert read in ("4", "4 HTX"), read


@pytest.mark.slow
def test_a_count_among_counts_written_out_is_the_one_the_question_describes(seed_index,
                                                                          embedder):
    """"13 chỉ tiêu phát triển KTXH, 2 chỉ tiêu về xây dựng Đảng… và 2 chỉ tiêu về QPAN": asked
    for "quốc phòng an ninh" written out, the answer was the rule reader's "13", which the
    choice prefers; the rule reader's count now gets the same choice among counts."""
    answer = read_over_the_seeds(
        seed_index, embedder, "Đại hội phường Kỳ Sơn đề ra mấy chỉ tiêu về quốc phòng an ninh?",
        "neural")
    assert not answer.abstained and answer.text in ("2", "2 chỉ tiêu"), answer.text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "right"),
    [  # the seeds write "Đồng chí Bùi Thị Minh - Phó Bí thư Tỉnh ủy dự và chỉ đạo Đại hội…"
        ("Ai chỉ đạo Đại hội Đảng bộ phường Kỳ Sơn lần thứ I?", "Bùi Thị Minh"),
        ("Ai cho biết Thành ủy Lai Châu đã hoàn thành đại hội?", "Hoàng Quốc Khánh"),
    ],
)
def test_the_neural_reader_names_a_person_without_the_title_comrade(seed_index, embedder,
                                                                      question, right):
    answer = read_over_the_seeds(seed_index, embedder, question, "neural")
    assert not answer.abstained and answer.text == right


def test_answers_the_question_next_to_the_near_miss():
    passages = [LAI_CHAU, HO_NGHEO]
    answer = check_answer(idf_reader().read(
        "Tổng thu ngân sách của tỉnh Lai Châu năm 2025 đạt bao nhiêu?", passages), passages)
    assert not answer.abstained and "3.200 tỷ đồng" in answer.text


def idf_reader() -> RuleReader:
    """The reader as the assistant sets it up: question words weighed by their rarity, here
    over the made-up articles (accented forms, and "~"-prefixed folded ones)."""
    import math

    from qa.text import TOKEN_RE, syllable_key

    docs = [p.title + " " + p.text for p in ARTICLES + [LAI_CHAU]]
    df: dict[str, int] = {}
    for d in docs:
        toks = [m.group() for m in TOKEN_RE.finditer(d)]
        for t in {syllable_key(t) for t in toks} | {"~" + fold_accents(t.lower()) for t in toks}:
            df[t] = df.get(t, 0) + 1
    return RuleReader(term_weight=lambda t: math.log(1 + len(docs) / (df.get(t, 0) + 0.5)))


def test_question_evidence_names_the_missing_rare_word():
    from qa.reader.features import question_evidence
    from qa.reader.question import analyze
    from qa.text import TOKEN_RE

    q = analyze("GDP của tỉnh Lai Châu năm 2025 là bao nhiêu?")
    weights = {t: (5.0 if t == "gdp" else 1.0) for t in q.content}
    seq = [q.form(m.group()) for m in TOKEN_RE.finditer(LAI_CHAU.title + " " + LAI_CHAU.text)]
    found, missing, names, _size = question_evidence(q, [seq], weights)
    assert missing == 1.0  # the rarest word asked is nowhere
    assert names == 1.0  # "Lai Châu" is there
    assert found == pytest.approx(1 - 5.0 / sum(weights.values()))
    q2 = analyze("Tỉnh Lai Châu có bao nhiêu hộ nông dân?")
    w2 = {t: 1.0 for t in q2.content}
    assert question_evidence(q2, [seq], w2)[:2] == [1.0, 0.0]


def test_without_answerability_weights_the_reader_abstains_on_confidence(monkeypatch, tmp_path):
    data = json.loads(resources.files("qa.reader").joinpath("weights/rules.json").read_text("utf-8"))
    del data["answerability"]
    _weights_file(tmp_path).write_text(json.dumps(data), encoding="utf-8")
    _fake_package(monkeypatch, tmp_path)
    reader = RuleReader()
    assert reader.answerability is None
    assert RuleReader(abstain_threshold=1.0).read(
        "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN]).abstained
    answer = reader.read("Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?", [HOI_NONG_DAN])
    assert answer.text == "Lê Văn Thành"


def _fills_of(question: str, sentence: str, span: str) -> tuple[float, float]:
    from qa.reader.features import SentenceContext, _alignment
    from qa.reader.question import analyze
    from qa.text import TOKEN_RE

    q = analyze(question)
    toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sentence)]
    weights = {t: 1.0 for t in q.content}
    ctx = SentenceContext(toks, [i for i, t in enumerate(toks) if t[2] in weights], 1.0, 0.0,
                          1.0, 1.0, 0.0, 0, 1.0, 0.0)
    a = sentence.index(span)
    inside = [i for i, (s, e, _f) in enumerate(toks) if s >= a and e <= a + len(span)]
    return tuple(_alignment(q, ctx, sentence, inside[0], inside[-1], weights)[2:])


@pytest.mark.parametrize(
    ("question", "sentence", "span", "expected"),
    [
        # the span takes the question word's place, right after the word before it
        ("Xã Tân Lập còn bao nhiêu hộ nghèo?", "Xã Tân Lập còn 86 hộ nghèo.", "86", (1.0, 1.0)),
        # ... after one function word the question does not have
        ("Phường đã kết nạp bao nhiêu đảng viên?", "Phường đã kết nạp được 52 đảng viên.",
         "52", (0.7, 1.0)),
        # a quotation mark between is no gap
        ("Đại hội có chủ đề gì?", "Đại hội có chủ đề “Đoàn kết, đổi mới”.", "Đoàn kết, đổi mới",
         (1.0, 0.0)),
        # one syllable of another word is a weak match ("hành chính" / "chính thức")
        ("Xã được hợp nhất từ những đơn vị hành chính nào?", "Xã mới chính thức đi vào hoạt động.",
         "thức đi vào", (0.6, 0.0)),
        # a span that starts with the word after the question word repeats the question
        ("Phần thưởng ghi nhận thành tích gì của nhà trường?",
         "Phần thưởng ghi nhận thành tích của nhà trường.", "của nhà trường", (0.0, 0.0)),
    ],
)
def test_the_span_fills_the_question_words_place(question, sentence, span, expected):
    assert _fills_of(question, sentence, span) == pytest.approx(expected)


def test_a_nao_question_gets_spans_that_start_with_its_noun():
    from qa.reader.features import slot_candidates
    from qa.reader.question import analyze
    from qa.text import TOKEN_RE

    q = analyze("Đảng nào mạnh nhất ở khu vực nông thôn?")
    assert q.head == (q.form("Đảng"),)
    sentence = "Đảng Quốc gia mạnh nhất ở khu vực nông thôn phía Tây Bắc."
    toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sentence)]
    spans = {sentence[c.start:c.end] for c in slot_candidates(q, sentence, toks)}
    assert "Đảng Quốc gia" in spans
    assert not any(s == "Đảng" for s in spans)  # the noun alone names nothing


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # two syllables of the noun in a row: "Trường [đại học] nào" / "Đại học Newcastle"
        ("Trường đại học nào có nguồn gốc từ trường y?", "Đại học Newcastle có nguồn gốc từ "
         "Trường Y khoa.", "Đại học Newcastle"),
        # its first syllable capitalised, as a name starts: "Đảng chính trị nào" / "Đảng Tự do"
        ("Đảng chính trị nào mạnh nhất ở Melbourne?", "Đảng Tự do mạnh nhất ở Melbourne.",
         "Đảng Tự do"),
    ],
)
def test_nao_noun_found_in_part(question, sentence, expected):
    from qa.reader.features import slot_candidates
    from qa.reader.question import analyze
    from qa.text import TOKEN_RE

    q = analyze(question)
    toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sentence)]
    assert expected in {sentence[c.start:c.end] for c in slot_candidates(q, sentence, toks)}


def test_one_syllable_of_a_longer_noun_is_not_the_noun():
    # "đơn vị hành [chính] nào" is not "[chính thức] ..."
    from qa.reader.features import head_at
    from qa.reader.question import analyze
    from qa.text import TOKEN_RE

    q = analyze("Xã được hợp nhất từ những đơn vị hành chính nào?")
    sentence = "Xã mới chính thức đi vào hoạt động."
    toks = [(m.start(), m.end(), q.form(m.group())) for m in TOKEN_RE.finditer(sentence)]
    assert head_at(q, sentence, toks) == []


REASON_TEXT = ("Đây là địa phương được lựa chọn tổ chức đại hội điểm cấp xã, phường, để rút kinh "
               "nghiệm chỉ đạo tổ chức đại hội cấp cơ sở nhiệm kỳ 2025-2030. Đại hội đề ra 5 nhiệm "
               "vụ nhằm thực hiện các chỉ tiêu Nghị quyết Đại hội, góp phần phát triển 1.789 hộ.")


@pytest.mark.parametrize(("span", "reason", "served"), [
    # a clause of purpose runs to its end ("2025-2030." ends the sentence)
    ("để rút kinh nghiệm", True,
     "để rút kinh nghiệm chỉ đạo tổ chức đại hội cấp cơ sở nhiệm kỳ 2025-2030"),
    ("thực hiện các chỉ tiêu", True, "thực hiện các chỉ tiêu Nghị quyết Đại hội"),  # after "nhằm"
    ("nhằm thực hiện", True, "nhằm thực hiện các chỉ tiêu Nghị quyết Đại hội"),  # to the comma
    ("để rút kinh nghiệm", False, "để rút kinh nghiệm"),  # no reason asked
    ("tổ chức đại hội điểm", True, "tổ chức đại hội điểm"),  # opens no clause of purpose
    ("nhằm thực hiện các chỉ tiêu Nghị quyết Đại hội,", True,
     "nhằm thực hiện các chỉ tiêu Nghị quyết Đại hội,"),  # its clause ended already
])
def test_a_reason_is_served_as_its_whole_clause(span, reason, served):
    from qa.reader.neural import AnswerShape

    a = REASON_TEXT.index(span)
    x, y = AnswerShape(reason=reason).clause(REASON_TEXT, a, a + len(span))
    assert REASON_TEXT[x:y] == served


@pytest.mark.parametrize(
    ("question", "answer", "lacks"),
    [
        ("Đại hội diễn ra ngày nào?", "2030", True),
        ("dai hoi dien ra ngay nao", "2030", True),  # typed without diacritics
        ("Đại hội diễn ra ngày nào?", "Sáng 9/8", False),
        ("Đại hội diễn ra ngày nào?", "2025-2030", True),  # a term is no day
        ("dai hoi dien ra ngay nao", "nhiệm kỳ 2020 - 2025", True),
        ("Đại hội diễn ra những ngày nào?", "15 - 16/1", False),
        ("Đảng bộ đi vào hoạt động từ ngày nào?", "1/3/2025", False),
        ("Đại hội diễn ra vào ngày mấy?", "ngày 15 tháng 1", False),
        ("Đại hội họp hôm nào?", "22-23/7", False),
        ("Phường được thành lập năm nào?", "thành phố Lai Châu", True),
        ("Phường được thành lập năm nào?", "năm 2025", False),
        ("Phường Kỳ Sơn có bao nhiêu dân?", "Lai Châu", True),
        ("phuong ky son co bao nhieu dan", "20.379 người", False),
        ("Có bao nhiêu đơn vị?", "mười hai đơn vị", False),  # a number written out
        ("Ai là Bí thư?", "Hoàng Văn Minh", False),  # asks no shape
        ("Đại hội lần thứ mấy?", "XVII", False),  # "mấy" is not checked
    ],
)
def test_an_answer_without_the_day_year_or_amount_asked_is_told_apart(question, answer, lacks):
    from qa.reader.neural import lacks_asked_shape

    assert lacks_asked_shape(question, answer) is lacks


@pytest.mark.slow
def test_a_day_asked_where_the_articles_give_only_years_is_refused(seed_index, embedder):
    """No seed article is about Lào Cai's congress; the network's best span is the term
    "2030", which names no day, so the neural reader refuses."""
    question = "Đại hội Đảng bộ tỉnh Lào Cai khóa I diễn ra ngày nào?"
    answer = read_over_the_seeds(seed_index, embedder, question, "neural")
    assert answer.abstained and answer.citations


@pytest.mark.parametrize(
    ("span", "answer_type", "served"),
    [
        ("đạt 97%", "NUM", "97%"),  # the boundary examples: the figure
        ("100%; tỷ lệ đảng viên hoàn thành tốt nhiệm vụ đạt 97%", "NUM", "100%"),
        ("2 ngày (15 - 16/1)", "DATE", "15 - 16/1"),  # "những ngày nào": the dates
        ("2 ngày (15 - 16/1", "DATE", "15 - 16/1"),
        ("2 ngày 22-23/7", "DATE", "22-23/7"),
        ("2 ngày (15 - 16/1)", "NUM", "2 ngày (15 - 16/1)"),  # "mấy ngày": the count
        ("đạt 97%", "DATE", "đạt 97%"),
        ("Sáng 9/8", "DATE", "Sáng 9/8"),
    ],
)
def test_a_count_is_served_as_its_figure_and_a_date_as_its_days(span, answer_type, served):
    from qa.reader.neural import _figure_or_dates

    text = f"Đại hội diễn ra {span}. Hết."
    a, b = _figure_or_dates(text, 16, 16 + len(span), answer_type)
    assert text[a:b] == served


@pytest.mark.parametrize(("text", "span", "served"), [
    ("Phường có tổng diện tích 134,31km2; dân số hơn 25.400 người.", "134,31", "134,31km2"),
    ("Thu ngân sách tăng bình quân 10%/năm, trong đó …", "10%", "10%/năm"),
    ("Mỗi năm làm thêm 1 đến 2 tuyến phố văn minh đô thị.", "đến 2", "1 đến 2"),
    ("Dự kiến tỷ lệ 30% thành viên cấp ủy mới là người trẻ.", "tỷ lệ 30%", "30%"),
    ("Thành phố có 1.789 đảng viên.", "1.789", "1.789"),  # nothing glued
    ("Chiến tranh kéo dài 1939–1945 ở châu Âu.", "1939", "1939"),  # a dash glues no unit
    ("Năm 2025 đến 2030, phường phấn đấu.", "2025", "2025"),
])
def test_a_figure_is_served_with_its_glued_unit_and_its_range(text, span, served):
    from qa.reader.neural import _figure_or_dates

    a = text.index(span)
    x, y = _figure_or_dates(text, a, a + len(span), "NUM")
    assert text[x:y] == served


@pytest.mark.parametrize(
    ("question", "text", "span", "served"),
    [
        # the body a post heads, a "Phó" before it, another post after a comma
        ("Bà Mai Thị Hạnh giữ chức vụ gì?", "Bà Mai Thị Hạnh - Phó Bí thư Tỉnh ủy dự Đại hội.",
         "Bí thư", "Phó Bí thư Tỉnh ủy"),
        ("chuc vu cua ong tran van an la gi", "Ông Trần Văn An, Huyện ủy viên, Chủ tịch UBND "
         "xã Tân Lập nhiệm kỳ 2025-2030 phát biểu.", "Huyện ủy viên",
         "Huyện ủy viên, Chủ tịch UBND xã Tân Lập"),
        # a post the question names is not added ("Ngoài cương vị …")
        ("Ngoài cương vị Bí thư Tỉnh ủy, bà Hạnh còn giữ chức danh gì?",
         "Bà Hạnh, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy Lai Châu dự.", "Ủy viên Trung ương",
         "Ủy viên Trung ương Đảng"),
        # a person's name after the body is not taken for its place
        ("Ông Lò Văn Sinh đảm nhiệm những chức vụ nào?",
         "Bí thư Thành ủy Lò Văn Sinh phát biểu.", "Bí thư", "Bí thư Thành ủy"),
        # a question not asking a post, or an answer holding none: as it is
        ("Ai là Phó Bí thư Tỉnh ủy?", "Bà Mai Thị Hạnh - Phó Bí thư Tỉnh ủy dự.", "Bí thư",
         "Bí thư"),
        ("Tổ chức nào dự Đại hội?", "Đoàn Thanh niên tỉnh dự Đại hội.", "Đoàn Thanh niên",
         "Đoàn Thanh niên"),
        ("Ông An dự với cương vị gì?", "Ông An dự với tư cách đại biểu khách mời tỉnh.",
         "đại biểu", "đại biểu"),
    ],
)
def test_a_post_asked_of_a_person_is_served_whole(question, text, span, served):
    from qa.reader.neural import _whole_post

    a = text.index(span)
    a, b = _whole_post(question, text, a, a + len(span))
    assert text[a:b] == served


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "right"),
    [
        ("Hằng năm, tỷ lệ chi bộ trực thuộc Đảng bộ phường Chi Lăng hoàn thành tốt nhiệm vụ trở "
         "lên đạt bao nhiêu?", "100%"),  # the text: "…trở lên đạt 100%; tỷ lệ đảng viên…"
        ("Đại hội Đảng bộ phường Kỳ Sơn lần thứ I được tổ chức vào những ngày nào?", "22-23/7"),
    ],
)
def test_the_neural_reader_serves_the_figure_and_the_days_as_news_write_them(
        seed_index, embedder, question, right):
    answer = read_over_the_seeds(seed_index, embedder, question, "neural")
    assert not answer.abstained and answer.text == right


@pytest.mark.parametrize(
    ("question", "sentence", "lacks"),
    [
        ("Ai được bầu làm Phó Bí thư Đảng ủy phường?",
         "Đồng chí Nguyễn Lệ Thùy tái đắc cử Bí thư Đảng ủy phường.", True),
        ("Ai là Bí thư Thành ủy?", "Phó Bí thư Thường trực Thành ủy Hoàng Quốc Khánh cho biết.",
         True),
        ("ai la bi thu thanh uy", "Phó Bí thư Thường trực Thành ủy Hoàng Quốc Khánh cho biết.",
         True),  # typed without diacritics
        ("Ai là Tổng Bí thư?", "Bí thư Tỉnh ủy Giàng Páo Mỷ phát biểu.", True),
        ("Ai là Bí thư Thành ủy?", "Bí thư Thành ủy Hoàng Quốc Khánh cho biết.", False),
        # the post asked is there, beside another form of it
        ("Ai được chỉ định làm Bí thư Đảng ủy phường?",
         "Đồng chí Hoàng Văn Minh, Phó Chủ tịch UBND tỉnh, giữ chức Bí thư Đảng ủy phường.", False),
        ("Ai là Phó Chủ tịch HĐND?", "Chủ tịch HĐND Lò Văn A và Phó Chủ tịch Lò Thị B.", False),
        ("Tổng Giám đốc của Broncos là ai?", "Tổng giám đốc John Elway nói.", False),
        # no post named: nothing to tell
        ("Ai là Thủ tướng cuối cùng của Đông Đức?", "Lothar de Maizière lãnh đạo chính phủ.",
         False),
        ("Ai chỉ đạo Đại hội?", "Phó Bí thư Tỉnh ủy Bùi Thị Minh dự và chỉ đạo Đại hội.", False),
    ],
)
def test_a_post_asked_is_not_met_by_its_other_form(question, sentence, lacks):
    from qa.reader.neural import lacks_asked_role

    assert lacks_asked_role(question, sentence) is lacks


@pytest.mark.slow
def test_a_deputy_no_article_names_is_not_answered_with_the_secretary(seed_index, embedder):
    """The Kỳ Sơn article says the Bí thư and Phó Bí thư were appointed and names only the Bí
    thư, Hoàng Văn Minh, whom the network reads for the deputy too; the neural reader refuses,
    and still names the Bí thư."""
    deputy = read_over_the_seeds(
        seed_index, embedder, "Ai được chỉ định làm Phó Bí thư Đảng ủy phường Kỳ Sơn?", "neural")
    assert deputy.abstained and deputy.citations
    head = read_over_the_seeds(
        seed_index, embedder, "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?", "neural")
    assert not head.abstained and head.text == "Hoàng Văn Minh"


@pytest.mark.parametrize(
    ("question", "sentence", "refused"),
    [
        ("Hiện nay phường còn bao nhiêu hộ nghèo?",
         "Phấn đấu đến năm 2030 cơ bản không còn hộ nghèo.", True),
        ("hien nay phuong con bao nhieu ho ngheo",
         "Phấn đấu đến năm 2030 cơ bản không còn hộ nghèo.", True),  # typed without diacritics
        ("Năm 2025, thu ngân sách của phường đạt bao nhiêu?",
         "Phấn đấu đến năm 2030 thu ngân sách đạt 50 tỷ đồng.", True),
        # a question that asks for the target, a sentence that states what is
        ("Phường phấn đấu đến năm 2030 thu ngân sách bao nhiêu?",
         "Phấn đấu đến năm 2030 thu ngân sách đạt 50 tỷ đồng.", False),
        ("Hiện nay phường có bao nhiêu doanh nghiệp?",
         "Toàn phường hiện có 4 HTX, 206 doanh nghiệp.", False),
        # "đến năm" in a past stretch of time is no target
        ("Năm 1975, ai lãnh đạo nhà máy?", "Từ năm 1975 đến năm 1986, ông Lò Văn A lãnh đạo.",
         False),
        ("Năm 2030, thu ngân sách đạt bao nhiêu?", "Phấn đấu đến năm 2030 thu ngân sách đạt 50 tỷ.",
         False),
    ],
)
def test_a_question_about_now_is_not_answered_from_a_target(question, sentence, refused):
    from qa.reader.neural import asks_now_of_a_target

    assert asks_now_of_a_target(question, sentence) is refused


@pytest.mark.slow
def test_now_is_not_read_from_the_target_of_the_term(seed_index, embedder):
    """The Kỳ Sơn article has "hiện có… 206 doanh nghiệp" and the target "có 400 doanh nghiệp
    hoạt động" (2030); the network read 400 for now. Never the target for now; the target when
    asked for it."""
    now = read_over_the_seeds(seed_index, embedder,
                              "Hiện tại phường Kỳ Sơn có bao nhiêu doanh nghiệp?", "neural")
    assert now.abstained or now.text.startswith("206")
    aim = read_over_the_seeds(seed_index, embedder,
                              "Phường Kỳ Sơn phấn đấu đến năm 2030 có bao nhiêu doanh nghiệp?",
                              "neural")
    assert not aim.abstained and aim.text.startswith("400")


@pytest.mark.slow
@pytest.mark.parametrize(("question", "right"), [
    ("dang bo phuong chi lang to chuc dai hoi dai bieu lan thu may", "XVII"),  # read "2" before
    ("phuong ky son co bao nhieu dan", "20.379"),
    ("ai duoc chi dinh lam bi thu dang uy phuong ky son", "Hoàng Văn Minh"),
])
def test_the_neural_reader_reads_a_question_typed_without_diacritics(seed_index, embedder,
                                                                      question, right):
    answer = read_over_the_seeds(seed_index, embedder, question, "neural")
    assert not answer.abstained and right in answer.text
