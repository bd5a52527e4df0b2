"""Near misses the articles sit next to: a question about one ward answered with the
neighbouring ward's figure, a post asked for answered with the holder of another post.
Unit checks of the two guards, then end to end on a made-up corpus of two wards, where the
guard (not luck) is what refuses: with it switched off, the same question gets the other
ward's figure."""

from __future__ import annotations

import pytest
from conftest import write_corpus

from qa.reader.neural import lacks_population, names_another_post
from qa.reader.question import QUANTITY, misses_named_place, misses_place_in_part, places_named


@pytest.mark.parametrize(("question", "names"), [
    ("Ban Chấp hành Đảng bộ phường Đoàn Kết khóa I có bao nhiêu đồng chí?", ["Đoàn Kết"]),
    ("Tỉnh Lai Châu và thành phố Hồ Chí Minh cách nhau bao xa?", ["Lai Châu", "Hồ Chí Minh"]),
    ("Xã Tân Lập thuộc huyện nào?", ["Tân Lập"]),  # "huyện nào": no name after it
    ("phuong doan ket co bao nhieu dang vien", []),  # typed without capitals: names unknown
    ("Phuong Doan Ket co bao nhieu dang vien", ["Doan Ket"]),  # without diacritics
    ("Thành phố nào có nhiều đảng viên nhất?", []),
    ("Ai là Bí thư Tỉnh Ủy Lào Cai?", []),  # "Ủy" is a body, not a name
    ("HĐND tỉnh Lai Châu Khóa XV họp khi nào?", ["Lai Châu"]),
    ("Phường Kỳ Sơn Có Bao Nhiêu Đảng Viên?", []),  # every word capitalised: capitals say nothing
])
def test_places_a_question_names(question, names):
    assert places_named(question) == names


@pytest.mark.parametrize(("question", "texts", "names"), [
    # typed without diacritics or capitals: named as the passages write the place
    ("phuong chi lang co dien tich bao nhieu km2?",
     ["Đảng bộ phường Chi Lăng tổ chức Đại hội.", "Phường Kỳ Sơn có diện tích 115,689 km2."],
     ["Chi Lăng"]),
    ("dan so phuong ky son sau khi hop nhat la bao nhieu nguoi",  # "Sau khi…" starts a sentence
     ["Sau khi hợp nhất, phường Kỳ Sơn có quy mô dân số 20.379 người."], ["Kỳ Sơn"]),
    ("con o phuong ky son thi sao?", ["Đảng bộ phường Kỳ Sơn có 1.789 đảng viên."], ["Kỳ Sơn"]),
    ("dang uy xa dong tam co bao nhieu dong chi", ["Phát huy truyền thống toàn dân đồng tâm."],
     []),  # no passage names it as a place: unknown, as before
    ("tinh than doan ket cua phuong", ["Phát huy tinh thần đoàn kết của phường Kỳ Sơn."], []),
    ("Phường Chi Lăng có bao nhiêu dân?", ["Đảng bộ phường Kỳ Sơn."], ["Chi Lăng"]),  # as typed
])
def test_a_place_typed_without_diacritics_is_named_as_the_passages_write_it(question, texts,
                                                                            names):
    from qa.reader.question import name_places

    assert places_named(name_places(question, texts)) == names


def test_a_place_is_missed_only_where_the_article_never_names_it():
    question = "Ban Chấp hành Đảng bộ phường Đoàn Kết có bao nhiêu đồng chí?"
    # "toàn dân đoàn kết" is not the ward: capitals count
    assert misses_named_place(question, "Đại hội Đảng bộ phường Kỳ Sơn",
                              "Phát huy sức mạnh toàn dân đoàn kết. Ban Chấp hành gồm 30 đồng chí.")
    assert not misses_named_place(question, "Đại hội Đảng bộ phường Đoàn Kết",
                                  "Ban Chấp hành gồm 30 đồng chí.")  # the title names it
    assert not misses_named_place(question, "Đại hội", "Đảng bộ phường Đoàn Kết có 84 chi bộ.")
    # diacritics folded: a question typed with capitals but without accents
    assert not misses_named_place("Dang bo phường Doan Ket co bao nhieu chi bo?", "Đại hội",
                                  "Đảng bộ phường Đoàn Kết có 84 chi bộ.")
    assert not misses_named_place("Ai là Bí thư?", "Đại hội", "Không có tên nơi nào.")
    # a name of three words or more by its initials
    assert not misses_named_place("Thành phố Hồ Chí Minh có bao nhiêu dân?", "TP.HCM vượt 14 triệu dân",
                                  "Dân số hiện khoảng 14 triệu người.")


