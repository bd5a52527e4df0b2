"""Faults (issue #5): every kind of index file damaged, an index of another model, and the app
killed while it indexes an upload. Builds killed at random moments: tests/test_store.py.

The CLI runs in-process (`qa.cli.main`) with the session's model; the app's start runs
in-process (`app.Engine`) for the many damaged indexes, and as a real process (`python app.py`)
for the kill."""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from conftest import start_engine, tiny_bert_config, write_corpus
from test_app import start_app, stop_app

from embeddings import DEFAULT_MODEL, SentenceTransformerEmbedder, canonical_name
from qa.assistant import Assistant
from qa.cli import main
from qa.errors import IndexMismatchError
from qa.index import load_index
from qa.library import Library
from qa.settings import Settings
from qa.store import CURRENT, MANIFEST, IndexStore

pytestmark = pytest.mark.slow

# Every file an index holds: CURRENT beside the version folders, the manifest in one of them,
# the rest in each of its segments (one here).
INDEX_FILES = [
    CURRENT,
    MANIFEST,
    "docs.jsonl",
    "chunks.json",
    "vectors.npy",
    "windows.npy",
    "dense.faiss",
    "lexical/terms.json",
    "lexical/postings.npz",
]
DAMAGE = ["truncated", "empty", "random"]
FLOOD = "Lũ quét làm bao nhiêu người mất tích?"  # "4", in lu-lut.txt of the tiny corpus
BROKEN = "Chỉ mục tìm kiếm bị hỏng hoặc không đọc được."


def settings_for(corpus: Path, index_dir: Path, **more) -> Settings:
    return Settings(corpus=(corpus,), index_dir=index_dir, **more)


@pytest.fixture(scope="module")
def base_index(tmp_path_factory, tiny_corpus_dir, embedder) -> Path:
    """The tiny corpus indexed as the CLI and the app index it, with an HNSW graph so that it
    holds every kind of file (a flat index keeps only vectors.npy) (read-only: copy it)."""
    root = tmp_path_factory.mktemp("faults") / "index"
    settings = settings_for(tiny_corpus_dir, root, dense_index="hnsw")
    Assistant(settings, embedder=embedder).update_index()
    return root


def copy_index(base: Path, tmp_path: Path) -> IndexStore:
    return IndexStore(shutil.copytree(base, tmp_path / "index"))


def index_file(store: IndexStore, name: str) -> Path:
    if name in (CURRENT, MANIFEST):
        return store.root / CURRENT if name == CURRENT else store.current() / MANIFEST
    (segment,) = store.read_manifest()["segments"]
    return store.current() / segment["name"] / name


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "random":  # the same size: only parsing (or the digest) can tell
        path.write_bytes(random.Random(path.name).randbytes(len(data)))
    else:
        raise ValueError(how)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def printed_command(err: str) -> list[str]:
    """The command the message tells the person to run."""
    lines = err.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith("bằng lệnh:"))
    return shlex.split(lines[at + 1])


def assert_intact(store: IndexStore, documents: int) -> None:
    """One complete version, every file as its manifest recorded, nothing left over."""
    index = load_index(store, deep=True)
    assert len(index.docs) == documents
    names = sorted(p.name for p in store.root.iterdir())
    assert names[0] == CURRENT and len(names) == 2 and names[1].startswith("v-"), names


@pytest.fixture
def cli(tmp_path, monkeypatch, use_shared_embedder):
    monkeypatch.chdir(tmp_path)  # nothing may land in the repository's .qa/


# --- damaged index files: `qa ask` says what to run, and that command repairs it -----------


def test_every_kind_of_index_file_is_covered(base_index):
    store = IndexStore(base_index)
    (segment,) = store.read_manifest()["segments"]
    inside = store.current() / segment["name"]
    held = {p.relative_to(inside).as_posix() for p in inside.rglob("*") if p.is_file()}
    assert held | {CURRENT, MANIFEST} == set(INDEX_FILES)  # a new kind needs its cases here
    assert {p.name for p in store.current().iterdir()} == {MANIFEST, segment["name"]}


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("name", INDEX_FILES)
def test_damaged_index_file_is_reported_with_the_command_that_repairs_it(
    capsys, cli, tmp_path, tiny_corpus_dir, base_index, name, how
):
    """The command is run in `test_the_command_in_the_message_repairs_the_index`; a plain build
    repairs every kind of damaged file in the app's start test."""
    store = copy_index(base_index, tmp_path)
    damage(index_file(store, name), how)

    code, out, err = run(
        capsys, "ask", FLOOD, "--corpus", tiny_corpus_dir, "--index-dir", store.root
    )
    assert code == 2 and out == ""
    assert err.startswith(f"qa: {BROKEN}") and "Traceback" not in err
    assert printed_command(err) == [
        "qa",
        "index",
        "--rebuild",
        "--index-dir",
        str(store.root),
        str(tiny_corpus_dir),
    ]


