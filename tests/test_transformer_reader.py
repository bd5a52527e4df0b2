"""Tests for qa/transformer_reader.py on a tiny randomly initialised BERT built on the fly, so
the code path runs offline: spans taken verbatim from the passage with consistent offsets,
abstention, the `make_reader` switch and the error for a model that is not there."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import tiny_bert_config
from test_reader import ARTICLES, BAN_BO, CAU, HOI_NONG_DAN, LE_HOI, check_answer, unaccented

from qa.errors import ModelLoadError
from qa.reader import make_reader
from qa.reader.transformer import TransformerReader
from qa.settings import Settings
from qa.types import NOT_FOUND

QUESTIONS = [
    "Ai được bầu làm Chủ tịch Hội Nông dân xã Hòa An?",
    "Cầu Nậm Mu được khánh thành khi nào?",
    "Lễ hội hoa ban năm 2025 được tổ chức ở đâu?",
    "Cơ quan nào chỉ đạo Đại hội Đảng bộ xã Bản Bo?",
]


def bert_form(text: str) -> str:
    """What BertTokenizer's normalizer makes of text: lower case, combining marks dropped."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 1-layer BERT for question answering with a vocabulary of the test texts' syllables."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    folder = tmp_path_factory.mktemp("tiny-bert")
    texts = [p.text for p in ARTICLES] + [p.title for p in ARTICLES] + QUESTIONS
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", bert_form(t))})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(
        vocab=str(vocab_file), do_lower_case=True, strip_accents=True
    )
    assert tokenizer.unk_token_id not in tokenizer(QUESTIONS[0])["input_ids"]  # vocab is used
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = tiny_bert_config(len(vocab), 256)
    transformers.BertForQuestionAnswering(config).save_pretrained(folder)
    return folder


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def always_answers(tiny_model):
    return TransformerReader(str(tiny_model), abstain_threshold=0.0, max_length=256)


@pytest.mark.parametrize("question", QUESTIONS + [unaccented(q) for q in QUESTIONS])
def test_answer_is_a_span_of_the_cited_passage(always_answers, question):
    passages = [LE_HOI, HOI_NONG_DAN, CAU, BAN_BO]  # HOI_NONG_DAN's chunk starts at 230
    answer = check_answer(always_answers.read(question, passages), passages)
    assert not answer.abstained
    cited = answer.citations[0]
    # spans come from the tokenizer's offsets: whole words of the passage, never cut
    a, b = answer.span
    assert a == 0 or not cited.text[a - 1].isalnum()
    assert b == len(cited.text) or not cited.text[b].isalnum()
    # only the first max_passages (3) are read
    assert cited.doc_id in {p.doc_id for p in passages[:3]}


def test_threshold_above_one_always_abstains(tiny_model):
    reader = TransformerReader(str(tiny_model), abstain_threshold=1.01, max_length=256)
    passages = [HOI_NONG_DAN, CAU]
    answer = check_answer(reader.read(QUESTIONS[0], passages), passages)
    assert answer.abstained
    assert answer.text == NOT_FOUND
    assert answer.span is None
    assert [c.doc_id for c in answer.citations] == [HOI_NONG_DAN.doc_id, CAU.doc_id]
    assert 0.0 <= answer.confidence <= 1.0


def test_no_passages_abstains(always_answers):
    answer = always_answers.read(QUESTIONS[0], [])
    assert answer.abstained and answer.citations == ()


def test_make_reader_picks_the_transformer_reader(tiny_model):
    reader = make_reader(Settings(reader_model=str(tiny_model)))
    assert isinstance(reader, TransformerReader)
    assert reader.model_name == str(tiny_model)
    answer = reader.read(QUESTIONS[1], [CAU])
    check_answer(answer, [CAU])


def test_make_reader_passes_the_threshold_even_zero(tiny_model):
    reader = make_reader(Settings(reader_model=str(tiny_model), abstain_threshold=0.0))
    assert reader.abstain_threshold == 0.0


def test_make_reader_without_a_model_is_the_configured_reader(monkeypatch):
    from qa.reader.neural import NeuralReader
    from qa.reader.rules import RuleReader

    assert isinstance(make_reader(Settings(reader="rules")), RuleReader)
    assert isinstance(make_reader(Settings()), NeuralReader)  # the default; loads on first use
    monkeypatch.setenv("QA_READER", "rules")
    assert isinstance(make_reader(Settings.from_env()), RuleReader)
    monkeypatch.setenv("QA_READER", "both")
    with pytest.raises(ValueError, match="QA_READER must be one of neural, rules"):
        Settings.from_env()


def test_missing_model_raises_model_load_error_on_first_read(tmp_path):
    missing = tmp_path / "no-such-model"
    reader = TransformerReader(str(missing))  # cheap: nothing is loaded yet
    with pytest.raises(ModelLoadError) as info:
        reader.read(QUESTIONS[0], [HOI_NONG_DAN])
    message = str(info.value)
    assert str(missing) in message
    assert "QA_READER_MODEL" in message  # says what to do next
