"""Tests for qa/text.py: normalization, accent folding, tone keys, terms, sentences,
abbreviations. Randomized checks use a fixed seed (hypothesis is not installed)."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from qa.text import (
    AccentPattern,
    abbreviation_aliases,
    abbreviation_expansions,
    fold_accents,
    index_terms,
    is_accented_query,
    normalize,
    query_terms,
    sentence_at,
    sentence_spans,
    spell_abbreviations,
    spell_posts,
    spell_shorthand,
    spell_units,
    split_sentences,
    syllable_key,
)

TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # level, huyền, sắc, hỏi, ngã, nặng
VOWELS = "aăâeêioôơuưy"
VOWEL_BASE = "aaaeeiooouuy"


def vietnamese_letters() -> list[tuple[str, str]]:
    """Every Vietnamese vowel with every tone, both cases (NFC), with its bare letter."""
    out = []
    for v, base in zip(VOWELS, VOWEL_BASE, strict=True):
        for tone in TONES:
            ch = unicodedata.normalize("NFC", v + tone)
            out.append((ch, base))
            out.append((ch.upper(), base.upper()))
    return out + [("đ", "d"), ("Đ", "D")]


LETTERS = [c for c, _ in vietnamese_letters()] + list("bcdghklmnpqrstvx")
SYLLABLES = (
    "Đảng bộ phường Đoàn Kết tổ chức Đại hội đại biểu lần thứ nhiệm kỳ hoà hòa thuý "
    "thúy Hoá Hóa quyết nghị người dân xã hội kinh tế ngân sách nhà nước lũ lụt "
    "trường học khai giảng bóng đá sân vận động"
).split()
EXOTIC_SPACES = "\u00a0\u2007\u202f\u2009\u200a\u3000"


def random_text(rng: random.Random, n: int = 40) -> str:
    parts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.5:
            parts.append(rng.choice(SYLLABLES))
        elif r < 0.7:
            parts.append("".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 6))))
        elif r < 0.8:
            parts.append(rng.choice(["1.750", "134,31km2", "9/8", "2025-2030", "68,3%"]))
        else:
            parts.append(
                rng.choice([".", ",", "!", "?", "…", "(", ")", "“", "”", "-", "\n", "\n\n"])
            )
        parts.append(rng.choice([" ", " ", " ", rng.choice(EXOTIC_SPACES), "\t"]))
    return unicodedata.normalize("NFC", "".join(parts))


# --- normalize / fold_accents ----------------------------------------------------------


def test_normalize_is_idempotent_and_length_preserving_on_nfc_text():
    rng = random.Random(1234)
    for _ in range(300):
        text = random_text(rng)
        once = normalize(text)
        assert len(once) == len(text)
        assert normalize(once) == once
        assert unicodedata.is_normalized("NFC", once)
        assert not any(c in EXOTIC_SPACES for c in once)


def test_normalize_composes_decomposed_input():
    nfd = unicodedata.normalize("NFD", "Đảng bộ phường Đoàn Kết")
    assert normalize(nfd) == "Đảng bộ phường Đoàn Kết"
    assert normalize("Tổng\u00a0số\u202f1.750") == "Tổng số 1.750"


def test_fold_accents_strips_every_vietnamese_diacritic():
    for ch, base in vietnamese_letters():
        assert fold_accents(ch) == base, ch
    assert fold_accents("Đường đến Đà Lạt") == "Duong den Da Lat"
    assert fold_accents("đ") == "d" and fold_accents("Đ") == "D"


def test_fold_accents_is_length_preserving_and_keeps_ascii():
    rng = random.Random(99)
    for _ in range(300):
        text = random_text(rng)
        folded = fold_accents(text)
        assert len(folded) == len(text)
        # one character for one: every ASCII character is untouched
        assert all(a == b for a, b in zip(text, folded, strict=True) if ord(a) < 128)
        assert fold_accents(folded) == folded
    assert fold_accents("ASCII only, 1.750!") == "ASCII only, 1.750!"


# --- syllable keys ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hoà", "hòa"),
        ("thuý", "thúy"),
        ("Hoá", "Hóa"),
        ("HOÀ", "hòa"),
        ("khoẻ", "khỏe"),
        ("Thuỵ", "thụy"),
    ],
)
def test_syllable_key_ignores_tone_mark_placement_and_case(a, b):
    assert syllable_key(a) == syllable_key(b)


def test_syllable_key_ignores_unicode_composition():
    assert syllable_key(unicodedata.normalize("NFD", "Người")) == syllable_key("người")


def test_syllable_key_tells_tones_apart():
    keys = {syllable_key(unicodedata.normalize("NFC", "hoa" + t)) for t in TONES}
    assert len(keys) == 6
    assert syllable_key("ma") != syllable_key("mà") != syllable_key("má")
    # the vowel quality is not a tone: ư, ơ, â stay distinct from u, o, a
    assert syllable_key("tư") != syllable_key("tu")
    assert syllable_key("thơ") != syllable_key("tho")
    assert syllable_key("đa") != syllable_key("da")


# --- query and index terms -------------------------------------------------------------


def test_is_accented_query():
    assert is_accented_query("Ai là Bí thư Đảng ủy phường Chi Lăng?")
    assert not is_accented_query("ai tai dac cu bi thu dang uy phuong chi lang")
    assert not is_accented_query("2025 - 2030")
    assert not is_accented_query("")


def test_query_terms_use_exact_keys_for_accented_questions():
    terms = query_terms("Bí thư Đảng ủy là ai?")
    assert terms and not any(t.startswith("~") for t in terms)
    assert syllable_key("Bí") in terms and f"{syllable_key('Bí')}_{syllable_key('thư')}" in terms


def test_query_terms_use_folded_forms_for_unaccented_questions():
    terms = query_terms("bi thu dang uy la ai")
    assert terms and all(t.startswith("~") for t in terms)
    assert "~bi_thu" in terms and "~dang" in terms


def test_index_terms_hold_exact_keys_and_folded_forms():
    terms = set(index_terms("Bí thư Đảng ủy phường"))
    assert {"~bi", "~thu", "~dang", "~uy", "~phuong", "~bi_thu", "~dang_uy"} <= terms
    assert {syllable_key("Bí"), syllable_key("Đảng"), syllable_key("ủy")} <= terms


def test_a_question_finds_its_own_words_typed_any_way():
    """Whatever way a user types a phrase (diacritics, none, other tone placement), its query
    terms are among the index terms of the text that contains it."""
    rng = random.Random(7)
    for _ in range(200):
        words = [rng.choice(SYLLABLES) for _ in range(rng.randint(1, 8))]
        text = " ".join(words)
        indexed = set(index_terms(f"Mở đầu. {text} ở cuối"))
        variants = [
            text,
            fold_accents(text),
            text.upper(),
            text.replace("oà", "òa").replace("uý", "úy").replace("oá", "óa"),
        ]
        for v in variants:
            assert set(query_terms(v)) <= indexed, v


# --- sentences ---------------------------------------------------------------------------


def spans_text(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


@pytest.mark.parametrize(
    "sentence",
    [
        "Phường có hơn 1.750 đảng viên.",
        "Tổng diện tích 134,31km2, dân số hơn 25.400 người.",
        "Người dân TP. Hồ Chí Minh đi bầu cử sớm.",
        "TS. Nguyễn Văn A trình bày tham luận.",
        "Trụ sở mới đặt tại Q. 1 từ tháng trước.",
        "Các đại biểu dự Đại hội (Ảnh: Nguyễn Nga).",
        "GS.TS. Lê Văn B và ThS. Trần C cùng dự.",
        "Ông nói: “Chúng tôi sẽ cố gắng hơn nữa.”",
    ],
)
def test_sentence_kept_whole_between_others(sentence):
    text = f"Câu mở đầu ngắn. {sentence} Câu kết thúc ở đây."
    assert spans_text(text) == ["Câu mở đầu ngắn.", sentence, "Câu kết thúc ở đây."]


def test_photo_credit_is_not_split_inside():
    text = "Các đại biểu dự Đại hội. (Ảnh: Nguyễn Nga)\n\nĐại hội bầu 15 đồng chí."
    spans = spans_text(text)
    assert any("(Ảnh: Nguyễn Nga)" in s for s in spans)
    assert spans[-1] == "Đại hội bầu 15 đồng chí."


def test_normal_sentences_and_paragraphs_are_split():
    text = "Trời mưa to. Nước dâng cao!  Dân có an toàn không? Có.\n\nĐoạn hai\nDòng ba…  Hết."
    assert spans_text(text) == [
        "Trời mưa to.",
        "Nước dâng cao!",
        "Dân có an toàn không?",
        "Có.",
        "Đoạn hai",
        "Dòng ba…",
        "Hết.",
    ]
    assert split_sentences(text) == spans_text(text)


def test_no_split_before_a_lower_case_accented_word():
    assert len(sentence_spans("Giá vàng tăng mạnh... đầu tuần giảm lại.")) == 1


def test_ward_abbreviation_p_does_not_end_a_sentence():
    assert spans_text("Trụ sở đặt tại P. Tân Phong, TP. Lai Châu.") == [
        "Trụ sở đặt tại P. Tân Phong, TP. Lai Châu."
    ]


def test_sentence_spans_with_a_window_give_absolute_offsets():
    text = "Bỏ qua câu này. Câu một ở đây. Câu hai ở đây. Bỏ qua nữa."
    start = text.index("Câu một")
    end = text.index(" Bỏ qua nữa")
    spans = sentence_spans(text, start, end)
    assert [text[a:b] for a, b in spans] == ["Câu một ở đây.", "Câu hai ở đây."]


TRICKY = [
    "Phường có hơn 1.750 đảng viên.",
    "Diện tích 134,31km2 rộng.",
    "Người dân TP. Hồ Chí Minh đi bầu.",
    "TS. Nguyễn Văn A phát biểu.",
    "Trụ sở ở Q. 1 rất đẹp.",
    "Các đại biểu dự Đại hội (Ảnh: Nguyễn Nga).",
    "Ngày 9/8 đại hội khai mạc!",
    "Ai là Bí thư?",
    "Tỷ lệ đạt 68,3%.",
    "Đồng chí Hoàng Văn Minh được chỉ định.",
    "3 xã về đích nông thôn mới.",
]


def test_random_texts_split_exactly_into_their_sentences():
    rng = random.Random(2025)
    for _ in range(300):
        chosen = [rng.choice(TRICKY) for _ in range(rng.randint(1, 8))]
        seps = [rng.choice([" ", "  ", "\n", "\n\n", " \n\n "]) for _ in chosen]
        text = rng.choice(["", " ", "\n"])
        expected = []
        for s, sep in zip(chosen, seps, strict=True):
            expected.append((len(text), len(text) + len(s)))
            text += s + sep
        assert sentence_spans(text) == expected, text


def test_spans_are_trimmed_ordered_and_inside_the_text():
    rng = random.Random(31)
    for _ in range(300):
        text = random_text(rng, rng.randint(0, 60))
        spans = sentence_spans(text)
        prev_end = 0
        for a, b in spans:
            assert 0 <= prev_end <= a < b <= len(text)
            assert not text[a].isspace() and not text[b - 1].isspace()
            prev_end = b
        # nothing but whitespace is left out
        covered = set()
        for a, b in spans:
            covered.update(range(a, b))
        assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


def test_empty_and_blank_text_have_no_sentences():
    assert sentence_spans("") == []
    assert sentence_spans(" \n\n\t ") == []


# --- abbreviations -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("abbr", "expansion"),
    [
        ("NSNN", "ngân sách nhà nước"),
        ("HĐND", "hội đồng nhân dân"),
        ("UBND", "ủy ban nhân dân"),
        ("KT-XH", "kinh tế - xã hội"),
        ("KTXH", "kinh tế - xã hội"),
        ("QPAN", "quốc phòng - an ninh"),
        ("CN - TTCN", "công nghiệp - tiểu thủ công nghiệp"),
        ("TUV", "tỉnh ủy viên"),
        ("TP.", "thành phố"),
    ],
)
def test_abbreviation_gives_its_expansion(abbr, expansion):
    extra = abbreviation_expansions(f"Báo cáo của {abbr} Lai Châu năm 2025")
    assert expansion in extra


@pytest.mark.parametrize(
    ("text", "abbr"),
    [
        ("Tổng thu ngân sách nhà nước năm nay", "NSNN"),
        ("Kỳ họp hội đồng nhân dân tỉnh", "HĐND"),
        ("Chủ tịch Ủy ban nhân dân tỉnh", "UBND"),
        ("Chủ tịch Uỷ ban nhân dân tỉnh", "UBND"),  # old tone placement
        ("tình hình kinh tế - xã hội ổn định", "KT-XH"),
        ("tình hình kinh tế - xã hội ổn định", "KTXH"),
        ("bảo đảm quốc phòng - an ninh", "QPAN"),
        ("ngành công nghiệp - tiểu thủ công nghiệp phát triển", "CN - TTCN"),
        ("đồng chí là tỉnh ủy viên", "TUV"),
        ("người dân thành phố Lai Châu", "TP"),
    ],
)
def test_expansion_gives_its_abbreviation(text, abbr):
    assert re.search(rf"(?<!\S){re.escape(abbr)}(?!\S)", abbreviation_expansions(text))


def test_abbreviations_need_whole_words():
    assert abbreviation_expansions("Báo cáo số ABCNSNNXYZ và UBNDX") == ""
    assert abbreviation_expansions("Trời hôm nay đẹp") == ""


def test_compact_and_spaced_forms_of_cn_ttcn():
    assert "công nghiệp - tiểu thủ công nghiệp" in abbreviation_expansions("Ngành CN-TTCN tăng")
    assert "công nghiệp - tiểu thủ công nghiệp" in abbreviation_expansions("Ngành CN - TTCN tăng")


@pytest.mark.parametrize(("question", "passage", "read"), [
    # a written-out form in the question, its abbreviation in the passage
    ("Phường có bao nhiêu hợp tác xã?", "Toàn phường hiện có 4 HTX, 206 doanh nghiệp.",
     "Phường có bao nhiêu hợp tác xã (HTX)?"),
    ("phuong co bao nhieu hop tac xa?", "Toàn phường hiện có 4 HTX.",
     "phuong co bao nhieu hop tac xa (HTX)?"),  # typed without diacritics
    ("Mấy chỉ tiêu về quốc phòng an ninh?", "và 2 chỉ tiêu về QPAN.",
     "Mấy chỉ tiêu về quốc phòng an ninh (QPAN)?"),  # with or without the hyphen
    # the longer form wins where one form holds another ("tiểu thủ công nghiệp": TTCN)
    ("Giá trị công nghiệp - tiểu thủ công nghiệp?", "giá trị sản xuất CN - TTCN năm 2025",
     "Giá trị công nghiệp - tiểu thủ công nghiệp (CN - TTCN)?"),
    # an abbreviation in the question, its written-out form in the passage
    ("Chủ tịch HĐND tỉnh là ai?", "Chủ tịch Hội đồng nhân dân tỉnh Lào Cai Trịnh Xuân Trường",
     "Chủ tịch HĐND (hội đồng nhân dân) tỉnh là ai?"),
    # nothing to add: the passage uses the question's own form, or neither
    ("Phường có bao nhiêu hợp tác xã?", "Phường có 4 hợp tác xã.", "Phường có bao nhiêu hợp tác xã?"),
    ("Chủ tịch HĐND tỉnh là ai?", "Chủ tịch HĐND tỉnh Lào Cai", "Chủ tịch HĐND tỉnh là ai?"),
    # short ones are left alone: "TP" beside every "thành phố" would say nothing
    ("Thành phố nào?", "TP. Hồ Chí Minh và TP Hà Nội", "Thành phố nào?"),
])
def test_a_question_is_read_with_the_abbreviations_its_passages_use(question, passage, read):
    assert spell_abbreviations(question, [passage]) == read


def test_an_abbreviation_may_be_the_counted_noun_of_a_question():
    key = syllable_key
    assert abbreviation_aliases((key("hợp"), key("tác"), key("xã")), key) == [("htx",)]
    assert abbreviation_aliases(("kinh", "te", "xa", "hoi"), lambda t: fold_accents(t.lower())) \
        == [("kt", "xh"), ("ktxh",)]
    assert abbreviation_aliases((key("đảng"), key("viên")), key) == []


def test_accent_pattern_reads_a_question_as_it_was_typed():
    rx = AccentPattern.compile(r"ông nào|bài", whole_words=True)
    assert rx.search("ông nào là bí thư", accented=True)
    assert rx.search(fold_accents("ong nao la bi thu"), accented=False)
    assert not rx.search("phường nào", accented=True)  # whole words: not inside "phường nào"
    assert not rx.search(fold_accents("phuong nao"), accented=False)
    assert not rx.search("bãi biển", accented=True)  # typed with diacritics: "bãi" is not "bài"
    assert rx.search(fold_accents("bai bien"), accented=False)  # typed without: can't tell


def test_accent_pattern_takes_a_folded_form_of_its_own():
    rx = AccentPattern.compile(r"mấy", folded=r"co may")  # given folded, used as is
    assert rx.search("có mấy", accented=True) and rx.search("mấy", accented=True)
    assert rx.search("co may", accented=False) and not rx.search("nha may", accented=False)


def test_sentence_at_gives_the_sentence_holding_an_offset():
    text = "Đại hội diễn ra 2 ngày.  Ông Lò Văn Sáu làm Bí thư."
    first, second = sentence_spans(text)
    assert sentence_at(text, text.index("2 ngày")) == first
    assert sentence_at(text, text.index("Bí thư")) == second
    assert sentence_at(text, first[1] + 1) is None  # the spaces between them
    assert sentence_at(text, len(text)) is None


@pytest.mark.parametrize(("question", "read"), [
    ("Ai đứng đầu Đảng ủy phường Kỳ Sơn?", "Ai là Bí thư Đảng ủy phường Kỳ Sơn?"),
    ("Người đứng đầu Tỉnh ủy Lai Châu là ai?", "Bí thư Tỉnh ủy Lai Châu là ai?"),
    ("Ai là người đứng đầu chi bộ tổ 1?", "Ai là Bí thư chi bộ tổ 1?"),
    ("ai dung dau dang uy phuong chi lang", "ai la bi thu dang uy phuong chi lang"),
    ("Ai đứng đầu UBND tỉnh Lai Châu?", "Ai là Chủ tịch UBND tỉnh Lai Châu?"),
    # heads of anything else keep their words
    ("Đội nào đứng đầu bảng xếp hạng?", "Đội nào đứng đầu bảng xếp hạng?"),
    ("Ai là Bí thư Đảng ủy phường?", "Ai là Bí thư Đảng ủy phường?"),
])
def test_the_head_of_a_committee_is_asked_as_its_post(question, read):
    assert spell_posts(question) == read


@pytest.mark.parametrize(("question", "read"), [
    ("nhiem ky roi phuong chi lang ket nap dc bao nhieu dang vien moi",
     "nhiem ky qua phuong chi lang ket nap duoc bao nhieu dang vien moi"),
    ("xa co bn ho ngheo, co dc ko?", "xa co bao nhieu ho ngheo, co duoc khong?"),
    ("Nhiệm kỳ trước xã đạt những gì?", "Nhiệm kỳ qua xã đạt những gì?"),
    # typed with diacritics, or a shorthand inside a word / a number: left alone
    ("Ông ấy ko đến?", "Ông ấy ko đến?"),
    ("ke hoach so 210-dc/tu do co quan nao ban hanh?", "ke hoach so 210-dc/tu do co quan nao ban hanh?"),
    ("vitamin k co tac dung gi", "vitamin k co tac dung gi"),
    # capitals are names, not shorthand; "bn 17" is a patient, not a count
    ("nha trang o Washington DC xay nam nao", "nha trang o Washington DC xay nam nao"),
    ("Donald J Trump sinh nam nao", "Donald J Trump sinh nam nao"),
    ("bn 17 da di nhung dau", "bn 17 da di nhung dau"),
    ("Vì sao ông rời nhiệm kỳ trước thời hạn?", "Vì sao ông rời nhiệm kỳ trước thời hạn?"),
])
def test_chat_shorthand_is_spelled_out(question, read):
    assert spell_shorthand(question) == read


@pytest.mark.parametrize(("question", "passages", "read"), [
    ("Phường Đoàn Kết rộng bao nhiêu ki-lô-mét vuông?", ["tổng diện tích 134,31km2"],
     "Phường Đoàn Kết rộng bao nhiêu km2?"),
    ("phuong rong bao nhieu ki lo met vuong", ["diện tích 134,31 km2"],
     "phuong rong bao nhieu km2"),
    ("Xã có bao nhiêu héc-ta lúa?", ["gieo cấy 250 ha lúa"], "Xã có bao nhiêu ha lúa?"),
    # a passage writes the words: the question keeps them (the network reads them as written)
    ("Rừng bao phủ bao nhiêu km vuông?", ["5.500.000 km vuông", "3 km2"],
     "Rừng bao phủ bao nhiêu km vuông?"),
    ("Đường dài bao nhiêu cây số?", ["không có số nào"], "Đường dài bao nhiêu cây số?"),
    ("Xã rộng bao nhiêu ki-lô-mét vuông?", ["diện tích 134,31 km²; nhà văn hóa 500 m2"],
     "Xã rộng bao nhiêu km2?"),  # "km²" printed; "mét vuông" is not the end of "ki-lô-mét vuông"
    ("phuong rong bao nhieu ki lo met vuong", ["Nhà văn hóa rộng 500 m2."],
     "phuong rong bao nhieu ki lo met vuong"),
])
def test_a_spoken_unit_is_read_as_the_passages_print_it(question, passages, read):
    assert spell_units(question, passages) == read


@pytest.mark.parametrize(("question", "passage", "read"), [
    ("dang bo phuong chi lang to chuc dai hoi lan thu may",
     "Đảng bộ phường Chi Lăng tổ chức Đại hội đại biểu lần thứ XVII.",
     "Đảng bộ phường Chi Lăng tổ chức Đại hội lần thứ mấy"),
    ("ai duoc chi dinh lam bi thu dang uy phuong ky son",
     "Đồng chí Hoàng Văn Minh được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn.",
     "ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn"),
    # words the passage does not write keep their letters; question words get theirs
    ("phuong ky son co bao nhieu xe may", "Phường Kỳ Sơn có 4 HTX.",
     "Phường Kỳ Sơn có bao nhiêu xe mấy"),
    # typed with diacritics: as it is
    ("Phường Kỳ Sơn có bao nhiêu dân?", "phường Kỳ Sơn", "Phường Kỳ Sơn có bao nhiêu dân?"),
])
def test_a_question_without_diacritics_is_read_as_the_passages_write_it(question, passage, read):
    from qa.text import restore_accents

    assert restore_accents(question, [passage]) == read


def test_a_letter_whose_lower_case_is_longer_keeps_the_offsets():
    # "İ".lower() is two characters: matching on the lowered text must not shift the rewrite
    from qa.reader.question import places_named
    from qa.text import lower, spell_posts

    assert len(lower("İzmir Đảng")) == len("İzmir Đảng")
    assert spell_posts("Tại İzmir, ai đứng đầu Đảng ủy phường Kỳ Sơn?") == \
        "Tại İzmir, ai là Bí thư Đảng ủy phường Kỳ Sơn?"
    assert places_named("Đoàn İzmir thăm phường Kỳ Sơn có bao nhiêu đảng viên?") == ["Kỳ Sơn"]