def test_a_changed_byte_only_the_digest_sees_is_repaired_by_the_next_build(
    capsys, cli, tmp_path, tiny_corpus_dir, base_index
):
    store = copy_index(base_index, tmp_path)
    vectors = index_file(store, "vectors.npy")
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0x40  # inside a vector: it still loads, with a wrong number
    vectors.write_bytes(bytes(data))

    code, out, err = run(capsys, "index", tiny_corpus_dir, "--index-dir", store.root)
    assert code == 0 and "rebuilt from scratch" in err and "changed" in err
    assert "5 chunks embedded" in out  # not copied into the new version
    assert_intact(store, 5)


def test_the_command_in_the_message_repairs_the_index(
    capsys, cli, tmp_path, tiny_corpus_dir, base_index
):
    store = copy_index(base_index, tmp_path)
    damage(store.root / CURRENT, "random")
    code, _out, err = run(
        capsys, "ask", FLOOD, "--corpus", tiny_corpus_dir, "--index-dir", store.root
    )
    assert code == 2

    code, out, err = run(capsys, *printed_command(err)[1:])
    assert code == 0 and "5 articles" in out, err
    assert_intact(store, 5)
    code, out, err = run(
        capsys, "ask", FLOOD, "--json", "--corpus", tiny_corpus_dir, "--index-dir", store.root
    )
    assert code == 0 and "4" in json.loads(out)["answer"], err


# --- an index of another embedding model ----------------------------------------------------


@pytest.fixture(scope="module")
def other_model(tmp_path_factory) -> SentenceTransformerEmbedder:
    """A tiny random BERT sentence-transformer (32 dimensions), built offline."""
    transformers = pytest.importorskip("transformers")
    from sentence_transformers import SentenceTransformer, models

    folder = tmp_path_factory.mktemp("other-model")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz0123456789"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"))
    config = tiny_bert_config(len(vocab), 130)
    bert = folder / "bert"
    tokenizer.save_pretrained(bert)
    transformers.BertModel(config).save_pretrained(bert)
    word = models.Transformer(str(bert), max_seq_length=128)
    model = folder / "sentence-model"
    SentenceTransformer(modules=[word, models.Pooling(32)]).save(str(model))
    return SentenceTransformerEmbedder(str(model))


@pytest.fixture
def two_models(monkeypatch, embedder, other_model):
    """`Assistant` (and so the CLI and the app) gets the session's default model or the tiny
    one, by name."""

    def factory(name=None, *args, **kwargs):
        if canonical_name(name) == DEFAULT_MODEL:
            return embedder
        assert canonical_name(name) == other_model.name, name
        return other_model

    monkeypatch.setattr("qa.assistant.SentenceTransformerEmbedder", factory)


@pytest.fixture(scope="module")
def other_model_index(tmp_path_factory, tiny_corpus_dir, other_model) -> Path:
    root = tmp_path_factory.mktemp("other-model-index") / "index"
    Assistant(
        settings_for(tiny_corpus_dir, root, embedding_model=other_model.name), embedder=other_model
    ).update_index()
    return root


