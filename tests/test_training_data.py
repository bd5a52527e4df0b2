"""The neural reader's training rows: answers located where the question points, synthetic
questions with the question word in the answer's place, offsets exact, and never a row from
the sets kept for reporting (XQuAD-vi test, vi-wiki-handwritten test)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from qa.reader import training_data as td
from qa.text import fold_accents

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_locate_picks_the_sentence_the_question_points_to():
    text = ("Xã Hòa An có 120 hộ dân.\n\nNăm 2024, xã Tân Minh có 120 hộ nghèo và 30 hộ cận "
            "nghèo. Xã có 5 thôn.")
    pa, pb, a, b = td.locate("Xã Tân Minh có bao nhiêu hộ nghèo?", "120", text)
    assert text[a:b] == "120" and text[pa:pb].startswith("Năm 2024")
    assert td.locate("Xã Tân Minh có bao nhiêu hộ?", "999", text) is None


def test_fitting_rows_are_paragraph_contexts_with_exact_offsets(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Bài A\n\nĐoạn một nói về thời tiết.\n\nÔng Lê Văn Hùng được "
                                  "bầu làm Chủ tịch xã năm 2020.\n", encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "1", "question": "Ai được bầu làm Chủ tịch xã?", "answers": ["Lê Văn Hùng"],
             "doc": "a.txt", "answerable": True},
            {"id": "2", "question": "Ai?", "answers": ["không có"], "doc": "a.txt",
             "answerable": True},
            {"id": "3", "question": "Khi nào?", "answers": [], "doc": None, "answerable": False}]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows),
                         encoding="utf-8")
    out = td.fitting_rows(questions, corpus, "test")
    assert len(out) == 1
    ex = out[0]
    assert ex.context.startswith("Ông Lê Văn Hùng") and ex.context[ex.start:ex.end] == "Lê Văn Hùng"
    assert ex.doc == "a.txt" and ex.lang == "vi"
    assert td.fitting_rows(questions, corpus, "test", skip_docs=frozenset({"a.txt"})) == []


@pytest.mark.parametrize("sentence, answer, word", [
    ("Năm 2024, toàn xã còn 86 hộ nghèo, giảm mạnh so với năm trước.", "86", "bao nhiêu"),
    ("Công trình được khởi công vào năm 1998 tại trung tâm huyện.", "năm 1998", "năm nào"),
    ("Dân số của huyện đạt 20.379 người theo số liệu mới nhất.", "20.379 người", "bao nhiêu người"),
])
def test_synthetic_questions_put_the_question_word_in_the_answers_place(sentence, answer, word):
    made = []
    for seed in range(30):  # the kind is drawn at random: collect what the sentence gives
        made += td.synthetic_rows([("doc", sentence)], random.Random(seed))
    ours = [ex for ex in made if ex.context[ex.start:ex.end] == answer]
    assert ours, [ex.question for ex in made]
    ex = ours[0]
    before, after = sentence[:ex.start].strip(" ,"), sentence[ex.end:].strip(" .")
    assert word in ex.question and ex.question.endswith("?")
    assert answer not in ex.question
    assert fold_accents(after.split(",")[0].split()[0]) in fold_accents(ex.question)
    assert before.split()[-1] in ex.question


@pytest.mark.parametrize("sentence", [
    "Hệ thống được phát hành để kết nối hai máy tính PDP-11 của trường đại học lớn.",
    "Nhiệt độ bề mặt vệ tinh rất thấp (khoảng −198°C) vào ban đêm ở vùng cực bắc.",
    "Theo tên mục sư John Harvard (1607-1638) người đã để lại thư viện cho trường.",
])
def test_synthetic_questions_skip_spans_glued_to_other_characters(sentence):
    for seed in range(20):
        for ex in td.synthetic_rows([("doc", sentence)], random.Random(seed)):
            span = ex.context[ex.start:ex.end]
            assert span not in ("11", "198", "1607-1638"), ex.question


def test_qa_train_rows_keep_exact_offsets_and_limits(tmp_path):
    rows = [{"id": f"r{i}", "source": "toy", "lang": "en" if i % 2 else "ja", "context":
             f"Context {i} says the answer is blue{i}.", "question": f"What colour {i}?",
             "answers": [{"text": f"blue{i}", "start": len(f"Context {i} says the answer is ")}],
             "answerable": True} for i in range(6)]
    rows.append({"id": "u", "source": "toy", "lang": "en", "context": "Nothing here.",
                 "question": "Who?", "answers": [], "answerable": False})
    with gzip.open(tmp_path / "toy.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r) for r in rows))
    out = td.qa_train_rows(tmp_path, {"ja": 1}, random.Random(0))
    assert sum(ex.lang == "ja" for ex in out) == 1 and sum(ex.lang == "en" for ex in out) == 4
    for ex in out:
        if ex.answerable:
            assert ex.context[ex.start:ex.end] == ex.answers[0]
        else:
            assert ex.start is None and ex.answers == ()


@pytest.mark.skipif(not (DATA / "xquad-vi").is_dir(), reason=f"{DATA} is absent")
def test_the_mix_never_holds_what_is_kept_for_reporting():
    train, val, summary = td.assemble(DATA)
    xquad_test = [json.loads(line) for line in open(DATA / "xquad-vi/questions_test.jsonl",
                                                    encoding="utf-8")]
    wiki_test = [json.loads(line) for line in open(
        DATA / "vi-wiki-handwritten/questions_test.jsonl", encoding="utf-8")]
    test_docs = {r["doc"] for r in xquad_test + wiki_test}
    test_questions = {r["question"].strip() for r in xquad_test + wiki_test}
    assert all(ex.doc not in test_docs for ex in train + val)
    assert all(ex.question not in test_questions for ex in train + val)
    # and no context of a test article under another name
    test_texts = {p.read_text(encoding="utf-8")[200:400] for p in (DATA / "xquad-vi/corpus")
                  .iterdir() if p.name in test_docs}
    assert not any(t in ex.context for t in test_texts for ex in train if ex.lang == "vi")
    train_ids = {ex.id.split("#")[0] for ex in train}
    assert not train_ids & {ex.id for ex in val}  # validation questions are never trained on
    assert summary["counts"]["train"] == len(train) and summary["counts"]["validation"] == len(val)
    assert {ex.lang for ex in train} >= {"vi", "en", "zh", "ja"}


def test_held_out_docs_name_the_test_and_validation_articles(tmp_path):
    def questions(path: Path, docs: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps({"id": f"q{i}", "question": "?", "answers": ["a"],
                                            "doc": d}) + "\n" for i, d in enumerate(docs)),
                        encoding="utf-8")

    questions(tmp_path / "xquad-vi/questions_test.jsonl", ["30_Test.txt"])
    questions(tmp_path / "xquad-vi/questions_dev.jsonl", ["01_Dev.txt", "21_Val.txt", "21_Val.txt"])
    questions(tmp_path / "vi-wiki-handwritten/questions_test.jsonl", ["w-test.txt"])
    wiki_train = [f"w{i:02d}.txt" for i in range(td.VALIDATION_VI_WIKI + 3)]
    questions(tmp_path / "vi-wiki-handwritten/questions_train.jsonl", wiki_train + ["w-test.txt"])
    held = td.held_out_docs(tmp_path)
    assert held["xquad-vi"] == {"30_Test.txt", "21_Val.txt"}
    # the last articles of vi-wiki train are validation; a test paragraph is never counted in
    assert held["vi-wiki-handwritten"] == {"w-test.txt", *wiki_train[3:]}
    assert held["mlqa-vi-dev"] == set()
    # the final model's training holds out the test splits only
    final = td._joined(td._held_out_parts(tmp_path, validation=False))
    assert final["xquad-vi"] == {"30_Test.txt"} and final["vi-wiki-handwritten"] == {"w-test.txt"}


@pytest.mark.skipif(not (DATA / "xquad-vi").is_dir(), reason=f"{DATA} is absent")
def test_the_final_model_trains_on_the_validation_questions_and_never_on_a_test_one():
    train, val, summary = td.assemble(DATA)
    final, none, final_summary = td.assemble(DATA, validation=False)
    assert val and none == []
    trained = {ex.id.split("#")[0] for ex in final}
    assert {ex.id for ex in val} <= trained  # every validation question is trained on
    test = td.held_out_docs(DATA)
    test_only = td._joined(td._held_out_parts(DATA, validation=False))
    assert not {ex.doc for ex in final if ex.doc} & (test_only["xquad-vi"]
                                                      | test_only["vi-wiki-handwritten"])
    assert {ex.doc for ex in final if ex.doc} & (test["xquad-vi"] | test["vi-wiki-handwritten"])
    assert final_summary["counts"]["vietnamese_real"] == (summary["counts"]["vietnamese_real"]
                                                          + len(val))
    assert isinstance(final_summary["validation"], str)


@pytest.mark.skipif(not (DATA / "xquad-vi").is_dir(), reason=f"{DATA} is absent")
def test_held_out_docs_hold_every_validation_article_and_no_training_one():
    train, val, _ = td.assemble(DATA)
    held = td.held_out_docs(DATA)
    every = held["xquad-vi"] | held["vi-wiki-handwritten"]
    assert {ex.doc for ex in val} <= every
    assert not {ex.doc for ex in train if ex.doc} & every  # synthetic rows included


@pytest.mark.skipif(not (DATA / "xquad-vi").is_dir(), reason=f"{DATA} is absent")
def test_assemble_asks_each_corpus_for_negatives_once_and_keeps_them(tmp_path, monkeypatch):
    calls = []

    def fake(examples, corpus, index_dir, never=frozenset(), per_question=2):
        calls.append((corpus.parent.name, index_dir, never, per_question,
                      {ex.source for ex in examples}))
        return [td.QAExample(f"{corpus.parent.name}~neg", "x-neg", "vi", "?", "văn bản", None,
                             None, (), "other.txt")]

    monkeypatch.setattr(td, "retrieved_negatives", fake)
    plain, _, summary = td.assemble(DATA)
    assert not calls and "retrieved_negatives" not in summary["counts"]
    cache = tmp_path / "negatives.jsonl"
    train, _, summary = td.assemble(DATA, negatives_per_question=2, index_home=tmp_path,
                                    negatives_cache=cache)
    held = td.held_out_docs(DATA)
    assert [c[:4] for c in calls] == [(name, tmp_path / name, held[name], 2) for name in
                                      ("xquad-vi", "mlqa-vi-dev", "vi-wiki-handwritten")]
    assert [c[4] for c in calls] == [{"xquad-vi-dev"}, {"mlqa-vi-dev"}, {"vi-wiki-train"}]
    assert len(train) == len(plain) + 3 and summary["counts"]["retrieved_negatives"] == 3
    calls.clear()
    again, _, _ = td.assemble(DATA, negatives_per_question=2, negatives_cache=cache)
    assert not calls and again == train  # read back from the cache, the same rows in order


def test_retrieved_negatives_are_passages_that_do_not_answer(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles = {
        "a.txt": "Xã Tân Lập giảm nghèo\n\nNăm 2024, xã Tân Lập còn 86 hộ nghèo, giảm 40 hộ.",
        "b.txt": "Xã Tân Lập làm đường\n\nXã Tân Lập khánh thành con đường liên thôn dài 3 km.",
        "c.txt": "Hộ nghèo ở Tân Lập\n\nCác hộ nghèo xã Tân Lập được hỗ trợ giống cây trồng.",
        "d.txt": "Tin vắn\n\nTheo báo cáo, xã Tân Lập còn 86 hộ nghèo vào cuối năm.",
    }
    for name, text in articles.items():
        (corpus / name).write_text(text, encoding="utf-8")
    context = articles["a.txt"].split("\n\n")[1]
    start = context.index("86")
    ex = td.QAExample("q1", "toy", "vi", "Xã Tân Lập còn bao nhiêu hộ nghèo?", context, start,
                      start + len("86 hộ nghèo"), ("86 hộ nghèo",), "a.txt")
    every = td.retrieved_negatives([ex], corpus, tmp_path / "index", per_question=5)
    # not its own article, not d (it holds the answer): b and c
    assert sorted(n.doc for n in every) == ["b.txt", "c.txt"]
    assert all(n.start is None and n.answers == () and n.question == ex.question
               and "86" not in n.context for n in every)
    kept = td.retrieved_negatives([ex], corpus, tmp_path / "index", never=frozenset({"c.txt"}),
                                  per_question=5)
    assert [n.doc for n in kept] == ["b.txt"]
    assert len(td.retrieved_negatives([ex], corpus, tmp_path / "index", per_question=1)) == 1
