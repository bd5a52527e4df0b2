"""The app's engine in-process (qa/engine.py) with the real model: an upload is searchable by
its words before its vectors are in and a reply meanwhile says so, a second upload during the
vectors stage is let in at once, a removal takes the articles out, a restart on an unchanged
corpus writes nothing, and ambiguous or over-long questions are handled as the page shows them.

The model is slowed down per batch in some tests (the real vectors, computed later), so that
the vectors stage lasts long enough to be looked at."""

from __future__ import annotations

import html
import logging
import time

import pytest
from conftest import EXTRA_ARTICLE, start_engine, ui_handlers, write_article

from qa.settings import Settings

pytestmark = pytest.mark.slow

RICE = "Giá lúa tươi tại ruộng ở xã Mỹ Xuyên là bao nhiêu?"


class Slowed:
    """The real model, each passage batch `delay` seconds late."""

    def __init__(self, inner, delay: float):
        self.inner, self.delay = inner, delay

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_batch(self, texts, *, kind="passage"):
        if kind == "passage":
            time.sleep(self.delay)
        return self.inner.embed_batch(texts, kind=kind)


@pytest.fixture
def slowed(monkeypatch, embedder):
    model = Slowed(embedder, 0.0)
    monkeypatch.setattr("qa.assistant.SentenceTransformerEmbedder", lambda *a, **k: model)
    return model


@pytest.fixture
def engine(tmp_path, tiny_corpus_dir, slowed):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    engine = start_engine(Settings(corpus=(tiny_corpus_dir, uploads), index_dir=tmp_path / "ix",
                                   batch_size=4), uploads)
    slowed.delay = 1.5  # from now on: each batch of an upload takes a while to embed
    return engine


def wait_idle(engine, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while engine.busy():
        assert time.monotonic() < deadline, engine.status()
        time.sleep(0.05)


LONG_BODY = "\n\n".join(f"(Tin {i}) {p}" for i in range(60)
                        for p in EXTRA_ARTICLE[1].split("\n\n"))  # several batches of windows


def incoming(tmp_path, name: str, title: str = EXTRA_ARTICLE[0], body: str = LONG_BODY):
    return write_article(tmp_path / "incoming", name, title, body)


def test_an_upload_is_searchable_by_its_words_while_its_vectors_are_computed(engine, tmp_path):
    upload = ui_handlers(engine)["upload"]
    started = time.monotonic()
    *_, last = upload([str(incoming(tmp_path, "lua.txt"))])
    took = time.monotonic() - started
    notice = html.unescape(last[1])
    assert "Đã thêm “lua.txt”: 1 bài báo" in notice and "tìm được theo từ khóa" in notice
    assert engine.busy() and engine.indexing() == [("lua.txt", True)]
    assert "Đang tính vector ngữ nghĩa" in html.unescape(engine.status())

    answer = engine.ask(RICE)
    assert any(c.doc_id == "lua.txt" for c in answer.citations)  # found by its words
    respond = ui_handlers(engine)["respond"]
    chat = list(respond(RICE, [], []))[-1][2]
    assert "Đang lập chỉ mục: “lua.txt” mới tìm được theo từ khóa" in html.unescape(
        chat[-1]["content"])

    wait_idle(engine)
    assert time.monotonic() - started > took  # the vectors came after the handler returned
    assert engine.indexing() == [] and engine.bot.index.pending_docs() == []
    chat = list(respond(RICE, [], []))[-1][2]
    assert "Đang lập chỉ mục" not in chat[-1]["content"]


def test_a_second_upload_is_let_in_during_the_first_ones_vectors(engine, tmp_path):
    """The first upload needs several batches of vectors; the second one stops that after the
    batch under way, is searchable at once, and then the vectors of both are computed."""
    upload = ui_handlers(engine)["upload"]
    list(upload([str(incoming(tmp_path, "lua.txt"))]))
    assert engine.busy()
    started = time.monotonic()
    *_, last = upload([str(incoming(tmp_path, "lua-2.txt", "Nông dân Bạc Liêu trúng mùa",
                                    EXTRA_ARTICLE[1]))])
    assert time.monotonic() - started < 30, "the second upload waited for the first's vectors"
    assert "Đã thêm “lua-2.txt”" in html.unescape(last[1])
    assert {n for n, _ in engine.indexing()} == {"lua.txt", "lua-2.txt"}
    wait_idle(engine)
    index = engine.bot.index
    assert {"lua.txt", "lua-2.txt"} <= set(index.docs) and index.pending_docs() == []


def test_removal_takes_the_articles_out_of_the_index(engine, tmp_path):
    handlers = ui_handlers(engine)
    list(handlers["upload"]([str(incoming(tmp_path, "lua.txt"))]))
    notice = html.unescape(handlers["remove"]("lua.txt")[1])
    assert "Đã xóa “lua.txt” khỏi thư viện và khỏi chỉ mục" in notice
    assert "lua.txt" not in engine.bot.index.docs and engine.library.files() == []
    assert not any(c.doc_id == "lua.txt" for c in engine.ask(RICE).citations)
    wait_idle(engine)


def test_a_restart_on_an_unchanged_corpus_writes_nothing(tmp_path, tiny_corpus_dir,
                                                         use_shared_embedder, caplog):
    uploads = tmp_path / "uploads"
    settings = Settings(corpus=(tiny_corpus_dir,), index_dir=tmp_path / "ix")
    first = start_engine(settings, uploads)
    version = first.bot.store.current()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="qa.app"):
        again = start_engine(settings, uploads)
    assert again.bot.store.current() == version and again.error is None
    assert "serving the last complete index" in caplog.text
    assert "building BM25" not in caplog.text and "0 versions written" in caplog.text
    assert "4" in again.ask("Lũ quét làm bao nhiêu người mất tích?").citations[0].text