def test_index_of_another_model_is_refused_with_the_way_out_then_rebuilt(
    capsys,
    tmp_path,
    monkeypatch,
    two_models,
    tiny_corpus_dir,
    embedder,
    other_model,
    other_model_index,
):
    monkeypatch.chdir(tmp_path)
    store = copy_index(other_model_index, tmp_path)
    assert store.read_manifest()["model"] == other_model.name
    assert store.read_manifest()["dimension"] == 32

    # the Python API refuses to load it and says what to run, or which model to use
    bot = Assistant(settings_for(tiny_corpus_dir, store.root), embedder=embedder)
    with pytest.raises(IndexMismatchError) as refused:
        bot.load()
    message = str(refused.value)
    assert f"qa index --rebuild --index-dir {store.root}" in message
    assert f"--model {other_model.name}" in message and DEFAULT_MODEL in message

    # `qa ask` with the default model says so in Vietnamese, rebuilds, and answers
    code, out, err = run(
        capsys, "ask", FLOOD, "--json", "--corpus", tiny_corpus_dir, "--index-dir", store.root
    )
    assert code == 0, err
    assert "được lập với mô hình hoặc cấu hình khác" in err and "Đang lập lại" in err
    assert f"--model {other_model.name}" in err and "Traceback" not in err
    assert "4" in json.loads(out)["answer"]
    assert store.read_manifest()["model"] == DEFAULT_MODEL
    assert store.read_manifest()["dimension"] == 384
    assert_intact(store, 5)

    # the other way round, through the API's update: rebuilt from scratch, not mixed
    back = Assistant(settings_for(tiny_corpus_dir, store.root, embedding_model=other_model.name))
    report = back.update_index()
    assert report.rebuilt_reason and "model" in report.rebuilt_reason
    assert report.embedded_chunks == len(back.index.window_owner)
    assert back.index.vectors.shape[1] == 32


# --- the app's start on a damaged index or one of another model: it rebuilds ---------------


@pytest.mark.parametrize("name", [*INDEX_FILES, "other model"])
def test_app_start_rebuilds_a_damaged_index_or_one_of_another_model(
    tmp_path, use_shared_embedder, tiny_corpus_dir, base_index, name, request
):
    if name == "other model":
        request.getfixturevalue("two_models")
        store = copy_index(request.getfixturevalue("other_model_index"), tmp_path)
    else:
        store = copy_index(base_index, tmp_path)
        damage(index_file(store, name), "random")

    engine = start_engine(settings_for(tiny_corpus_dir, store.root), tmp_path / "uploads")
    assert engine.error is None and engine.stale is None, engine.error or engine.stale
    assert "Sẵn sàng · 5 bài báo" in engine.status()
    assert "4" in engine.assistant().ask(FLOOD).text
    assert store.read_manifest()["model"] == DEFAULT_MODEL
    assert_intact(store, 5)


# --- the app killed while it indexes an upload, then started again -----------------------

UPLOAD_QUESTION = "Ai được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình?"
UPLOAD_ANSWER = "Lường Văn Khiêm"
FILLERS = 150  # rows for three embedding batches of 64: a kill after the first lands mid-way


def upload_file(folder: Path) -> Path:
    """One article the question is about, and many short ones beside it."""
    rows = [
        {
            "id": "chu-tich",
            "title": "Xã Hòa Bình bầu Chủ tịch Ủy ban nhân dân mới",
            "body": f"Ngày 3/10, Hội đồng nhân dân xã Hòa Bình họp bất thường. Ông {UPLOAD_ANSWER}"
            " được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình.",
        }
    ]
    rows += [
        {
            "id": f"tin-{i}",
            "title": f"Thôn {i} xã Tân Lập thu hoạch cà phê",
            "body": f"Năm nay thôn {i} xã Tân Lập thu hoạch {100 + i} tấn cà phê nhân, "
            f"với {20 + i % 50} hộ trồng mới {i % 7 + 1} héc-ta.",
        }
        for i in range(1, FILLERS + 1)
    ]
    path = folder / "tin xa Hoa Binh.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def upload_like_the_page(url: str, path: Path) -> str:
    """Drop `path` on the app's upload box as the page does (that event is private to the page,
    so gradio_client cannot call it): the file to /upload, then the event into the queue.
    Returns where the server keeps its copy (the path of its `/file=` URL)."""
    import httpx

    config = httpx.get(f"{url}/config", timeout=30).json()
    box = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "upload"
    )
    event = next(d["id"] for d in config["dependencies"] if [box, "upload"] in d["targets"])
    api = url + config.get("api_prefix", "/gradio_api")
    files = [("files", (path.name, path.read_bytes(), "application/octet-stream"))]
    stored = httpx.post(f"{api}/upload", files=files, timeout=30).json()
    data = {
        "path": stored[0],
        "orig_name": path.name,
        "size": path.stat().st_size,
        "meta": {"_type": "gradio.FileData"},
    }
    joined = httpx.post(
        f"{api}/queue/join",
        timeout=30,
        json={
            "data": [[data]],
            "event_data": None,
            "fn_index": event,
            "trigger_id": box,
            "session_hash": uuid.uuid4().hex[:11],
        },
    )
    joined.raise_for_status()
    return stored[0]


