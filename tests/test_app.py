"""Tests for app.py: the `/ask` API of the real app (a subprocess on seeds/, called through
gradio_client), and the app's small pure helpers. `running_app` is shared with the browser
tests."""

from __future__ import annotations

import contextlib
import html
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
START_TIMEOUT_S = 240
KY_SON = "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn nhiệm kỳ 2025-2030?"
KY_SON_TITLE = "Tập trung xây dựng Đảng bộ phường Kỳ Sơn trong sạch, vững mạnh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path, n: int = 3000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-n:] if path.exists() else ""


def wait_until_answers(url: str, proc: subprocess.Popen, log: Path,
                       timeout: float = START_TIMEOUT_S) -> float:
    """Poll `/ask` until the app answers a seed question; the seconds it took."""
    from gradio_client import Client

    started, client = time.monotonic(), None
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            client = client or Client(url, verbose=False)
            result = client.predict(KY_SON, [], api_name="/ask")
            if result.get("answer"):
                return time.monotonic() - started
        except Exception:  # not listening yet
            client = None
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {timeout}s:\n{_log_tail(log)}")


def start_app(tmp: Path, corpus: Path = SEEDS, log_name: str = "app.log", root: Path = ROOT,
              env: dict | None = None) -> tuple[subprocess.Popen, str, Path]:
    """`python app.py` of the checkout at `root` on `corpus` with its index and uploads folders
    under `tmp` (the same folders on every start in `tmp`): the process, its URL and its log.
    `env`: variables set on top of this one's (QA_* ones are dropped first)."""
    port, log = free_port(), tmp / log_name
    environ = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    environ.update(GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1",
                   **(env or {}))
    cmd = [sys.executable, str(root / "app.py"), "--port", str(port), "--corpus", str(corpus),
           "--index-dir", str(tmp / "index"), "--uploads-dir", str(tmp / "uploads")]
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=environ, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}", log


