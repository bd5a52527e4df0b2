"""Tests for qa/store.py: atomic versioned writes, leftovers of killed builds, damage reports.
The last test kills real index builds with SIGKILL, then asks and updates as a person would."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import ARTICLES, EXTRA_ARTICLE, ROOT, write_article, write_corpus

from qa.errors import IndexCorruptError, IndexMissingError
from qa.store import CURRENT, MANIFEST, IndexStore


def filler(payload: str, extra: dict | None = None):
    def fill(tmp: Path) -> dict:
        (tmp / "data.txt").write_text(payload, encoding="utf-8")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "more.bin").write_bytes(payload.encode("utf-8") * 3)
        return {"payload": payload, **(extra or {})}

    return fill


def read_payload(store: IndexStore) -> str:
    folder = store.current()
    manifest = store.read_manifest()
    store.verify(folder, manifest, deep=True)
    return (folder / "data.txt").read_text(encoding="utf-8")


def entries(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


def test_no_index_yet(tmp_path):
    store = IndexStore(tmp_path / "idx")
    assert store.current() is None
    assert not store.exists()
    with pytest.raises(IndexMissingError, match="qa index"):
        store.read_manifest()


def test_write_publishes_a_complete_version(tmp_path):
    store = IndexStore(tmp_path / "idx")
    folder = store.write(filler("phiên bản một"))
    assert store.current() == folder and folder.name.startswith("v-")
    assert (tmp_path / "idx" / CURRENT).read_text(encoding="utf-8").strip() == folder.name
    manifest = store.read_manifest()
    assert manifest["payload"] == "phiên bản một"
    assert set(manifest["files"]) == {"data.txt", "sub/more.bin"}
    assert read_payload(store) == "phiên bản một"
    assert entries(store.root) == sorted([CURRENT, folder.name])


def test_a_new_version_replaces_the_old_one(tmp_path):
    store = IndexStore(tmp_path / "idx")
    first = store.write(filler("một"))
    second = store.write(filler("hai"))
    assert second != first and not first.exists()
    assert read_payload(store) == "hai"
    assert entries(store.root) == sorted([CURRENT, second.name])


def test_failing_fill_keeps_the_previous_version(tmp_path):
    store = IndexStore(tmp_path / "idx")
    good = store.write(filler("tốt"))

    def broken(tmp: Path) -> dict:
        (tmp / "data.txt").write_text("dở dang", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        store.write(broken)
    assert store.current() == good
    assert read_payload(store) == "tốt"
    assert not [n for n in entries(store.root) if n.startswith(".tmp-")]
    newest = store.write(filler("mới"))
    assert read_payload(store) == "mới"
    assert entries(store.root) == sorted([CURRENT, newest.name])


def test_leftovers_of_a_killed_build_are_ignored_then_swept(tmp_path):
    store = IndexStore(tmp_path / "idx")
    good = store.write(filler("cũ"))
    # a build killed while writing, one killed before switching CURRENT, a stray pointer
    junk = store.root / ".tmp-deadbeef0000"
    junk.mkdir()
    (junk / "vectors.npy").write_bytes(b"\x00" * 100)
    orphan = store.root / "v-20000101-000000-abcdef"
    orphan.mkdir()
    (orphan / MANIFEST).write_text("{}", encoding="utf-8")
    (store.root / f".{CURRENT}.abc123").write_text(orphan.name, encoding="utf-8")

    assert store.current() == good
    assert read_payload(store) == "cũ"
    newest = store.write(filler("mới"))
    assert entries(store.root) == sorted([CURRENT, newest.name])


def test_current_pointing_to_a_missing_version_is_reported(tmp_path):
    store = IndexStore(tmp_path / "idx")
    good = store.write(filler("một"))
    (store.root / CURRENT).write_text("v-19990101-000000-gone00", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.current()
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.read_manifest()
    assert store.exists()  # damaged is not missing: the build must not silently skip it
    assert good.exists()


@pytest.mark.parametrize(
    "pointer",
    ["", "../elsewhere", "v-x/../../etc", "v-" + "x" * 300, "v-a\x00b", b"v-\xff\xfe"],
    ids=["empty", "parent", "escape", "too-long", "nul", "not-utf8"],
)
def test_current_with_a_bad_name_is_reported(tmp_path, pointer):
    store = IndexStore(tmp_path / "idx")
    store.write(filler("một"))
    if isinstance(pointer, bytes):
        (store.root / CURRENT).write_bytes(pointer)
    else:
        (store.root / CURRENT).write_text(pointer, encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.current()


def test_unreadable_manifest_is_reported(tmp_path):
    store = IndexStore(tmp_path / "idx")
    folder = store.write(filler("một"))
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.read_manifest()


def test_verify_catches_truncated_missing_and_changed_files(tmp_path):
    store = IndexStore(tmp_path / "idx")
    folder = store.write(filler("dữ liệu chỉ mục"))
    manifest = store.read_manifest()
    store.verify(folder, manifest, deep=True)

    data = folder / "data.txt"
    original = data.read_bytes()
    data.write_bytes(original[:-3])
    with pytest.raises(IndexCorruptError, match="truncated"):
        store.verify(folder, manifest)

    changed = bytearray(original)
    changed[0] ^= 0x01  # same size, other content: only the digest sees it
    data.write_bytes(bytes(changed))
    store.verify(folder, manifest)
    with pytest.raises(IndexCorruptError, match="qa index --rebuild"):
        store.verify(folder, manifest, deep=True)

    data.unlink()
    with pytest.raises(IndexCorruptError):
        store.verify(folder, manifest)


# --- killing real builds -------------------------------------------------------------------

# One process loads the model once and forks a fresh build for each run: every child rebuilds
# the index over and over (an update of an unchanged corpus writes nothing, a rebuild writes a
# new version each time) and is killed with SIGKILL while it writes.
BUILD_SERVER = textwrap.dedent(
    r"""
    import os, sys
    import torch
    torch.set_num_threads(1)  # no thread pool: forking after this is safe
    from qa.assistant import Assistant
    from qa.corpus import load_corpus
    from qa.index import build_index
    from qa.settings import Settings
    from qa.store import IndexStore

    embedder = Assistant(Settings()).embedder  # the model as `qa index` loads it
    embedder.embed_batch(["khởi động"])

    def progress(fraction, message):
        if message == "saving the index":
            print("saving", flush=True)

    print("ready", flush=True)
    while line := sys.stdin.readline():
        corpus, index_dir = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            try:
                docs = load_corpus(corpus)
                build_index(docs, IndexStore(index_dir), embedder, progress=progress)
                while True:
                    build_index(docs, IndexStore(index_dir), embedder, progress=progress,
                                rebuild=True)
            finally:
                os._exit(1)
        print("child", pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print("status", os.waitstatus_to_exitcode(status), flush=True)
    """
)


def kill_a_build(
    server: subprocess.Popen, corpus: Path, store: IndexStore, saves: int, delay: float
) -> None:
    """Start a build loop on `store`, let it reach its `saves`-th write (0: let it start),
    wait `delay`, kill it."""
    server.stdin.write(f"{corpus}\t{store.root}\n")
    server.stdin.flush()
    pid, seen = None, 0
    while pid is None or seen < saves:
        line = server.stdout.readline().split()
        assert line, "the build server died"
        if line[0] == "child":
            pid = int(line[1])
        else:
            assert line == ["saving"]
            seen += 1
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    while (line := server.stdout.readline().split()) == ["saving"]:
        pass
    assert line == ["status", str(-signal.SIGKILL)]


def ask_json(capsys, corpus: Path, store: IndexStore, question: str) -> dict:
    from qa.cli import main

    code = main(
        ["ask", question, "--json", "--corpus", str(corpus), "--index-dir", str(store.root)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "no index" not in err and "Đang lập lại" not in err  # served as it was: no build
    return json.loads(out)


@pytest.mark.slow
def test_index_survives_builds_killed_at_random_moments(
    tmp_path, capsys, monkeypatch, use_shared_embedder
):
    """Each run: an index of five articles, a sixth added, its update killed at a random
    moment (while it embeds, or while it writes one of its versions). `qa ask` right after
    answers from the last complete index without building; the next update (`qa index`, or
    `Assistant.update_index`) keeps that index served until it publishes its own, which has
    the sixth article and no leftovers beside it."""
    from qa.assistant import Assistant
    from qa.cli import main
    from qa.corpus import load_corpus
    from qa.index import build_index, load_index
    from qa.settings import Settings

    embedder = use_shared_embedder
    monkeypatch.chdir(tmp_path)  # nothing may land in the repository's .qa/
    rng = random.Random(11)
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-c", BUILD_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,  # its own process group: the server and its build children
    )

    def kill_all() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)

    watchdog = threading.Timer(120, kill_all)  # a hung build must not hang the suite
    watchdog.start()
    try:
        # while the server loads its model: one index of the tiny corpus, copied for each run
        base_corpus = write_corpus(tmp_path / "base-corpus")
        build_index(load_corpus(base_corpus), IndexStore(tmp_path / "base-index"), embedder)
        assert server.stdout.readline().strip() == "ready"
        for n in range(4):
            corpus = shutil.copytree(base_corpus, tmp_path / f"corpus{n}")
            store = IndexStore(shutil.copytree(tmp_path / "base-index", tmp_path / f"index{n}"))
            write_article(corpus, "them.txt", *EXTRA_ARTICLE)  # the killed builds index more
            # killed while it loads and embeds, while it writes its first version (that has
            # the sixth article), or while it writes a later one
            saves = [0, 1, rng.randint(1, 3), rng.randint(0, 3)][n]
            delay = rng.uniform(0.0, 0.5) if saves == 0 else rng.uniform(0.0, 0.03)
            kill_a_build(server, corpus, store, saves, delay)

            served = store.current()
            index = load_index(store, deep=True)  # the old or a newer complete version
            assert set(index.docs) >= set(ARTICLES)
            published = "them.txt" in index.docs
            reply = ask_json(
                capsys, corpus, store, "Lũ lụt ở Quảng Ngãi làm ngập bao nhiêu ngôi nhà?"
            )
            assert reply["citations"][0]["doc_id"] == "lu-lut.txt"
            assert store.current() == served

            # the next update finishes the killed one and cleans up whatever it left behind
            if n % 2 == 0:
                code = main(["index", str(corpus), "--index-dir", str(store.root)])
                out, err = capsys.readouterr()
                assert code == 0 and "rebuilt" not in err, err
                assert f"({0 if published else 1} added, 0 changed, 0 removed" in out, out
            else:
                seen = []

                def progress(fraction, message, store=store, seen=seen):
                    if message == "saving the index":  # its own version not yet written
                        seen.append(load_index(store, deep=True).folder)

                bot = Assistant(Settings(corpus=(corpus,), index_dir=store.root), embedder=embedder)
                report = bot.update_index(progress=progress)
                assert seen == ([] if published else [str(served)])  # unchanged: no new version
                assert report.rebuilt_reason is None
                assert report.added == ([] if published else ["them.txt"])
            names = entries(store.root)
            assert names[0] == CURRENT and len(names) == 2 and names[1].startswith("v-"), names
            assert store.read_manifest()["counts"]["documents"] == len(ARTICLES) + 1
            reply = ask_json(
                capsys, corpus, store, "Giá lúa tươi tại ruộng ở Mỹ Xuyên là bao nhiêu?"
            )
            assert reply["citations"][0]["doc_id"] == "them.txt"
    finally:
        watchdog.cancel()
        server.stdin.close()  # the server exits after its last child was reaped
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_all()
            server.wait()
