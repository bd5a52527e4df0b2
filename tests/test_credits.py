"""Credits (qa/reader/credits.py): "ai chụp ảnh…" answered from the photo credit of the caption
it describes, "bài… do ai viết?" from the article's byline; made-up articles for the rules,
then end to end through `Assistant` with the real model and index, on a made-up corpus and on
the seed articles (questions written here, not the dev set's)."""

from __future__ import annotations

import pytest
from conftest import SEEDS, write_corpus

from qa.reader.credits import asks_for, byline, photo_credits

PHOTO = ["Ai chụp ảnh các đại biểu dự đại hội?",
         "ai chup anh cac dai bieu du dai hoi",
         "Bức ảnh Bí thư phát biểu là của ai?",
         "Ảnh đại biểu biểu quyết do phóng viên nào chụp?",
         "Tác giả bức ảnh các đại biểu là ai?",
         "Ảnh các đại biểu được chụp bởi ai?"]
BYLINE = ["Bài về đại hội phường Chi Lăng do ai viết?",
          "bai ve dai hoi phuong chi lang do ai viet",
          "Ai viết bài về đại hội phường Kỳ Sơn?",
          "Tác giả bài viết về đại hội là ai?",
          "Phóng viên nào đưa tin về đại hội?",
          "Bài báo này của tác giả nào?"]
NO_CREDIT = ["Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?",
             "Ai là tác giả của Liber servitoris?",  # a book, not the article
             "Ai đã viết bài thơ “Cái mặt nạ của Tình trạng vô chính phủ”?",
             "Bài phát biểu do ai trình bày?",
             "Bãi biển Mỹ Khê do ai quản lý?",  # "bãi" is not "bài"
             "Ảnh hưởng của ai lớn nhất?",
             "Những bức ảnh nam cực của Enceladus được chụp năm nào?",  # when, not who
             "Ai tin tưởng ông Minh?"]


@pytest.mark.parametrize(("question", "kind"), [*((q, "photo") for q in PHOTO),
                                                *((q, "byline") for q in BYLINE),
                                                *((q, None) for q in NO_CREDIT)])
def test_what_credit_a_question_asks_for(question, kind):
    assert asks_for(question) == kind


def test_a_byline_is_the_last_line_of_names_without_the_source():
    for last, name in [("PHƯƠNG DUNG - THANH MAI", "PHƯƠNG DUNG - THANH MAI"),
                       ("Mạnh Hùng", "Mạnh Hùng"),
                       ("Hồng Hạnh (Theo AFP)", "Hồng Hạnh"),
                       ("Theo TTXVN", "TTXVN")]:
        text = f"Đại hội diễn ra trong 2 ngày.\n\n{last}"
        found = byline("a.txt", text)
        assert found is not None and text[found.start:found.end] == name, last
        assert text[slice(*found.caption)] == last
    text = "Bài, ảnh: Lê Văn An\n\nĐại hội diễn ra trong 2 ngày."
    found = byline("a.txt", text)
    assert text[found.start:found.end] == "Lê Văn An"


@pytest.mark.parametrize("last", [
    "Đại hội thành công tốt đẹp.",  # a sentence
    "Tham khảo",
    "Năm 2025",  # a figure
    "Đại hội Đảng bộ phường",  # lower-case words: a heading, not names
])
def test_a_last_line_that_is_not_names_is_no_byline(last):
    assert byline("a.txt", f"Đại hội diễn ra trong 2 ngày.\n\n{last}") is None


def test_photo_credits_with_their_captions():
    text = ("Đại hội khai mạc sáng 9/8.\n\n"
            "Các đại biểu dự Đại hội. (Ảnh: Nguyễn Nga)\n\n"
            "Bí thư Tỉnh ủy phát biểu tại Đại hội. (Ảnh: Quý Trung/TTXVN)\n\n"
            "Đại biểu biểu quyết thông qua Nghị quyết.\nẢnh: Ngọc Mai")
    credits = photo_credits("a.txt", text)
    assert [text[c.start:c.end] for c in credits] == ["Nguyễn Nga", "Quý Trung", "Ngọc Mai"]
    assert [text[slice(*c.caption)] for c in credits] == [
        "Các đại biểu dự Đại hội. (Ảnh: Nguyễn Nga)",
        "Bí thư Tỉnh ủy phát biểu tại Đại hội. (Ảnh: Quý Trung/TTXVN)",
        "Đại biểu biểu quyết thông qua Nghị quyết.\nẢnh: Ngọc Mai"]