def stop_app(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_app(tmp: Path, env: dict | None = None) -> Iterator[str]:
    """`python app.py` on seeds/ with its own index and uploads folders under `tmp`."""
    proc, url, log = start_app(tmp, env=env)
    try:
        seconds = wait_until_answers(url, proc, log)
        print(f"app answered {seconds:.1f}s after start")
        yield url
    finally:
        stop_app(proc)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from gradio_client import Client

    with running_app(tmp_path_factory.mktemp("app")) as url:
        yield Client(url, verbose=False)


ANSWER_KEYS = {"question", "resolved_question", "answer", "message", "abstained", "confidence",
               "evidence", "span", "citations", "clarification", "candidates", "indexing"}
CITATION_KEYS = {"rank", "doc_id", "title", "date", "url", "text", "start", "end", "score",
                 "relevance", "answer_start", "answer_end", "evidence_start", "evidence_end"}


def test_ask_returns_the_answer_json(client):
    """The shape of the reply; the answer itself loosely (the reader's weights change): it is
    copied from the first citation, the article that names the secretary."""
    result = client.predict(KY_SON, [], api_name="/ask")
    assert set(result) == ANSWER_KEYS and result["question"] == KY_SON
    assert result["abstained"] is False and result["answer"] and result["indexing"] == []
    assert 0 < result["confidence"] <= 1 and result["clarification"] is None
    first = result["citations"][0]
    assert set(first) == CITATION_KEYS and first["title"] == KY_SON_TITLE
    assert first["text"][first["answer_start"]:first["answer_end"]] == result["answer"]
    assert result["answer"] in first["text"][first["evidence_start"]:first["evidence_end"]]
    assert any("Hoàng Văn Minh" in c["text"] for c in result["citations"])
    assert [c["rank"] for c in result["citations"]] == list(range(1, len(result["citations"]) + 1))
    assert all(0 <= c["relevance"] <= 1 for c in result["citations"])


def test_ask_follows_up_on_history(client):
    result = client.predict("Phường này có bao nhiêu đảng viên?",
                            ["Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?"], api_name="/ask")
    assert "Kỳ Sơn" in result["resolved_question"] and result["clarification"] is None
    assert any("1.789" in c["text"] for c in result["citations"])  # the ward's figure is cited


def test_ask_abstains_when_the_articles_do_not_say(client):
    result = client.predict("Đội tuyển bóng đá Việt Nam vô địch AFF Cup năm nào?", [],
                                     api_name="/ask")
    assert result["abstained"] is True and result["answer"] == ""
    assert result["message"] == "Không tìm thấy thông tin này trong các bài báo đã có."
    assert result["citations"] and all(c["answer_start"] is None for c in result["citations"])


def test_an_ambiguous_question_is_answered_with_a_question(client):
    """"Phường này" with nothing before it: which ward, with the wards the articles name; a
    reply naming one completes the question."""
    result = client.predict("Phường này có bao nhiêu đảng viên?", [], api_name="/ask")
    assert result["clarification"].startswith("Bạn hỏi về phường nào?")
    assert result["message"] == result["clarification"] and result["answer"] == ""
    assert "phường Kỳ Sơn" in result["candidates"] and result["citations"] == []
    follow = client.predict("phường Kỳ Sơn", ["Phường này có bao nhiêu đảng viên?"],
                            api_name="/ask")
    assert follow["resolved_question"] == "Phường Kỳ Sơn có bao nhiêu đảng viên?"
    assert any("1.789" in c["text"] for c in follow["citations"])


def test_bad_input_gives_a_vietnamese_error(client):
    assert client.predict("", [], api_name="/ask") == {
        "error": "Câu hỏi đang trống: hãy nhập một câu hỏi."}
    assert "không hợp lệ" in client.predict("Ai?", [42], api_name="/ask")["error"]


BAD_SHAPES = {  # (question, history) -> a piece of the message
    "history a number": (KY_SON, 5, "phải là một danh sách các câu hỏi trước"),
    "history a string": (KY_SON, "Ai là Bí thư?", "nhận được một chuỗi"),
    "history a dict": (KY_SON, {"q": "Ai?"}, "nhận được một đối tượng (dict)"),
    "a turn a dict": (KY_SON, [{"role": "user", "content": "Ai?"}],
                      "Mục thứ 1 của lịch sử hội thoại không hợp lệ"),
    "a turn of three": (KY_SON, [["a", "b", "c"]], "Mục thứ 1"),
    "an answer a number": (KY_SON, ["Ai?", ["Ai?", 3]], "Mục thứ 2"),
    "question a number": (42, [], "Câu hỏi (question) phải là một chuỗi văn bản"),
    "question a list": (["Ai?"], [], "không phải một danh sách 1 phần tử"),
    "question null": (None, [], "phải là một chuỗi văn bản, không phải null"),
    "too many turns": (KY_SON, ["Ai?"] * 51, "quá dài (51 lượt)"),
}


@pytest.mark.parametrize(("question", "history", "message"), BAD_SHAPES.values(),
                         ids=BAD_SHAPES.keys())
def test_each_bad_shape_gets_its_own_message(client, question, history, message):
    result = client.predict(question, history, api_name="/ask")
    assert set(result) == {"error"} and message in result["error"], result


# --- pure helpers of app.py (no server) --------------------------------------------------


def test_html_in_a_question_is_escaped_in_the_chat():
    from qa import formatting as fmt
    from qa.types import Answer

    question = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    shown = fmt.render_question(question)
    assert "<img" not in shown and "<script" not in shown and "&lt;img" in shown
    reply = fmt.render_reply(Answer(question, "", 0.0, True, "", (), None,
                                    resolved_question=question + " phường Kỳ Sơn"))
    assert "<img" not in reply and "<script" not in reply


def test_errors_reach_people_in_vietnamese():
    import app
    from qa.errors import BadQuestionError, IndexCorruptError
    from qa.library import LibraryError

    assert app.user_message(BadQuestionError("Câu hỏi đang trống.")) == "Câu hỏi đang trống."
    assert app.user_message(LibraryError("Tệp quá lớn.")) == "Tệp quá lớn."
    assert "Chỉ mục tìm kiếm bị hỏng" in app.user_message(IndexCorruptError("cannot read x"))
    assert app.user_message(RuntimeError("Traceback ... boom")) == app.UNEXPECTED


def test_parse_history():
    import app
    from qa.errors import BadQuestionError

    assert app.parse_history(None) == []
    assert app.parse_history(["a", ["b", "c"], ("d", None)]) == ["a", ("b", "c"), ("d", None)]
    for bad in ([{"role": "user"}], 5, "abc", {"a": 1}, [["a", 1]], [None], ["a" * 1001]):
        with pytest.raises(BadQuestionError):
            app.parse_history(bad)


@pytest.mark.slow
def test_uploading_a_copy_of_an_indexed_article_says_so(tmp_path, use_shared_embedder,
                                                        tiny_corpus_dir):
    """The upload handler, in-process: a copy of an article already in the corpus is kept in
    the library but not indexed twice, and the notice says which article it repeats."""
    from conftest import ARTICLES, start_engine, ui_handlers

    from qa.settings import Settings

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    engine = start_engine(Settings(corpus=(tiny_corpus_dir, uploads), index_dir=tmp_path / "idx"),
                          uploads)
    upload = ui_handlers(engine)["upload"]
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    copy = incoming / "ban-sao.txt"
    copy.write_bytes((tiny_corpus_dir / "dai-hoi.txt").read_bytes())
    new = incoming / "bai-moi.txt"
    new.write_text("Xã Hòa Bình bầu Chủ tịch mới\n\nÔng Lò Văn Tám được bầu làm Chủ tịch "
                   "UBND xã Hòa Bình.\n", encoding="utf-8")

    notice = html.unescape(list(upload([str(copy), str(new)]))[-1][1])

    title = ARTICLES["dai-hoi.txt"][0]
    assert f"“ban-sao.txt”: 1 bài đã có sẵn trong kho (“{title}”)" in notice
    assert "“bai-moi.txt”: 1 bài đã có sẵn" not in notice
    assert {f.name for f in engine.library.files()} == {"ban-sao.txt", "bai-moi.txt"}
    docs = engine.bot.index.docs
    assert "bai-moi.txt" in docs and "ban-sao.txt" not in docs and "dai-hoi.txt" in docs
