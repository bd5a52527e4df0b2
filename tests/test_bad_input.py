"""Issue #5, bad input: every kind of bad question and bad corpus file, on the real model and
FAISS. A question gets a Vietnamese message (BadQuestionError; the CLI's exit code 2; the
app's {"error": ...}) or an answer / abstention; a file gets a logged skip and the rest of the
corpus is indexed. Nothing crashes."""

from __future__ import annotations

import codecs
import json
import unicodedata
from pathlib import Path

import pytest
from conftest import ARTICLES, ui_handlers, write_corpus
from test_corpus import TCVN3, VISCII, to_cp1258

from qa import corpus as corpus_module
from qa import formatting as fmt
from qa.assistant import Assistant
from qa.cli import main
from qa.corpus import load_corpus
from qa.errors import BadQuestionError
from qa.settings import Settings
from qa.sources import render_sources
from qa.store import IndexStore
from qa.types import NOT_FOUND, Answer

pytestmark = pytest.mark.slow

CLEAN = "Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?"
SECRETARY = "Trần Thị Thuý"
LIMIT = Settings.max_question_chars

# question -> a piece of the Vietnamese message it is refused with
REFUSED = {
    "empty": ("", "Câu hỏi đang trống"),
    "whitespace": ("   \n\t", "Câu hỏi đang trống"),
    "zero-width only": ("\u200b\u200c\u200d\u2060\ufeff", "Câu hỏi đang trống"),
    "controls only": ("\x00\x07\x1b\x7f", "Câu hỏi đang trống"),
    "20,000 characters": (
        (CLEAN + " ") * (20_000 // (len(CLEAN) + 1)) + "x" * (20_000 % (len(CLEAN) + 1)),
        "Câu hỏi quá dài (20.000 ký tự); giới hạn là 1.000 ký tự",
    ),
    "one over the limit": ("a" * (LIMIT + 1), "Câu hỏi quá dài (1.001 ký tự)"),
    "punctuation": ("?!...", "không có chữ hay số"),
    "emoji": ("🙂🙂🔥", "không có chữ hay số"),
    "symbols and emoji": ("¿¡ …  ★ 👍🏽 !!!", "không có chữ hay số"),
}
# the same question with invisible or odd characters mixed in: tidied to CLEAN exactly
SAME_AS_CLEAN = {
    "control characters": "Ai\x00 được bầu\x07 làm Bí thư\u200b Đảng ủy phường\x1b Tân Minh?",
    "zero-width inside words": "Ai đư\u200bợc bầu làm Bí\u2060 thư Đảng\ufeff ủy phường Tân Minh?",
    "tabs, newlines, nbsp": "  Ai\tđược\n bầu làm\u00a0Bí thư Đảng ủy\r\nphường Tân Minh?  ",
    "decomposed (NFD)": unicodedata.normalize("NFD", CLEAN),
    "bidi and soft hyphen": f"\u202a{CLEAN[:20]}\u00ad{CLEAN[20:]}\u202c",
}
# answered or abstained, never an error
OTHER = {
    "html and script": f"<script>alert(1)</script> <img src=x onerror=alert(2)> {CLEAN}",
    "english": "Who was elected party secretary of Tan Minh ward?",
    "mixed scripts": "Ai được bầu làm Bí thư 书记 Đảng ủy phường Tân Minh, секретарь, أمين?",
    "chinese only": "谁当选为新明坊党委书记?",
    "emoji around a question": f"🙂 {CLEAN} 🔥🔥",
    "exactly the limit": CLEAN + " " + "a" * (LIMIT - len(CLEAN) - 1),
}
# cited first where the question names the ward's party secretary in Vietnamese
ABOUT_TAN_MINH = {"html and script", "mixed scripts", "emoji around a question"}
# the API above tries every question; the CLI and the app, which call it, try these
THROUGH_UI = [
    "control characters",
    "decomposed (NFD)",
    "html and script",
    "english",
    "mixed scripts",
    "exactly the limit",
]
UI_QUESTIONS = {name: {**SAME_AS_CLEAN, **OTHER}[name] for name in THROUGH_UI}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, tiny_corpus_dir, embedder) -> Assistant:
    """The assistant on the tiny corpus, with its index built (default settings)."""
    index_dir = tmp_path_factory.mktemp("bad-input") / "index"
    assistant = Assistant(
        Settings(corpus=(tiny_corpus_dir,), index_dir=index_dir), embedder=embedder
    )
    assistant.update_index()
    return assistant


