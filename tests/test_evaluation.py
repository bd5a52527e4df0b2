"""Tests for qa/evaluation.py: `score` gives exactly what /work/shared/eval/score.py prints,
and prediction rows have the shape the scorer reads."""

from __future__ import annotations

import json
import random
import unicodedata

import pytest
from conftest import load_score_py

from qa.evaluation import best_f1, f1, predict, prediction_row, read_jsonl, score, toks, write_jsonl
from qa.types import NOT_FOUND, Answer, Citation

GOLD = [
    {
        "id": "g1",
        "question": "Ngày nào?",
        "answers": ["9/8", "Sáng 9/8"],
        "doc": "000_76b953ec8ee0eb00.txt",
        "answerable": True,
    },
    {
        "id": "g2",
        "question": "Bao nhiêu?",
        "answers": ["hơn 25.400 người", "25.400"],
        "doc": "000_76b953ec8ee0eb00.txt",
        "answerable": True,
    },
    {
        "id": "g3",
        "question": "Ai?",
        "answers": ["Nguyễn Lệ Thùy"],
        "doc": "001_f45b0b7ea27701f2.txt",
        "answerable": True,
    },
    {
        "id": "g4",
        "question": "Tỷ lệ?",
        "answers": ["68,3%"],
        "doc": "corpus/002_cf.txt",
        "answerable": True,
    },
    {"id": "g5", "question": "Không có", "answers": [], "doc": None, "answerable": False},
    {"id": "g6", "question": "Không có nữa", "answers": [], "doc": None, "answerable": False},
    {
        "id": "g7",
        "question": "Bị thiếu",
        "answers": ["84"],
        "doc": "000_76b953ec8ee0eb00.txt",
        "answerable": True,
    },
    {"id": "g8", "question": "Ai?", "answers": ["Hoàng Văn Minh"], "doc": "002_cf.txt"},
]


def cite(doc_id, text="", **extra):
    return {"doc_id": doc_id, "text": text, **extra}


PREDICTIONS = [
    # exact, with the gold article first (path prefix and Windows separators are fine)
    {
        "id": "g1",
        "answer": "Sáng 9/8",
        "abstained": False,
        "evidence": "Sáng 9/8, Đảng bộ...",
        "citations": [cite("seeds\\000_76b953ec8ee0eb00.txt", "Sáng 9/8, Đảng bộ phường")],
    },
    # partly right, the article second, NFD text in the answer
    {
        "id": "g2",
        "answer": unicodedata.normalize("NFD", "dân số hơn 25.400"),
        "abstained": False,
        "evidence": "",
        "citations": [
            cite("004.txt", "khác"),
            cite("seeds/000_76b953ec8ee0eb00.txt", "Dân số HƠN 25.400 NGƯỜI"),
        ],
    },
    # abstained on an answerable question, the article still cited
    {
        "id": "g3",
        "answer": "",
        "abstained": True,
        "citations": [cite("001_f45b0b7ea27701f2.txt", "Nguyễn Lệ Thùy tái đắc cử")],
    },
    # digits glued to letters and a percent sign
    {
        "id": "g4",
        "answer": "68,3 %",
        "abstained": False,
        "evidence": "chiếm 68,3%",
        "citations": [cite("x/002_cf.txt", "chiếm 68,3% dân số")],
    },
    # answered an unanswerable question; abstained (empty answer) on the other
    {"id": "g5", "answer": "Lai Châu", "abstained": False, "citations": []},
    {"id": "g6", "answer": "   ", "abstained": False, "citations": []},
    # g7 missing; g8 wrong, with the gold doc at rank 6 (outside hit@5)
    {
        "id": "g8",
        "answer": "Bùi Thị Minh",
        "abstained": False,
        "evidence": None,
        "citations": [cite(f"{i}.txt") for i in range(5)] + [cite("002_cf.txt")],
    },
    {"id": "extra", "answer": "thừa", "abstained": False, "citations": []},
]


def score_py_output(tmp_path, capsys, predictions, gold) -> tuple[dict, str]:
    scorer = load_score_py()
    pred_path, gold_path = tmp_path / "pred.jsonl", tmp_path / "gold.jsonl"
    write_jsonl(predictions, pred_path)
    write_jsonl(gold, gold_path)
    capsys.readouterr()
    result = scorer.main(str(pred_path), str(gold_path))
    printed = capsys.readouterr().out.strip()
    return result, printed


def test_score_equals_score_py_on_hand_made_rows(tmp_path, capsys):
    expected, printed = score_py_output(tmp_path, capsys, PREDICTIONS, GOLD)
    ours = score(PREDICTIONS, GOLD)
    assert ours == expected
    assert json.dumps(ours, ensure_ascii=False) == printed
    assert list(ours) == list(expected)  # same keys in the same order
    # and the figures mean what a reader of the report expects
    assert ours["answerable"] == 6 and ours["unanswerable"] == 2
    assert ours["missing_predictions"] == 1
    assert ours["abstained_on_unanswerable"] == 1
    assert ours["abstained_on_answerable"] == 2  # g3 and the missing g7