def test_a_question_over_the_limit_stays_in_the_box(tmp_path, tiny_corpus_dir,
                                                    use_shared_embedder):
    engine = start_engine(Settings(corpus=(tiny_corpus_dir,), index_dir=tmp_path / "ix",
                                   max_question_chars=50), tmp_path / "uploads")
    respond = ui_handlers(engine)["respond"]
    long_question = "Lũ quét làm bao nhiêu người mất tích " * 3
    steps = list(respond(long_question, [], []))
    assert len(steps) == 1
    kept, note, chat = steps[0][:3]
    assert not isinstance(kept, str)  # gr.skip(): what was typed is left in the box
    assert "Câu hỏi quá dài (110 ký tự); giới hạn là 50 ký tự" in html.unescape(note)
    assert not isinstance(chat, list)  # nothing added to the chat
    ok = list(respond("Lũ quét làm bao nhiêu người mất tích?", [], []))
    assert ok[-1][2][-1]["role"] == "assistant"
    assert ok[0][:2] == ("", "")  # sent: the box emptied, the message beside it gone


def test_an_ambiguous_first_question_is_answered_with_a_question(tmp_path, use_shared_embedder):
    from conftest import SEEDS

    engine = start_engine(Settings(corpus=(SEEDS,), index_dir=tmp_path / "ix"),
                          tmp_path / "uploads")
    answer = engine.ask("Phường này có bao nhiêu đảng viên?")
    assert answer.clarification and "phường nào" in answer.clarification
    assert "phường Kỳ Sơn" in answer.candidates and len(answer.candidates) >= 2
    assert answer.citations == () and answer.text == ""
    # naming one in reply completes the open question
    follow = engine.ask("phường Kỳ Sơn", ["Phường này có bao nhiêu đảng viên?"])
    assert follow.resolved_question == "Phường Kỳ Sơn có bao nhiêu đảng viên?"
    assert any("1.789" in c.text for c in follow.citations)  # the ward's figure is cited
    # with the ward named before, the same question is a plain follow-up
    plain = engine.ask("Phường này có bao nhiêu đảng viên?",
                       ["Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?"])
    assert plain.clarification is None and "Kỳ Sơn" in plain.resolved_question
    who = engine.ask("Ông ấy sinh năm nào?")
    assert who.clarification.startswith("Bạn hỏi về ai?") and who.candidates