# one article on the congresses of two provinces, each in its own part
TWO_PROVINCES = (
    "Ngày 14/8, Đảng bộ các cơ quan Đảng các tỉnh Hà Giang, Tuyên Quang tổ chức Đại hội.\n"
    "Đảng bộ các cơ quan Đảng tỉnh Hà Giang có 2.100 đảng viên.\n"
    "Nhiệm kỳ tới, Đảng bộ phấn đấu mỗi năm kết nạp từ 20 đảng viên mới trở lên.\n"
    "Đảng bộ các cơ quan Đảng tỉnh Tuyên Quang xác định 3 khâu đột phá\n"
    "Đại hội có 250 đại biểu dự.\n"
    "Phát huy truyền thống của tỉnh Hà Giang và Tuyên Quang, Đại hội bầu 33 đồng chí.")


@pytest.mark.parametrize(("question", "answer", "refused"), [
    # the target stands in Hà Giang's part: not Tuyên Quang's
    ("Đảng bộ các cơ quan Đảng tỉnh Tuyên Quang kết nạp bao nhiêu đảng viên mỗi năm?", "20", True),
    ("Đảng bộ các cơ quan Đảng tỉnh Hà Giang kết nạp bao nhiêu đảng viên mỗi năm?", "20", False),
    # the part is the nearest paragraph that names a province: the heading before it
    ("Đại hội Đảng bộ các cơ quan Đảng tỉnh Tuyên Quang có bao nhiêu đại biểu?", "250", False),
    ("Đại hội Đảng bộ các cơ quan Đảng tỉnh Hà Giang có bao nhiêu đại biểu?", "250", True),
    # a paragraph naming both provinces answers for both
    ("Đại hội tỉnh Hà Giang bầu bao nhiêu đồng chí?", "33", False),
    # another level asked ("xã"): no part of the article names a commune, nothing said here
    ("Xã Hà Giang có bao nhiêu đại biểu?", "250", False),
    ("dai hoi tinh ha giang co bao nhieu dai bieu", "250", False),  # no capitals: no names
])
def test_an_answer_from_the_part_on_another_province_is_refused(question, answer, refused):
    at = TWO_PROVINCES.index(answer)
    assert misses_place_in_part(question, TWO_PROVINCES, at) is refused
    # the whole article names both: the article-wide guard alone lets each through
    assert not misses_named_place(question, "Đại hội", TWO_PROVINCES)


CHI_LANG = ("Theo đó, đồng chí Nguyễn Lệ Thùy, Thành ủy viên, Bí thư Đảng ủy phường nhiệm kỳ "
            "2020-2025 tái đắc cử Bí thư Đảng ủy phường Chi Lăng nhiệm kỳ 2025-2030.")


@pytest.mark.parametrize(("question", "sentence", "refused"), [
    ("Ai là Bí thư Thành ủy Lạng Sơn?", CHI_LANG, True),  # the post, of another body
    ("ai la bi thu thanh uy lang son", CHI_LANG, True),  # typed without diacritics
    ("Ai tái đắc cử Bí thư Đảng ủy phường Chi Lăng?", CHI_LANG, False),
    ("Ai được bầu làm Bí thư Đảng ủy các cơ quan Đảng tỉnh Lai Châu?",
     "Bí thư Tỉnh ủy Lai Châu Giàng Páo Mỷ chỉ đạo Đại hội.", True),
    ("Ai là Bí thư Tỉnh ủy Lai Châu?", "Bí thư Tỉnh ủy Lai Châu Giàng Páo Mỷ chỉ đạo Đại hội.",
     False),
    ("Ai là Phó Bí thư Thường trực Thành ủy Lai Châu?",
     "Đồng chí Hoàng Quốc Khánh, Phó Bí thư Thường trực Thành ủy dự Đại hội.", False),
    ("Ai là Bí thư Thành ủy?", "Ông Lò Văn Sáu tái đắc cử Bí thư nhiệm kỳ mới.", False),  # no body
    ("Ai là Bí thư phường Chi Lăng?", CHI_LANG, False),  # no body asked
    ("Ai là Chủ tịch UBND tỉnh?", "Ông Lò Văn Sáu, Chủ tịch Ủy ban nhân dân tỉnh, dự.", False),
    ("Ai là Chủ tịch UBND tỉnh?", "Ông Lò Văn Sáu, Chủ tịch HĐND tỉnh, dự.", True),
])
def test_a_post_of_another_body_is_not_the_post_asked(question, sentence, refused):
    from qa.reader.neural import names_another_body

    assert names_another_body(question, sentence) is refused