@pytest.fixture(scope="module")
def clean_answer(bot) -> Answer:
    """The answer to the clean question, what every tidied variant must get too (its text is
    the reader's: its weights change; the secretary's article is what retrieval finds)."""
    answer = bot.ask(CLEAN)
    assert not answer.abstained and bot.search(CLEAN)[0].doc_id == "dai-hoi.txt"
    assert any(SECRETARY in c.text for c in answer.citations)
    return answer


def check_answer(answer: Answer) -> None:
    """An answer is copied from its first citation; an abstention says so."""
    assert isinstance(answer, Answer)
    if answer.abstained:
        assert answer.text == NOT_FOUND and answer.span is None
    else:
        start, end = answer.span
        assert answer.citations[0].text[start:end] == answer.text


# --- questions: the Python API ------------------------------------------------------------


@pytest.mark.parametrize(("question", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_refused_questions_say_why_in_vietnamese(bot, monkeypatch, question, message):
    def never(*_args, **_kwargs):
        raise AssertionError("a refused question must not be embedded, searched or read")

    monkeypatch.setattr(bot.embedder, "embed_batch", never)
    monkeypatch.setattr(bot.reader, "read", never)
    with pytest.raises(BadQuestionError, match="^Câu hỏi") as refused:
        bot.ask(question)
    assert message in str(refused.value)
    with pytest.raises(BadQuestionError):
        bot.search(question)


@pytest.mark.parametrize("question", SAME_AS_CLEAN.values(), ids=SAME_AS_CLEAN.keys())
def test_invisible_characters_do_not_change_the_answer(bot, clean_answer, question):
    answer = bot.ask(question)
    assert answer.question == CLEAN
    assert (answer.text, answer.abstained) == (clean_answer.text, False)
    assert answer.citations[0].doc_id == clean_answer.citations[0].doc_id
    assert bot.search(question)[0].doc_id == "dai-hoi.txt"


@pytest.mark.parametrize("name", OTHER)
def test_odd_questions_get_an_answer_or_an_abstention(bot, name):
    answer = bot.ask(OTHER[name])
    check_answer(answer)
    if name in ABOUT_TAN_MINH:  # found first by retrieval, and cited
        assert bot.search(OTHER[name])[0].doc_id == "dai-hoi.txt"
        assert "dai-hoi.txt" in {c.doc_id for c in answer.citations}


def test_question_of_exactly_the_limit_is_accepted_and_one_more_is_not():
    at_limit = OTHER["exactly the limit"]
    assert len(Assistant.check_question_text(at_limit)) == LIMIT
    with pytest.raises(BadQuestionError, match="1.001 ký tự"):
        Assistant.check_question_text(at_limit + "a")
    # the limit counts what is searched: invisible characters and NFD do not count
    padded = unicodedata.normalize("NFD", at_limit) + "\u200b" * 50
    assert len(Assistant.check_question_text(padded)) == LIMIT


def test_a_question_that_is_not_text_is_refused():
    with pytest.raises(BadQuestionError, match="văn bản"):
        Assistant.check_question_text(42)  # e.g. a number sent to the API


def test_html_in_a_question_is_shown_as_text(bot):
    answer = bot.ask(OTHER["html and script"])
    assert answer.question.startswith("<script>")  # kept as asked, escaped when shown
    for html in (
        fmt.render_question(answer.question),
        fmt.render_reply(answer),
        render_sources(answer),
    ):
        assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in fmt.render_question(answer.question)


# --- questions: the CLI (empty, blank and punctuation-only: tests/test_cli.py) -------------

CLI_REFUSED = {k: v for k, v in REFUSED.items() if k not in ("empty", "whitespace", "punctuation")}


def qa(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("question", "message"), CLI_REFUSED.values(), ids=CLI_REFUSED.keys())
def test_cli_refuses_with_exit_2_before_building_an_index(
    capsys, tmp_path, monkeypatch, tiny_corpus_dir, use_shared_embedder, question, message
):
    monkeypatch.chdir(tmp_path)
    code, out, err = qa(
        capsys, "ask", question, "--corpus", tiny_corpus_dir, "--index-dir", tmp_path / "index"
    )
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err
    assert not IndexStore(tmp_path / "index").exists()


@pytest.mark.parametrize("question", UI_QUESTIONS.values(), ids=UI_QUESTIONS.keys())
def test_cli_answers_odd_questions(
    capsys, tmp_path, monkeypatch, bot, use_shared_embedder, question
):
    monkeypatch.chdir(tmp_path)
    code, out, err = qa(
        capsys,
        "ask",
        question,
        "--json",
        "--corpus",
        bot.settings.corpus[0],
        "--index-dir",
        bot.settings.index_dir,
    )
    assert code == 0, err
    assert "no index" not in err  # the module's index was reused
    reply = json.loads(out)
    assert reply["message"] == (NOT_FOUND if reply["abstained"] else reply["answer"])
    if question in SAME_AS_CLEAN.values():
        assert reply["question"] == CLEAN and reply["answer"] == bot.ask(CLEAN).text


# --- questions: the app's handlers, called without a server ---------------------------------


@pytest.fixture(scope="module")
def handlers(bot, tmp_path_factory):
    """The app's `/ask` API function and chat handler, over the module's assistant."""
    import app
    from qa.library import Library

    engine = app.Engine(bot.settings, Library(tmp_path_factory.mktemp("uploads")))
    engine.bot = bot
    engine.ready.set()
    fns = ui_handlers(engine)
    return fns["ask"], fns["respond"]


@pytest.mark.parametrize(("question", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_app_replies_with_the_message(handlers, question, message):
    """The API answers the error; the page shows it beside the box, where the question stays
    (nothing is added to the chat)."""
    ask, respond = handlers
    reply = ask(question, [])
    assert set(reply) == {"error"} and message in reply["error"]
    (step,) = list(respond(question, [], []))
    box, note, chat = step[:3]
    assert not isinstance(box, str) and not isinstance(chat, list)  # both left as they were
    if question.strip():  # a blank box is not sent at all
        assert fmt.esc(reply["error"]) in note


@pytest.mark.parametrize("question", UI_QUESTIONS.values(), ids=UI_QUESTIONS.keys())
def test_app_answers_odd_questions(handlers, question):
    ask, respond = handlers
    reply = ask(question, [])
    assert "error" not in reply and reply["message"]
    chat = list(respond(question, [], []))[-1][2]
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "qa-error" not in chat[-1]["content"]
    assert all("<script" not in m["content"] for m in chat)


# --- corpus files -------------------------------------------------------------------------

# New articles, each saved in another encoding, and a question each answers.
UTF16_LE = (
    "Cầu Rồng ở Đà Nẵng phun lửa dịp lễ",
    "Tối 2/9, cầu Rồng ở thành phố Đà Nẵng phun lửa và phun nước trước hơn 20.000 du "
    "khách. Cây cầu dài 666 mét, bắc qua sông Hàn.",
)
UTF16_BE = (
    "Giá cà phê ở Đắk Lắk tăng mạnh",
    "Sáng 3/4, giá cà phê nhân xô tại tỉnh Đắk Lắk đạt 128.000 đồng một ki-lô-gam, "
    "tăng 2.000 đồng so với hôm trước.",
)
CP1258 = (
    "Lễ hội hoa ban ở Điện Biên",
    "Lễ hội hoa ban năm nay diễn ra tại thành phố Điện Biên Phủ từ ngày 10/3, với hội thi "
    "người đẹp hoa ban và chợ phiên vùng cao.",
)
JSONL_ROW = (
    "Hội chợ sách ở Huế thu hút bạn đọc",
    "Hội chợ sách mùa thu tại thành phố Huế bày bán hơn 50.000 đầu sách của 30 nhà xuất bản.",
)
DELETED = ("Tin sẽ bị xóa", "Bài này bị xóa khỏi thư mục trong lúc lập chỉ mục.")
QUESTIONS = {  # question -> the file whose article answers it
    "Cầu Rồng ở Đà Nẵng dài bao nhiêu mét?": "utf16le.txt",
    "Giá cà phê ở Đắk Lắk là bao nhiêu một ki-lô-gam?": "utf16be.txt",
    "Lễ hội hoa ban diễn ra ở đâu?": "cp1258.txt",
    "Hội chợ sách ở Huế bày bán bao nhiêu đầu sách?": "news.jsonl#sach",
}
MB = 2**20


def article_text(title: str, body: str) -> str:
    return f"{title}\r\n\r\n{body}\r\n"


def write_50_mb(path: Path) -> None:
    """A 50 MB UTF-8 text, written in 1 MB blocks of one Vietnamese paragraph."""
    paragraph = (ARTICLES["lu-lut.txt"][1] + "\n\n").encode("utf-8")
    block = (paragraph * (MB // len(paragraph) + 1))[:MB]
    with open(path, "wb") as f:
        for _ in range(50):
            f.write(block)


@pytest.fixture
def bad_corpus(tmp_path) -> Path:
    """The five tiny articles, plus one file of each kind the issue lists."""
    folder = write_corpus(tmp_path / "corpus")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text(" \n\u200b\n\t\n", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "utf16le.txt").write_bytes(
        codecs.BOM_UTF16_LE + article_text(*UTF16_LE).encode("utf-16-le")
    )
    (folder / "utf16be.txt").write_bytes(
        codecs.BOM_UTF16_BE + article_text(*UTF16_BE).encode("utf-16-be")
    )
    (folder / "cp1258.txt").write_bytes(to_cp1258(article_text(*CP1258)))
    (folder / "viscii.txt").write_bytes(VISCII)
    (folder / "tcvn3.txt").write_bytes(TCVN3)
    write_50_mb(folder / "huge.txt")
    title, body = ARTICLES["dai-hoi.txt"]
    (folder / "dai-hoi (1).txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    rows = [
        {"id": "sach", "title": JSONL_ROW[0], "body": JSONL_ROW[1]},
        {"id": "lu", "title": ARTICLES["lu-lut.txt"][0], "body": ARTICLES["lu-lut.txt"][1]},
        {"id": "qua-dai", "title": "Một dòng quá dài", "body": "Chữ. " * 500_000},
    ]
    (folder / "news.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / "zz-deleted.txt").write_text(article_text(*DELETED), encoding="utf-8")
    return folder


EXPECTED_SKIPS = {  # file (or row) -> a piece of the logged reason
    "binary.txt": "not a text file",
    "blank.md": "empty after cleaning",
    "dai-hoi.txt": "same text as dai-hoi (1).txt",  # `dai-hoi (1).txt` sorts first
    "empty.txt": "empty after cleaning",
    "huge.txt": "too large: 50.0 MB, over the 20 MB limit",
    "news.jsonl": "line 3: over 2,000,000 characters",
    "news.jsonl#lu": "same text as lu-lut.txt",
    "viscii.txt": "same text as tcvn3.txt",  # one article in two old code pages, read alike
    "zz-deleted.txt": "deleted before it could be read",
}
EXPECTED_DOCS = {
    "bong-da.txt",
    "cp1258.txt",
    "dai-hoi (1).txt",
    "khai-giang.txt",
    "ky-hop.txt",
    "lu-lut.txt",
    "news.jsonl#sach",
    "tcvn3.txt",
    "utf16be.txt",
    "utf16le.txt",
}


def test_bad_files_are_skipped_and_the_rest_is_indexed_and_answerable(
    bad_corpus, tmp_path, embedder, monkeypatch, caplog
):
    read, real = [], corpus_module.read_text_file
    monkeypatch.setattr(corpus_module, "read_text_file", lambda p: read.append(p.name) or real(p))
    skipped: dict[str, str] = {}

    def on_skip(path: Path, reason: str) -> None:
        skipped[path.name] = reason
        (bad_corpus / "zz-deleted.txt").unlink(missing_ok=True)  # gone after the listing

    bot = Assistant(Settings(corpus=(bad_corpus,), index_dir=tmp_path / "index"), embedder=embedder)
    report = bot.update_index(on_skip=on_skip)

    assert set(skipped) == set(EXPECTED_SKIPS)
    for name, reason in EXPECTED_SKIPS.items():
        assert reason in skipped[name], (name, skipped[name])
        assert name.split("#")[0] in caplog.text  # logged as well
    assert "QA_MAX_FILE_MB" in skipped["huge.txt"] and "huge.txt" not in read
    assert set(bot.index.docs) == EXPECTED_DOCS and report.documents == len(EXPECTED_DOCS)
    docs = bot.index.docs
    assert (docs["utf16le.txt"].title, docs["utf16le.txt"].text) == UTF16_LE
    assert (docs["utf16be.txt"].title, docs["utf16be.txt"].text) == UTF16_BE
    assert (docs["cp1258.txt"].title, docs["cp1258.txt"].text) == CP1258
    assert docs["tcvn3.txt"].title == "Đại hội Đảng bộ phường Kỳ Sơn"
    for question, doc_id in QUESTIONS.items():  # each new article found first, and cited
        assert bot.search(question)[0].doc_id == doc_id, question
        assert doc_id in {c.doc_id for c in bot.ask(question).citations}, question


def test_a_50_mb_file_is_skipped_without_reading_it(tmp_path, monkeypatch):
    write_corpus(tmp_path)
    write_50_mb(tmp_path / "huge.txt")
    assert (tmp_path / "huge.txt").stat().st_size == 50 * MB
    read_bytes = Path.read_bytes

    def read_all_but_huge(path: Path) -> bytes:
        assert path.name != "huge.txt", "the 50 MB file was read"
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_all_but_huge)
    skipped = []
    docs = load_corpus(tmp_path, on_skip=lambda p, r: skipped.append((p.name, r)))
    assert sorted(d.doc_id for d in docs) == sorted(ARTICLES)
    [(name, reason)] = skipped
    assert name == "huge.txt" and "50.0 MB" in reason and "QA_MAX_FILE_MB" in reason


def test_file_size_limit_comes_from_qa_max_file_mb(
    capsys, tmp_path, monkeypatch, use_shared_embedder
):
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "long.txt").write_text(
        "Tin dài\n\n" + ARTICLES["lu-lut.txt"][1] * 30, encoding="utf-8"
    )  # about 10 KB
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_MAX_FILE_MB", "0.005")
    assert Settings.from_env().max_file_mb == 0.005
    code, out, err = qa(capsys, "index", corpus, "--index-dir", tmp_path / "index")
    assert code == 0, err
    assert f"{len(ARTICLES)} articles" in out
    assert "skipped" in err and "long.txt: too large" in err and "QA_MAX_FILE_MB" in err


def test_a_duplicate_does_not_disturb_the_incremental_index(tmp_path, embedder):
    corpus = write_corpus(tmp_path / "corpus")
    bot = Assistant(Settings(corpus=(corpus,), index_dir=tmp_path / "index"), embedder=embedder)
    bot.update_index()
    copy = corpus / "zz-copy.txt"
    copy.write_bytes((corpus / "bong-da.txt").read_bytes())
    report = bot.update_index()  # the copy is skipped: nothing to embed
    assert (report.added, report.removed, report.embedded_chunks) == ([], [], 0)
    (corpus / "bong-da.txt").unlink()  # now the copy is the only one, and is indexed
    report = bot.update_index()
    assert (report.added, report.removed) == (["zz-copy.txt"], ["bong-da.txt"])
    answer = bot.ask("Ai ghi hai bàn cho câu lạc bộ Hà Nội?")
    assert [c.doc_id for c in answer.citations].count("zz-copy.txt") == 1


def test_question_limit_comes_from_qa_max_question_chars(monkeypatch, capsys, tmp_path):
    """The configured limit, not the default, and before any index is built."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QA_MAX_QUESTION_CHARS", "20")
    code = main(["ask", "Ai được bầu làm Bí thư phường Tân Minh?", "--index-dir",
                     str(tmp_path / "none")])
    assert code == 2
    assert "giới hạn là 20 ký tự" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
    assert Settings.from_env().max_question_chars == 20
