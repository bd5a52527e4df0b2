"""Tests for qa/cli.py through `qa.cli.main([...])` on the tiny corpus, the index in tmp_path.
The Assistant gets the session's model (same class, loaded once) instead of loading its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ARTICLES, SCORE_PY, read_jsonl, write_corpus

from qa.cli import main
from qa.store import CURRENT, IndexStore

pytestmark = pytest.mark.slow


@pytest.fixture
def corpus(tmp_path, monkeypatch, use_shared_embedder):
    monkeypatch.chdir(tmp_path)  # nothing may land in the repository's .qa/
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ask_json(capsys, corpus, index_dir, question, *extra) -> dict:
    code, out, err = run(
        capsys, "ask", question, "--json", "--corpus", corpus, "--index-dir", index_dir, *extra
    )
    assert code == 0, err
    return json.loads(out)


def test_index_reports_what_it_did(capsys, corpus, index_dir):
    code, out, _err = run(capsys, "index", corpus, "--index-dir", index_dir)
    assert code == 0
    assert f"{len(ARTICLES)} articles" in out and f"{len(ARTICLES)} added" in out
    assert IndexStore(index_dir).exists()
    assert not (corpus.parent / ".qa").exists()

    code, out, _err = run(capsys, "index", corpus, "--index-dir", index_dir)
    assert code == 0
    assert "0 chunks embedded" in out and f"{len(ARTICLES)} unchanged" in out


def test_ask_json_answers_with_cited_titles(capsys, corpus, index_dir):
    assert run(capsys, "index", corpus, "--index-dir", index_dir)[0] == 0
    reply = ask_json(capsys, corpus, index_dir, "Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?")
    assert {"question", "answer", "abstained", "confidence", "evidence", "citations"} <= set(reply)
    assert reply["question"] == "Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?"
    cites = reply["citations"]
    assert cites and [c["rank"] for c in cites] == list(range(1, len(cites) + 1))
    assert cites[0]["title"] == ARTICLES["dai-hoi.txt"][0]
    assert cites[0]["doc_id"] == "dai-hoi.txt"
    titles = {name: title for name, (title, _body) in ARTICLES.items()}
    for c in cites:
        assert c["title"] == titles[c["doc_id"]] and c["text"]
    # the article names her in one plain sentence: the answer is copied from the first citation
    assert not reply["abstained"] and "Trần Thị Thuý" in reply["answer"]
    a, b = reply["span"]
    assert cites[0]["text"][a:b] == reply["answer"]
    assert reply["answer"] in reply["evidence"]


def test_ask_without_diacritics_cites_the_same_article(capsys, corpus, index_dir):
    reply = ask_json(capsys, corpus, index_dir, "lu lut o quang ngai lam ngap bao nhieu ngoi nha")
    assert reply["citations"][0]["doc_id"] == "lu-lut.txt"


def test_ask_builds_a_missing_index(capsys, corpus, index_dir):
    assert not IndexStore(index_dir).exists()
    code, out, err = run(
        capsys,
        "ask",
        "Trận đấu kết thúc với tỷ số nào?",
        "--json",
        "--corpus",
        corpus,
        "--index-dir",
        index_dir,
    )
    assert code == 0
    assert "no index" in err and str(index_dir) in err
    assert IndexStore(index_dir).exists()
    assert json.loads(out)["citations"][0]["doc_id"] == "bong-da.txt"


def test_k_limits_the_citations(capsys, corpus, index_dir):
    reply = ask_json(capsys, corpus, index_dir, "Học sinh trường Lê Lợi khai giảng", "-k", "2")
    assert 1 <= len(reply["citations"]) <= 2


def test_plain_text_answer_lists_sources(capsys, corpus, index_dir):
    code, out, _err = run(
        capsys,
        "ask",
        "Lũ quét làm bao nhiêu người mất tích?",
        "--corpus",
        corpus,
        "--index-dir",
        index_dir,
        "--mode",
        "bm25",
    )
    assert code == 0
    assert f"[1] {ARTICLES['lu-lut.txt'][0]}" in out


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "trống"), ("   ", "trống"), ("?!...", "không có chữ")],
    ids=["empty", "blank", "punctuation"],
)
def test_empty_question_exits_2_with_a_vietnamese_message(
    capsys, corpus, index_dir, question, message
):
    assert run(capsys, "index", corpus, "--index-dir", index_dir)[0] == 0
    code, out, err = run(capsys, "ask", question, "--corpus", corpus, "--index-dir", index_dir)
    assert code == 2
    assert out == ""
    assert message in err and "Câu hỏi" in err
    assert "Traceback" not in err


def test_empty_question_is_refused_before_building_an_index(capsys, corpus, index_dir):
    code, _out, err = run(capsys, "ask", "", "--corpus", corpus, "--index-dir", index_dir)
    assert code == 2 and "trống" in err
    assert not IndexStore(index_dir).exists()


def test_damaged_index_exits_2_and_says_how_to_rebuild(capsys, corpus, index_dir):
    assert run(capsys, "index", corpus, "--index-dir", index_dir)[0] == 0
    (index_dir / CURRENT).write_text("v-gone", encoding="utf-8")
    code, _out, err = run(
        capsys, "ask", "Ai ghi bàn?", "--corpus", corpus, "--index-dir", index_dir
    )
    assert code == 2 and "qa index --rebuild" in err


def test_missing_corpus_exits_2(capsys, corpus, tmp_path, index_dir):
    code, _out, err = run(capsys, "index", tmp_path / "nowhere", "--index-dir", index_dir)
    assert code == 2 and "nowhere" in err


def test_bad_environment_value_exits_2(capsys, corpus, index_dir, monkeypatch):
    monkeypatch.setenv("QA_TOP_K", "nhiều")
    code, _out, err = run(
        capsys, "ask", "Ai ghi bàn?", "--corpus", corpus, "--index-dir", index_dir
    )
    assert code == 2 and "QA_TOP_K" in err


def test_eval_writes_predictions_and_prints_what_score_py_prints(
    capsys, corpus, index_dir, tmp_path
):
    if not SCORE_PY.is_file():
        pytest.skip(f"{SCORE_PY} is absent")
    questions = tmp_path / "questions.jsonl"
    rows = [
        {
            "id": "t-1",
            "question": "Lũ quét làm bao nhiêu người mất tích?",
            "answers": ["4"],
            "doc": "lu-lut.txt",
            "answerable": True,
        },
        {
            "id": "t-2",
            "question": "ai ghi hai ban thang cho Ha Noi",
            "answers": ["Nguyễn Văn Quyết"],
            "doc": "bong-da.txt",
            "answerable": True,
        },
        {
            "id": "t-3",
            "question": "Ban Chấp hành gồm bao nhiêu đồng chí?",
            "answers": ["17"],
            "doc": "dai-hoi.txt",
            "answerable": True,
            "history": ["Ai được bầu làm Bí thư Đảng ủy phường Tân Minh?"],
        },
        {
            "id": "t-4",
            "question": "Giá vàng hôm nay là bao nhiêu?",
            "answers": [],
            "doc": None,
            "answerable": False,
        },
    ]
    questions.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    predictions = tmp_path / "out" / "predictions.jsonl"
    code, out, _err = run(
        capsys,
        "eval",
        questions,
        "--predictions",
        predictions,
        "--corpus",
        corpus,
        "--index-dir",
        index_dir,
    )
    assert code == 0

    preds = read_jsonl(predictions)
    assert [p["id"] for p in preds] == [r["id"] for r in rows]
    for p in preds:
        assert {"answer", "abstained", "citations"} <= set(p)
        assert all("doc_id" in c and "text" in c for c in p["citations"])
    scored = subprocess.run(
        [sys.executable, str(SCORE_PY), str(predictions), str(questions)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.strip() == scored.stdout.strip()
    assert json.loads(out)["answerable"] == 3 and json.loads(out)["unanswerable"] == 1