# --- end to end -----------------------------------------------------------------------------

ARTICLES = {
    "dong_tam.txt": ("Đại hội Đảng bộ xã Đồng Tâm", (
        "Sáng 12/8, Đảng bộ xã Đồng Tâm tổ chức Đại hội đại biểu lần thứ XX, nhiệm kỳ "
        "2025-2030. Dự Đại hội có 150 đại biểu chính thức.\n\n"
        "Các đại biểu chào cờ khai mạc Đại hội Đảng bộ xã Đồng Tâm. (Ảnh: Trần Thu Hà)\n\n"
        "Ông Lò Văn Sáu được bầu làm Bí thư Đảng ủy xã Đồng Tâm.\n\n"
        "Đồng chí Vàng A Dính tặng hoa chúc mừng Ban Chấp hành khóa mới. (Ảnh: Lê Minh/TTXVN)"
        "\n\nNGUYỄN THANH - HOÀI AN")),
    "tan_lap.txt": ("Xã Tân Lập khánh thành cầu mới", (
        "Ngày 20/9, xã Tân Lập khánh thành cây cầu bê tông dài 45 mét bắc qua suối Nậm "
        "Mu, tổng vốn đầu tư 6 tỷ đồng.\n\nCầu giúp 300 hộ dân đi lại thuận tiện hơn.")),
}


@pytest.fixture(scope="module")
def made_up(tmp_path_factory, embedder):
    from qa.assistant import Assistant
    from qa.settings import Settings

    folder = write_corpus(tmp_path_factory.mktemp("credits") / "corpus", ARTICLES)
    bot = Assistant(Settings(corpus=(folder,), index_dir=folder.parent / "index"),
                    embedder=embedder)
    bot.update_index()
    return bot


def check_cited(answer, text: str):
    """The answer is `text`, copied from the passage cited first at its offsets."""
    assert not answer.abstained and answer.text == text
    first = answer.citations[0]
    assert first.text[first.answer_start:first.answer_end] == text
    assert text in first.text[first.evidence_start:first.evidence_end]


def test_who_took_the_photo_the_question_describes(made_up):
    answer = made_up.ask("Ai chụp ảnh đồng chí Vàng A Dính tặng hoa chúc mừng?")
    check_cited(answer, "Lê Minh")
    assert "tặng hoa" in answer.evidence
    check_cited(made_up.ask("ai chup anh cac dai bieu chao co khai mac dai hoi xa Dong Tam"),
                "Trần Thu Hà")


def test_who_wrote_the_article_from_its_byline(made_up):
    answer = made_up.ask("Bài về đại hội Đảng bộ xã Đồng Tâm do ai viết?")
    check_cited(answer, "NGUYỄN THANH - HOÀI AN")
    assert answer.citations[0].title == "Đại hội Đảng bộ xã Đồng Tâm"


def test_a_credit_the_article_does_not_give_is_not_made_up(made_up):
    answer = made_up.ask("Ai viết bài về việc khánh thành cầu ở xã Tân Lập?")
    assert answer.abstained or "NGUYỄN THANH" not in answer.text
    assert not answer.abstained or answer.citations  # "not found" still shows the nearest


@pytest.mark.slow
def test_credits_on_the_seed_articles(tmp_path_factory, embedder):
    from qa.assistant import Assistant
    from qa.settings import Settings

    bot = Assistant(Settings(corpus=(SEEDS,),
                             index_dir=tmp_path_factory.mktemp("seed-credits") / "index"),
                    embedder=embedder)
    bot.update_index()
    check_cited(bot.ask("Tác giả bài viết về đại hội Đảng bộ phường Kỳ Sơn là ai?"), "Mạnh Hùng")
    check_cited(bot.ask("Ai chụp ảnh các đại biểu biểu quyết thông qua Nghị quyết Đại hội "
                        "phường Đoàn Kết?"), "Ngọc Mai")
    check_cited(bot.ask("Ảnh Bí thư Tỉnh ủy Lào Cai Trịnh Xuân Trường phát biểu do ai chụp?"),
                "Tuấn Anh")
    # a follow-up asks the same of another article
    first = "Bài về đại hội phường Chi Lăng do ai viết?"
    check_cited(bot.ask("Còn phường Kỳ Sơn thì sao?", [first]), "Mạnh Hùng")