def wait_for_log(
    log: Path, pattern: str, proc: subprocess.Popen, after: int = 0, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while not re.search(pattern, log.read_text(encoding="utf-8", errors="replace")[after:]):
        assert proc.poll() is None, f"the app exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {pattern!r} in the log:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def ask_until(
    url: str, proc: subprocess.Popen, log: Path, question: str, done, timeout: float = 180
) -> dict:
    """Ask `question` through /ask until `done(reply)`; the first such reply."""
    from gradio_client import Client

    client, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the app exited:\n{log.read_text()[-3000:]}"
        try:
            client = client or Client(url, verbose=False)
            reply = client.predict(question, [], api_name="/ask")
        except Exception:  # not listening yet
            client, reply = None, None
        if reply is not None and done(reply):
            return reply
        time.sleep(0.3)
    pytest.fail(f"no such reply within {timeout}s:\n{log.read_text()[-3000:]}")


def cites_upload(reply: dict, name: str) -> bool:
    return any(c["doc_id"].startswith(f"{name}#") for c in reply.get("citations", []))


def test_upload_survives_the_app_killed_while_indexing_it(tmp_path):
    """Killed while it embeds an upload: the upload was kept, and the version published before
    the embedding (its articles searchable by their words) is what the next start serves at
    once, while it computes the vectors the kill interrupted."""
    corpus = write_corpus(tmp_path / "corpus")
    uploads, store = tmp_path / "uploads", IndexStore(tmp_path / "index")
    name = "tin_xa_Hoa_Binh.jsonl"  # the library's safe name for it

    proc, url, log = start_app(tmp_path, corpus, "first.log")
    try:
        ask_until(url, proc, log, FLOOD, lambda r: "4" in r.get("answer", ""))
        complete = store.current()
        offset = len(log.read_text(encoding="utf-8"))
        upload_like_the_page(url, upload_file(tmp_path / "incoming"))
        wait_for_log(log, r"embedded 64/", proc, after=offset)  # its first batch
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        stop_app(proc)

    # the file was kept before indexing began; the live version has its articles by their
    # words, their vectors still to come; it loads and verifies as a whole
    assert [f.name for f in Library(uploads).files()] == [name]
    assert store.current() != complete
    killed = load_index(store, deep=True)
    assert sum(d.startswith(f"{name}#") for d in killed.pending_docs()) == FILLERS + 1

    proc, url, log = start_app(tmp_path, corpus, "second.log")
    try:
        # served at once from that version: the upload is found by its words
        first = ask_until(url, proc, log, UPLOAD_QUESTION, lambda r: "error" not in r)
        assert cites_upload(first, name), first
        later = ask_until(url, proc, log, UPLOAD_QUESTION,
                          lambda r: cites_upload(r, name) and r.get("indexing") == [])
        assert any(UPLOAD_ANSWER in c["text"] for c in later["citations"])
        text = log.read_text(encoding="utf-8")
        assert "serving the last complete index" in text
        assert text.index("serving the last complete index") < text.index("ready: ")
    finally:
        stop_app(proc)
    assert [f.name for f in Library(uploads).files()] == [name]
    index = load_index(store, deep=True)
    assert sum(d.startswith(f"{name}#") for d in index.docs) == FILLERS + 1
    assert index.pending_docs() == []


def test_staging_copies_of_cut_short_uploads_are_swept(tmp_path):
    library = Library(tmp_path / "uploads")
    source = write_corpus(tmp_path / "incoming")
    kept = library.add(source / "lu-lut.txt")
    old = library.folder / ".upload-0123abcd.txt"
    recent = library.folder / ".upload-4567cdef.txt"
    for p in (old, recent):
        p.write_text("dở dang", encoding="utf-8")
    os.utime(old, (time.time() - 7200, time.time() - 7200))

    assert library.sweep() == [old]
    assert not old.exists() and recent.exists()  # a recent one may be an upload under way
    assert [f.name for f in library.files()] == [kept.name]