@pytest.mark.parametrize(("question", "sentence", "refused"), [
    ("Ai được chỉ định làm Chủ nhiệm Ủy ban Kiểm tra Đảng ủy phường Đoàn Kết?",
     "Ông Tống Thanh Bình được chỉ định giữ chức Bí thư Đảng ủy phường Đoàn Kết.", True),
    ("ai duoc chi dinh lam chu nhiem uy ban kiem tra dang uy phuong doan ket",
     "Ông Tống Thanh Bình được chỉ định giữ chức Bí thư Đảng ủy phường Đoàn Kết.", True),
    # the post asked is there: the other post beside it changes nothing
    ("Ai được chỉ định làm Chủ nhiệm Ủy ban Kiểm tra?",
     "Bà Lò Thị Hoa, Phó Bí thư, được chỉ định làm Chủ nhiệm Ủy ban Kiểm tra.", False),
    # no post named in the sentence at all: it says nothing either way
    ("Ai được bầu làm Thủ tướng?", "Lothar de Maizière thắng cử năm 1990.", False),
    ("Ai chụp ảnh đại hội?", "Bí thư Tỉnh ủy phát biểu. (Ảnh: Lê Minh)", False),  # no post asked
    # a post named as someone else's (the giver's) is no post asked
    ("Ai được Chủ tịch nước tặng quà?", "Bí thư Tỉnh ủy trao quà cho em Lò Văn A.", False),
    # asked by "… nào" and by "… là ai?"
    ("Phó Bí thư Tỉnh ủy nào dự đại hội?", "Chủ tịch UBND tỉnh Nguyễn Văn B dự đại hội.", True),
    ("Chủ nhiệm Ủy ban Kiểm tra là ai?", "Ông C được bầu làm Bí thư.", True),
])
def test_a_post_asked_is_not_met_by_another_post(question, sentence, refused):
    assert names_another_post(question, sentence) is refused


@pytest.mark.parametrize(("question", "sentence", "refused"), [
    ("Phường Chi Lăng có dân số bao nhiêu người?",
     "Trên tinh thần tập trung, dân chủ, đại hội đã bầu ra Ban Chấp hành gồm 15 đồng chí.", True),
    ("phuong chi lang co bao nhieu dan", "Đại hội đã bầu ra Ban Chấp hành gồm 15 đồng chí.", True),
    ("Phường Kỳ Sơn có bao nhiêu dân?", "Phường có quy mô dân số 20.379 người.", False),
    ("Xã có bao nhiêu nhân khẩu?", "Xã có 1.200 hộ với 5.100 khẩu.", False),
    ("Hà Nội có bao nhiêu dân?", "Hà Nội hiện có hơn 8,5 triệu dân.", False),  # "dân" counted
    ("Thành phố đứng thứ mấy về dân số?", "Đây là vùng đông dân thứ ba cả nước.", False),  # a rank
    # "hỗ trợ", "xuất khẩu", "Hồ Tây" are no people
    ("Phường có dân số bao nhiêu người?", "Ban Chấp hành gồm 15 đồng chí, được hỗ trợ kinh phí.", True),
    ("Tỉnh có dân số bao nhiêu?", "Kim ngạch xuất khẩu đạt 5 tỷ USD.", True),
    # not a count of the population: left alone
    ("Phường có bao nhiêu đảng viên?", "Ban Chấp hành gồm 15 đồng chí.", False),
])
def test_a_population_is_not_answered_from_a_sentence_without_people(question, sentence, refused):
    assert lacks_population(question, sentence, QUANTITY) is refused


ARTICLES = {
    "tan_lap.txt": ("Đại hội Đảng bộ xã Tân Lập lần thứ XX", (
        "Sáng 12/8, Đảng bộ xã Tân Lập tổ chức Đại hội đại biểu lần thứ XX, nhiệm kỳ "
        "2025-2030.\n\n"
        "Đại hội đã bầu Ban Chấp hành Đảng bộ xã gồm 27 đồng chí. Ông Lò Văn Sáu được bầu "
        "làm Bí thư Đảng ủy xã Tân Lập.\n\n"
        "Phát huy truyền thống toàn dân đồng tâm, xã phấn đấu đến năm 2030 không còn hộ nghèo.")),
    "hoa_binh.txt": ("Xã Hòa Bình khánh thành cầu mới", (
        "Ngày 20/9, xã Hòa Bình khánh thành cây cầu bê tông dài 45 mét bắc qua suối Nậm Mu, "
        "tổng vốn đầu tư 6 tỷ đồng.\n\nCầu giúp 300 hộ dân đi lại thuận tiện hơn.")),
}