def test_score_equals_score_py_on_random_rows(tmp_path, capsys):
    rng = random.Random(8)
    words = [
        "9/8",
        "Sáng",
        "hơn",
        "25.400",
        "người",
        "Nguyễn",
        "Lệ",
        "Thùy",
        "68,3%",
        "84",
        "đảng viên",
        "HOÀNG",
        "văn",
        "minh",
        "2025-2030",
    ]
    docs = ["a.txt", "b.txt", "c.txt", "dir/a.txt"]
    for trial in range(5):
        gold, preds = [], []
        for i in range(30):
            answerable = rng.random() < 0.8
            answers = [" ".join(rng.sample(words, rng.randint(1, 3))) for _ in range(2)]
            gold.append(
                {
                    "id": f"q{i}",
                    "question": "?",
                    "answers": answers if answerable else [],
                    "doc": rng.choice(docs) if answerable else None,
                    "answerable": answerable,
                }
            )
            if rng.random() < 0.1:
                continue  # missing prediction
            text = " ".join(rng.sample(words, rng.randint(0, 4)))
            preds.append(
                {
                    "id": f"q{i}",
                    "answer": text,
                    "abstained": rng.random() < 0.2,
                    "evidence": " ".join(rng.sample(words, 3)),
                    "citations": [
                        cite(rng.choice(docs), " ".join(rng.sample(words, 4)))
                        for _ in range(rng.randint(0, 7))
                    ],
                }
            )
        expected, _printed = score_py_output(tmp_path, capsys, preds, gold)
        assert score(preds, gold) == expected, trial


@pytest.mark.parametrize(
    ("pred", "gold", "value"),
    [
        ("Sáng 9/8", "sáng 9/8", 1.0),
        ("134,31km2", "134,31 km2", 1.0),
        ("", "", 1.0),
        ("", "84", 0.0),
        ("hơn 25.400", "hơn 25.400 người", 6 / 7),  # 3 of 3 tokens right, 3 of 4 found
    ],
)
def test_f1_on_vietnamese_syllables(pred, gold, value):
    assert f1(pred, gold) == pytest.approx(value)


def test_best_f1_takes_the_closest_gold_answer_and_zero_without_one():
    assert best_f1("Hoàng Văn Minh", ["ông Minh", "Hoàng Văn Minh"]) == 1.0
    assert best_f1("1.789 đảng viên", ["1.789", "đảng viên"]) == pytest.approx(f1("1.789 đảng viên",
                                                                                  "đảng viên"))
    assert best_f1("1.789", []) == 0.0


def test_tokens_split_digits_from_letters_and_drop_punctuation():
    assert toks("134,31km2!") == ["134", "31", "km", "2"]
    assert toks(unicodedata.normalize("NFD", "Thùy")) == ["thùy"]


def test_predict_passes_history_and_makes_scorable_rows(tmp_path):
    seen = []

    def ask(question, history):
        seen.append((question, history))
        cited = Citation(
            rank=1,
            doc_id="000.txt",
            title="Đại hội",
            text="Phường có 84 tổ chức.",
            start=10,
            end=31,
            score=0.9,
            answer_start=10,
            answer_end=12,
        )
        if "đâu" in question:
            return Answer(question, NOT_FOUND, 0.1, True, "", (cited,), None)
        return Answer(question, "84", 0.8, False, "Phường có 84 tổ chức.", (cited,), (10, 12))

    rows = [
        {"id": "a", "question": "Bao nhiêu tổ chức?", "answers": ["84"], "doc": "000.txt"},
        {
            "id": "b",
            "question": "Ở đâu?",
            "history": ["Câu trước"],
            "answers": ["X"],
            "doc": "000.txt",
        },
    ]
    preds = predict(rows, ask)
    assert seen == [("Bao nhiêu tổ chức?", []), ("Ở đâu?", ["Câu trước"])]
    assert preds[0] == prediction_row("a", ask("Bao nhiêu tổ chức?", []))
    assert (preds[0]["answer"], preds[0]["abstained"]) == ("84", False)
    assert (preds[1]["answer"], preds[1]["abstained"]) == ("", True)
    assert preds[0]["citations"][0]["doc_id"] == "000.txt"

    path = tmp_path / "sub" / "p.jsonl"
    write_jsonl(preds, path)
    assert read_jsonl(path) == preds
    result = score(preds, rows)
    assert result["EM"] == 50.0 and result["doc_hit@1"] == 100.0