@pytest.fixture(scope="module")
def two_communes(tmp_path_factory, embedder):
    from qa.assistant import Assistant
    from qa.settings import Settings

    folder = write_corpus(tmp_path_factory.mktemp("near") / "corpus", ARTICLES)
    bots = {}
    for reader in ("neural", "rules"):
        bot = Assistant(Settings(corpus=(folder,), index_dir=folder.parent / "index",
                                 reader=reader), embedder=embedder)
        bot.update_index()
        bots[reader] = bot
    return bots


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["neural", "rules"])
def test_a_question_about_one_commune_is_not_answered_from_another(two_communes, reader,
                                                                   monkeypatch):
    bot = two_communes[reader]
    asked = "Ban Chấp hành Đảng bộ xã Tân Lập gồm bao nhiêu đồng chí?"
    answer = bot.ask(asked)
    assert not answer.abstained and "27" in answer.text
    near = "Ban Chấp hành Đảng bộ xã Đồng Tâm gồm bao nhiêu đồng chí?"  # no article on it
    refused = bot.ask(near)
    assert refused.abstained and refused.citations  # "not found", the nearest still cited
    # the guard is what refuses: without it the reader takes Tân Lập's figure
    import qa.assistant

    monkeypatch.setattr(qa.assistant, "_elsewhere", lambda *a: False)
    assert "27" in bot.ask(near).text


@pytest.mark.slow
def test_a_place_typed_without_diacritics_is_guarded_as_one_typed_with_them(two_communes,
                                                                          monkeypatch):
    # "xa hoa binh" has no capitals to be known as a place by: the guard names it as the
    # retrieved passages write it ("xã Hòa Bình"), whose article has no committee
    bot = two_communes["neural"]
    assert "27" in bot.ask("ban chap hanh dang bo xa tan lap gom bao nhieu dong chi").text
    near = "ban chap hanh dang bo xa hoa binh gom bao nhieu dong chi"
    refused = bot.ask(near)
    assert refused.abstained and refused.citations
    import qa.assistant

    monkeypatch.setattr(qa.assistant, "name_places", lambda q, texts: q)  # as typed
    assert "27" in bot.ask(near).text


@pytest.mark.slow
def test_reading_chosen_passages_refuses_as_asking_does(two_communes):
    # benchmarks read passages they chose (a near miss: the corpus less the answering article)
    # through Assistant.read: the same guards as a question asked
    bot = two_communes["neural"]
    asked = "Ban Chấp hành Đảng bộ xã Tân Lập gồm bao nhiêu đồng chí?"
    assert "27" in bot.read(asked, bot.search(asked)).text
    near = "Ban Chấp hành Đảng bộ xã Đồng Tâm gồm bao nhiêu đồng chí?"
    passages = bot.search(near)
    assert "27" in bot.reader.read(near, passages).text  # the reader alone takes Tân Lập's
    assert bot.read(near, passages).abstained


@pytest.mark.slow
def test_a_target_of_one_province_is_not_given_for_the_other(tmp_path, embedder, monkeypatch):
    # one article, two provinces: the article names both, so only its parts can tell them apart
    from qa.assistant import Assistant
    from qa.settings import Settings

    folder = write_corpus(tmp_path / "corpus", {"hai_tinh.txt": (
        "Đại hội Đảng bộ các cơ quan Đảng hai tỉnh Hà Giang, Tuyên Quang",
        TWO_PROVINCES.replace("\n", "\n\n"))})
    bot = Assistant(Settings(corpus=(folder,), index_dir=tmp_path / "index"), embedder=embedder)
    bot.update_index()
    asked = "Đảng bộ các cơ quan Đảng tỉnh Hà Giang phấn đấu mỗi năm kết nạp bao nhiêu đảng viên?"
    assert "20" in bot.ask(asked).text
    near = "Đảng bộ các cơ quan Đảng tỉnh Tuyên Quang phấn đấu mỗi năm kết nạp bao nhiêu đảng viên?"
    assert bot.ask(near).abstained
    import qa.assistant

    monkeypatch.setattr(qa.assistant, "misses_place_in_part", lambda *a: False)
    assert "20" in bot.ask(near).text  # the part is what refuses
